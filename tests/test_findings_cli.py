"""Findings, reports, diffs and the gate from the command line, on a real scan; and the
gate as a CI job would use it: it fails on a newly added ownerless agent credential and
passes once that credential is owned or suppressed with an expiry."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner

from agentreach import exitcodes
from agentreach.cli import main


def run(db: str, *args: str, code: int = 0) -> Any:
    res = CliRunner().invoke(main, ["--db", db, *args])
    assert res.exit_code == code, res.output
    return res


def scan(db: str, door: Any, estate: Any) -> None:
    run(db, "-q", "scan", "--endpoint-url", door.url, "--regions", "us-east-1", "--accounts", ",".join(estate.accounts))


def test_findings_and_report_formats(db: str, tmp_path: Path) -> None:
    found = json.loads(run(db, "findings", "--format", "json").stdout)["findings"]
    rules = {f["rule"] for f in found}
    assert {"AR-AGENT-OWNERLESS", "AR-AGENT-SENSITIVE-REACH", "AR-CREDENTIAL-EXPIRY"} <= rules
    for f in found:
        assert {"rule", "severity", "title", "subject", "evidence", "path", "frameworks", "fingerprint"} <= set(f)
        assert f["evidence"] and f["frameworks"]
    critical = json.loads(run(db, "findings", "--severity", "critical", "--format", "json").stdout)["findings"]
    assert critical and all(f["severity"] == "critical" for f in critical)
    assert any(f["path"] for f in critical)
    table = run(db, "findings").stdout
    assert "skipped AR-SECRET-IN-FILES" in table
    sarif = json.loads(run(db, "report", "--format", "sarif").stdout)
    assert sarif["version"] == "2.1.0" and sarif["runs"][0]["results"]
    rows = list(csv.DictReader(io.StringIO(run(db, "report", "--format", "csv").stdout)))
    assert len(rows) == len(found)
    html = tmp_path / "r.html"
    run(db, "report", "--format", "html", "--output", str(html))
    assert "<svg" in html.read_text() and "http://" not in html.read_text().split("xmlns")[0]
    assert "## " in run(db, "report", "--format", "md").stdout


def test_gate_blocks_a_new_ownerless_agent_credential(seeded_estate: Any, frontdoor_session: Any, moto_url: str,
                                                      tmp_path: Path) -> None:
    db = str(tmp_path / "gate.db")
    baseline = str(tmp_path / ".agentreach-baseline.json")
    scan(db, frontdoor_session, seeded_estate)
    run(db, "gate", "--baseline", baseline, "--update-baseline")
    run(db, "gate", "--baseline", baseline)  # nothing new: pass

    # A developer adds an agent's programmatic user and key, with no owner.
    iam = boto3.client("iam", endpoint_url=moto_url, region_name="us-east-1")
    iam.create_user(UserName="triage-agent-bot", Tags=[{"Key": "Purpose", "Value": "ai-agent"}])
    iam.put_user_policy(UserName="triage-agent-bot", PolicyName="invoke", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*",
                                                "Action": ["bedrock:InvokeAgent", "bedrock:InvokeModel"]}]}))
    iam.create_access_key(UserName="triage-agent-bot")
    try:
        scan(db, frontdoor_session, seeded_estate)
        blocked = run(db, "gate", "--baseline", baseline, "--format", "json", code=exitcodes.GATE_BLOCKED)
        body = json.loads(blocked.stdout)
        assert body["status"] == "blocked"
        assert {(f["rule"], f["subject_name"]) for f in body["blocking"]} >= {("AR-AGENT-OWNERLESS", "triage-agent-bot")}
        sarif = json.loads(run(db, "gate", "--baseline", baseline, "--format", "sarif", code=1).stdout)
        assert {r["ruleId"] for r in sarif["runs"][0]["results"]} >= {"AR-AGENT-OWNERLESS"}

        # Suppressed with a reason, an owner and an expiry: passes; expired: blocks again.
        data = json.loads(Path(baseline).read_text())
        data["suppressions"] = [{"rule": "AR-AGENT-OWNERLESS", "subject": "*triage-agent-bot*",
                                 "reason": "owner named in ticket SEC-1", "owner": "sec@example.com",
                                 "expires": "2099-01-01"}]
        Path(baseline).write_text(json.dumps(data))
        run(db, "gate", "--baseline", baseline)
        data["suppressions"][0]["expires"] = "2020-01-01"
        Path(baseline).write_text(json.dumps(data))
        assert "suppression expired" in run(db, "gate", "--baseline", baseline, code=1).stdout

        # Owned: passes without any suppression.
        data["suppressions"] = []
        Path(baseline).write_text(json.dumps(data))
        iam.tag_user(UserName="triage-agent-bot", Tags=[{"Key": "Owner", "Value": "ml-platform@example.com"}])
        scan(db, frontdoor_session, seeded_estate)
        run(db, "gate", "--baseline", baseline)

        diff = json.loads(run(db, "diff", "1", "3", "--format", "json").stdout)
        assert "triage-agent-bot" in {c["name"] for c in diff["added"]}
        assert "triage-agent-bot" in run(db, "diff", "1", "3", "--format", "md").stdout
    finally:
        for key in iam.list_access_keys(UserName="triage-agent-bot")["AccessKeyMetadata"]:
            iam.delete_access_key(UserName="triage-agent-bot", AccessKeyId=key["AccessKeyId"])
        iam.delete_user_policy(UserName="triage-agent-bot", PolicyName="invoke")
        iam.delete_user(UserName="triage-agent-bot")


def test_gate_never_passes_an_incomplete_scan(frontdoor: Any, seeded_estate: Any, tmp_path: Path) -> None:
    db = str(tmp_path / "gaps.db")
    frontdoor.fail("kms", code="AccessDeniedException", message="denied")
    run(db, "-q", "scan", "--endpoint-url", frontdoor.url, "--regions", "us-east-1",
        "--accounts", ",".join(seeded_estate.accounts), code=exitcodes.GAPS)
    res = run(db, "gate", "--baseline", str(tmp_path / "b.json"), code=2)
    assert "coverage gaps" in res.stdout


@pytest.mark.parametrize("fmt", ["json", "md"])
def test_diff_needs_two_snapshots(tmp_path: Path, fmt: str) -> None:
    res = CliRunner().invoke(main, ["--db", str(tmp_path / "none.db"), "diff", "--format", fmt])
    assert res.exit_code == exitcodes.NOT_FOUND


def test_a_leaked_key_of_a_live_identity_is_found_linked_and_gated(db: str, seeded_estate: Any, frontdoor_session: Any,
                                                                  tmp_path: Path) -> None:
    """A repository holds the access key id of a live AWS key and an MCP config with a token:
    one scan of AWS and the files links the leaked id to the live key, and the findings
    say so; no planted value reaches the output or the store."""
    main_acct = seeded_estate.expected["accounts"][seeded_estate.expected["main_account"]]
    key_id = main_acct["users"]["support-agent-svc"]["access_keys"][0]["id"]
    fake_secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYDEMOCANARYKEY"
    github = "ghp_DEMOCANARY0123456789abcdefghijklmnopqr"
    repo = tmp_path / "repo"
    (repo / ".cursor").mkdir(parents=True)
    (repo / ".env").write_text(f"AWS_ACCESS_KEY_ID={key_id}\nAWS_SECRET_ACCESS_KEY={fake_secret}\n")
    (repo / ".cursor" / "mcp.json").write_text(json.dumps({"mcpServers": {"github": {
        "command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"],
        "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": github}}}}))
    store = str(tmp_path / "both.db")
    res = CliRunner().invoke(main, ["--db", store, "-q", "scan", "--only", "aws,files", "--path", str(repo),
                                    "--endpoint-url", frontdoor_session.url, "--regions", "us-east-1",
                                    "--accounts", ",".join(seeded_estate.accounts), "--format", "json"])
    assert res.exit_code == 0, res.output
    live = json.loads(res.stdout)["leaked_live"]  # the scan itself says it, before any report
    assert [(i["name"], i["identities"]) for i in live] == [(key_id, ["support-agent-svc"])]
    assert live[0]["locations"] == ["repo/.env:1"]
    found = json.loads(run(store, "findings", "--format", "json").stdout)["findings"]
    leaked = [f for f in found if f["rule"] == "AR-SECRET-LEAKED-LIVE"]
    assert leaked and key_id in json.dumps(leaked)
    assert any(f["rule"] == "AR-SECRET-IN-FILES" for f in found)
    mcp = json.loads(run(store, "inventory", "--provider", "files", "--agents", "--format", "json").stdout)["objects"]
    assert any("github" in o["name"].lower() and o["agent"]["verdict"] == "agent" for o in mcp)
    shown = run(store, "show", key_id, "--format", "json").stdout
    assert ".env" in shown  # the live key's edges name the file it leaked into
    everything = res.output + json.dumps(found) + shown
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("both.db*"))
    for value in (fake_secret, github):
        assert value not in everything and value.encode() not in raw
