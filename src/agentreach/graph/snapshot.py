"""Reach for a stored snapshot: give systems their sensitivity and derive the edges that
policies grant, then store both with the snapshot so queries only read.

The derivers come from the plugin registry (each connector's plugin names its own), so a
third-party provider's reach is derived exactly like a built-in one's.
"""

from __future__ import annotations

from typing import Any, Mapping

from ..model import CoverageGap, System, Workload
from ..registry import registry
from ..sensitivity import assess, load_rules
from ..store import Store
from ..view import SnapshotView


def derive_reach(store: Store, snapshot_id: int, config: Mapping[str, Any]) -> list[CoverageGap]:
    """Store derived nodes, edges and sensitivity; return malformed-policy problems as gaps."""
    view = SnapshotView.of_snapshot(store, snapshot_id)
    derived_nodes: list = []
    problems: list[str] = []
    for _plugin, derive in registry().derivers():
        derived = derive(view)
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
