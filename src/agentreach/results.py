"""The findings of a snapshot, assembled once for every consumer (findings, report, diff,
gate, demo): the rule results, the findings as public JSON, and the summary figures."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any, Mapping

from .store import SnapshotInfo, Store

SEVERITIES = ("critical", "high", "medium", "low", "info")


def snapshot_findings(store: Store, info: SnapshotInfo, config: Mapping[str, Any],
                      now: dt.datetime | None = None) -> dict[str, Any]:
    """``{"summary", "findings", "rules"}`` for one snapshot, the shape every renderer takes."""
    from .findings import FindingContext, evaluate

    ctx = FindingContext.from_store(store, info.id, now=now or info.finished_at or info.started_at)
    results = evaluate(ctx, config)
    findings = [f.to_dict() for r in results for f in r.findings]
    findings.sort(key=lambda f: (SEVERITIES.index(f["severity"]) if f["severity"] in SEVERITIES else 9,
                                 f["rule"], f.get("subject_name") or f["subject"]))
    counts = Counter(f["severity"] for f in findings)
    verdicts = store.annotations(info.id, "agent")
    kinds = {n.node.id: n.node.kind.value for n in store.nodes(info.id, kinds=["identity", "credential"])}
    agents = Counter(kinds.get(nid) for nid, v in verdicts.items() if v.get("verdict") == "agent")
    summary = {
        "snapshot": {k: v for k, v in info.to_dict().items()
                     if k in ("id", "started_at", "finished_at", "status", "node_count", "gap_count")},
        "counts": {s: counts.get(s, 0) for s in SEVERITIES},
        "coverage_gaps": [g.to_dict() for g in store.gaps(info.id)],
        "agents": {"identities": agents.get("identity", 0), "credentials": agents.get("credential", 0)},
    }
    rules = [{"rule": r.rule.id, "title": r.rule.title, "severity": r.rule.severity, "status": r.status,
              "note": r.note, "count": len(r.findings)} for r in results]
    return {"summary": summary, "findings": findings, "rules": rules}
