"""Reach for a stored snapshot: give systems their sensitivity and derive the edges that
policies grant, then store both with the snapshot so queries only read."""

from __future__ import annotations

from typing import Any, Mapping

from ..classify.view import SnapshotView
from ..model import CoverageGap, System, Workload
from ..sensitivity import assess, load_rules
from ..store import Store
from . import aws_edges, azure_edges, gcp_edges, link_edges

# One deriver per provider, each the single seam where that provider's reach edges are made,
# and the linker that ties secrets found in files to the cloud credentials they are.
DERIVERS = (aws_edges, azure_edges, gcp_edges, link_edges)


def derive_reach(store: Store, snapshot_id: int, config: Mapping[str, Any]) -> list[CoverageGap]:
    """Store derived nodes, edges and sensitivity; return malformed-policy problems as gaps."""
    view = SnapshotView.build((n.node for n in store.nodes(snapshot_id)), store.edges(snapshot_id))
    derived_nodes: list = []
    problems: list[str] = []
    for deriver in DERIVERS:
        derived = deriver.derive(view)
        store.add_nodes(snapshot_id, derived.nodes)
        store.add_edges(snapshot_id, derived.edges)
        derived_nodes += derived.nodes
        problems += derived.problems
    rules = load_rules((config.get("sensitivity") or {}).get("rules_file"))
    levels = {}
    for node in [*view.nodes.values(), *derived_nodes]:
        if isinstance(node, (System, Workload)):
            verdict = assess(node, rules)
            if verdict:
                levels[node.id] = verdict
    store.put_annotations(snapshot_id, "sensitivity", levels)
    return [CoverageGap(connector="reach", operation="evaluate policy", error_code="MalformedPolicy", message=p)
            for p in problems]
