"""The pre-commit hook: `agentreach precommit` on a real git repository. A staged secret
blocks; the baseline (with its secret-id scheme) makes it known on every clone; a new secret,
or one only in the index, blocks again; placeholders and unstaged edits do not count."""

from __future__ import annotations

import json
import os
import random
import string
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
R = random.Random(11)
AN = string.ascii_letters + string.digits


def openai_key() -> str:
    return "sk-proj-" + "".join(R.choice(AN) for _ in range(74)) + "T3BlbkFJ" + "".join(R.choice(AN) for _ in range(74))


def anthropic_key() -> str:
    return "sk-ant-api03-" + "".join(R.choice(AN + "_-") for _ in range(93)) + "AA"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def hook(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AGENTREACH_DB": str(repo.parent / "never-used.db")}
    return subprocess.run([str(Path(os.sys.executable).parent / "agentreach"), "precommit", *args], cwd=repo,
                          capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture()
def repo(tmp_path: Path) -> Path:
    r = tmp_path / "agents"
    r.mkdir()
    git(r, "init", "-q")
    git(r, "config", "user.email", "dev@example.com")
    git(r, "config", "user.name", "dev")
    (r / "README.md").write_text("agents\n")
    git(r, "add", "README.md")
    git(r, "commit", "-qm", "init")
    return r


def test_staged_secret_blocks_and_names_the_file(repo: Path) -> None:
    key = openai_key()
    (repo / "app").mkdir()
    (repo / "app" / "agent.py").write_text(f'import os\nclient_key = "{key}"\n')
    git(repo, "add", "app/agent.py")
    out = hook(repo)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "AR-SECRET-IN-FILES" in out.stdout and "app/agent.py:2" in out.stdout
    assert key not in out.stdout + out.stderr
    assert not (repo.parent / "never-used.db").exists()  # the hook keeps no store behind


def test_baseline_is_portable_across_clones_and_new_secrets_still_block(repo: Path, tmp_path: Path) -> None:
    (repo / ".env").write_text(f"OPENAI_API_KEY={openai_key()}\n")
    git(repo, "add", ".env")
    assert hook(repo).returncode == 1
    made = hook(repo, "--update-baseline")
    assert made.returncode == 0, made.stderr
    baseline = json.loads((repo / ".agentreach-baseline.json").read_text())
    assert baseline["fingerprints"]["kdf"] == "scrypt" and len(baseline["fingerprints"]["salt"]) >= 32
    assert "fingerprint_salt" not in baseline and baseline["findings"]
    assert hook(repo).returncode == 0
    git(repo, "add", ".agentreach-baseline.json")
    git(repo, "commit", "-qm", "known")

    clone = tmp_path / "elsewhere" / "agents"
    clone.parent.mkdir()
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
    (clone / ".env").write_text((clone / ".env").read_text() + "# comment\n")
    git(clone, "add", ".env")
    passed = hook(clone)
    assert passed.returncode == 0, passed.stdout  # same fingerprints on another clone, another store

    (clone / ".env").write_text((clone / ".env").read_text() + f"ANTHROPIC_API_KEY={anthropic_key()}\n")
    git(clone, "add", ".env")
    blocked = hook(clone, "--format", "json")
    assert blocked.returncode == 1
    body = json.loads(blocked.stdout)
    assert body["status"] == "blocked" and {f["rule"] for f in body["blocking"]} >= {"AR-SECRET-IN-FILES"}
    assert all("Anthropic" in f["subject_name"] for f in body["blocking"])


def test_reads_the_index_not_the_working_tree(repo: Path) -> None:
    (repo / "config.py").write_text('KEY = "your-key-here"\n')
    git(repo, "add", "config.py")
    (repo / "config.py").write_text(f'KEY = "{openai_key()}"\n')  # unstaged: not part of the commit
    assert hook(repo).returncode == 0
    key = openai_key()
    (repo / "config.py").write_text(f'KEY = "{key}"\n')
    git(repo, "add", "config.py")
    (repo / "config.py").write_text('KEY = "your-key-here"\n')  # the secret is staged, then hidden
    out = hook(repo)
    assert out.returncode == 1 and key not in out.stdout


def test_files_named_by_pre_commit_and_placeholders(repo: Path) -> None:
    (repo / "settings.yaml").write_text("openai_api_key: ${OPENAI_API_KEY}\nexample: sk-proj-xxxxxxxx\n")
    (repo / "other.py").write_text(f'K = "{openai_key()}"\n')
    ok = hook(repo, "settings.yaml")
    assert ok.returncode == 0, ok.stdout
    assert hook(repo, "settings.yaml", "other.py").returncode == 1


def test_outside_a_repository_is_a_usage_error(tmp_path: Path) -> None:
    out = hook(tmp_path)
    assert out.returncode == 2 and "not inside a git work tree" in out.stderr


def test_hook_manifest_runs_this_command() -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    (entry,) = [h for h in hooks if h["id"] == "agentreach"]
    assert entry["entry"] == "agentreach precommit" and entry["language"] == "python"
    assert entry["args"] == ["--"]  # file names follow the args: never read as flags
    assert entry["pass_filenames"] is True and entry.get("stages")


def test_adopting_the_hook_baselines_every_tracked_file(repo: Path) -> None:
    (repo / "old.env").write_text(f"OPENAI_API_KEY={openai_key()}\n")
    git(repo, "add", "old.env")
    git(repo, "commit", "-qm", "history")
    assert hook(repo, "--all-files").returncode == 1
    assert hook(repo, "--all-files", "--update-baseline").returncode == 0
    assert hook(repo, "--all-files").returncode == 0


def test_only_the_secret_blocks_not_its_ownerless_echo(repo: Path) -> None:
    (repo / "bot.py").write_text(f'KEY = "{openai_key()}"\n')
    git(repo, "add", "bot.py")
    out = hook(repo, "--format", "json")
    assert out.returncode == 1
    assert {f["rule"] for f in json.loads(out.stdout)["blocking"]} == {"AR-SECRET-IN-FILES"}


# -- file names are data (issue 20, item 8) ----------------------------------------------------
# Names git's own revision syntax, pathspec magic, the shell or click would read as something
# else. Before, "0:creds.env" was read as `git show :0:creds.env` (the stage-0 entry of
# creds.env), nothing was scanned and the hook passed.
ODD_NAMES = ["0:creds.env", ":creds.env", "HEAD:app.env", ":(glob)*.env", "-n.env", "--all-files",
             "tab\there.env", "new\nline.env", "space here.env", "ünï.env", "*.env"]


def blocking_paths(out: subprocess.CompletedProcess[str]) -> set[str]:
    body = json.loads(out.stdout)
    return {loc["path"] for f in body["blocking"] for loc in f.get("locations", [])}


def test_odd_staged_names_are_all_scanned(repo: Path) -> None:
    key = anthropic_key()
    for name in ODD_NAMES:
        (repo / name).write_text(f"ANTHROPIC_API_KEY={key}\n")
        git(repo, "--literal-pathspecs", "add", "--", name)
    out = hook(repo, "--format", "json")
    assert out.returncode == 1, out.stdout + out.stderr
    # Records carry a path on one line, its control characters escaped (the files connector's
    # display form, issue 19); the file read is the real one.
    from agentreach_connectors.files.walk import display

    assert blocking_paths(out) == {display(n) for n in ODD_NAMES}
    assert f"{len(ODD_NAMES)} staged file(s) scanned" in hook(repo).stderr


def test_names_pre_commit_passes_are_files_never_flags(repo: Path) -> None:
    """pre-commit appends file names after the manifest's args ("--"): a staged file named
    like a flag is scanned, and --update-baseline is not switched on by it."""
    for name in ("--update-baseline", "0:creds.env"):
        (repo / name).write_text(f"OPENAI_API_KEY={openai_key()}\n")
        git(repo, "--literal-pathspecs", "add", "--", name)
    out = hook(repo, "--format", "json", "--", "--update-baseline", "0:creds.env")
    assert out.returncode == 1, out.stdout + out.stderr
    assert blocking_paths(out) == {"--update-baseline", "0:creds.env"}
    assert not (repo / ".agentreach-baseline.json").exists()


def test_a_staged_blob_that_cannot_be_read_never_passes(repo: Path) -> None:
    (repo / "creds.env").write_text(f"OPENAI_API_KEY={openai_key()}\n")
    git(repo, "add", "creds.env")
    oid = git(repo, "ls-files", "--stage", "-z", "creds.env").split(" ")[1]
    (repo / ".git" / "objects" / oid[:2] / oid[2:]).unlink()  # the index still names it
    out = hook(repo)
    assert out.returncode == 2, out.stdout + out.stderr
    assert "cannot be read" in out.stderr and "creds.env" in out.stderr
