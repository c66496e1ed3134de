"""The responder's questions: what can this reach, who can reach that, how are they linked.

A reach path runs credential -authenticates-> identity -can_assume-> role … -can_access->
system, and a workload enters it through -runs_as->. Every hop carries the grant that
makes it (a policy statement, a trust policy), so an answer can be checked by hand.
"""

from __future__ import annotations

from typing import Any

from ..order import access_rank
from .core import Graph, Hop

BECOME = frozenset({"authenticates", "runs_as", "can_assume"})  # ways to act as another identity
ACCESS = frozenset({"can_access"})
ALL_REACH = BECOME | ACCESS


def hop_json(graph: Graph, hop: Hop) -> dict[str, Any]:
    attrs = dict(hop.attrs)
    return {
        "from": graph.ids[hop.src], "from_name": graph.names[hop.src],
        "to": graph.ids[hop.dst], "to_name": graph.names[hop.dst],
        "edge": hop.kind, "grant": attrs.get("grants") or attrs.get("via") or attrs.get("grant"),
        "conditional": bool(attrs.get("conditional")),
        **({"condition_keys": attrs["condition_keys"]} if attrs.get("condition_keys") else {}),
    }


def _better(new: tuple[int, bool, int], old: tuple[int, bool, int] | None) -> bool:
    """Higher access first, then unconditional, then shorter."""
    return old is None or (new[0], not new[1], -new[2]) > (old[0], not old[1], -old[2])


def reach(graph: Graph, start: int, *, depth: int = 5, min_level: str | None = None,
          with_paths: bool = True) -> list[dict[str, Any]]:
    """Every system ``start`` can reach within ``depth`` hops, with its best path (the hops
    as JSON only ``with_paths``: a listing's summary needs the systems, not the paths)."""
    parent = graph.walk(start, BECOME, depth=max(depth - 1, 0))
    best: dict[int, tuple[tuple[int, bool, int], list[Hop]]] = {}
    for identity in parent:
        base: list[Hop] | None = None
        base_conditional = False
        for kind in ACCESS:
            for dst, attrs in graph.out_edges(identity, kind):
                if base is None:  # the path to the identity, once, and only if it reaches something
                    base = graph.path_to(parent, identity)
                    base_conditional = any(h.attrs.get("conditional") for h in base)
                key = (access_rank(attrs.get("level")), base_conditional or bool(attrs.get("conditional")),
                       len(base) + 1)
                if _better(key, best[dst][0] if dst in best else None):
                    best[dst] = (key, [*base, Hop(identity, dst, kind, attrs)])
    out = []
    for system, ((rank, conditional, _), path) in best.items():
        if min_level and rank < access_rank(min_level):
            continue
        last = path[-1].attrs
        out.append({
            "system": graph.ids[system], "name": graph.names[system], "type": graph.attrs[system].get("type"),
            "account": graph.attrs[system].get("account"), "sensitivity": graph.attrs[system].get("sensitivity"),
            "access": last.get("level"), "admin": bool(last.get("admin")),
            "actions": last.get("actions", []), "conditional": conditional,
            "path": [hop_json(graph, h) for h in path] if with_paths else [], "hops": len(path),
        })
    out.sort(key=lambda r: (-access_rank(r["access"]), r["conditional"], r["hops"], r["name"]))
    return out


def reach_summary(graph: Graph, node_id: str, *, depth: int = 5) -> dict[str, Any]:
    """What a listing row needs: how many systems, how many sensitive, the strongest access
    and the most sensitive system reached (with its access), for one object."""
    start = graph.node(node_id)
    hits = reach(graph, start, depth=depth, with_paths=False) if start is not None else []
    order = {"critical": 0, "high": 1, "medium": 2, "low": 3}
    sensitive = [h for h in hits if h.get("sensitivity") in ("critical", "high")]
    top = min(hits, key=lambda h: (order.get(h.get("sensitivity"), 9), -access_rank(h["access"]), h["name"]),
              default=None)
    return {
        "systems": len(hits), "sensitive": len(sensitive),
        "max_access": max((h["access"] for h in hits), key=access_rank, default=None),
        "admin": any(h["admin"] for h in hits),
        "top": None if top is None else {"name": top["name"], "type": top["type"], "access": top["access"],
                                         "sensitivity": top.get("sensitivity"), "conditional": top["conditional"]},
    }


def who_can_reach(graph: Graph, system: int, *, depth: int = 5) -> list[dict[str, Any]]:
    """Every identity, credential and workload that can reach ``system``, with its best path."""
    best: dict[int, tuple[tuple[int, bool, int], list[Hop]]] = {}
    for access in graph.in_hops(system, ACCESS):
        parent = graph.walk(access.src, BECOME, depth=max(depth - 1, 0), reverse=True)
        for subject in parent:
            path = [*graph.path_to(parent, subject, reverse=True), access]
            conditional = any(h.attrs.get("conditional") for h in path)
            key = (access_rank(access.attrs.get("level")), conditional, len(path))
            if _better(key, best[subject][0] if subject in best else None):
                best[subject] = (key, path)
    out = []
    for subject, ((_, conditional, _), path) in best.items():
        out.append({
            "subject": graph.ids[subject], "name": graph.names[subject], "kind": graph.kinds[subject],
            "type": graph.attrs[subject].get("type"), "account": graph.attrs[subject].get("account"),
            "access": path[-1].attrs.get("level"), "conditional": conditional,
            "path": [hop_json(graph, h) for h in path],
        })
    order = {"credential": 0, "workload": 1, "identity": 2}
    out.sort(key=lambda r: (order.get(r["kind"], 3), -access_rank(r["access"]), len(r["path"]), r["name"]))
    return out


def paths_between(graph: Graph, a: int, b: int, *, depth: int = 6, limit: int = 10) -> list[list[dict[str, Any]]]:
    return [[hop_json(graph, h) for h in p] for p in graph.paths(a, b, ALL_REACH, depth=depth, limit=limit)]
