"""``agentreach graph export``: the snapshot's graph for other tools."""

from __future__ import annotations

import click

from .. import app
from ..present import write
from .base import session_command
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
    from ..graph.export import EXPORTERS

    store = session.store()
    info = app.pick_snapshot(store, snapshot)
    write(EXPORTERS[fmt](load_graph(store, info.id)), output, quiet=session.quiet)
