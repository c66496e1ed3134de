"""The seam where reach edges are made: derivers, edge checkers, and what they return.

A *deriver* is a pure function of a snapshot view: given every node and every stated edge
of a snapshot, it returns the nodes and edges that policy evaluation (or a join such as a
leaked key's id to the live key) adds. Each provider brings one, registered through the
plugin registry (``agentreach.plugins``), so a third-party connector adds its own the same
way the built-in ones do.

Inside a deriver, each kind of edge is produced by one :class:`EdgeChecker`, PMapper's
``EdgeChecker.return_edges`` idea: a checker is handed the deriver's prepared context (an
evaluator, an index) and yields the records of its one kind. :func:`run_checkers` runs a
deriver's checkers in order and applies the single merge rule of :mod:`.grant`.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import ClassVar, Generic, Iterable, Protocol, Sequence, TypeVar

from ..model import Edge, Node
from ..view import SnapshotView
from .grant import merge_edges


@dataclass
class Derived:
    """What a deriver adds to a snapshot; ``problems`` are one-line notes on documents it
    could not evaluate (each becomes a coverage gap)."""

    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class Deriver(Protocol):
    """``derive(view) -> Derived``: pure, no I/O, deterministic for a given snapshot."""

    def __call__(self, view: SnapshotView) -> Derived: ...


C = TypeVar("C")


class EdgeChecker(abc.ABC, Generic[C]):
    """Produces one kind of edge (and any system nodes those edges need) from a context
    its deriver prepared once, so that checkers share an evaluator or an index."""

    #: What a reader is told this checker finds, e.g. "identity -can_assume-> role (trust policy)".
    finds: ClassVar[str] = ""

    @abc.abstractmethod
    def return_edges(self, ctx: C) -> Iterable[Node | Edge]:
        """Yield the edges of this checker's kind, and the nodes they point at if new."""


def run_checkers(checkers: Sequence[EdgeChecker[C]], ctx: C, problems: Iterable[str] = ()) -> Derived:
    """Every checker over ``ctx``; nodes kept once by id, edges merged by the one rule."""
    nodes: dict[str, Node] = {}
    edges: list[Edge] = []
    for checker in checkers:
        for record in checker.return_edges(ctx):
            if isinstance(record, Edge):
                edges.append(record)
            else:
                nodes.setdefault(record.id, record)
    return Derived(nodes=list(nodes.values()), edges=merge_edges(edges), problems=list(problems))
