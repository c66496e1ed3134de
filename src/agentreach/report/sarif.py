"""The report as SARIF 2.1.0 (OASIS), for code-scanning dashboards.

One run; the driver ``agentreach`` lists every rule of the report (evaluated or skipped) with its
frameworks as tags and a ``security-severity`` for dashboards that rank by it. A result names its
finding's fingerprint in ``partialFingerprints`` so a dashboard follows one finding across scans.

Cloud objects have no file: their results carry a logical location (the object's name and node
id). A finding about a file (``subject_type`` ``file_secret`` with ``location: {path, line}``) gets a
physical location as well. Skipped rules and coverage gaps are tool-execution notifications of
the run's invocation, so a reader sees what was not looked at.
"""

from __future__ import annotations

import json
import pathlib
import re
import urllib.parse
from typing import Any, Mapping

from ..order import most_serious_first
from . import one_line, path_chain

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "0.0"}
LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
FINGERPRINT_KEY = "agentreachFingerprint/v1"


def _version() -> str:
    try:
        from agentreach import __version__

        return str(__version__)
    except ImportError:  # pragma: no cover - the package always has it
        return "0"


def rule_name(rule_id: str) -> str:
    """``AR-AGENT-OWNERLESS`` -> ``AgentOwnerless``: SARIF's rule name is an identifier-like word."""
    words = [w for w in re.split(r"[^A-Za-z0-9]+", rule_id) if w]
    if len(words) > 1 and words[0].upper() == "AR":
        words = words[1:]
    return "".join(w[:1].upper() + w[1:].lower() for w in words) or "Rule"


def _severity(value: Any) -> str:
    sev = str(value or "").lower()
    return sev if sev in SECURITY_SEVERITY else "info"


def _rules(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One descriptor per rule id, in the report's rule order, then any rule only findings name."""
    by_id: dict[str, dict[str, Any]] = {}
    for rule in report.get("rules") or []:
        rid = one_line(rule.get("rule"))
        if rid and rid not in by_id:
            by_id[rid] = {"title": rule.get("title"), "severity": rule.get("severity"), "remediation": None,
                          "frameworks": list(rule.get("frameworks") or []), "description": rule.get("description")}
            if rule.get("remediation"):
                by_id[rid]["remediation"] = rule["remediation"]
    for finding in report.get("findings") or []:
        rid = one_line(finding.get("rule"))
        entry = by_id.setdefault(rid, {"title": finding.get("title"), "severity": finding.get("severity"),
                                       "remediation": None, "frameworks": [], "description": None})
        if not entry["remediation"] and finding.get("remediation"):
            entry["remediation"] = finding["remediation"]
        for framework in finding.get("frameworks") or []:
            if framework not in entry["frameworks"]:
                entry["frameworks"].append(framework)
        if not entry["title"]:
            entry["title"] = finding.get("title")
        if not entry["severity"]:
            entry["severity"] = finding.get("severity")
    out = []
    for rid, entry in by_id.items():
        sev = _severity(entry["severity"])
        title = one_line(entry["title"]) or rid
        full = one_line(entry["description"]) or f"{title} (severity {sev})."
        remediation = one_line(entry["remediation"]) or "See the finding's evidence."
        out.append({
            "id": rid,
            "name": rule_name(rid),
            "shortDescription": {"text": title},
            "fullDescription": {"text": full},
            "help": {"text": remediation},
            "defaultConfiguration": {"level": LEVEL[sev]},
            "properties": {"tags": [one_line(f) for f in entry["frameworks"]],
                           "security-severity": SECURITY_SEVERITY[sev]},
        })
    return out


def _uri(path: str) -> str:
    """A file path as a URI reference: absolute paths as ``file:`` URIs, relative ones as they are
    (percent-encoded), which a code-scanning service resolves against the checkout."""
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", path):
        return path
    p = pathlib.PurePosixPath(path.replace("\\", "/"))
    if p.is_absolute():
        return pathlib.PurePosixPath(p).as_uri()
    return urllib.parse.quote(str(p), safe="/")


def _locations(finding: Mapping[str, Any]) -> list[dict[str, Any]]:
    location: dict[str, Any] = {}
    where = finding.get("location") or {}
    if where.get("path"):
        physical: dict[str, Any] = {"artifactLocation": {"uri": _uri(str(where["path"]))}}
        try:
            line = int(where.get("line"))
        except (TypeError, ValueError):
            line = 0
        if line >= 1:
            physical["region"] = {"startLine": line}
        location["physicalLocation"] = physical
    name = one_line(finding.get("subject_name")) or one_line(finding.get("subject"))
    logical: dict[str, Any] = {"name": name, "kind": "resource"}
    if finding.get("subject"):
        logical["fullyQualifiedName"] = one_line(finding["subject"])
    location["logicalLocations"] = [logical]
    return [location]


def _message(finding: Mapping[str, Any]) -> str:
    parts = [one_line(finding.get("title")) or one_line(finding.get("rule")) or "Finding"]
    subject = one_line(finding.get("subject_name")) or one_line(finding.get("subject"))
    detail = ", ".join(x for x in (one_line(finding.get("subject_type")),
                                   f"account {finding['account']}" if finding.get("account") else "") if x)
    parts.append(f"Subject: {subject}" + (f" ({detail})" if detail else "") + ".")
    evidence = [one_line(e) for e in finding.get("evidence") or [] if one_line(e)]
    if evidence:
        parts.append("Evidence: " + "; ".join(evidence) + ".")
    chain = path_chain(finding.get("path"))
    if chain:
        parts.append(f"Reach: {chain}.")
    if parts[0] and not parts[0].endswith("."):
        parts[0] += "."
    return " ".join(p for p in parts if p)


def _result(finding: Mapping[str, Any], index: dict[str, int]) -> dict[str, Any]:
    rid = one_line(finding.get("rule"))
    sev = _severity(finding.get("severity"))
    result: dict[str, Any] = {
        "ruleId": rid,
        "ruleIndex": index[rid],
        "level": LEVEL[sev],
        "message": {"text": _message(finding)},
        "locations": _locations(finding),
        "properties": {
            "severity": sev,
            "security-severity": SECURITY_SEVERITY[sev],
            "subject": one_line(finding.get("subject")),
            "subjectType": one_line(finding.get("subject_type")),
            "account": finding.get("account"),
            "evidence": [one_line(e) for e in finding.get("evidence") or []],
            "path": list(finding.get("path") or []),
            "tags": [one_line(f) for f in finding.get("frameworks") or []],
        },
    }
    if finding.get("fingerprint"):
        result["partialFingerprints"] = {FINGERPRINT_KEY: one_line(finding["fingerprint"])}
    return result


def _notifications(report: Mapping[str, Any], index: dict[str, int]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for rule in report.get("rules") or []:
        if rule.get("status") == "skipped":
            rid = one_line(rule.get("rule"))
            note: dict[str, Any] = {"level": "note", "descriptor": {"id": "rule-skipped"},
                                    "message": {"text": f"Rule {rid} was not evaluated: {one_line(rule.get('note'))}"}}
            if rid in index:
                note["associatedRule"] = {"id": rid, "index": index[rid]}
            out.append(note)
    for gap in (report.get("summary") or {}).get("coverage_gaps") or []:
        where = "/".join(one_line(gap.get(k)) for k in ("connector", "account", "region") if gap.get(k))
        call = ":".join(one_line(gap.get(k)) for k in ("service", "operation") if gap.get(k))
        out.append({"level": "warning", "descriptor": {"id": "coverage-gap"},
                    "message": {"text": f"Coverage gap {where} {call} {one_line(gap.get('error_code'))}: "
                                        f"{one_line(gap.get('message'))}".strip()},
                    "properties": {k: gap.get(k) for k in ("connector", "account", "region", "service", "operation",
                                                           "error_code")}})
    return out


def sarif_log(report: Mapping[str, Any]) -> dict[str, Any]:
    """The SARIF log as a dict."""
    rules = _rules(report)
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    findings = sorted(report.get("findings") or [], key=lambda f: most_serious_first(f.get("severity")))
    summary = report.get("summary") or {}
    snap = summary.get("snapshot") or {}
    invocation: dict[str, Any] = {"executionSuccessful": True,
                                  "toolExecutionNotifications": _notifications(report, index)}
    if isinstance(snap.get("started_at"), str) and snap["started_at"]:
        invocation["startTimeUtc"] = snap["started_at"]
    if isinstance(snap.get("finished_at"), str) and snap["finished_at"]:
        invocation["endTimeUtc"] = snap["finished_at"]
    run: dict[str, Any] = {
        "tool": {"driver": {"name": "agentreach", "version": _version(), "semanticVersion": _version(),
                            "rules": rules}},
        "invocations": [invocation],
        "results": [_result(f, index) for f in findings],
        "properties": {"snapshot": snap, "counts": summary.get("counts") or {}, "agents": summary.get("agents") or {}},
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render_sarif(report: Mapping[str, Any]) -> str:
    return json.dumps(sarif_log(report), indent=2, default=str) + "\n"
