"""The report as one self-contained HTML page.

Everything is inline (CSS, SVG); nothing is fetched, and a Content-Security-Policy forbids the page
to fetch or run anything, so it opens offline and a hostile name in the estate cannot script it.
Every value from the report goes through Jinja2's autoescaping. Each critical finding's reach path
is drawn as an SVG: a box per node, an arrow per hop labelled with the edge kind (and the grant),
a conditional hop dashed.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import jinja2

from . import SEVERITIES, by_severity, counts, grant_text, one_line, path_chain

# Path picture geometry (px): boxes stacked top to bottom, an arrow between each two.
BOX_X, BOX_W, BOX_H, GAP, PAD, WIDTH = 16, 440, 56, 76, 12, 900
NAME_CHARS, ID_CHARS, LABEL_CHARS, GRANT_CHARS = 46, 66, 48, 64

_ENV: jinja2.Environment | None = None


def _env() -> jinja2.Environment:
    global _ENV
    if _ENV is None:
        _ENV = jinja2.Environment(loader=jinja2.PackageLoader("agentreach.report", "templates"), autoescape=True,
                                  undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return _ENV


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


def _view(report: Mapping[str, Any]) -> dict[str, Any]:
    summary = report.get("summary") or {}
    groups = []
    for severity, findings in by_severity(report.get("findings") or []):
        items = []
        for f in findings:
            path = list(f.get("path") or [])
            location = f.get("location") or {}
            items.append({
                "rule": one_line(f.get("rule")), "severity": severity, "title": one_line(f.get("title")),
                "subject": one_line(f.get("subject")), "subject_name": one_line(f.get("subject_name")),
                "subject_type": one_line(f.get("subject_type")), "account": one_line(f.get("account")),
                "evidence": [one_line(e) for e in f.get("evidence") or []],
                "remediation": one_line(f.get("remediation")),
                "frameworks": [one_line(x) for x in f.get("frameworks") or []],
                "fingerprint": one_line(f.get("fingerprint")),
                "chain": path_chain(path),
                "location": (one_line(location.get("path")) + (f":{location['line']}" if location.get("line") else ""))
                if location.get("path") else "",
                "picture": path_picture(path, f.get("subject")) if severity == "critical" else None,
            })
        groups.append({"severity": severity, "findings": items})
    rules = [{"rule": one_line(r.get("rule")), "title": one_line(r.get("title")),
              "severity": one_line(r.get("severity")), "status": one_line(r.get("status")),
              "note": one_line(r.get("note")), "count": r.get("count", 0)} for r in report.get("rules") or []]
    gaps = [{k: one_line(g.get(k)) for k in ("connector", "account", "region", "service", "operation", "error_code",
                                             "message")} for g in summary.get("coverage_gaps") or []]
    snap = summary.get("snapshot") or {}
    agents = summary.get("agents") or {}
    return {
        "snapshot": {k: one_line(snap.get(k)) for k in ("id", "started_at", "finished_at", "status", "node_count",
                                                         "gap_count")},
        "has_snapshot": bool(snap),
        "counts": counts(report), "severities": SEVERITIES,
        "agents": {"identities": agents.get("identities", 0), "credentials": agents.get("credentials", 0)},
        "gaps": gaps, "rules": rules, "groups": groups,
        "total": len(report.get("findings") or []),
    }


def render_html(report: Mapping[str, Any]) -> str:
    return _env().get_template("report.html.j2").render(**_view(report))
