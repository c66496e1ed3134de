"""Answering a reach question for a request context other than the scan's.

A scan derives its edges once, for :data:`agentreach.policy.context.DEFAULT` (a request over
TLS at the scan's time); an edge whose grant depends on other request keys is stored
conditional, with those keys. When a responder states a context (``--context
aws:MultiFactorAuthPresent=false``), the AWS edges *from* the principals it can change are
derived again, in memory, for that context; the store is not touched.

Which principals: those with a stored AWS edge (``can_access``, ``can_assume``,
``can_escalate``) conditional on a key the context states, since only those can change when
the context only adds keys. A context that *overrides* a key the default decides (say
``aws:SecureTransport=false``, or another time) can change any edge, including ones the scan
dropped, so then every AWS principal is derived again. Re-deriving beats re-deciding stored
condition keys: an edge's conditionality is the outcome of allows, denies, boundaries and SCP
levels together, which only the evaluator can recombine.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from ..graph.core import Graph
from ..model import EdgeKind
from .context import DEFAULT, RequestContext

POLICY_SOURCE = "policy:aws"
KINDS = frozenset({EdgeKind.CAN_ACCESS.value, EdgeKind.CAN_ASSUME.value, EdgeKind.CAN_ESCALATE.value})


def _keys_of(attrs: Mapping[str, Any]) -> set[str]:
    keys = {str(k).lower() for k in attrs.get("condition_keys") or ()}
    for t in attrs.get("techniques") or ():
        keys |= {str(k).lower() for k in t.get("condition_keys") or ()}
    return keys


def affected(edges: Iterable[Mapping[str, Any]], context: RequestContext,
             base: RequestContext = DEFAULT) -> set[str] | None:
    """Ids of the principals whose AWS edges the context may change; None: all of them."""
    changed = context.differs_from(base)
    if changed & (base.keys | {"aws:currenttime", "aws:epochtime"}):
        return None
    stated = context.keys
    out: set[str] = set()
    for edge in edges:
        attrs = edge.get("attrs") or {}
        if edge.get("source") == POLICY_SOURCE and edge["kind"] in KINDS and attrs.get("conditional") \
                and _keys_of(attrs) & stated:
            out.add(edge["src"])
    return out


def graph_for(store: Any, snapshot_id: int, context: RequestContext, scanned_at: Any = None) -> tuple[Graph, str]:
    """The snapshot's graph with the AWS edges of the affected principals derived again for
    ``context`` (decided against ``scanned_at`` unless the context states a time), and a
    line saying what was done."""
    from ..graph.build import load_graph
    from ..view import SnapshotView
    from .aws import edges as aws_edges

    request = context if context.now is not None else context.at(scanned_at)
    base = DEFAULT.at(scanned_at)
    stored = store.edges(snapshot_id)
    who = affected(stored, request, base)
    graph = load_graph(store, snapshot_id)
    if who is not None and not who:
        return graph, f"context {request.describe()}: no stored edge depends on it"
    view = SnapshotView.of_snapshot(store, snapshot_id)
    derived = aws_edges.derive(view, context=request, only=who)
    redo = {n.id for n in view.nodes.values() if n.provider == "aws" and n.type in aws_edges.PRINCIPAL_TYPES} \
        if who is None else who
    fresh = Graph()
    for n, node_id in enumerate(graph.ids):
        fresh.add_node(node_id, graph.kinds[n], graph.names[n], **graph.attrs[n])
    for node in derived.nodes:
        if node.id not in fresh.index:
            fresh.add_node(node.id, node.kind.value, node.name, type=node.type, account=node.account,
                           provider=node.provider, native_id=node.native_id)
    derived_before = {(e["src"], e["dst"], e["kind"]) for e in stored
                      if e.get("source") == POLICY_SOURCE and e["src"] in redo and e["kind"] in KINDS}
    for a, b, kind, attrs in graph.edges():
        if (graph.ids[a], graph.ids[b], kind) not in derived_before:
            fresh.add_edge(graph.ids[a], graph.ids[b], kind, attrs)
    for edge in derived.edges:
        fresh.add_edge(edge.src, edge.dst, edge.kind.value, dict(edge.to_dict()["attrs"]))
    scope = "every AWS principal" if who is None else f"{len(redo)} principal(s)"
    return fresh, f"context {request.describe()}: AWS edges of {scope} derived again"
