"""The findings of a stored snapshot: evaluated once when its scan finishes and kept with it,
then read back as the report every consumer takes (findings, report, diff, gate, demo).

Keeping them is what makes a report reproducible: the findings of last month's snapshot
read back as last month's agentreach wrote them, whatever rules today's agentreach has. A
snapshot made before findings were kept gets them evaluated (and kept) on first read, and
``recompute`` re-evaluates on purpose after a rule or threshold changed.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any, Mapping

from .. import __version__
from ..order import SEVERITIES_DESC, most_serious_first
from ..store import SnapshotInfo, Store
from ..view import SnapshotView


def stored_activity(store: Store, snapshot_id: int) -> list[Any] | None:
    """The snapshot's successful calls as the run-time rules read them, or None when its scan
    asked no connector for activity (the rules then skip: nobody looked). A call denied is
    not a use; a last-accessed row (a last time, no count) is one use at that time."""
    from ..activity import ACTIVITY_OPTION
    from .activity import ActivityAggregate

    info = store.snapshot(snapshot_id)
    if info is None or not (info.options or {}).get(ACTIVITY_OPTION):
        return None
    return [ActivityAggregate(principal=a.credential or a.identity, action=a.action, resource=a.resource,
                              first_seen=a.first_seen, last_seen=a.last_seen, count=max(a.count, 1),
                              identity=a.identity)
            for a in store.activity(snapshot_id, outcome="success")]


def evaluate_snapshot(store: Store, snapshot_id: int, config: Mapping[str, Any], now: dt.datetime | None = None,
                      view: SnapshotView | None = None) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(findings, rule results) as public JSON, from the snapshot's inventory, annotations
    and reach edges under today's rules and ``config``."""
    from .base import FindingContext
    from .engine import evaluate

    ctx = FindingContext.from_store(store, snapshot_id, now=now, view=view,
                                    activity=stored_activity(store, snapshot_id))
    results = evaluate(ctx, config)
    findings = [f.to_dict() for r in results for f in r.findings]
    findings.sort(key=lambda f: (most_serious_first(f["severity"]), f["rule"], f.get("subject_name") or f["subject"]))
    evaluated_at = ctx.now.isoformat().replace("+00:00", "Z")
    rules = [{"rule": r.rule.id, "title": r.rule.title, "severity": r.rule.severity, "status": r.status,
              "note": r.note, "count": len(r.findings), "rationale": r.rule.rationale,
              "remediation": r.rule.remediation, "frameworks": list(r.rule.frameworks),
              "evaluated_at": evaluated_at, "agentreach_version": __version__} for r in results]
    return findings, rules


def store_findings(store: Store, snapshot_id: int, config: Mapping[str, Any], now: dt.datetime | None = None,
                   view: SnapshotView | None = None) -> int:
    """Evaluate and keep the snapshot's findings (replacing any kept before); how many."""
    findings, rules = evaluate_snapshot(store, snapshot_id, config, now, view)
    store.put_findings(snapshot_id, findings, rules)
    return len(findings)


def snapshot_report(store: Store, info: SnapshotInfo, config: Mapping[str, Any], *,
                    recompute: bool = False) -> dict[str, Any]:
    """``{"summary", "findings", "rules"}`` for one snapshot: the kept findings, evaluated and
    kept first when there are none (or when ``recompute``)."""
    kept = None if recompute else store.stored_findings(info.id)
    if kept is None:
        store_findings(store, info.id, config, now=None if recompute else info.finished_at or info.started_at)
        kept = store.stored_findings(info.id)
        assert kept is not None
    findings, rules = kept
    findings.sort(key=lambda f: (most_serious_first(f["severity"]), f["rule"], f.get("subject_name") or f["subject"]))
    counts = Counter(f["severity"] for f in findings)
    verdicts = store.annotations(info.id, "agent")
    kinds = {n.node.id: n.node.kind.value for n in store.nodes(info.id, kinds=["identity", "credential"])}
    agents = Counter(kinds.get(nid) for nid, v in verdicts.items() if v.get("verdict") == "agent")
    summary = {
        "snapshot": {k: v for k, v in info.to_dict().items()
                     if k in ("id", "started_at", "finished_at", "status", "node_count", "gap_count")},
        "counts": {s: counts.get(s, 0) for s in SEVERITIES_DESC},
        "coverage_gaps": [g.to_dict() for g in store.gaps(info.id)],
        "agents": {"identities": agents.get("identity", 0), "credentials": agents.get("credential", 0)},
    }
    return {"summary": summary, "findings": findings, "rules": rules}
