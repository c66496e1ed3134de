"""The gate's decisions: new, baselined, suppressed and expired-suppression findings, and
incomplete scans that must never pass."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from agentreach.config import ConfigError
from agentreach.gate import BLOCKED, PASS, UNDECIDED, Baseline, GatePolicy, decide, load_baseline, save_baseline

TODAY = dt.date(2026, 11, 28)
POLICY = GatePolicy(block_rules=frozenset({"AR-AGENT-OWNERLESS"}), block_severities=frozenset({"critical"}))


def finding(rule: str, subject: str, severity: str = "high") -> dict:
    import hashlib

    return {"rule": rule, "subject": subject, "subject_name": subject.rsplit("/", 1)[-1], "severity": severity,
            "title": rule, "fingerprint": hashlib.sha256(f"{rule}|{subject}".encode()).hexdigest()}


OWNERLESS = finding("AR-AGENT-OWNERLESS", "aws:iam_role:arn:aws:iam::1:role/bot")
STALE = finding("AR-STALE", "aws:access_key:AKIA1", "medium")
CRITICAL = finding("AR-SENSITIVE", "aws:iam_role:arn:aws:iam::1:role/agent", "critical")


def gate(findings, baseline=None, status="complete", gaps=0, today=TODAY):
    return decide(findings, baseline or Baseline(), POLICY, snapshot_status=status, gap_count=gaps, today=today)


def test_new_blocked_findings_block_and_others_pass() -> None:
    assert gate([STALE]).status == PASS
    blocked = gate([STALE, OWNERLESS, CRITICAL])
    assert blocked.status == BLOCKED and {f["rule"] for f in blocked.blocking} == {"AR-AGENT-OWNERLESS", "AR-SENSITIVE"}


def test_baselined_findings_do_not_block(tmp_path: Path) -> None:
    path = tmp_path / ".agentreach-baseline.json"
    save_baseline(path, [OWNERLESS, CRITICAL])
    text = path.read_text()
    assert "AKIA" not in text and json.loads(text)["version"] == 2
    result = gate([OWNERLESS, CRITICAL, STALE], load_baseline(path))
    assert result.status == PASS and len(result.baselined) == 2


def test_suppressions_need_reason_owner_expiry_and_stop_when_expired(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_text(json.dumps({"version": 1, "findings": [], "suppressions": [
        {"rule": "AR-AGENT-OWNERLESS", "subject": "*role/bot", "reason": "owner being hired", "owner": "sec@x",
         "expires": "2026-12-31"}]}))
    base = load_baseline(path)
    assert gate([OWNERLESS], base).status == PASS
    late = gate([OWNERLESS], base, today=dt.date(2027, 1, 1))
    assert late.status == BLOCKED and late.expired and late.expired[0][1].reason == "owner being hired"
    path.write_text(json.dumps({"version": 1, "suppressions": [{"rule": "AR-X", "reason": "r"}]}))
    with pytest.raises(ConfigError, match="suppression #1 needs owner, expires"):
        load_baseline(path)


def test_incomplete_scans_never_pass() -> None:
    assert gate([], status="failed").status == UNDECIDED
    assert gate([], status="running").status == UNDECIDED
    assert gate([], gaps=3).status == UNDECIDED
    allowing = decide([], Baseline(), GatePolicy(allow_gaps=True), snapshot_status="complete", gap_count=3, today=TODAY)
    assert allowing.status == PASS


def test_a_broken_baseline_is_a_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "b.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match="baseline .*b.json: not readable JSON"):
        load_baseline(bad)
    assert load_baseline(tmp_path / "missing.json").findings == {}
