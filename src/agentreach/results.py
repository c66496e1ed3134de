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


def leaked_live(store: Store, snapshot_id: int) -> list[dict[str, Any]]:
    """Active cloud credentials that were found written in files: the one thing a scan must
    not let scroll past (AR-SECRET-LEAKED-LIVE has the full evidence). Cheap: the found_in
    edges of the snapshot and the nodes at their ends, no graph, no rules."""
    from .model import Credential, CredentialStatus

    edges = [e for e in store.edges(snapshot_id, kinds=["found_in"])
             if not str(e["src"]).startswith("files:") and not (e.get("attrs") or {}).get("public_only")]
    if not edges:
        return []
    ends = {e["src"] for e in edges} | {e["dst"] for e in edges}
    nodes = {n.node.id: n.node for n in store.nodes(snapshot_id, ids=ends)}
    idents: dict[str, list[str]] = {}
    for e in store.edges(snapshot_id, kinds=["authenticates"]):
        if e["src"] in nodes:
            idents.setdefault(e["src"], []).append(e["dst"])
    names = {n.node.id: n.node.name for n in store.nodes(snapshot_id, ids={i for v in idents.values() for i in v})}
    out: dict[str, dict[str, Any]] = {}
    for e in edges:
        cred, loc = nodes.get(e["src"]), nodes.get(e["dst"])
        if not isinstance(cred, Credential) or cred.status != CredentialStatus.ACTIVE or loc is None:
            continue
        path = getattr(loc, "path", "") or loc.name
        line = getattr(loc, "line", None)
        root = (loc.attrs or {}).get("root")
        item = out.setdefault(cred.id, {"id": cred.id, "name": cred.name, "type": cred.type,
                                        "identities": sorted(names.get(i, i) for i in idents.get(cred.id, [])),
                                        "locations": []})
        item["locations"].append(f"{root + '/' if root else ''}{path}{f':{line}' if line else ''}")
    for item in out.values():
        item["locations"] = sorted(set(item["locations"]))
    return sorted(out.values(), key=lambda i: i["name"])
