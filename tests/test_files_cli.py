"""`agentreach show` / `reach` by file location (Store.find): ``path``, ``path:line``, with or
without the scanned root's name, ``./`` prefixes; several secrets at one place are listed, an
empty place is not found; fingerprints still resolve; no value in any output."""

from __future__ import annotations

import json
import random
import string
from pathlib import Path

import pytest
from click.testing import CliRunner

from agentreach import exitcodes
from agentreach.cli import main

R = random.Random(21)
AN = string.ascii_letters + string.digits
KEYS = {"groq": "gsk_" + "".join(R.choice(AN) for _ in range(52)),
        "hf": "hf_" + "".join(R.choice(AN) for _ in range(34)),
        "pplx": "pplx-" + "".join(R.choice(AN) for _ in range(48))}


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    repo = tmp_path_factory.mktemp("tree") / "myrepo"
    (repo / "app").mkdir(parents=True)
    (repo / "src").mkdir()
    (repo / "app" / ".env").write_text(f"GROQ_API_KEY={KEYS['groq']}\nHF_TOKEN={KEYS['hf']}\n")
    (repo / "src" / "x.py").write_text(f'import os\n\nPPLX = "{KEYS["pplx"]}"\n')
    path = str(tmp_path_factory.mktemp("db") / "inv.db")
    res = CliRunner().invoke(main, ["--db", path, "-q", "scan", "--only", "files", "--path", str(repo)])
    assert res.exit_code == 0, res.output
    return path


def run(db: str, *args: str, code: int = 0) -> str:
    res = CliRunner().invoke(main, ["--db", db, *args])
    assert res.exit_code == code, res.output
    return res.output


def shown(db: str, ref: str) -> dict:
    return json.loads(run(db, "show", ref, "--format", "json"))["object"]


@pytest.mark.parametrize("ref, detector", [
    ("app/.env:1", "Groq API Key"), ("app/.env:2", "Hugging Face Token"), ("./app/.env:2", "Hugging Face Token"),
    ("myrepo/app/.env:1", "Groq API Key"), ("src/x.py", "Perplexity API Key"), ("src/x.py:3", "Perplexity API Key"),
    ("myrepo/src/x.py", "Perplexity API Key"),
])
def test_show_by_location(db: str, ref: str, detector: str) -> None:
    obj = shown(db, ref)
    assert obj["type"] == "file_secret" and obj["attrs"]["detector"] == detector
    assert any(loc in ref for loc in ("app/.env", "src/x.py"))


def test_ambiguous_and_missing_locations(db: str) -> None:
    out = run(db, "show", "app/.env", code=exitcodes.USAGE)
    assert "matches 2 objects" in out
    assert "nothing in snapshot" in run(db, "show", "app/.env:9", code=exitcodes.NOT_FOUND)
    assert "nothing in snapshot" in run(db, "show", "other/.env:1", code=exitcodes.NOT_FOUND)


def test_reach_and_fingerprint(db: str) -> None:
    obj = shown(db, "src/x.py:3")
    reach = json.loads(run(db, "reach", "src/x.py:3", "--format", "json"))
    assert reach["from"]["id"] == obj["id"] and reach["systems"] == []
    assert shown(db, obj["fingerprint"])["id"] == obj["id"]
    res = CliRunner().invoke(main, ["--db", db, "show", "-", "--format", "json"], input=KEYS["pplx"] + "\n")
    assert json.loads(res.stdout)["object"]["id"] == obj["id"]


def test_no_value_in_any_output(db: str) -> None:
    outputs = []
    for fmt in ("table", "json"):
        for ref in ("app/.env:1", "src/x.py"):
            outputs += [run(db, "show", ref, "--format", fmt), run(db, "reach", ref, "--format", fmt)]
        outputs.append(run(db, "inventory", "--format", fmt))
    outputs += [run(db, "report", "--format", f) for f in ("md", "json", "csv", "sarif")]
    blob = "".join(outputs) + "".join(p.read_bytes().decode("latin-1") for p in Path(db).parent.glob("inv.db*"))
    for value in KEYS.values():
        assert value not in blob


def test_scan_flags_for_gitignore_and_history(tmp_path: Path) -> None:
    """--all-files reads what .gitignore hides; --git-history finds a key a later commit
    removed; --since limits the history to the commits after a ref."""
    import subprocess

    repo = tmp_path / "hist"
    repo.mkdir()

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout

    git("init", "-q")
    git("config", "user.email", "d@example.com")
    git("config", "user.name", "d")
    (repo / ".gitignore").write_text("local.env\n")
    (repo / "local.env").write_text(f"GROQ_API_KEY={KEYS['groq']}\n")
    (repo / "app.py").write_text(f'HF = "{KEYS["hf"]}"\n')
    git("add", ".gitignore", "app.py")
    git("commit", "-qm", "one")
    first = git("rev-parse", "HEAD").strip()
    (repo / "app.py").write_text("HF = os.environ['HF_TOKEN']\n")
    git("commit", "-qam", "two: the key is gone from the tree")

    def detectors(*flags: str) -> set[str]:
        db = str(tmp_path / f"{len(flags)}-{'-'.join(f.strip('-') for f in flags)}.db")
        res = CliRunner().invoke(main, ["--db", db, "-q", "scan", "--only", "files", "--path", str(repo), *flags])
        assert res.exit_code == 0, res.output
        out = CliRunner().invoke(main, ["--db", db, "inventory", "--provider", "files", "--format", "json"])
        return {o["attrs"]["detector"] for o in json.loads(out.stdout)["objects"]}

    assert detectors() == set()
    assert any("Groq" in d for d in detectors("--all-files"))
    assert any("Hugging" in d for d in detectors("--git-history"))
    assert not any("Hugging" in d for d in detectors("--git-history", "--since", first))


def test_show_dash_reads_the_whole_paste_bounded(db: str) -> None:
    """``show -`` reads all of stdin (a pasted block spans lines), finds the secret among the
    lines, and refuses a paste larger than one secret can be, in one line."""
    obj = shown(db, "src/x.py:3")
    pasted = f"from the ticket:\n\n  {KEYS['pplx']}  \n-- pasted by on-call\n"
    res = CliRunner().invoke(main, ["--db", db, "show", "-", "--format", "json"], input=pasted)
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["object"]["id"] == obj["id"]
    assert KEYS["pplx"] not in res.output
    huge = CliRunner().invoke(main, ["--db", db, "show", "-"], input="x" * (64 * 1024 + 1))
    assert huge.exit_code == exitcodes.USAGE and "at most 64 KiB" in huge.stderr
    none = CliRunner().invoke(main, ["--db", db, "show", "-"], input="not a secret we saw\n")
    assert none.exit_code == exitcodes.NOT_FOUND and "not a secret" not in none.stderr
