"""Loading a stored snapshot into a :class:`Graph`: every node, every edge (stated by a
connector or derived from policies), and the sensitivity each system was given."""

from __future__ import annotations

from ..store import Store
from .core import Graph


def load_graph(store: Store, snapshot_id: int) -> Graph:
    graph = Graph()
    sensitivity = store.annotations(snapshot_id, "sensitivity")
    for stored in store.nodes(snapshot_id):
        node = stored.node
        graph.add_node(node.id, node.kind.value, node.name, type=node.type, account=node.account,
                       provider=node.provider, native_id=node.native_id,
                       sensitivity=(sensitivity.get(node.id) or {}).get("level"))
    for edge in store.edges(snapshot_id):
        for end in (edge["src"], edge["dst"]):
            if end not in graph.index:
                # A role in an account that was not scanned, a policy AWS owns: keep the
                # edge, and say plainly that agentreach saw only its id.
                graph.add_node(end, "unknown", end.rsplit(":", 1)[-1].rsplit("/", 1)[-1], type="unknown")
        graph.add_edge(edge["src"], edge["dst"], edge["kind"], edge.get("attrs") or {})
    return graph
