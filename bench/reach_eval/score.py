"""Scoring one estate: data-read reach as a responder sees it today against the labels, and the
escalation cases against the ``can_escalate`` edges the graph holds. Pure: the graph in, figures
out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agentreach.graph.core import Graph

from . import pipeline
from .estate import Estate


@dataclass
class ReadScore:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    false_positives: list[tuple[str, str, str, str]] = field(default_factory=list)  # principal, system, level, grant
    false_negatives: list[tuple[str, str, str]] = field(default_factory=list)  # principal, system, why

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


def _grant(row: dict[str, Any]) -> str:
    last = row["path"][-1] if row.get("path") else {}
    grant = last.get("grant")
    text = "; ".join(grant) if isinstance(grant, list) else str(grant or "")
    via = " via " + " -> ".join(h["to_name"] for h in row["path"][:-1]) if len(row.get("path") or []) > 1 else ""
    return (text[:110] + "…" if len(text) > 110 else text) + via


def data_read(estate: Estate, graph: Graph) -> ReadScore:
    score = ReadScore()
    for system, sid in estate.systems.items():
        claimed = pipeline.readers(graph, sid)
        for principal, pid in estate.principals.items():
            expected = "read-data" in estate.expected(principal, system)
            row = claimed.get(pid)
            if row and expected:
                score.tp += 1
            elif row:
                score.fp += 1
                score.false_positives.append((principal, system, str(row["access"]), _grant(row)))
            elif expected:
                score.fn += 1
                score.false_negatives.append((principal, system, estate.why.get(principal, "")))
            else:
                score.tn += 1
    return score


@dataclass
class EscalationScore:
    cases: list[tuple[str, bool, bool, bool]] = field(default_factory=list)  # id, expected, fired, nearest signal

    def counts(self, expected: bool) -> tuple[int, int, int]:
        rows = [c for c in self.cases if c[1] == expected]
        return len(rows), sum(1 for c in rows if c[2]), sum(1 for c in rows if c[3])


def escalations(estate: Estate, graph: Graph) -> EscalationScore:
    """``fired``: a ``can_escalate`` edge from the principal (to the target, unless the target is
    "self"). ``nearest``: what the graph shows today instead, a ``can_assume`` edge to the target,
    or for "self" an ``admin`` grant anywhere."""
    escalate = pipeline.edges_of_kind(graph, "can_escalate")
    assume = {(a, b) for a, b, _ in pipeline.edges_of_kind(graph, "can_assume")}
    admin = {a for a, _, attrs in pipeline.edges_of_kind(graph, "can_access") if attrs.get("admin")}
    out = EscalationScore()
    for case in estate.escalations:
        src = estate.principals[case.principal]
        dst = None if case.target == "self" else estate.principals[case.target]
        fired = any(a == src and (dst is None or b == dst) for a, b, _ in escalate)
        nearest = (src, dst) in assume if dst else src in admin
        out.cases.append((case.id, case.expected, fired, nearest))
    return out
