"""The report as OCSF Detection Findings (class_uid 2004, OCSF 1.8.0), for SIEMs, data lakes and
AWS Security Hub: a JSON array with one event per finding, the shape Prowler's json-ocsf writes.

Each event declares the ``cloud`` and ``datetime`` profiles. The finding's fingerprint is
``finding_info.uid`` (stable across scans, so a consumer dedups re-exports) and
``metadata.correlation_uid``; ``metadata.uid`` is unique per snapshot and finding. The subject is
the first resource (role Target) and the system a reach path ends at the second (role Affected);
the reach path itself is ``finding_info.attack_graph`` (a node per object, an edge per hop with
its grant and whether it is conditional). What OCSF has no attribute for (evidence lines, the
raw hops, file locations, the snapshot id) goes to ``unmapped``.

Every event is a Create of a New finding: agentreach exports the findings of one snapshot, and
the consumer tracks their life by ``finding_info.uid``. The event time is the snapshot's end.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any, Mapping, Sequence

from . import file_locations, finding_text, grant_text, one_line, provider_of, tool_version

OCSF_VERSION = "1.8.0"
PROFILES = ["cloud", "datetime"]
CLASS_UID, CATEGORY_UID, ACTIVITY_CREATE = 2004, 2, 1
SEVERITY_ID = {"info": (1, "Informational"), "low": (2, "Low"), "medium": (3, "Medium"), "high": (4, "High"),
               "critical": (5, "Critical")}
# account.type_id per provider, as Prowler's get_account_type_id_by_provider (a GCP account of
# agentreach is a project, which OCSF 1.1+ names).
ACCOUNT_TYPE = {"aws": (10, "AWS Account"), "azure": (6, "Azure AD Account"), "gcp": (11, "GCP Project")}
ROLE_TARGET, ROLE_AFFECTED = (1, "Target"), (3, "Affected")
# A fixed namespace: metadata.uid is the same for the same snapshot and finding on every export.
_UID_NAMESPACE = uuid.UUID("5b0a3c1e-6f1d-4d0e-9a57-2a7f3c0e8b11")


def _time(report: Mapping[str, Any]) -> dt.datetime:
    """When the findings were made: the snapshot's end (or start), else when the rules ran, else now."""
    snap = (report.get("summary") or {}).get("snapshot") or {}
    candidates = [snap.get("finished_at"), snap.get("started_at"),
                  *((r or {}).get("evaluated_at") for r in report.get("rules") or [])]
    for value in candidates:
        if isinstance(value, dt.datetime):
            return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
        if isinstance(value, str) and value:
            try:
                parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)
    return dt.datetime.now(dt.timezone.utc)


def _rfc3339(when: dt.datetime) -> str:
    return when.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")


def _tags(frameworks: Sequence[Any]) -> list[dict[str, str]]:
    """``OWASP-NHI:NHI1:2025 Improper Offboarding`` -> ``{name: OWASP-NHI, value: NHI1:2025 ...}``."""
    out = []
    for framework in frameworks:
        name, _, value = one_line(framework).partition(":")
        if name:
            out.append({"name": name, "value": value} if value else {"name": name})
    return out


def attack_graph(path: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The reach path as an OCSF graph: nodes in path order, one directed edge per hop."""
    if not path:
        return None
    nodes: dict[str, dict[str, Any]] = {}
    edges = []
    for i, hop in enumerate(path):
        for end in ("from", "to"):
            uid = one_line(hop.get(end)) or f"hop-{i}-{end}"
            nodes.setdefault(uid, {"uid": uid, "name": one_line(hop.get(f"{end}_name")) or uid})
        edge: dict[str, Any] = {
            "source": one_line(hop.get("from")) or f"hop-{i}-from", "target": one_line(hop.get("to")) or f"hop-{i}-to",
            "relation": one_line(hop.get("edge")) or "reaches", "is_directed": True, "uid": str(i),
            "data": {"grant": hop.get("grant"), "conditional": bool(hop.get("conditional"))},
        }
        if grant_text(hop.get("grant")):
            edge["name"] = grant_text(hop.get("grant"))
        edges.append(edge)
    return {"name": "reach path", "type": "agentreach reach", "is_directed": True,
            "nodes": list(nodes.values()), "edges": edges}


def _resources(finding: Mapping[str, Any]) -> list[dict[str, Any]]:
    subject: dict[str, Any] = {"uid": one_line(finding.get("subject")) or one_line(finding.get("rule")),
                               "role_id": ROLE_TARGET[0], "role": ROLE_TARGET[1]}
    if finding.get("subject_name"):
        subject["name"] = one_line(finding["subject_name"])
    if finding.get("subject_type"):
        subject["type"] = one_line(finding["subject_type"])
    places = file_locations(finding)
    if places:
        subject["data"] = {"locations": [dict(loc) for loc in places]}
    out = [subject]
    path = finding.get("path") or []
    end = path[-1] if path else None
    if end and one_line(end.get("to")) and one_line(end.get("to")) != subject["uid"]:
        out.append({"uid": one_line(end["to"]), "name": one_line(end.get("to_name")) or one_line(end["to"]),
                    "role_id": ROLE_AFFECTED[0], "role": ROLE_AFFECTED[1]})
    return out


def _cloud(finding: Mapping[str, Any]) -> dict[str, Any]:
    provider = provider_of(finding) or "unknown"
    cloud: dict[str, Any] = {"provider": provider}
    if finding.get("account"):
        type_id, type_name = ACCOUNT_TYPE.get(provider, (99, "Other"))
        cloud["account"] = {"uid": one_line(finding["account"]), "type_id": type_id, "type": type_name}
    return cloud


def detection_finding(finding: Mapping[str, Any], when: dt.datetime, snapshot_id: Any,
                      titles: Mapping[str, str]) -> dict[str, Any]:
    """One finding as one OCSF Detection Finding event."""
    rule = one_line(finding.get("rule")) or "unknown"
    fingerprint = one_line(finding.get("fingerprint")) or str(uuid.uuid5(_UID_NAMESPACE, json.dumps(
        finding, sort_keys=True, default=str)))
    severity_id, severity = SEVERITY_ID.get(str(finding.get("severity") or "").lower(), (0, "Unknown"))
    millis = int(when.timestamp() * 1000)
    info: dict[str, Any] = {
        "uid": fingerprint, "title": one_line(finding.get("title")) or rule, "desc": finding_text(finding),
        "types": [rule], "analytic": {"uid": rule, "name": titles.get(rule) or one_line(finding.get("title")) or rule,
                                      "type_id": 1, "type": "Rule"},
        "created_time": millis, "created_time_dt": _rfc3339(when),
    }
    tags = _tags(finding.get("frameworks") or [])
    if tags:
        info["tags"] = tags
    graph = attack_graph(finding.get("path") or [])
    if graph:
        info["attack_graph"] = graph
    event: dict[str, Any] = {
        "activity_id": ACTIVITY_CREATE, "activity_name": "Create",
        "category_uid": CATEGORY_UID, "category_name": "Findings",
        "class_uid": CLASS_UID, "class_name": "Detection Finding",
        "type_uid": CLASS_UID * 100 + ACTIVITY_CREATE, "type_name": "Detection Finding: Create",
        "severity_id": severity_id, "severity": severity, "status_id": 1, "status": "New",
        "time": millis, "time_dt": _rfc3339(when),
        "message": finding_text(finding),
        "finding_info": info,
        "resources": _resources(finding),
        "cloud": _cloud(finding),
        "metadata": {
            "product": {"name": "agentreach", "vendor_name": "agentreach", "uid": "agentreach",
                        "version": tool_version()},
            "version": OCSF_VERSION, "profiles": list(PROFILES), "event_code": rule,
            "uid": str(uuid.uuid5(_UID_NAMESPACE, f"{snapshot_id}/{fingerprint}")), "correlation_uid": fingerprint,
        },
        "unmapped": {
            "rule": rule, "subject_type": one_line(finding.get("subject_type")), "account": finding.get("account"),
            "evidence": [one_line(e) for e in finding.get("evidence") or []],
            "frameworks": [one_line(f) for f in finding.get("frameworks") or []],
            "locations": [dict(loc) for loc in file_locations(finding)],
            "path": [dict(h) for h in finding.get("path") or []], "snapshot": snapshot_id,
        },
    }
    if one_line(finding.get("remediation")):
        event["remediation"] = {"desc": one_line(finding["remediation"])}
    return event


def ocsf_events(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    when = _time(report)
    snapshot_id = ((report.get("summary") or {}).get("snapshot") or {}).get("id")
    titles = {one_line(r.get("rule")): one_line(r.get("title")) for r in report.get("rules") or [] if r.get("title")}
    return [detection_finding(f, when, snapshot_id, titles) for f in report.get("findings") or []]


def render_ocsf(report: Mapping[str, Any]) -> str:
    return json.dumps(ocsf_events(report), indent=2, default=str) + "\n"
