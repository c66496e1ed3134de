"""The report as one self-contained HTML page.

Everything is inline (CSS, SVG, one script); nothing is fetched, and a Content-Security-Policy
forbids the page to fetch anything and to run any script but the one it ships (allowed by its
SHA-256), so it opens offline and a hostile name in the estate cannot script it. Every value from
the report goes through Jinja2's autoescaping; the script reads only ``data-`` attributes.

The page holds: the summary, an agents table (one row per agent subject: owner, owner status,
reach, worst finding), filters by severity, cloud, rule and owner and a search box (the script;
without it every finding shows), the coverage gaps, the findings by severity in risk order (a
leaked secret that is live first), and the rules. Each finding whose subject reaches anything
shows its reach path as an SVG: a box per node, an arrow per hop labelled with the edge kind (and
the grant), a conditional hop dashed; a finding without a path of its own shows its subject's
from another finding, and says which.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections import Counter
from typing import Any, Iterable, Mapping, Sequence

import jinja2

from ..order import access_rank, most_serious_first
from ..profiles import readable
from . import (
    SEVERITIES,
    by_severity,
    counts,
    effective_path,
    file_locations,
    grant_text,
    one_line,
    path_chain,
    provider_of,
    risk_key,
    subject_paths,
    where_text,
)

# Path picture geometry (px): boxes stacked top to bottom, an arrow between each two.
BOX_X, BOX_W, BOX_H, GAP, PAD, WIDTH = 16, 440, 56, 76, 12, 900
NAME_CHARS, ID_CHARS, LABEL_CHARS, GRANT_CHARS = 46, 66, 48, 64
REACH_NAMES = 3  # systems named in an agents-table row; the rest are counted
NO_OWNER = "(no owner)"

# The findings engine's evidence lines (findings/base.py owner_line, agent_line, reach_line and
# the sensitive-reach summary): read where a finding does not carry the fact as a field.
_OWNER = re.compile(r"^owner(?: (?P<name>.+?))?: (?P<status>owned|orphaned|ownerless|unknown)(?::|$)")
_VERDICT = re.compile(r"^agent verdict (?P<verdict>agent|possible|none) \(score (?P<score>[0-9.]+)\)")
_REACHES = re.compile(r"^reaches (?P<sensitivity>\S+)-sensitivity (?P<type>\S+) (?P<name>.+?) with "
                      r"(?P<access>\S+) access")
_MORE = re.compile(r"^and \d+ more sensitive system\(s\): (?P<names>.+)$")

_ENV: jinja2.Environment | None = None


def _env() -> jinja2.Environment:
    global _ENV
    if _ENV is None:
        _ENV = jinja2.Environment(loader=jinja2.PackageLoader("agentreach.report", "templates"), autoescape=True,
                                  undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return _ENV


def _script() -> tuple[str, str]:
    """(the page's script, its base64 SHA-256 for the CSP): the one script the page may run. It is a static file
    (``templates/report.js.j2``: named as a template so it ships with them, never rendered)."""
    env = _env()
    assert env.loader is not None
    text = env.loader.get_source(env, "report.js.j2")[0]
    return text, base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()


def clip(value: Any, limit: int) -> str:
    text = one_line(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def path_picture(path: Sequence[Mapping[str, Any]], subject: Any = None) -> dict[str, Any] | None:
    """The geometry of a reach path's picture: ``{"width", "height", "boxes", "arrows"}``, or None
    for an empty path. The template draws it; all text here is plain and escaped there."""
    if not path:
        return None
    nodes: list[tuple[Any, Any]] = []
    arrows: list[tuple[int, Mapping[str, Any]]] = []  # (index of the upper box, hop)
    for hop in path:
        if not nodes or nodes[-1][0] != hop.get("from"):
            nodes.append((hop.get("from"), hop.get("from_name")))
        arrows.append((len(nodes) - 1, hop))
        nodes.append((hop.get("to"), hop.get("to_name")))
    height = 2 * PAD + len(nodes) * BOX_H + (len(nodes) - 1) * GAP
    boxes = []
    for i, (node_id, name) in enumerate(nodes):
        y = PAD + i * (BOX_H + GAP)
        role = "subject" if subject is not None and node_id == subject else (
            "target" if i == len(nodes) - 1 else "hop")
        boxes.append({"x": BOX_X, "y": y, "w": BOX_W, "h": BOX_H, "role": role,
                      "name": clip(name or node_id, NAME_CHARS), "id": clip(node_id, ID_CHARS),
                      "full": f"{one_line(name)} ({one_line(node_id)})"})
    cx = BOX_X + BOX_W // 2
    drawn = []
    for upper, hop in arrows:
        y1 = PAD + upper * (BOX_H + GAP) + BOX_H
        y2 = y1 + GAP
        conditional = bool(hop.get("conditional"))
        label = one_line(hop.get("edge")) + (" (conditional)" if conditional else "")
        grant = grant_text(hop.get("grant"))
        drawn.append({"x": cx, "y1": y1, "y2": y2 - 10, "tip": y2 - 1, "conditional": conditional,
                      "label": clip(label, LABEL_CHARS), "grant": clip(grant, GRANT_CHARS),
                      "full": f"{one_line(hop.get('edge'))}: {grant}" if grant else one_line(hop.get("edge")),
                      "lx": cx + 14, "ly": (y1 + y2) // 2 - (2 if grant else -4)})
    return {"width": WIDTH, "height": height, "boxes": boxes, "arrows": drawn}


# -- what a finding says about its subject -------------------------------------------------------

def finding_owner(finding: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(owner name, owner status): the finding's ``owner`` field, else its owner evidence line."""
    given = finding.get("owner")
    if isinstance(given, Mapping):
        return one_line(given.get("name")) or None, one_line(given.get("status")) or None
    for line in finding.get("evidence") or []:
        m = _OWNER.match(one_line(line))
        if m:
            return (m.group("name") or None), m.group("status")
    return None, None


def finding_verdict(finding: Mapping[str, Any]) -> str | None:
    """The subject's agent verdict: the finding's ``agent`` field, else its verdict evidence line."""
    given = finding.get("agent")
    if isinstance(given, Mapping) and given.get("verdict"):
        return one_line(given["verdict"])
    for line in finding.get("evidence") or []:
        m = _VERDICT.match(one_line(line))
        if m:
            return m.group("verdict")
    return None


def reached_systems(findings: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """name -> {access, sensitivity} of every system the findings say their subject reaches: the
    end of each path, the ``reaches …`` evidence lines and the "and N more" line."""
    out: dict[str, dict[str, Any]] = {}

    def add(name: str, access: str | None = None, sensitivity: str | None = None) -> None:
        seen = out.setdefault(name, {"access": None, "sensitivity": None})
        if access_rank(access) > access_rank(seen["access"]):
            seen["access"] = access
        seen["sensitivity"] = seen["sensitivity"] or sensitivity

    for finding in findings:
        path = finding.get("path") or []
        if path:
            add(one_line(path[-1].get("to_name") or path[-1].get("to")))
        for line in finding.get("evidence") or []:
            text = one_line(line)
            if m := _REACHES.match(text):
                add(m.group("name"), m.group("access"), m.group("sensitivity"))
            elif m := _MORE.match(text):
                for name in m.group("names").split(", "):
                    add(name.strip(), sensitivity="sensitive")
    out.pop("", None)
    return out


def _reach_summary(systems: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    levels = [s["access"] for s in systems.values() if s["access"]]
    strongest = max(levels, key=access_rank) if levels else None
    ordered = sorted(systems, key=lambda n: (systems[n]["sensitivity"] is None, -access_rank(systems[n]["access"]), n))
    shown = ordered[:REACH_NAMES]
    return {"count": len(systems), "strongest": strongest or "", "names": shown,
            "more": len(ordered) - len(shown), "all": ", ".join(ordered)}


def _agents(findings: list[Mapping[str, Any]], paths: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per subject that is an agent (verdict agent or possible, or an agent rule's subject)."""
    by_subject: dict[str, list[Mapping[str, Any]]] = {}
    for f in findings:
        by_subject.setdefault(one_line(f.get("subject")), []).append(f)
    rows = []
    for subject, items in by_subject.items():
        verdicts = [v for v in (finding_verdict(f) for f in items) if v]
        is_agent = any(v in ("agent", "possible") for v in verdicts) or any(
            one_line(f.get("rule")).startswith("AR-AGENT-") for f in items)
        if not subject or not is_agent:
            continue
        worst = min(items, key=lambda f: risk_key(f, paths))
        owners = [o for o in (finding_owner(f) for f in items) if o != (None, None)]
        name, status = owners[0] if owners else (None, None)
        first = items[0]
        rows.append({
            "subject": subject, "name": one_line(first.get("subject_name")) or subject,
            "type": one_line(first.get("subject_type")), "account": one_line(first.get("account")),
            "cloud": provider_of(first),
            "verdict": "agent" if "agent" in verdicts else (verdicts[0] if verdicts else ""),
            "owner": name or "", "owner_key": name or NO_OWNER, "owner_status": status or "unknown",
            "reach": _reach_summary(reached_systems(items)), "count": len(items),
            "worst": {"severity": one_line(worst.get("severity")).lower(), "title": one_line(worst.get("title")),
                      "rule": one_line(worst.get("rule")), "anchor": _anchor(worst)},
            "_key": risk_key(worst, paths),
        })
    rows.sort(key=lambda r: (r["_key"], r["name"].lower()))
    for row in rows:
        del row["_key"]
    return rows


def _anchor(finding: Mapping[str, Any]) -> str:
    return "f-" + (one_line(finding.get("fingerprint")) or
                   hashlib.sha256(repr(sorted(finding.items())).encode()).hexdigest()[:16])


def _item(f: Mapping[str, Any], severity: str, paths: Mapping[str, Any]) -> dict[str, Any]:
    path, source = effective_path(f, paths)
    owner, status = finding_owner(f)
    evidence = [one_line(e) for e in f.get("evidence") or []]
    places = [where_text(loc) for loc in file_locations(f)]
    item = {
        "rule": one_line(f.get("rule")), "severity": severity, "title": one_line(f.get("title")),
        "subject": one_line(f.get("subject")), "subject_name": one_line(f.get("subject_name")),
        "subject_type": one_line(f.get("subject_type")), "account": one_line(f.get("account")),
        "evidence": evidence, "remediation": one_line(f.get("remediation")),
        "frameworks": [one_line(x) for x in f.get("frameworks") or []],
        "fingerprint": one_line(f.get("fingerprint")), "anchor": _anchor(f),
        "chain": path_chain(path), "reach_from": one_line(source.get("rule")) if source else "",
        "reach_from_anchor": _anchor(source) if source else "",
        "location": ", ".join(places),
        "picture": path_picture(path, f.get("subject")),
        "cloud": provider_of(f) or "unknown", "owner": owner or "", "owner_key": owner or NO_OWNER,
        "owner_status": status or "",
        "right_sized": [{"identity": one_line(g.get("identity_name")),
                         "basis": one_line((f.get("right_sized") or {}).get("generated_from")
                                           or "approved profile ∩ granted"),
                         "document": json.dumps(readable(g.get("policy") or g.get("role")), indent=2,
                                               ensure_ascii=True)}
                        for g in (f.get("right_sized") or {}).get("grants") or ()],
    }
    item["search"] = " ".join(x for x in (item["title"], item["rule"], item["subject"], item["subject_name"],
                                          item["subject_type"], item["account"], item["location"], owner or "",
                                          item["chain"], *evidence) if x).lower()
    return item


def _options(items: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    counted = Counter(i[key] for i in items)
    return [{"value": v, "count": n} for v, n in sorted(counted.items(), key=lambda kv: (kv[0] == NO_OWNER, kv[0]))]


def _view(report: Mapping[str, Any]) -> dict[str, Any]:
    summary = report.get("summary") or {}
    findings = list(report.get("findings") or [])
    paths = subject_paths(findings)
    groups, items = [], []
    for severity, group in by_severity(findings):
        rendered = [_item(f, severity, paths) for f in group]
        items += rendered
        groups.append({"severity": severity, "findings": rendered})
    rules = [{"rule": one_line(r.get("rule")), "title": one_line(r.get("title")),
              "severity": one_line(r.get("severity")), "status": one_line(r.get("status")),
              "note": one_line(r.get("note")), "count": r.get("count", 0)} for r in report.get("rules") or []]
    gaps = [{k: one_line(g.get(k)) for k in ("connector", "account", "region", "service", "operation", "error_code",
                                             "message")} for g in summary.get("coverage_gaps") or []]
    snap = summary.get("snapshot") or {}
    agents = summary.get("agents") or {}
    owner_status = {i["owner_key"]: i["owner_status"] for i in items if i["owner_status"]}
    sev_counts = Counter(i["severity"] for i in items)
    script, script_hash = _script()
    return {
        "snapshot": {k: one_line(snap.get(k)) for k in ("id", "started_at", "finished_at", "status", "node_count",
                                                         "gap_count")},
        "has_snapshot": bool(snap),
        "counts": counts(report), "severities": SEVERITIES,
        "agents": {"identities": agents.get("identities", 0), "credentials": agents.get("credentials", 0)},
        "agent_rows": _agents(findings, paths),
        "gaps": gaps, "rules": rules, "groups": groups,
        "total": len(findings),
        "filters": {
            "severities": [{"value": s, "count": sev_counts[s]} for s in sorted(sev_counts, key=most_serious_first)],
            "clouds": _options(items, "cloud"), "rules": _options(items, "rule"),
            "owners": [{**o, "status": owner_status.get(o["value"], "")} for o in _options(items, "owner_key")],
        },
        "script": script, "script_hash": script_hash,
    }


def render_html(report: Mapping[str, Any]) -> str:
    return _env().get_template("report.html.j2").render(**_view(report))
