"""The responder's questions: ``reach``, ``who-can-reach`` and ``path``, each hop with its grant.

Each takes ``--access`` (an access class such as ``read-data``, ``data`` for either data
class, or an access level as before), ``--action`` (PMapper's "who can do ACTION with
RESOURCE", wildcards allowed), ``--context`` (the request the answer is for, parsed here into
a :class:`agentreach.policy.context.RequestContext`) and ``--escalation`` (follow
``can_escalate`` edges, which are otherwise listed apart and never taken as reach).
"""

from __future__ import annotations

import sys
from typing import Any, Callable, Mapping, Sequence

import click
from rich.table import Table

from .. import app, render
from ..present import console_for, write
from ..store import SnapshotInfo, Store
from ..textsafe import escape
from .base import Fail, session_command, snapshot_options
from .main import main

FROM_KEYS = ("id", "kind", "type", "name", "native_id", "account", "agent")


def _access_choices() -> list[str]:
    from ..graph.query import ACCESS_CHOICES

    return list(ACCESS_CHOICES)


def question_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--access, --action, --context and --escalation, the same on the three commands."""
    fn = click.option("--escalation", is_flag=True,
                      help="Follow privilege-escalation edges (can_escalate) too; reached systems say so.")(fn)
    fn = click.option("--context", "context_text", metavar="KEY=VALUE,...",
                      help="The request to decide conditions for, e.g. aws:MultiFactorAuthPresent=false,"
                           "aws:SourceIp=203.0.113.7 (default: over TLS at the scan's time; other keys "
                           "conditional).")(fn)
    fn = click.option("--action", metavar="ACTION",
                      help="Only access that includes this action or permission (s3:GetObject, "
                           "storage.objects.get, an Azure operation; * and ? wildcards).")(fn)
    return click.option("--access", "access", type=click.Choice(_access_choices()),
                        help="Only this access class (read-data, write-data, read-metadata, write-config, "
                             "permissions-management, admin; data = either data class), or this access level "
                             "(list … permissions-management) or above.")(fn)


def _graph_for(session: app.Session, snapshot: int | None, context_text: str | None
               ) -> tuple[Store, SnapshotInfo, Any, str | None]:
    """The snapshot's graph, derived again for a stated request context (and a note saying so)."""
    from ..graph import load_graph

    store = session.store()
    info = app.pick_snapshot(store, snapshot)
    if not context_text:
        return store, info, load_graph(store, info.id), None
    from ..policy.context import parse_context
    from ..policy.requery import graph_for

    try:
        context = parse_context(context_text)
    except ValueError as exc:
        raise Fail(str(exc)) from None
    graph, note = graph_for(store, info.id, context, info.started_at)
    return store, info, graph, note


def _want(access: str | None, action: str | None) -> Any:
    from ..graph.query import Want

    return Want.of(access, action)


def _note(session: app.Session, note: str | None) -> None:
    if note and not session.quiet:
        click.echo(note, err=True)


def _classes(row: Mapping[str, Any]) -> str:
    classes = list(row.get("classes") or [])
    conditional = set(row.get("conditional_classes") or [])
    text = ", ".join(c + ("?" if c in conditional else "") for c in classes) or (row.get("access") or "?")
    if row.get("matching_actions"):
        acts = row["matching_actions"]
        text += " [" + ", ".join(acts[:3]) + ("…" if len(acts) > 3 else "") + "]"
    return text + (" (by escalation)" if row.get("via_escalation") else "")


def _used(row: Mapping[str, Any]) -> str:
    used = row.get("exercised")
    if not used:
        return "-"
    return f"{used['count'] or 'yes'}× last {str(used['last_seen'])[:10]} ({', '.join(used['actions'][:2])})"


def mark_exercised(store: Store, info: SnapshotInfo, rows: list[dict[str, Any]], since_text: str, *,
                   start: Mapping[str, Any] | None = None, system: Mapping[str, Any] | None = None) -> bool:
    """Add ``exercised`` (count, first/last seen, actions, by) to each row whose path was used
    in the window, from the snapshot's activity; False (rows untouched) when it holds none."""
    import datetime as dt

    from ..activity import aggregates_for, path_evidence, window_start

    if not rows or not store.has_activity(info.id):
        return False
    try:
        since = window_start(dt.datetime.now(dt.timezone.utc), since_text)
    except ValueError as exc:
        raise Fail(str(exc)) from None
    holders = {r["path"][-1]["from"] for r in rows if r.get("path")}
    starts = {start["id"]} if start else {r["subject"] for r in rows}
    aggs = aggregates_for(store, sorted(holders | starts), since, snapshot_id=info.id, outcome="success")
    system_ids = [system["id"]] if system else [r["system"] for r in rows]
    natives = {n.node.id: n.node.native_id for n in store.nodes(info.id, ids=system_ids)}
    for r in rows:
        sid = system["id"] if system else r["system"]
        who = start or {"id": r["subject"], "kind": r.get("kind")}
        granted = [str(a) for a in r.get("actions") or ()] or None
        found = path_evidence(r.get("path") or [], who["id"], who.get("kind"), natives.get(sid), granted, aggs)
        r["exercised"] = found.to_dict() if found else None
    return True


def reach_table(obj: Mapping[str, Any], systems: Sequence[Mapping[str, Any]],
                escalations: Sequence[Mapping[str, Any]], *, used: bool = False) -> list[Table]:
    table = Table(title=f"what {obj['name']} can reach ({len(systems)} systems)", header_style="bold")
    for col in ("system", "type", "account", "sensitivity", "access", "classes", *(("used",) if used else ()),
                "path"):
        table.add_column(col, overflow="fold")
    for s in systems:
        access = (s["access"] or "?") + (" (admin)" if s.get("admin") else "") + (" ?" if s["conditional"] else "")
        table.add_row(s["name"], s.get("type") or "", s.get("account") or "-", s.get("sensitivity") or "",
                      access, _classes(s), *((_used(s),) if used else ()), render.hops_line(s["path"]))
    out = [table]
    if escalations:
        esc = Table(title=f"escalations open to {obj['name']} ({len(escalations)}; --escalation follows them)",
                    header_style="bold")
        for col in ("who", "can take over", "gains", "technique", "path"):
            esc.add_column(col, overflow="fold")
        for e in escalations:
            techniques = ", ".join(t.get("technique") or "" for t in e.get("techniques") or []) or e.get("technique")
            esc.add_row(e["from_name"], "itself" if e.get("self") else e["to_name"], e.get("gains") or "",
                        (techniques or "") + (" ?" if e.get("conditional") else ""), render.hops_line(e["path"]))
        out.append(esc)
    return out


@main.command()
@click.argument("ref")
@click.option("--depth", type=click.IntRange(1, 20), default=5, show_default=True, help="Most hops to follow.")
@click.option("--sensitive-only", is_flag=True, help="Only systems with a sensitivity (config/sensitive-systems.yaml).")
@click.option("--since", "since_text", metavar="WHEN", default="90d", show_default=True,
              help="Window in which a path counts as exercised (from the snapshot's activity).")
@question_options
@snapshot_options(["table", "json", "dot"])
@session_command
def reach(session: app.Session, ref: str, depth: int, sensitive_only: bool, since_text: str, access: str | None,
          action: str | None, context_text: str | None, escalation: bool, snapshot: int | None, fmt: str,
          output: str | None) -> None:
    """What a credential, identity or workload can reach, hop by hop, with the grant behind
    each hop. REF is an ARN, access key id, name or id, a file location, or - for a pasted secret."""
    from ..graph.query import escalations_of, reach as reach_query

    store, info, graph, note = _graph_for(session, snapshot, context_text)
    obj = app.resolve(store, info, ref, stdin=sys.stdin)
    start = graph.index[obj["id"]]
    systems = reach_query(graph, start, depth=depth, want=_want(access, action), escalation=escalation)
    if sensitive_only:
        systems = [s for s in systems if s.get("sensitivity")]
    escalations = escalations_of(graph, start, depth=depth)
    used = mark_exercised(store, info, systems, since_text, start=obj)
    _note(session, note)
    if fmt == "json":
        write(render.to_json({"snapshot": info.id, "from": {k: obj.get(k) for k in FROM_KEYS},
                              **({"context": note} if note else {}), "systems": systems,
                              "escalations": escalations}), output, quiet=session.quiet)
    elif fmt == "dot":
        write(render.paths_dot([s["path"] for s in systems] + [e["path"] for e in escalations],
                               f"what {obj['name']} can reach"), output, quiet=session.quiet)
    else:
        with console_for(output) as console:
            for table in reach_table(obj, systems, escalations, used=used):
                console.print(table)


@main.command("who-can-reach")
@click.argument("system")
@click.option("--agents-only", is_flag=True, help="Only subjects whose agent verdict is agent or possible.")
@click.option("--depth", type=click.IntRange(1, 20), default=5, show_default=True)
@click.option("--since", "since_text", metavar="WHEN", default="90d", show_default=True,
              help="Window in which a path counts as exercised (from the snapshot's activity).")
@question_options
@snapshot_options(["table", "json", "dot"])
@session_command
def who_can_reach(session: app.Session, system: str, agents_only: bool, depth: int, since_text: str,
                  access: str | None, action: str | None, context_text: str | None, escalation: bool,
                  snapshot: int | None, fmt: str, output: str | None) -> None:
    """Every credential, identity and workload that can reach SYSTEM, with paths, owners
    and agent verdicts (``--access read-data``: who can read its data)."""
    from ..graph import who_can_reach as who_query

    store, info, graph, note = _graph_for(session, snapshot, context_text)
    obj = app.resolve(store, info, system, stdin=sys.stdin)
    subjects = who_query(graph, graph.index[obj["id"]], depth=depth, want=_want(access, action),
                         escalation=escalation)
    verdicts = store.annotations(info.id, "agent")
    owners = store.annotations(info.id, "owner")
    for s in subjects:
        s["agent"] = verdicts.get(s["subject"])
        s["owner"] = owners.get(s["subject"])
    if agents_only:
        subjects = [s for s in subjects if (s.get("agent") or {}).get("verdict") in ("agent", "possible")]
    used = mark_exercised(store, info, subjects, since_text, system=obj)
    _note(session, note)
    if fmt == "json":
        keys = ("id", "type", "name", "native_id", "account")
        write(render.to_json({"snapshot": info.id, "system": {k: obj.get(k) for k in keys},
                              **({"context": note} if note else {}), "subjects": subjects}),
              output, quiet=session.quiet)
    elif fmt == "dot":
        write(render.paths_dot([s["path"] for s in subjects], f"who can reach {obj['name']}"), output,
              quiet=session.quiet)
    else:
        table = Table(title=f"who can reach {obj['name']} ({len(subjects)})", header_style="bold")
        for col in ("subject", "type", "account", "access", "classes", "agent", "owner", *(("used",) if used else ()),
                    "path"):
            table.add_column(col, overflow="fold")
        for s in subjects:
            agent, owner = s.get("agent") or {}, s.get("owner") or {}
            table.add_row(s["name"], s.get("type") or "", s.get("account") or "-",
                          (s["access"] or "?") + (" ?" if s["conditional"] else ""), _classes(s),
                          agent.get("verdict", "") if agent.get("verdict") != "none" else "",
                          owner.get("name") or owner.get("status") or "", *((_used(s),) if used else ()),
                          render.hops_line(s["path"]))
        with console_for(output) as console:
            console.print(table)


def _grant_text(hop: Mapping[str, Any]) -> str:
    grant = hop.get("grant")
    text = "; ".join(str(g) for g in grant) if isinstance(grant, list) else str(grant or "")
    if hop.get("classes"):
        text = f"[{', '.join(hop['classes'])}] " + text
    if hop.get("techniques"):
        text = f"[{', '.join(hop['techniques'])}] " + text
    return text


@main.command()
@click.argument("a")
@click.argument("b")
@click.option("--depth", type=click.IntRange(1, 12), default=6, show_default=True)
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True)
@question_options
@snapshot_options(["table", "json", "dot"])
@session_command
def path(session: app.Session, a: str, b: str, depth: int, limit: int, access: str | None, action: str | None,
         context_text: str | None, escalation: bool, snapshot: int | None, fmt: str, output: str | None) -> None:
    """The paths from A to B (shortest first), each hop with its grant. A path never goes
    through an escalation unless --escalation is given, nor on from a system it reached."""
    from ..graph.query import match, paths_between

    store, info, graph, note = _graph_for(session, snapshot, context_text)
    src, dst = app.resolve(store, info, a, stdin=sys.stdin), app.resolve(store, info, b, stdin=sys.stdin)
    found = paths_between(graph, graph.index[src["id"]], graph.index[dst["id"]], depth=depth, limit=limit,
                          escalation=escalation)
    want = _want(access, action)
    if not want.empty:
        target = graph.index[dst["id"]]
        system = {"id": dst["id"], **graph.attrs[target]}
        kept = []
        for hops in found:
            last = hops[-1]
            if last["edge"] != "can_access":
                continue
            attrs = graph.out_edges(graph.index[last["from"]], "can_access")
            edge = next((e for d, e in attrs if d == target), None)
            if edge is not None and match(edge, want, system) is not None:
                kept.append(hops)
        found = kept
    _note(session, note)
    if fmt == "json":
        write(render.to_json({"snapshot": info.id, "from": src["id"], "to": dst["id"],
                              **({"context": note} if note else {}), "paths": found}), output, quiet=session.quiet)
    elif fmt == "dot":
        write(render.paths_dot(found, f"paths from {src['name']} to {dst['name']}"), output, quiet=session.quiet)
    else:
        with console_for(output) as console:
            if not found:
                console.print(f"no path from {escape(src['name'])} to {escape(dst['name'])} within {depth} hops")
            for i, hops in enumerate(found, 1):
                table = Table(title=f"path {i}: " + render.hops_line(hops), header_style="bold", title_justify="left")
                for col in ("hop", "from", "edge", "to", "grant"):
                    table.add_column(col, overflow="fold")
                for n, hop in enumerate(hops, 1):
                    table.add_row(str(n), hop["from_name"], hop["edge"] + (" ?" if hop.get("conditional") else ""),
                                  hop["to_name"], _grant_text(hop))
                console.print(table)
