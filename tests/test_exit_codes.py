"""The scan's exit-code rule, both ways: nothing collected is 4 (a failed snapshot that never
becomes the latest), something collected with coverage gaps is 3. "Collected" is a record
read from a source: the account node a connector emits for where it looked does not count."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from agentreach import exitcodes
from agentreach.cli import main
from agentreach.store import Store


def run(door: Any, estate: Any, db: Path, tmp_path: Path, *, services: list[str], only: str = "aws",
        extra: list[str] = ()) -> Any:
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(f"connectors:\n  aws:\n    services: [{', '.join(services)}]\n    max_attempts: 2\n")
    args = ["--db", str(db), "--config", str(cfg), "-q", "scan", "--only", only, "--endpoint-url", door.url,
            "--regions", "us-east-1", "--accounts", ",".join(estate.accounts), "--format", "json", *extra]
    result = CliRunner().invoke(main, args)
    return result, json.loads(result.stdout) if result.stdout.strip() else None


@pytest.fixture
def baseline(frontdoor: Any, seeded_estate: Any, tmp_path: Path) -> Path:
    """A store whose latest snapshot is a good one, which a failed scan must not hide."""
    db = tmp_path / "inv.db"
    result, _ = run(frontdoor, seeded_estate, db, tmp_path, services=["iam"])
    assert result.exit_code == exitcodes.OK, result.output
    return db


@pytest.mark.parametrize("fault", ["deny", "throttle"])
def test_the_first_call_failing_after_its_retries_collects_nothing(fault: str, frontdoor: Any, seeded_estate: Any,
                                                                   baseline: Path, tmp_path: Path) -> None:
    if fault == "deny":
        rule = frontdoor.fail("sts", "GetCallerIdentity", code="AccessDenied", message="denied")
    else:
        rule = frontdoor.throttle("sts", "GetCallerIdentity", times=None)
    result, body = run(frontdoor, seeded_estate, baseline, tmp_path, services=["iam"])
    assert result.exit_code == exitcodes.FAILED and body["exit_code"] == exitcodes.FAILED
    assert rule.hits == (1 if fault == "deny" else 2)  # throttled: every attempt, then given up
    assert [(g["service"], g["operation"]) for g in body["coverage_gaps"]] == [("sts", "GetCallerIdentity")]
    assert body["connectors"][0]["error"].startswith("saw nothing")
    store = Store(baseline)
    assert [s.status for s in store.snapshots()] == ["complete", "failed"]
    assert store.latest_snapshot().id == 1


def test_only_the_accounts_themselves_is_nothing_collected(frontdoor: Any, seeded_estate: Any, baseline: Path,
                                                           tmp_path: Path) -> None:
    """Every service refused in every account: the connector emits the account nodes it was
    asked to look into, and nothing it read. That used to complete (exit 3) as a snapshot in
    which the whole estate looked deleted."""
    frontdoor.fail("iam", code="AccessDenied", message="denied")
    frontdoor.fail("s3", code="AccessDenied", message="denied")
    result, body = run(frontdoor, seeded_estate, baseline, tmp_path, services=["iam", "s3"])
    assert result.exit_code == exitcodes.FAILED, result.output
    assert body["connectors"][0]["nodes"] == len(seeded_estate.accounts)  # the account nodes
    assert body["connectors"][0]["collected"] == 0
    assert Store(baseline).latest_snapshot().id == 1


def test_something_collected_with_gaps_is_3(frontdoor: Any, seeded_estate: Any, baseline: Path,
                                            tmp_path: Path) -> None:
    frontdoor.fail("s3", code="AccessDenied", message="denied")
    result, body = run(frontdoor, seeded_estate, baseline, tmp_path, services=["iam", "s3"])
    assert result.exit_code == exitcodes.GAPS, result.output
    assert body["snapshot"]["status"] == "complete" and body["connectors"][0]["collected"] > 0
    assert {g["service"] for g in body["coverage_gaps"]} == {"s3"}
    assert Store(baseline).latest_snapshot().id == 2


def test_one_connector_collecting_is_enough_for_3(frontdoor: Any, seeded_estate: Any, baseline: Path,
                                                  tmp_path: Path) -> None:
    """AWS saw nothing (its first call refused), the files connector read a repository: the
    scan completed with a gap, and the AWS connector's run says it failed."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "notes.md").write_text("nothing secret here\n")
    (repo / ".env").write_text("OPENAI_API_KEY=sk-proj-" + "Zq8xY2vB7nL4mK9pR3tW6sD1fG5hJ0aC" * 2 + "\n")
    frontdoor.fail("sts", "GetCallerIdentity", code="AccessDenied", message="denied")
    result, body = run(frontdoor, seeded_estate, baseline, tmp_path, services=["iam"], only="aws,files",
                       extra=["--path", str(repo)])
    assert result.exit_code == exitcodes.GAPS, result.output
    runs = {r["name"]: r for r in body["connectors"]}
    assert runs["aws"]["error"] and runs["files"]["error"] is None and runs["files"]["collected"] > 0
