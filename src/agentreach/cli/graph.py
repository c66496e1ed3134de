"""``agentreach graph export`` and ``graph push``: the snapshot's graph for other tools."""

from __future__ import annotations

import os

import click

from .. import app, exitcodes, render
from ..present import write
from .base import Fail, session_command
from .main import main


@main.group()
def graph() -> None:
    """The reach graph for other tools."""


@graph.command("export")
@click.option("--format", "fmt", type=click.Choice(["graphml", "json", "cypher", "opengraph"]), required=True)
@click.option("--snapshot", type=int, help="Snapshot id (default: the latest completed).")
@click.option("--output", "-o", type=click.Path(dir_okay=False))
@session_command
def graph_export(session: app.Session, fmt: str, snapshot: int | None, output: str | None) -> None:
    """Export the snapshot's graph: GraphML (Gephi, yEd), node-link JSON, Cypher for Neo4j,
    or BloodHound OpenGraph JSON."""
    from ..graph import load_graph
    from ..graph.export import EXPORTERS, to_cypher

    store = session.store()
    info = app.pick_snapshot(store, snapshot)
    loaded = load_graph(store, info.id)
    text = to_cypher(loaded, info.id) if fmt == "cypher" else EXPORTERS[fmt](loaded)
    write(text, output, quiet=session.quiet)


@graph.command("push")
@click.option("--uri", required=True, metavar="URI",
              help="bolt:// or neo4j:// (Neo4j, BloodHound's Neo4j), or redis:// / falkor:// (FalkorDB).")
@click.option("--user", default="neo4j", show_default=True, help="Neo4j user.")
@click.option("--password-env", default="AGENTREACH_GRAPH_PASSWORD", show_default=True, metavar="VAR",
              help="Environment variable holding the password (never a flag: it would show in ps and logs).")
@click.option("--database", help="Neo4j database (default: the server's default).")
@click.option("--graph", "graph_name", default="agentreach", show_default=True, help="FalkorDB graph key.")
@click.option("--batch-size", type=click.IntRange(min=1), default=1000, show_default=True,
              help="Rows per UNWIND statement.")
@click.option("--prune", is_flag=True, help="Then delete the nodes and edges other snapshots wrote.")
@click.option("--snapshot", type=int, help="Snapshot id (default: the latest completed).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@session_command
def graph_push(session: app.Session, uri: str, user: str, password_env: str, database: str | None,
               graph_name: str, batch_size: int, prune: bool, snapshot: int | None, fmt: str) -> None:
    """MERGE the snapshot's graph into a Cypher database by stable id, in batches: one label
    per node kind and type, a ``snapshot`` property on every node and edge. Pushing the same
    snapshot twice changes nothing."""
    from ..graph import load_graph
    from ..graph.push import PushError, UnknownServer, describe, open_target, push

    store = session.store()
    info = app.pick_snapshot(store, snapshot)
    loaded = load_graph(store, info.id)
    try:
        target = open_target(uri, user=user, password=os.environ.get(password_env), database=database,
                             graph_name=graph_name)
        try:
            result = push(loaded, info.id, target, batch=batch_size, prune=prune, server=describe(uri))
        finally:
            target.close()
    except UnknownServer as exc:
        raise Fail(str(exc), exitcodes.USAGE) from None
    except PushError as exc:
        raise Fail(str(exc), exitcodes.FAILED) from None
    if fmt == "json":
        write(render.to_json(result.to_dict()), None, quiet=session.quiet)
    else:
        click.echo(f"pushed snapshot {info.id} to {result.server}: {result.nodes} nodes, {result.edges} edges "
                   f"in {result.statements} statements" + (", other snapshots pruned" if prune else ""))
