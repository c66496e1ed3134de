"""Presentation: the public JSON shape of objects, and tables and CSV for people.

The JSON here is a contract (DESIGN.md, "Machine-readable output"): field names only grow.
Nothing in this module computes a verdict; it shows what the store holds. What it lays out
for people shows every value from the estate with its control characters escaped
(:mod:`agentreach.textsafe`); the JSON stays exact.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Iterable, Mapping, Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .model import Credential, Identity
from .report.csv import write_csv
from .store import SnapshotInfo, StoredNode
from .textsafe import escape


def iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")


# What later layers derive, stored per snapshot (profile: the approved access profile the
# reviewed file gave it, on the objects that have one).
ASPECTS = ("agent", "owner", "stale", "profile")


def node_json(stored: StoredNode, authenticates: Mapping[str, list[dict[str, str]]] | None = None,
              annotations: Mapping[str, Mapping[str, Any]] | None = None,
              locations: Mapping[str, list[dict[str, Any]]] | None = None) -> dict[str, Any]:
    """The public JSON of one object. ``authenticates`` (from the store) names, for a
    credential, the identities it authenticates as; ``annotations`` maps an aspect
    (agent, owner, stale) to {id: body}; ``locations`` where credentials were found in
    files ({path relative to the scanned root, line, root})."""
    node = stored.node
    data = node.to_dict()
    out: dict[str, Any] = {
        "id": node.id, "kind": node.kind.value, "type": node.type, "provider": node.provider,
        "source": node.source, "name": node.name, "native_id": node.native_id,
        "account": node.account, "region": node.region, "created": iso(node.created),
        "first_seen": iso(stored.first_seen), "last_seen": iso(stored.last_seen),
    }
    if isinstance(node, (Identity, Credential)):
        out["last_used"] = iso(node.last_used)
        out["last_used_detail"] = node.last_used_detail
    if isinstance(node, Credential):
        out["expires"] = iso(node.expires)
        out["status"] = node.status.value
        out["rotation"] = data["rotation"]
        out["authenticates"] = list((authenticates or {}).get(node.id, []))
        if node.fingerprint:
            out["fingerprint"] = node.fingerprint
        if node.preview:
            out["preview"] = node.preview
        found = (locations or {}).get(node.id)
        if found or node.provider == "files":
            out["locations"] = [dict(loc) for loc in found or ()]
        if node.attrs.get("detector"):
            out["detector"] = node.attrs["detector"]
    elif isinstance(node, Identity):
        out["expires"] = None
        out["status"] = "active" if node.enabled else "disabled"
    for key in ("tags", "env_var_names", "sensitivity", "resource_policy", "document", "path", "line", "active"):
        if key in data:
            out[key] = data[key]
    for aspect, bodies in (annotations or {}).items():
        if node.id in bodies:
            out[aspect] = bodies[node.id]
    out["attrs"] = data.get("attrs", {})
    return out


def edge_json(edge: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    return {**edge, "src_name": names.get(edge["src"]), "dst_name": names.get(edge["dst"])}


def to_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=False, default=str) + "\n"


INVENTORY_COLUMNS = ("kind", "type", "name", "identity", "account", "region", "created", "last_used", "expires",
                     "status", "owner", "owner_status", "stale", "agent", "agent_score", "native_id", "id")


def inventory_csv(rows: Iterable[dict[str, Any]]) -> str:
    """The inventory as CSV.  Names, tags and ids come from the scanned estate, so the cells go
    through the one CSV writer that makes them safe for a spreadsheet; the JSON stays exact."""
    cells: list[dict[str, str]] = []
    for row in rows:
        out = {k: _cell(row.get(k)) for k in INVENTORY_COLUMNS}
        out["identity"] = ";".join(i["id"] for i in row.get("authenticates", []))
        out["agent"] = _cell((row.get("agent") or {}).get("verdict", ""))
        out["owner"] = _cell((row.get("owner") or {}).get("name") or "")
        out["owner_status"] = _cell((row.get("owner") or {}).get("status", ""))
        out["stale"] = "" if not row.get("stale") else str(bool(row["stale"].get("value"))).lower()
        out["agent_score"] = _cell((row.get("agent") or {}).get("score", ""))
        cells.append(out)
    return write_csv(INVENTORY_COLUMNS, cells)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, default=str)


def age(value: str | None, now: dt.datetime) -> str:
    """``330d ago`` / ``in 20d``: how far a date is from the snapshot, which is what a
    person scans a table for (the dates themselves are in the JSON)."""
    if not value:
        return "-"
    when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    days = round((now - when).total_seconds() / 86400)
    if days == 0:
        return "today"
    return f"{days}d ago" if days > 0 else f"in {-days}d"


def inventory_table(rows: Sequence[dict[str, Any]], now: dt.datetime, title: str) -> Table:
    table = Table(title=escape(title), show_lines=False, header_style="bold")
    cells = [_inventory_cells(row, now) for row in rows]
    columns = ("type", "name", "identity", "account", "created", "last used", "expires", "status", "owner", "agent",
               "reach")
    shown = [i for i, col in enumerate(columns) if col in ("type", "name") or any(c[i] not in ("", "-") for c in cells)]
    for i in shown:
        col = columns[i]
        table.add_column(col, overflow="ellipsis" if col == "reach" else "fold",
                         no_wrap=col not in ("name", "identity", "owner"), min_width=20 if col == "name" else None,
                         max_width={"name": 36, "identity": 22, "owner": 24, "reach": 36}.get(col))
    for c in cells:
        table.add_row(*(escape(c[i]) for i in shown))
    return table


def _inventory_cells(row: Mapping[str, Any], now: dt.datetime) -> list[str]:
    agent = row.get("agent") or {}
    owner = row.get("owner") or {}
    stale = " (stale)" if (row.get("stale") or {}).get("value") else ""
    owner_text = owner.get("name") or ("" if owner.get("status") in (None, "owned") else owner["status"])
    if owner.get("status") == "orphaned":
        owner_text += " (orphaned)"
    return [
        row["type"], row["name"], ", ".join(i["name"] for i in row.get("authenticates", [])),
        row.get("account") or "-", age(row.get("created"), now),
        age(row.get("last_used"), now) if "last_used" in row else "",
        age(row.get("expires"), now) if row.get("expires") else "",
        (row.get("status") or "") + stale, owner_text,
        f"{agent['verdict']} {agent['score']:.2f}" if agent.get("verdict") not in (None, "none") else "",
        reach_cell(row.get("reach")),
    ]


def reach_cell(summary: Mapping[str, Any] | None) -> str:
    """"4 (2 sensitive): write acme-pii": how many systems, and the most sensitive one with
    the access to it — enough to see which agent to look at first (JSON has the rest)."""
    if not summary:
        return ""
    if not summary["systems"]:
        return "-"
    top = summary.get("top") or {}
    text = str(summary["systems"]) + (f" ({summary['sensitive']} sensitive)" if summary["sensitive"] else "")
    if top:
        text += f": {top['access']}{'?' if top.get('conditional') else ''} {top['name']}"
    return text


def snapshots_table(infos: Sequence[SnapshotInfo]) -> Table:
    """Every snapshot with its coverage-gap count (``agentreach show``-able in the scan's
    output and the report) and, for one that failed or was aborted, why."""
    table = Table(title="snapshots", header_style="bold")
    why = any(s.error for s in infos)
    for col in ("id", "started", "finished", "status", "nodes", "edges", "gaps", "connectors", *(["why"] * why)):
        table.add_column(col, overflow="fold")
    for s in infos:
        row = [str(s.id), iso(s.started_at) or "", iso(s.finished_at) or "-", s.status,
               str(s.node_count), str(s.edge_count), str(s.gap_count) if s.gap_count else "0",
               ", ".join(f"{k} {v}" for k, v in s.connectors.items())]
        table.add_row(*map(escape, row), *([escape(s.error or "")] * why))
    return table


def gaps_table(gaps: Sequence[Mapping[str, Any]]) -> Table:
    table = Table(title=f"coverage gaps ({len(gaps)})", header_style="bold")
    for col in ("connector", "account", "region", "service", "operation", "error", "message"):
        table.add_column(col, overflow="fold")
    for g in gaps:
        table.add_row(*map(escape, (g["connector"], g.get("account") or "-", g.get("region") or "-",
                                    g.get("service") or "-", g["operation"], g["error_code"],
                                    (g.get("message") or "")[:160])))
    return table


def hops_line(hops: Sequence[Mapping[str, Any]]) -> str:
    """``a -authenticates-> b -can_access[read]-> c``, a ``?`` marking a conditional hop."""
    if not hops:
        return ""
    parts = [escape(hops[0]["from_name"])]
    for hop in hops:
        parts.append(f"-{escape(hop['edge'])}{'?' if hop.get('conditional') else ''}-> {escape(hop['to_name'])}")
    return " ".join(parts)


def paths_dot(paths: Sequence[Sequence[Mapping[str, Any]]], title: str) -> str:
    """Graphviz DOT of a set of paths (each a list of hops): every node once, every hop an
    edge labelled with its kind and grant; conditional hops dashed."""
    def q(text: Any) -> str:
        return '"' + escape(text).replace("\\", "\\\\").replace('"', '\\"') + '"'

    nodes: dict[str, str] = {}
    edges: dict[tuple[str, str, str], Mapping[str, Any]] = {}
    for hops in paths:
        for hop in hops:
            nodes[hop["from"]] = hop["from_name"]
            nodes[hop["to"]] = hop["to_name"]
            edges[(hop["from"], hop["to"], hop["edge"])] = hop
    lines = ["digraph agentreach {", f"  label={q(title)};", "  rankdir=LR;", "  node [shape=box];"]
    for nid, name in nodes.items():
        lines.append(f"  {q(nid)} [label={q(name)}];")
    for (src, dst, kind), hop in edges.items():
        grant = hop.get("grant")
        grant = "; ".join(grant) if isinstance(grant, list) else (grant or "")
        style = ", style=dashed" if hop.get("conditional") else ""
        label = kind + (f"\\n{grant[:80]}" if grant else "")
        lines.append(f"  {q(src)} -> {q(dst)} [label={q(label)}{style}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def reach_table(obj: Mapping[str, Any], systems: Sequence[Mapping[str, Any]]) -> Table:
    table = Table(title=f"what {escape(obj['name'])} can reach ({len(systems)} systems)", header_style="bold")
    for col in ("system", "type", "account", "sensitivity", "access", "path"):
        table.add_column(col, overflow="fold")
    for s in systems:
        access = (s["access"] or "?") + (" (admin)" if s.get("admin") else "") + (" ?" if s["conditional"] else "")
        table.add_row(*map(escape, (s["name"], s.get("type") or "", s.get("account") or "-",
                                    s.get("sensitivity") or "", access)), hops_line(s["path"]))
    return table


def who_table(obj: Mapping[str, Any], subjects: Sequence[Mapping[str, Any]]) -> Table:
    table = Table(title=f"who can reach {escape(obj['name'])} ({len(subjects)})", header_style="bold")
    for col in ("subject", "type", "account", "access", "agent", "owner", "path"):
        table.add_column(col, overflow="fold")
    for s in subjects:
        agent = s.get("agent") or {}
        owner = s.get("owner") or {}
        table.add_row(*map(escape, (s["name"], s.get("type") or "", s.get("account") or "-",
                                    (s["access"] or "?") + (" ?" if s["conditional"] else ""),
                                    agent.get("verdict", "") if agent.get("verdict") != "none" else "",
                                    owner.get("name") or owner.get("status") or "")), hops_line(s["path"]))
    return table


def explain_text(console: Console, obj: dict[str, Any], thresholds: Mapping[str, float]) -> None:
    """Why an object got its agent verdict, for someone who has never seen the config."""
    import math

    verdict = obj.get("agent")
    console.print(Text.assemble((escape(obj["name"]), "bold"),
                                escape(f"  ({obj['kind']} / {obj['type']}, {obj.get('account') or '-'})")))
    if not verdict:
        console.print("  no agent verdict is stored for this object (only identities and credentials get one)")
        return
    console.print(Text.assemble("  verdict: ", (escape(verdict["verdict"]), "bold"),
                                f"   score {verdict['score']:.2f}   role: {escape(verdict.get('role') or '-')}"))
    prior = verdict.get("prior", thresholds["prior"])
    console.print(f"  how: evidence adds up in log-odds from the prior {prior:.2f} (log-odds "
                  f"{math.log(prior / (1 - prior)):+.2f}); a signal of weight w adds log((1+w)/(1-w)); "
                  f"each signal counts once.")
    console.print(f"       agent needs score >= {thresholds['agent']:.2f} and one strong or medium signal for it; "
                  f"possible needs >= {thresholds['possible']:.2f}.")
    total = math.log(prior / (1 - prior))
    seen: set[str] = set()
    for title, items in (("for it", [e for e in verdict["evidence"] if e["weight"] > 0]),
                         ("against it", [e for e in verdict["evidence"] if e["weight"] < 0])):
        console.print()
        console.print(f"  {title}:" + ("" if items else " nothing"))
        for ev in items:
            counted = ev["signal"] not in seen
            seen.add(ev["signal"])
            lo = math.log((1 + ev["weight"]) / (1 - ev["weight"])) if counted else 0.0
            total += lo
            where = escape(f"{ev['field']} of {ev['object_name']}" + (f" (via {ev['via']})" if ev.get("via") else ""))
            console.print(Text.assemble(f"    {lo:+.2f}  ", (escape(ev["signal"]), "bold"),
                                        f" ({escape(ev['strength'])}, weight {ev['weight']:+.2f})",
                                        ("" if counted else ("  (already counted)", "dim"))))
            console.print(f"           {escape(ev['why'])}")
            console.print(f"           matched {escape(repr(ev['matched']))} in {where}")
    review = next((e for e in verdict["evidence"] if e.get("role") == "review"), None)
    console.print(f"\n  total log-odds {total:+.2f}  ->  score {1 / (1 + math.exp(-total)):.2f}  ->  "
                  f"{verdict['verdict']}" + ("  (a person's triage decision sets the verdict, whatever the score)"
                                             if review else ""))


def show_text(console: Console, obj: dict[str, Any], edges: Sequence[dict[str, Any]]) -> None:
    """One object for a person: its fields, then every edge in and out."""
    console.print(Text.assemble((escape(obj["name"]), "bold"), escape(f"  ({obj['kind']} / {obj['type']})")))
    for key in ("id", "native_id", "provider", "account", "region", "created", "last_used",
                "last_used_detail", "expires", "status", "first_seen", "last_seen"):
        if obj.get(key) is not None:
            console.print(f"  {key:<17}{escape(obj[key])}")
    if obj.get("agent"):
        a = obj["agent"]
        console.print(f"  {'agent':<17}{escape(a['verdict'])} ({a['score']:.2f}, {escape(a.get('role') or '-')}): "
                      + "; ".join(f"{escape(e['signal'])} {e['weight']:+.2f}" for e in a["evidence"][:4])
                      + ("  (agentreach explain for all)" if a["evidence"] else ""))
    for key in ("profile", "tags", "rotation", "env_var_names", "attrs", "resource_policy", "document"):
        value = obj.get(key)
        if value:
            console.print(f"  {key}:")
            console.print_json(json.dumps(value, default=str), indent=2)
    live = {}
    for e in edges:  # a file secret that is a live credential or a cloud secret's value: say which, first
        attrs = e.get("attrs") or {}
        if attrs.get("file_credential") == obj["id"] and e["src"] != obj["id"] and not attrs.get("public_only"):
            live.setdefault(e["src"], (e.get("src_name") or e["src"],
                                       attrs.get("evidence") or f"{attrs.get('via')} {attrs.get('matched')}"))
    for name, why in live.values():
        console.print(f"  {'is the live':<17}{escape(name)} ({escape(why)})", style="bold")
    if edges:
        table = Table(title="edges", header_style="bold")
        for col in ("direction", "kind", "other", "detail"):
            table.add_column(col, overflow="fold")
        for e in edges:
            outgoing = e["src"] == obj["id"]
            other = (e.get("dst_name") or e["dst"]) if outgoing else (e.get("src_name") or e["src"])
            detail = ", ".join(f"{k}={v}" for k, v in (e.get("attrs") or {}).items())
            table.add_row("->" if outgoing else "<-", escape(e["kind"]), escape(other), escape(detail))
        console.print(table)
