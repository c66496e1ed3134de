"""The report as SARIF 2.1.0 (OASIS), for code-scanning dashboards, GitHub's first.

One run; the driver ``agentreach`` lists every rule of the report (evaluated or skipped) with its
frameworks as tags, the ``security`` tag and a ``security-severity`` (GitHub ranks security results
by it), and help as text and Markdown. A result names its finding's fingerprint in
``partialFingerprints`` so a dashboard follows one finding across scans.

Locations follow GitHub's documented subset ("SARIF support for code scanning"):

- A finding whose subject is written in files gets a ``physicalLocation`` per place: the path
  relative to the scanned root with ``uriBaseId`` naming that root (declared in
  ``run.originalUriBaseIds``) and ``region.startLine``. The first place is the result's location
  (the one GitHub annotates); the others are ``relatedLocations``. Scan the checkout's root
  (``--path .``) and the paths are the repository's.
- A cloud finding keeps its logical locations (the account, then the object) and gets a
  ``physicalLocation`` in the ``AGENTREACH_INVENTORY`` base, ``<provider>/<account>/<object id>``
  at line 1: GitHub refuses a whole upload when any location has only a logical one
  ("expected artifact location"), so the inventory path stands where a file would.

Skipped rules and coverage gaps are tool-execution notifications of the run's invocation, so a
reader sees what was not looked at.
"""

from __future__ import annotations

import json
import pathlib
import posixpath
import re
import urllib.parse
from typing import Any, Mapping

from ..order import most_serious_first
from . import file_locations, finding_text, one_line, provider_of, tool_version

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0", "info": "0.0"}
LEVEL = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
FINGERPRINT_KEY = "agentreachFingerprint/v1"
SRCROOT = "%SRCROOT%"  # the base GitHub's examples use for the checkout
INVENTORY = "AGENTREACH_INVENTORY"


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
        tags = ["security", *(one_line(f) for f in entry["frameworks"])]
        properties: dict[str, Any] = {"tags": tags}
        if float(SECURITY_SEVERITY[sev]) > 0:  # 0.0 is "no security severity" to GitHub: leave it out
            properties["security-severity"] = SECURITY_SEVERITY[sev]
        out.append({
            "id": rid,
            "name": rule_name(rid),
            "shortDescription": {"text": title},
            "fullDescription": {"text": full},
            "help": {"text": remediation, "markdown": _help_markdown(title, full, remediation, tags[1:])},
            "defaultConfiguration": {"level": LEVEL[sev]},
            "properties": properties,
        })
    return out


def _help_markdown(title: str, full: str, remediation: str, frameworks: list[str]) -> str:
    lines = [f"**{title}**", "", full, "", f"**Remediation.** {remediation}"]
    if frameworks:
        lines += ["", "Frameworks: " + ", ".join(f"`{f}`" for f in frameworks)]
    return "\n".join(lines)


def _file_uri(path: str) -> tuple[str, bool]:
    """(URI reference, relative?) of a file path: relative paths normalised and percent-encoded
    (resolved against their root's base id), absolute ones as ``file:`` URIs."""
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", path):
        return path, False
    p = pathlib.PurePosixPath(path.replace("\\", "/"))
    if p.is_absolute():
        return p.as_uri(), False
    return urllib.parse.quote(posixpath.normpath(str(p)), safe="/"), True


def root_base_ids(findings: list[Mapping[str, Any]]) -> dict[str, str]:
    """Scanned root name -> its uriBaseId: ``%SRCROOT%`` when the report holds one root (the usual
    ``--path .`` of a checkout), ``%SRCROOT%`` and ``%SRCROOT:name%`` for the others when several."""
    roots = sorted({one_line(loc.get("root")) for f in findings for loc in file_locations(f)})
    if len(roots) <= 1:
        return {r: SRCROOT for r in roots}
    return {r: SRCROOT if i == 0 else f"%SRCROOT:{r}%" for i, r in enumerate(roots)}


def _physical(loc: Mapping[str, Any], bases: Mapping[str, str]) -> dict[str, Any]:
    uri, relative = _file_uri(one_line(loc.get("path")))
    artifact: dict[str, Any] = {"uri": uri}
    if relative:
        artifact["uriBaseId"] = bases.get(one_line(loc.get("root")), SRCROOT)
    physical: dict[str, Any] = {"artifactLocation": artifact}
    try:
        line = int(loc.get("line"))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        line = 0
    if line >= 1:
        physical["region"] = {"startLine": line}
    return physical


def _history(loc: Mapping[str, Any]) -> dict[str, Any]:
    """A place found in git history names its commit (the location's property bag, as SARIF
    lets every object carry one): the line is that commit's, and HEAD may no longer hold it."""
    return {"properties": {"commit": one_line(loc["commit"])}} if loc.get("commit") else {}


def _logical(finding: Mapping[str, Any]) -> list[dict[str, Any]]:
    name = one_line(finding.get("subject_name")) or one_line(finding.get("subject"))
    logical: list[dict[str, Any]] = []
    if finding.get("account"):
        provider = provider_of(finding)
        logical.append({"name": f"{provider} account {one_line(finding['account'])}",
                        "fullyQualifiedName": f"{provider}:{one_line(finding['account'])}", "kind": "namespace"})
    resource: dict[str, Any] = {"name": name, "kind": "resource"}
    if finding.get("subject"):
        resource["fullyQualifiedName"] = one_line(finding["subject"])
    logical.append(resource)
    return logical


def _inventory_uri(finding: Mapping[str, Any]) -> str:
    """``<provider>/<account>/<object id>``: where a cloud finding's subject sits in the inventory."""
    subject = one_line(finding.get("subject")) or one_line(finding.get("rule")) or "unknown"
    parts = [provider_of(finding) or "unknown", one_line(finding.get("account")) or "-", subject]
    return "/".join(urllib.parse.quote(part, safe="") for part in parts)


def _locations(finding: Mapping[str, Any], bases: Mapping[str, str]) -> tuple[list[dict[str, Any]],
                                                                                list[dict[str, Any]]]:
    """(locations, relatedLocations): the first file place, then the others; or the inventory."""
    places = file_locations(finding)
    if places:
        first = {"physicalLocation": _physical(places[0], bases), "logicalLocations": _logical(finding),
                 **_history(places[0])}
        related = [{"id": i, "physicalLocation": _physical(loc, bases),
                    "message": {"text": "the same secret is written here too"
                                        + (f" (in commit {one_line(loc['commit'])})" if loc.get("commit") else "")},
                    **_history(loc)}
                   for i, loc in enumerate(places[1:], start=1)]
        return [first], related
    physical = {"artifactLocation": {"uri": _inventory_uri(finding), "uriBaseId": INVENTORY},
                "region": {"startLine": 1}}
    return [{"physicalLocation": physical, "logicalLocations": _logical(finding)}], []


def _result(finding: Mapping[str, Any], index: dict[str, int], bases: Mapping[str, str]) -> dict[str, Any]:
    rid = one_line(finding.get("rule"))
    sev = _severity(finding.get("severity"))
    locations, related = _locations(finding, bases)
    result: dict[str, Any] = {
        "ruleId": rid,
        "ruleIndex": index[rid],
        "level": LEVEL[sev],
        "message": {"text": finding_text(finding)},
        "locations": locations,
        "properties": {
            "severity": sev,
            "security-severity": SECURITY_SEVERITY[sev],
            "subject": one_line(finding.get("subject")),
            "subjectType": one_line(finding.get("subject_type")),
            "account": finding.get("account"),
            "evidence": [one_line(e) for e in finding.get("evidence") or []],
            "path": list(finding.get("path") or []),
            "tags": [one_line(f) for f in finding.get("frameworks") or []],
            "locations": [dict(loc) for loc in file_locations(finding)],
        },
    }
    if related:
        result["relatedLocations"] = related[: 1000]
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
    bases = root_base_ids(findings)
    summary = report.get("summary") or {}
    snap = summary.get("snapshot") or {}
    invocation: dict[str, Any] = {"executionSuccessful": True,
                                  "toolExecutionNotifications": _notifications(report, index)}
    if isinstance(snap.get("started_at"), str) and snap["started_at"]:
        invocation["startTimeUtc"] = snap["started_at"]
    if isinstance(snap.get("finished_at"), str) and snap["finished_at"]:
        invocation["endTimeUtc"] = snap["finished_at"]
    run: dict[str, Any] = {
        "tool": {"driver": {"name": "agentreach", "version": tool_version(), "semanticVersion": tool_version(),
                            "rules": rules}},
        "invocations": [invocation],
        "originalUriBaseIds": _base_ids(bases, findings),
        "results": [_result(f, index, bases) for f in findings],
        "properties": {"snapshot": snap, "counts": summary.get("counts") or {}, "agents": summary.get("agents") or {}},
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def _base_ids(bases: Mapping[str, str], findings: list[Mapping[str, Any]]) -> dict[str, Any]:
    """The roots the results' relative URIs resolve against. None has a ``uri``: the report knows a
    root by its name only, and code scanning resolves relative paths against the checkout."""
    out: dict[str, Any] = {}
    for root, base in sorted(bases.items(), key=lambda kv: kv[1]):
        out[base] = {"description": {"text": f"The scanned root '{root or '.'}' (agentreach scan --path); "
                                             "file paths are relative to it."},
                     "properties": {"kind": "source-root", "root": root}}
    if any(not file_locations(f) for f in findings):
        out[INVENTORY] = {"description": {"text": "Not a file: agentreach's inventory of cloud objects, as "
                                                  "<provider>/<account>/<object id>, line 1."},
                          "properties": {"kind": "inventory"}}
    return out


def render_sarif(report: Mapping[str, Any]) -> str:
    return json.dumps(sarif_log(report), indent=2, default=str) + "\n"
