"""The committed baseline and the fingerprints that leave the machine (issue 20 item 10,
issue 13 item 5).

A file secret is named by scrypt under the per-repository salt and cost its baseline records:
the file confirms a guessed value only at one scrypt per guess (the old file held its salt
beside salted SHA-256 hashes, and a five-word list confirmed Summer2025!Passw0rd), and the name
is the same on every store, machine and clone that reads the baseline, so `gate --scan` on a
fresh CI runner finds the committed secrets known (it reported every one as new), the hook and
the gate agree, and SARIF's partialFingerprints stay put. bench/baseline_kdf.py prints the
figures these tests bound."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from agentreach import exitcodes
from agentreach.cli import main
from agentreach.config import ConfigError
from agentreach.fingerprints import IdScheme
from agentreach.gate import load_baseline

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.baseline_kdf import WEAK, dictionary, new_attack, old_attack, version_1  # noqa: E402

OTHER = "sk-proj-" + "Zq8xY2vB7nL4mK9pR3tW6sD1fG5hJ0aC" * 2 + "T3BlbkFJ" + "aB9cD8eF7gH6iJ5kL4mN3oP2qR1sT0uV" * 2


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository holding a weak password and a key, staged; the working directory."""
    r = tmp_path / "agents"
    (r / "svc").mkdir(parents=True)
    git(r, "init", "-q")
    (r / "svc" / ".env").write_text(f"DB_PASSWORD={WEAK}\nOPENAI_API_KEY={OTHER}\n")
    (r / "scan.yaml").write_text(f"scan:\n  connectors: [files]\nconnectors:\n  files:\n    paths: [{r}]\n")
    git(r, "add", ".")
    monkeypatch.chdir(r)
    return r


def cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout + result.stderr


@pytest.fixture
def committed(repo: Path) -> dict:
    code, out = cli("precommit", "--all-files", "--update-baseline")
    assert code == 0, out
    return json.loads((repo / ".agentreach-baseline.json").read_text())


def test_the_committed_baseline_confirms_nothing_cheaply(committed: dict) -> None:
    words = dictionary()
    assert len(words) == 10_000 and words[-1] == WEAK
    assert old_attack(version_1(WEAK), words) == [WEAK]  # what the issue did to the old file, in milliseconds
    assert committed["version"] == 2 and "fingerprint_salt" not in committed
    assert old_attack(committed, words) == []  # the same attack on today's file: nothing
    scheme = IdScheme.from_dict(committed["fingerprints"])
    assert scheme.n >= 2**15 and scheme.r >= 8 and scheme.memory >= 32 * 2**20
    assert new_attack(committed, [WEAK]) == [WEAK]  # confirming takes the KDF, paid per guess
    text = json.dumps(committed)
    assert WEAK not in text and "sha256:" not in text


def test_a_guess_costs_one_full_scrypt(committed: dict) -> None:
    """What makes a 10,000-word list slow is that each guess is one scrypt at the recorded cost,
    with no cheaper path to the same name: the committed name is exactly hashlib.scrypt at the
    file's own N, r, p (so no faster hash stands in), and nothing cheaper of the value (salted
    SHA-256, the old scheme) is in the file. The time per guess is a figure, not a test:
    bench/baseline_kdf.py prints it (~0.1-0.2 s, over 10,000 words well beyond BOUND_S)."""
    import hashlib

    from bench.baseline_kdf import RULE, fingerprint_of, known

    scheme = IdScheme.from_dict(committed["fingerprints"])
    raw = hashlib.scrypt(WEAK.encode(), salt=bytes.fromhex(scheme.salt), n=scheme.n, r=scheme.r, p=scheme.p,
                         dklen=scheme.length, maxmem=scheme.memory + 2**21)
    assert fingerprint_of(RULE, "files:secret:scrypt:" + raw.hex()) in known(committed)
    cheap = hashlib.sha256((scheme.salt + WEAK).encode()).hexdigest()
    assert cheap not in json.dumps(committed)
    assert fingerprint_of(RULE, "files:secret:sha256:" + cheap) not in known(committed)


def test_gate_on_a_fresh_runner_finds_the_committed_secrets_known(repo: Path, committed: dict,
                                                                   tmp_path: Path) -> None:
    """The baseline the hook wrote, a scan into a store that never saw the repository (a CI
    runner): same names, so the gate passes; SARIF says the same fingerprints on both stores."""
    runner_a, runner_b = str(tmp_path / "ci-a.db"), str(tmp_path / "ci-b.db")
    for db in (runner_a, runner_b):
        code, out = cli("--db", db, "--config", str(repo / "scan.yaml"), "gate", "--scan")
        assert code == exitcodes.OK, out
        assert "gate: PASS" in out
    sarif = [json.loads(cli("--db", db, "report", "--format", "sarif")[1].split("\nwrote", 1)[0])
             for db in (runner_a, runner_b)]
    prints = [sorted(str(r.get("partialFingerprints")) for run in s["runs"] for r in run["results"]) for s in sarif]
    assert prints[0] == prints[1] and prints[0]
    baselined = {f["fingerprint"] for f in committed["findings"]}
    body = json.loads(cli("--db", runner_a, "findings", "--format", "json")[1])
    secret_findings = {f["fingerprint"] for f in body["findings"] if f["subject"].startswith("files:secret:scrypt:")}
    assert secret_findings and secret_findings <= baselined


def test_gate_scan_names_secrets_under_the_baseline_it_is_given(repo: Path, committed: dict, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from elsewhere (a CI step whose working directory is not the repository), the
    default baseline is not there: ``--baseline`` is both the gate's file and the scheme the
    scan names secrets with, so the committed secrets are known; without it they are new."""
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    config = str(repo / "scan.yaml")
    code, out = cli("--db", str(tmp_path / "given.db"), "--config", config, "gate", "--scan",
                    "--baseline", str(repo / ".agentreach-baseline.json"))
    assert code == exitcodes.OK and "gate: PASS" in out, out
    code, out = cli("--db", str(tmp_path / "missing.db"), "--config", config, "gate", "--scan")
    assert code == exitcodes.GATE_BLOCKED, out
    code, _ = cli("--db", str(tmp_path / "scanned.db"), "--config", config, "scan", "--only", "files",
                  "--baseline", str(repo / ".agentreach-baseline.json"))
    assert code == exitcodes.OK
    code, out = cli("--db", str(tmp_path / "scanned.db"), "gate", "--baseline", str(repo / ".agentreach-baseline.json"))
    assert code == exitcodes.OK, out


def test_a_new_secret_still_blocks_on_a_fresh_runner(repo: Path, committed: dict, tmp_path: Path) -> None:
    (repo / "svc" / "more.env").write_text("ANTHROPIC_API_KEY=sk-ant-api03-" + "Q" * 93 + "AA\n")
    code, out = cli("--db", str(tmp_path / "ci.db"), "--config", str(repo / "scan.yaml"), "gate", "--scan")
    assert code == exitcodes.GATE_BLOCKED, out
    assert "more.env" in out and "svc/.env" not in out


def test_a_snapshot_named_with_another_salt_is_undecided(repo: Path, committed: dict, tmp_path: Path) -> None:
    """Scanned without the baseline (its own store's scheme), the secrets cannot be looked up
    in the baseline: the gate says so instead of calling every one of them new."""
    db = str(tmp_path / "own.db")
    (repo / "own.yaml").write_text((repo / "scan.yaml").read_text() + "gate:\n  baseline: null\n")
    code, out = cli("--db", db, "--config", str(repo / "own.yaml"), "scan")
    assert code == exitcodes.OK, out
    code, out = cli("--db", db, "gate")
    assert code == exitcodes.USAGE and "another salt than the baseline's" in out, out


def test_a_version_1_baseline_with_secrets_asks_to_be_recorded_again(repo: Path, tmp_path: Path) -> None:
    (repo / ".agentreach-baseline.json").write_text(json.dumps(version_1(WEAK)))
    code, out = cli("--db", str(tmp_path / "ci.db"), "--config", str(repo / "scan.yaml"), "gate", "--scan")
    assert code == exitcodes.USAGE and "old kind" in out and "--update-baseline" in out, out
    code, out = cli("precommit", "--all-files", "--update-baseline")
    assert code == 0, out
    assert json.loads((repo / ".agentreach-baseline.json").read_text())["version"] == 2


@pytest.mark.parametrize("field, value, message", [
    ("n", 2**30, "power of two from"), ("n", 1000, "power of two"), ("r", 1, "r must be"),
    ("salt", "abcd", "at least 16 bytes"), ("salt", "not hex at all, not hex at all!", "hex string"),
    ("kdf", "sha256", "expected"),
])
def test_a_baseline_asking_for_an_odd_scheme_is_refused(field: str, value: object, message: str,
                                                        tmp_path: Path) -> None:
    """A committed baseline is input: one asking for a cheap guess, or for gigabytes per hook
    run, is a one-line error naming the file."""
    scheme = {**IdScheme.new().to_dict(), field: value}
    path = tmp_path / "b.json"
    path.write_text(json.dumps({"version": 2, "fingerprints": scheme, "findings": []}))
    with pytest.raises(ConfigError, match=message):
        load_baseline(path)


def test_a_rescan_takes_the_names_it_already_derived_and_pays_scrypt_for_new_values_only(
        repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A scheduled rescan finds the secrets it found last time: their shared ids are in the
    store beside their fingerprints, so no scrypt is paid for them again; a new value, or a
    snapshot named under another scheme (another baseline), is derived."""
    derived: list[str] = []
    real = IdScheme.identity

    def counted(self: IdScheme, value: str) -> str:
        derived.append(self.salt)
        return real(self, value)

    monkeypatch.setattr(IdScheme, "identity", counted)
    db, config = str(tmp_path / "inv.db"), str(repo / "scan.yaml")

    def scan(*extra: str) -> set[str]:
        code, out = cli("--db", db, "--config", config, "-q", "scan", "--only", "files", *extra)
        assert code == exitcodes.OK, out
        code, out = cli("--db", db, "inventory", "--kind", "credential", "--format", "json")
        return {o["id"] for o in json.loads(out)["objects"] if o["type"] == "file_secret"}

    first = scan()
    assert len(first) == 2 and len(derived) == 2
    derived.clear()
    assert scan() == first and derived == []  # both known: not one scrypt
    (repo / "svc" / ".env").write_text(f"DB_PASSWORD={WEAK}\nOPENAI_API_KEY={OTHER}\nAPI_TOKEN=nv7Qp2Lx9Rk4Tz8W\n")
    third = scan()
    assert len(third) == 3 and first < third and len(derived) == 1  # the new value only
    derived.clear()
    code, out = cli("precommit", "--all-files", "--update-baseline")  # a repository scheme: a new salt
    assert code in (exitcodes.OK, exitcodes.GATE_BLOCKED), out
    derived.clear()
    renamed = scan("--baseline", str(repo / ".agentreach-baseline.json"))
    assert len(renamed) == 3 and not renamed & third and len(derived) == 3
