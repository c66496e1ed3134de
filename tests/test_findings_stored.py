"""Findings are kept with their snapshot: a report of an old snapshot reads back as it was
written, whatever the rules or thresholds of the agentreach reading it, until it is
re-evaluated on purpose (``findings --recompute``)."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from agentreach.cli import main
from agentreach.findings import RULES


def findings_json(db: str, *extra: str, config: Path | None = None) -> dict[str, Any]:
    args = ["--db", db] + (["--config", str(config)] if config else []) + ["findings", "--format", "json", *extra]
    res = CliRunner().invoke(main, args, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


@pytest.fixture
def store_copy(db: str, tmp_path: Path) -> str:
    """A private copy of the scanned store, so that recomputing does not touch the shared one."""
    target = tmp_path / "copy.db"
    with sqlite3.connect(db) as src, sqlite3.connect(target) as dst:  # WAL-safe copy
        src.backup(dst)
    return str(target)


def test_findings_of_a_snapshot_read_back_unchanged_after_a_rule_changes(store_copy: str, tmp_path: Path) -> None:
    before = findings_json(store_copy)
    assert before["findings"], "the scan kept its findings"
    ownerless = [f for f in before["findings"] if f["rule"] == "AR-AGENT-OWNERLESS"]
    assert ownerless and {f["severity"] for f in ownerless} != {"info"}

    # Today's rules change: the config re-grades a rule, and a rule's code changes.
    regrade = tmp_path / "regrade.yaml"
    regrade.write_text("findings:\n  severity:\n    AR-AGENT-OWNERLESS: info\n")
    index = next(i for i, r in enumerate(RULES) if r.id == "AR-AGENT-STALE")
    original = RULES[index]

    def changed(ctx: Any, meta: Any, params: Any) -> Any:
        for f in original.check(ctx, meta, params):
            yield dataclasses.replace(f, evidence=(*f.evidence, "a line the new rule adds"))

    RULES[index] = dataclasses.replace(original, check=changed)
    try:
        _rule_changed_flow(store_copy, regrade, before)
    finally:
        RULES[index] = original


def _rule_changed_flow(store_copy: str, regrade: Path, before: dict[str, Any]) -> None:
    again = findings_json(store_copy, config=regrade)
    assert again == before  # the kept findings, byte for byte

    recomputed = findings_json(store_copy, "--recompute", config=regrade)
    assert {f["severity"] for f in recomputed["findings"] if f["rule"] == "AR-AGENT-OWNERLESS"} == {"info"}
    stale = [f for f in recomputed["findings"] if f["rule"] == "AR-AGENT-STALE"]
    assert stale and all("a line the new rule adds" in f["evidence"] for f in stale)
    # and what was recomputed is what is kept from now on
    assert findings_json(store_copy) == recomputed


def test_a_snapshot_from_before_findings_were_kept_gets_them_on_first_read(store_copy: str) -> None:
    engine = sa.create_engine(f"sqlite:///{store_copy}")
    with engine.begin() as conn:  # as a store written by the previous agentreach looks
        conn.execute(sa.text("DELETE FROM findings"))
        conn.execute(sa.text("DELETE FROM rule_results"))
    engine.dispose()
    first = findings_json(store_copy)
    assert first["findings"] and all(r["agentreach_version"] for r in first["rules"])
    assert findings_json(store_copy) == first


def test_the_report_and_the_gate_read_the_kept_findings(store_copy: str, tmp_path: Path) -> None:
    regrade = tmp_path / "regrade.yaml"
    regrade.write_text("findings:\n  disabled: [AR-AGENT-OWNERLESS]\n")
    kept = findings_json(store_copy)
    report = CliRunner().invoke(main, ["--db", store_copy, "--config", str(regrade), "report", "--format", "json"])
    assert json.loads(report.output)["findings"] == kept["findings"]
