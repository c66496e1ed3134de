"""A real scan of the demo estate (moto over HTTP, through the CLI: the shared ``db``
fixture of tests/conftest.py) yields the findings a responder expects."""

from __future__ import annotations

from agentreach.findings import FindingContext, all_findings, evaluate


def test_real_scan_of_the_demo_estate(db: str) -> None:
    from agentreach.store import Store

    store = Store(db)
    sid = store.latest_snapshot().id
    ctx = FindingContext.from_store(store, sid)
    assert ctx.capabilities == {"aws"} and len(ctx.scanned_accounts) == 2
    results = {r.rule.id: r for r in evaluate(ctx)}
    found = {rid: {f.subject_name: f for f in r.findings} for rid, r in results.items()}
    ops = found["AR-AGENT-OWNERLESS"]["ops-autopilot-agent"]
    assert ops.severity in ("high", "critical")
    assert found["AR-AGENT-OVERPRIVILEGED"]["ops-autopilot-agent"].severity == "critical"
    assert "ops-autopilot-agent" in found["AR-TRUST-CONFUSED-DEPUTY"]
    bot_keys = {name for name, f in found["AR-AGENT-STALE"].items()
                if any("langchain-bot" in e for e in f.evidence) and name.startswith("AKIA")}
    assert len(bot_keys) == 2
    assert "legacy-api.acme.example" in found["AR-CREDENTIAL-EXPIRY"]
    assert "support-agent-exec" not in found["AR-TRUST-CONFUSED-DEPUTY"]
    assert results["AR-SECRET-IN-FILES"].status == "skipped"
    for f in all_findings(results.values()):
        assert f.evidence and f.fingerprint
