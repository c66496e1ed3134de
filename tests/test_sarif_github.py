"""SARIF as GitHub code scanning ingests it, end to end: a real files-connector scan of a small
tree with keys planted at known lines, ``agentreach report --format sarif``, then the checks
GitHub documents for an upload ("SARIF support for code scanning", docs.github.com), beyond the
official 2.1.0 schema:

- every rule has ``id``, ``shortDescription.text``, ``fullDescription.text`` and ``help.text``,
  and a ``security-severity`` in (0, 10] where it has one (with the ``security`` tag that makes
  GitHub treat it as a security result);
- every result names a rule present in ``rules`` (``ruleIndex`` agrees), has a message, 1 to 10
  locations, each with a ``physicalLocation`` (GitHub rejects the whole file when a location
  has only a logical one: "locationFromSarifResult: expected artifact location"), and
  ``partialFingerprints``;
- a file result's ``artifactLocation.uri`` is relative (no leading ``/``, no ``..``, no scheme),
  its ``uriBaseId`` is declared in ``run.originalUriBaseIds``, it decodes to the planted file
  and ``region.startLine`` is the planted line.
"""

from __future__ import annotations

import json
import pathlib
import random
import string
import urllib.parse
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from agentreach.cli import main

DATA = pathlib.Path(__file__).parent / "data"
R = random.Random(1313)
AN = string.ascii_letters + string.digits


def _key(prefix: str, n: int) -> str:
    return prefix + "".join(R.choice(AN) for _ in range(n))


# (relative path, line, line text): what the scan must report, where.
PLANTED = [
    ("app/.env", 3, f"GROQ_API_KEY={_key('gsk_', 52)}"),
    ("app/.env", 5, f"HF_TOKEN={_key('hf_', 34)}"),
    ("src/agent.py", 7, f'PPLX_API_KEY = "{_key("pplx-", 48)}"'),
    ("docs/run book/notes #1.md", 2, f"export GROQ_API_KEY={_key('gsk_', 52)}"),
]
VALUES = [text.split("=", 1)[1].strip(' "') for _, _, text in PLANTED]


def _plant(root: pathlib.Path) -> None:
    files: dict[str, dict[int, str]] = {}
    for rel, line, text in PLANTED:
        files.setdefault(rel, {})[line] = text
    for rel, lines in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        body = [lines.get(n, f"# line {n}") for n in range(1, max(lines) + 2)]
        path.write_text("\n".join(body) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def sarif_log(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("tree") / "agentrepo"
    _plant(root)
    db = str(tmp_path_factory.mktemp("db") / "inv.db")
    runner = CliRunner()
    res = runner.invoke(main, ["--db", db, "-q", "scan", "--only", "files", "--path", str(root)])
    assert res.exit_code == 0, res.output
    out = runner.invoke(main, ["--db", db, "report", "--format", "sarif"])
    assert out.exit_code == 0, out.output
    for value in VALUES:
        assert value not in out.stdout
    return json.loads(out.stdout)


# ---------------------------------------------------------------- the checks GitHub documents


def _text(obj: Any, key: str) -> str:
    return str(((obj or {}).get(key) or {}).get("text") or "")


def _relative_uri_problem(uri: str) -> str | None:
    if not uri:
        return "empty uri"
    if uri.startswith("/") or "://" in uri or uri.startswith("file:"):
        return f"uri {uri!r} is not relative"
    if ".." in urllib.parse.unquote(uri).split("/"):
        return f"uri {uri!r} climbs out of its base"
    return None


def github_upload_problems(log: dict[str, Any]) -> list[str]:
    """What GitHub code scanning would refuse or show wrongly in a SARIF log; [] when none."""
    problems: list[str] = []
    if log.get("version") != "2.1.0" or not log.get("$schema"):
        problems.append("version 2.1.0 and $schema are required")
    runs = log.get("runs") or []
    if not runs:
        problems.append("no run")
    for r, run in enumerate(runs):
        driver = (run.get("tool") or {}).get("driver") or {}
        if not driver.get("name"):
            problems.append(f"run {r}: tool.driver.name is required")
        rules = driver.get("rules")
        if not isinstance(rules, list):
            problems.append(f"run {r}: tool.driver.rules is required")
            rules = []
        ids = [rule.get("id") for rule in rules]
        for rule in rules:
            for key in ("shortDescription", "fullDescription", "help"):
                if not _text(rule, key):
                    problems.append(f"rule {rule.get('id')}: {key}.text is required")
            props = rule.get("properties") or {}
            if "security-severity" in props:
                score = float(props["security-severity"])
                if not 0.0 < score <= 10.0:
                    problems.append(f"rule {rule.get('id')}: security-severity {score} outside (0, 10]")
                if "security" not in (props.get("tags") or []):
                    problems.append(f"rule {rule.get('id')}: a security-severity needs the 'security' tag")
        bases = run.get("originalUriBaseIds") or {}
        if not isinstance(run.get("results"), list):
            problems.append(f"run {r}: results[] is required")
        for i, result in enumerate(run.get("results") or []):
            where = f"result {i} ({result.get('ruleId')})"
            if result.get("ruleId") not in ids:
                problems.append(f"{where}: ruleId not among the rules")
            elif "ruleIndex" in result and ids[result["ruleIndex"]] != result["ruleId"]:
                problems.append(f"{where}: ruleIndex points at another rule")
            if not _text(result, "message"):
                problems.append(f"{where}: message.text is required")
            if not result.get("partialFingerprints"):
                problems.append(f"{where}: partialFingerprints are required")
            locations = result.get("locations") or []
            if not 1 <= len(locations) <= 10:
                problems.append(f"{where}: {len(locations)} locations (1 to 10 allowed)")
            for loc in [*locations, *(result.get("relatedLocations") or [])]:
                physical = loc.get("physicalLocation")
                if not physical:
                    problems.append(f"{where}: a location without physicalLocation")
                    continue
                artifact = physical.get("artifactLocation") or {}
                uri = str(artifact.get("uri") or "")
                if artifact.get("uriBaseId") is not None:
                    if artifact["uriBaseId"] not in bases:
                        problems.append(f"{where}: uriBaseId {artifact['uriBaseId']!r} not in originalUriBaseIds")
                    bad = _relative_uri_problem(uri)
                    if bad:
                        problems.append(f"{where}: {bad}")
                elif not uri:
                    problems.append(f"{where}: artifactLocation.uri is required")
                line = (physical.get("region") or {}).get("startLine")
                if not isinstance(line, int) or line < 1:
                    problems.append(f"{where}: region.startLine >= 1 is required")
    return problems


def file_regions(log: dict[str, Any]) -> set[tuple[str, int]]:
    """(decoded path, start line) of every physical location under a declared source root."""
    out = set()
    for run in log["runs"]:
        bases = run.get("originalUriBaseIds") or {}
        for result in run["results"]:
            for loc in [*result["locations"], *(result.get("relatedLocations") or [])]:
                artifact = loc["physicalLocation"]["artifactLocation"]
                if artifact.get("uriBaseId") in bases and bases[artifact["uriBaseId"]].get("properties", {}).get(
                        "kind") == "source-root":
                    out.add((urllib.parse.unquote(artifact["uri"]), loc["physicalLocation"]["region"]["startLine"]))
    return out


# ---------------------------------------------------------------- the tests


def test_sarif_of_a_files_scan_passes_github_upload_checks(sarif_log: dict[str, Any]) -> None:
    schema = json.loads((DATA / "sarif-2.1.0.json").read_text(encoding="utf-8"))
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(sarif_log), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)
    assert github_upload_problems(sarif_log) == []


def test_file_results_point_at_the_planted_lines(sarif_log: dict[str, Any]) -> None:
    run = sarif_log["runs"][0]
    assert {r["ruleId"] for r in run["results"]} >= {"AR-SECRET-IN-FILES"}
    assert sum(r["ruleId"] == "AR-SECRET-IN-FILES" for r in run["results"]) == len(PLANTED)
    assert file_regions(sarif_log) == {(rel, line) for rel, line, _ in PLANTED}
    for result in run["results"]:  # every subject of a files-only scan is written in a file
        artifact = result["locations"][0]["physicalLocation"]["artifactLocation"]
        assert artifact["uriBaseId"] == "%SRCROOT%"
        assert "agentrepo" in run["originalUriBaseIds"]["%SRCROOT%"]["description"]["text"]
        assert result["partialFingerprints"]["agentreachFingerprint/v1"]
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]}
    assert "docs/run%20book/notes%20%231.md" in uris  # percent-encoded, decodes to the file


def test_checker_catches_what_github_rejects(sarif_log: dict[str, Any]) -> None:
    """The checks are not vacuous: a logical-only location, an absolute or climbing uri, an
    undeclared base, a wrong line and a rule that is not described are each reported."""
    bad = json.loads(json.dumps(sarif_log))
    results = bad["runs"][0]["results"]
    results[0]["locations"] = [{"logicalLocations": [{"name": "x"}]}]
    results[1]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] = "/abs/app/.env"
    results[2]["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"] = "ELSEWHERE"
    results[3]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    results[3]["ruleId"] = "AR-NOPE"
    bad["runs"][0]["tool"]["driver"]["rules"][0]["help"] = {"text": ""}
    problems = "\n".join(github_upload_problems(bad))
    for needle in ("without physicalLocation", "is not relative", "'ELSEWHERE' not in originalUriBaseIds",
                   "startLine >= 1", "ruleId not among the rules", "help.text is required"):
        assert needle in problems, problems
    climbing = json.loads(json.dumps(sarif_log))
    climbing["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] = "../x/.env"
    assert any("climbs out" in p for p in github_upload_problems(climbing))


def test_a_secret_found_in_history_names_its_commit(tmp_path: pathlib.Path) -> None:
    """A key committed and then removed is found in git history: its SARIF location carries the
    commit (the line is that commit's, HEAD no longer holds it), the log stays valid, and the
    Markdown report says where and in which commit."""
    import subprocess

    repo = tmp_path / "repo"
    repo.mkdir()

    def git(*args: str) -> str:
        return subprocess.run(["git", "-c", "user.email=a@b", "-c", "user.name=a", *args], cwd=repo, check=True,
                              capture_output=True, text=True).stdout.strip()

    git("init", "-q")
    value = _key("gsk_", 52)
    (repo / "agent.py").write_text(f'# agent\nGROQ_API_KEY = "{value}"\n')
    git("add", "-A")
    git("commit", "-qm", "add the agent")
    added = git("rev-parse", "HEAD")
    (repo / "agent.py").write_text('# agent\nGROQ_API_KEY = os.environ["GROQ_API_KEY"]\n')
    git("commit", "-qam", "read the key from the environment")
    config = tmp_path / "scan.yaml"
    config.write_text(f"connectors:\n  files:\n    paths: [{repo}]\n    git_history: true\n")
    db = str(tmp_path / "inv.db")
    runner = CliRunner()
    res = runner.invoke(main, ["--db", db, "--config", str(config), "-q", "scan", "--only", "files"])
    assert res.exit_code == 0, res.output
    log = json.loads(runner.invoke(main, ["--db", db, "report", "--format", "sarif"]).stdout)
    schema = json.loads((DATA / "sarif-2.1.0.json").read_text(encoding="utf-8"))
    assert not list(jsonschema.Draft7Validator(schema).iter_errors(log)) and github_upload_problems(log) == []
    [result] = [r for r in log["runs"][0]["results"] if r["ruleId"] == "AR-SECRET-IN-FILES"]
    assert result["locations"][0]["properties"] == {"commit": added}
    assert file_regions(log) == {("agent.py", 2)}
    md = runner.invoke(main, ["--db", db, "report", "--format", "md"]).stdout
    assert f"agent.py:2 @ {added[:12]}" in md and value not in md + json.dumps(log)
