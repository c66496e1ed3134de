"""The graph behind every reach question, behind a small interface of our own.

Nodes are integers; what a node *is* lives in side tables (``ids``, ``kinds``, ``names``,
``attrs``), so the structure can move to a compact backend (rustworkx, CSR arrays) for
large estates without touching callers. The structure is our own adjacency, by edge kind
and both ways (at most one edge of a kind between two nodes, as in a networkx
``MultiDiGraph`` keyed by kind, which it replaced): a walk along ``can_assume`` never looks
at a node's ``can_access`` edges, which on a project where one grant lets a principal
impersonate every service account is most of the work. networkx stays for GraphML export.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping, NamedTuple


class Hop(NamedTuple):
    """One step of a path: ``src`` reaches ``dst`` through an edge of ``kind``, granted by ``grant``.
    A tuple, not a dataclass: reach makes millions of them on dense estates."""

    src: int
    dst: int
    kind: str
    attrs: Mapping[str, Any]


@dataclass
class Graph:
    ids: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    attrs: list[dict[str, Any]] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)
    # node -> kind -> other end -> the edge's attrs (one dict, shared by both directions)
    _out: list[dict[str, dict[int, dict[str, Any]]]] = field(default_factory=list, repr=False)
    _in: list[dict[str, dict[int, dict[str, Any]]]] = field(default_factory=list, repr=False)
    _edges: int = 0

    # -- building ------------------------------------------------------------------------
    def add_node(self, node_id: str, kind: str, name: str, **attrs: Any) -> int:
        if node_id in self.index:
            n = self.index[node_id]
            self.attrs[n].update(attrs)
            return n
        n = len(self.ids)
        self.ids.append(node_id)
        self.kinds.append(kind)
        self.names.append(name)
        self.attrs.append(dict(attrs))
        self.index[node_id] = n
        self._out.append({})
        self._in.append({})
        return n

    def add_edge(self, src: str, dst: str, kind: str, attrs: Mapping[str, Any] | None = None) -> None:
        """Both ends must exist (add unknown ones first as kind ``unknown``)."""
        a, b = self.index[src], self.index[dst]
        out = self._out[a].setdefault(kind, {})
        data = out.get(b)
        if data is None:  # a second edge of the same kind between the same two merges into the first
            out[b] = data = dict(attrs or {})
            self._in[b].setdefault(kind, {})[a] = data
            self._edges += 1
        else:
            data.update(attrs or {})

    # -- reading -------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.ids)

    def edge_count(self) -> int:
        return self._edges

    def edges(self) -> Iterator[tuple[int, int, str, Mapping[str, Any]]]:
        """Every edge as (src, dst, kind, attrs), in insertion order of their sources."""
        for a, by_kind in enumerate(self._out):
            for kind, ends in by_kind.items():
                for b, data in ends.items():
                    yield a, b, kind, data

    def node(self, node_id: str) -> int | None:
        return self.index.get(node_id)

    def out_hops(self, n: int, kinds: frozenset[str] | None = None) -> Iterator[Hop]:
        # Kinds in the order the node's edges came (deterministic, unlike a set's order).
        for kind, ends in self._out[n].items():
            if kinds is None or kind in kinds:
                for dst, data in ends.items():
                    yield Hop(n, dst, kind, data)

    def in_hops(self, n: int, kinds: frozenset[str] | None = None) -> Iterator[Hop]:
        for kind, ends in self._in[n].items():
            if kinds is None or kind in kinds:
                for src, data in ends.items():
                    yield Hop(src, n, kind, data)

    def successors(self, n: int, kinds: frozenset[str] | None = None) -> list[int]:
        return sorted({h.dst for h in self.out_hops(n, kinds)})

    def predecessors(self, n: int, kinds: frozenset[str] | None = None) -> list[int]:
        return sorted({h.src for h in self.in_hops(n, kinds)})

    def ancestors(self, n: int, kinds: frozenset[str], *, depth: int = 1_000_000) -> set[int]:
        """Every node with a path of ``kinds`` edges to ``n`` (our BFS: 8x faster than nx.ancestors)."""
        return set(self.walk(n, kinds, depth=depth, reverse=True)) - {n}

    def walk(self, start: int, kinds: frozenset[str], *, depth: int, reverse: bool = False) -> dict[int, Hop | None]:
        """Breadth-first from ``start`` along ``kinds`` (against edge direction when
        ``reverse``), at most ``depth`` hops: node -> the hop that first reached it (the
        start maps to None). Cycles are harmless: each node is entered once."""
        parent: dict[int, Hop | None] = {start: None}
        frontier = deque([(start, 0)])
        adjacency = self._in if reverse else self._out
        while frontier:
            n, d = frontier.popleft()
            if d >= depth:
                continue
            for kind, ends in adjacency[n].items():
                if kind not in kinds:
                    continue
                for other, data in ends.items():
                    if other not in parent:  # a Hop only for a node entered, not per edge seen
                        parent[other] = Hop(other, n, kind, data) if reverse else Hop(n, other, kind, data)
                        frontier.append((other, d + 1))
        return parent

    def out_edges(self, n: int, kind: str) -> Iterable[tuple[int, Mapping[str, Any]]]:
        """(dst, attrs) of ``n``'s edges of one kind: the hot loop's view, no objects made."""
        ends = self._out[n].get(kind)
        return ends.items() if ends else ()

    def path_to(self, parent: Mapping[int, Hop | None], n: int, *, reverse: bool = False) -> list[Hop]:
        """The hops from the walk's start to ``n`` (in travel order)."""
        hops: list[Hop] = []
        while parent.get(n) is not None:
            hop = parent[n]
            assert hop is not None
            hops.append(hop)
            n = hop.dst if reverse else hop.src
        return hops if reverse else hops[::-1]

    def paths(self, a: int, b: int, kinds: frozenset[str], *, depth: int, limit: int = 10,
              budget: int = 200_000) -> list[list[Hop]]:
        """Up to ``limit`` simple paths from a to b of at most ``depth`` hops, shortest first.
        A bounded depth-first search: ``budget`` caps the work on dense graphs."""
        found: list[list[Hop]] = []
        stack: list[tuple[int, list[Hop], frozenset[int]]] = [(a, [], frozenset({a}))]
        while stack and budget > 0:
            budget -= 1
            n, hops, seen = stack.pop()
            if n == b and hops:
                found.append(hops)
                continue
            if len(hops) >= depth:
                continue
            for hop in self.out_hops(n, kinds):
                if hop.dst not in seen:
                    stack.append((hop.dst, [*hops, hop], seen | {hop.dst}))
        found.sort(key=len)
        return found[:limit]

    def nodes_of_kind(self, kinds: Iterable[str]) -> list[int]:
        wanted = set(kinds)
        return [n for n, k in enumerate(self.kinds) if k in wanted]
