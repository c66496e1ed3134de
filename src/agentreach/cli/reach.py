"""The responder's questions: ``reach``, ``who-can-reach`` and ``path``, each hop with its grant."""

from __future__ import annotations

import sys
from typing import Any

import click

from .. import app, render
from ..order import ACCESS_LEVELS
from ..present import console_for, write
from ..store import SnapshotInfo, Store
from .base import session_command, snapshot_options
from .main import main

LEVEL_CHOICES = click.Choice(list(ACCESS_LEVELS))
FROM_KEYS = ("id", "kind", "type", "name", "native_id", "account", "agent")


def _graph_for(session: app.Session, snapshot: int | None) -> tuple[Store, SnapshotInfo, Any]:
    from ..graph import load_graph

    store = session.store()
    info = app.pick_snapshot(store, snapshot)
    return store, info, load_graph(store, info.id)


@main.command()
@click.argument("ref")
@click.option("--depth", type=click.IntRange(1, 20), default=5, show_default=True, help="Most hops to follow.")
@click.option("--sensitive-only", is_flag=True, help="Only systems with a sensitivity (config/sensitive-systems.yaml).")
@click.option("--access", "min_access", type=LEVEL_CHOICES, help="Only access at this level or above.")
@snapshot_options(["table", "json", "dot"])
@session_command
def reach(session: app.Session, ref: str, depth: int, sensitive_only: bool, min_access: str | None,
          snapshot: int | None, fmt: str, output: str | None) -> None:
    """What a credential, identity or workload can reach, hop by hop, with the grant behind
    each hop. REF is an ARN, access key id, name or id."""
    from ..graph import reach as reach_query

    store, info, graph = _graph_for(session, snapshot)
    obj = app.resolve(store, info, ref, stdin=sys.stdin)
    systems = reach_query(graph, graph.index[obj["id"]], depth=depth, min_level=min_access)
    if sensitive_only:
        systems = [s for s in systems if s.get("sensitivity")]
    if fmt == "json":
        write(render.to_json({"snapshot": info.id, "from": {k: obj.get(k) for k in FROM_KEYS}, "systems": systems}),
              output, quiet=session.quiet)
    elif fmt == "dot":
        write(render.paths_dot([s["path"] for s in systems], f"what {obj['name']} can reach"), output,
              quiet=session.quiet)
    else:
        with console_for(output) as console:
            console.print(render.reach_table(obj, systems))


@main.command("who-can-reach")
@click.argument("system")
@click.option("--agents-only", is_flag=True, help="Only subjects whose agent verdict is agent or possible.")
@click.option("--depth", type=click.IntRange(1, 20), default=5, show_default=True)
@snapshot_options(["table", "json", "dot"])
@session_command
def who_can_reach(session: app.Session, system: str, agents_only: bool, depth: int, snapshot: int | None, fmt: str,
                  output: str | None) -> None:
    """Every credential, identity and workload that can reach SYSTEM, with paths, owners
    and agent verdicts."""
    from ..graph import who_can_reach as who_query

    store, info, graph = _graph_for(session, snapshot)
    obj = app.resolve(store, info, system, stdin=sys.stdin)
    subjects = who_query(graph, graph.index[obj["id"]], depth=depth)
    verdicts = store.annotations(info.id, "agent")
    owners = store.annotations(info.id, "owner")
    for s in subjects:
        s["agent"] = verdicts.get(s["subject"])
        s["owner"] = owners.get(s["subject"])
    if agents_only:
        subjects = [s for s in subjects if (s.get("agent") or {}).get("verdict") in ("agent", "possible")]
    if fmt == "json":
        keys = ("id", "type", "name", "native_id", "account")
        write(render.to_json({"snapshot": info.id, "system": {k: obj.get(k) for k in keys}, "subjects": subjects}),
              output, quiet=session.quiet)
    elif fmt == "dot":
        write(render.paths_dot([s["path"] for s in subjects], f"who can reach {obj['name']}"), output,
              quiet=session.quiet)
    else:
        with console_for(output) as console:
            console.print(render.who_table(obj, subjects))


@main.command()
@click.argument("a")
@click.argument("b")
@click.option("--depth", type=click.IntRange(1, 12), default=6, show_default=True)
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True)
@snapshot_options(["table", "json", "dot"])
@session_command
def path(session: app.Session, a: str, b: str, depth: int, limit: int, snapshot: int | None, fmt: str,
         output: str | None) -> None:
    """The paths from A to B (shortest first), each hop with its grant."""
    from ..graph import paths_between

    store, info, graph = _graph_for(session, snapshot)
    src, dst = app.resolve(store, info, a, stdin=sys.stdin), app.resolve(store, info, b, stdin=sys.stdin)
    found = paths_between(graph, graph.index[src["id"]], graph.index[dst["id"]], depth=depth, limit=limit)
    if fmt == "json":
        write(render.to_json({"snapshot": info.id, "from": src["id"], "to": dst["id"], "paths": found}), output,
              quiet=session.quiet)
    elif fmt == "dot":
        write(render.paths_dot(found, f"paths from {src['name']} to {dst['name']}"), output, quiet=session.quiet)
    else:
        with console_for(output) as console:
            if not found:
                console.print(f"no path from {src['name']} to {dst['name']} within {depth} hops")
            for i, hops in enumerate(found, 1):
                console.print(f"path {i}: " + render.hops_line(hops))
