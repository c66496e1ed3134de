"""Denied, throttled, slow and missing calls: each becomes a coverage gap (or is retried
and loses nothing), the scan completes, and the exit code says so. Failures are injected
on the wire by the front door; the boto3 clients are real."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from agentreach import exitcodes
from agentreach.cli import main
from agentreach.connector import ScanContext
from agentreach.scan import prepare, run_scan
from agentreach.store import Store

from .conftest import aws_config


def scan(door: Any, estate: Any, tmp_path: Path, **extra: Any):
    extra.setdefault("regions", ["us-east-1"])
    config = aws_config(door.url, estate, **extra)
    store = Store(tmp_path / "inv.db")
    result = run_scan(store, config, prepare(config), ScanContext())
    nodes = [n.node for n in store.nodes(result.snapshot.id)]
    return result, nodes


def count(nodes: list[Any], type_: str) -> int:
    return sum(1 for n in nodes if n.type == type_)


def test_denied_service_is_a_gap_and_the_rest_is_scanned(frontdoor: Any, seeded_estate: Any, tmp_path: Path) -> None:
    rule = frontdoor.fail("secretsmanager", code="AccessDeniedException",
                          message="User: arn:aws:sts::123456789012:assumed-role/agentreach-readonly/x is not authorized")
    result, nodes = scan(frontdoor, seeded_estate, tmp_path)
    assert rule.hits >= 2
    assert result.snapshot.status == "complete" and result.exit_code == exitcodes.GAPS
    gaps = [g for g in result.gaps if g.service == "secretsmanager"]
    assert {(g.account, g.region, g.operation, g.error_code) for g in gaps} == {
        (a, "us-east-1", "ListSecrets", "AccessDeniedException") for a in seeded_estate.accounts}
    assert count(nodes, "aws_secretsmanager_secret") == 0
    assert count(nodes, "aws_iam_user") == sum(len(a["users"]) for a in seeded_estate.expected["accounts"].values())
    stored = Store(tmp_path / "inv.db").gaps(result.snapshot.id)
    assert len(stored) == len(result.gaps)


def test_throttling_is_retried_and_loses_nothing(frontdoor: Any, seeded_estate: Any, tmp_path: Path) -> None:
    clean, clean_nodes = scan(frontdoor, seeded_estate, tmp_path / "a")
    gaad = frontdoor.throttle("iam", "GetAccountAuthorizationDetails", times=2)
    keys = frontdoor.throttle("iam", "ListAccessKeys", times=3)
    lambdas = frontdoor.throttle("lambda", "ListFunctions", times=2)
    # Five attempts per call: three throttles can never exhaust one call, whichever
    # concurrent calls they land on.
    result, nodes = scan(frontdoor, seeded_estate, tmp_path / "b", max_attempts=5)
    assert (gaad.hits, keys.hits, lambdas.hits) == (2, 3, 2)
    assert result.gaps == [] and result.exit_code == exitcodes.OK
    assert sorted(n.id for n in nodes) == sorted(n.id for n in clean_nodes)


def test_an_account_whose_role_cannot_be_assumed(frontdoor: Any, seeded_estate: Any, tmp_path: Path) -> None:
    frontdoor.fail("sts", "AssumeRole", code="AccessDenied", message="not authorized to perform sts:AssumeRole")
    result, nodes = scan(frontdoor, seeded_estate, tmp_path)
    second = [a for a in seeded_estate.accounts if a != seeded_estate.expected["main_account"]][0]
    assert [(g.account, g.operation, g.error_code) for g in result.gaps] == [(second, "AssumeRole", "AccessDenied")]
    assert {n.account for n in nodes if n.type == "aws_iam_user"} == {seeded_estate.expected["main_account"]}
    assert result.snapshot.status == "complete"


def test_without_the_credential_report_last_use_comes_key_by_key(frontdoor: Any, seeded_estate: Any,
                                                                 tmp_path: Path) -> None:
    frontdoor.fail("iam", "GenerateCredentialReport", code="AccessDenied", message="denied")
    result, nodes = scan(frontdoor, seeded_estate, tmp_path)
    assert {g.operation for g in result.gaps} == {"GenerateCredentialReport"}
    expected = {k["id"]: k for a in seeded_estate.expected["accounts"].values()
                for u in a["users"].values() for k in u["access_keys"]}
    keys = {n.native_id: n for n in nodes if n.type == "aws_access_key"}
    assert set(expected) <= set(keys)
    used = [k for k in expected.values() if k["last_used"]]
    assert used and all(keys[k["id"]].last_used is not None for k in used)
    assert all(keys[k["id"]].attrs["last_used_source"] == "access_key_last_used" for k in used)
    assert frontdoor.calls[("iam", "GetAccessKeyLastUsed")] == len(expected)


def test_a_call_that_times_out_is_a_gap(frontdoor: Any, seeded_estate: Any, tmp_path: Path) -> None:
    frontdoor.delay("acm", "ListCertificates", seconds=2.5)
    result, nodes = scan(frontdoor, seeded_estate, tmp_path, read_timeout=1, max_attempts=1)
    acm = [g for g in result.gaps if g.service == "acm"]
    assert acm and all(g.error_code == "ReadTimeoutError" for g in acm)
    assert count(nodes, "aws_iam_role") > 0 and result.exit_code == exitcodes.GAPS


def test_cli_exit_codes_for_gaps_and_for_a_failed_scan(frontdoor: Any, seeded_estate: Any, tmp_path: Path) -> None:
    runner = CliRunner()
    base = ["--db", str(tmp_path / "cli.db"), "-q", "scan", "--endpoint-url", frontdoor.url,
            "--regions", "us-east-1", "--accounts", ",".join(seeded_estate.accounts), "--format", "json"]
    clean = runner.invoke(main, base)
    assert clean.exit_code == exitcodes.OK, clean.output
    frontdoor.fail("kms", code="AccessDeniedException", message="denied")
    gappy = runner.invoke(main, base)
    assert gappy.exit_code == exitcodes.GAPS
    body = json.loads(gappy.stdout)
    assert body["exit_code"] == exitcodes.GAPS and {g["service"] for g in body["coverage_gaps"]} == {"kms"}
    frontdoor.fail("sts", code="AccessDenied", message="denied")  # not even GetCallerIdentity works
    failed = runner.invoke(main, base)
    assert failed.exit_code == exitcodes.FAILED
    store = Store(tmp_path / "cli.db")
    assert [s.status for s in store.snapshots()] == ["complete", "complete", "failed"]
    assert store.latest_snapshot().id == 2  # a failed scan never hides the last good one
