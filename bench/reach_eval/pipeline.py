"""The one place that knows how the core derives reach today: the per-provider derivers the
plugin registry holds (``agentreach.registry.registry().derivers()``) over a ``SnapshotView``,
then an in-memory ``Graph`` and ``who_can_reach --access read-data`` over it, as ``load_graph``
and ``derive_reach`` do for a stored snapshot. When the core moves, this file is the fix."""

from __future__ import annotations

from typing import Any, Iterable

from agentreach.graph.core import Graph
from agentreach.graph.query import Want, who_can_reach
from agentreach.model import Edge, Node
from agentreach.registry import registry
from agentreach.view import SnapshotView


def derive(nodes: Iterable[Node], edges: Iterable[Edge]) -> tuple[Graph, list[str]]:
    """The reach graph of an estate, and the derivers' problems (malformed policies)."""
    nodes, edges = list(nodes), list(edges)
    view = SnapshotView.build(nodes, [e.to_dict() for e in edges])
    all_nodes, all_edges, problems = list(nodes), [e.to_dict() for e in edges], []
    for _plugin, derive_one in registry().derivers():
        derived = derive_one(view)
        all_nodes += derived.nodes
        all_edges += [e.to_dict() for e in derived.edges]
        problems += derived.problems
    graph = Graph()
    for node in all_nodes:
        graph.add_node(node.id, node.kind.value, node.name, type=node.type, account=node.account,
                       provider=node.provider, native_id=node.native_id)
    for edge in all_edges:
        for end in (edge["src"], edge["dst"]):
            if end not in graph.index:
                graph.add_node(end, "unknown", end.rsplit(":", 1)[-1], type="unknown")
        graph.add_edge(edge["src"], edge["dst"], edge["kind"], edge.get("attrs") or {})
    return graph, problems


def readers(graph: Graph, system_id: str) -> dict[str, dict[str, Any]]:
    """Identity id -> what ``who-can-reach --access read-data`` says of it: the responder's
    "who can read the data in this system"."""
    n = graph.node(system_id)
    if n is None:
        return {}
    return {row["subject"]: row for row in who_can_reach(graph, n, want=Want(access="read-data"))
            if row["kind"] == "identity"}


def edges_of_kind(graph: Graph, kind: str) -> list[tuple[str, str, dict[str, Any]]]:
    return [(graph.ids[a], graph.ids[b], dict(attrs)) for a, b, k, attrs in graph.edges() if k == kind]
