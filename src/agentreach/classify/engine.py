"""Scoring: signals to a verdict with its evidence, then propagation along stated edges.

Evidence adds up in log-odds from a prior, so a verdict is a sum a reader can redo by
hand (``explain`` shows it). Two rules keep keywords honest: a verdict of ``agent`` needs
at least one strong or medium signal for it, and weak signals (words in names, generic
tags) can reach ``possible`` at most.

Propagation uses only relations the sources state (see ``propagate``): a credential of an
agent identity is an agent credential (``authenticates``), a role that only agent
identities may assume is agent-reachable (its trust policy), and so on; a ``possible``
neighbour lends less than an ``agent`` one. Each propagated piece of evidence names the
relation and the object it came from.

A person's triage decision (the reviewed file, ``review``) is evidence too, the strongest:
it is shown with the rest, and it decides the verdict whatever the other signals say.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

from ..evidence import Sighting
from ..model import Credential, Identity, Node
from ..view import SnapshotView
from .matchers import Match
from .propagate import FROM_AGENT, FROM_POSSIBLE, PROPAGATORS, Lent
from .signals import Signal

REVIEW_ROLE = "review"
REVIEW_WEIGHT = 0.99


@dataclass(frozen=True)
class Thresholds:
    prior: float = 0.2
    agent: float = 0.7
    possible: float = 0.35

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any] | None) -> "Thresholds":
        cfg = cfg or {}
        return cls(prior=float(cfg.get("prior", 0.2)), agent=float(cfg.get("agent_threshold", 0.7)),
                   possible=float(cfg.get("possible_threshold", 0.35)))


@dataclass(frozen=True, kw_only=True)
class Evidence(Sighting):
    """A signal that matched, and where: the weight and strength it counts with."""

    signal: str
    weight: float
    strength: str
    role: str
    why: str


@dataclass
class Verdict:
    verdict: str  # agent | possible | none
    score: float
    role: str | None
    evidence: list[Evidence] = field(default_factory=list)
    prior: float = 0.2

    def to_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "score": round(self.score, 3), "role": self.role, "prior": self.prior,
                "evidence": [e.to_dict() for e in sorted(self.evidence, key=lambda e: -e.weight)]}


def log_odds(weight: float) -> float:
    """A signal of weight w counts as a finding right with probability 0.5 + w/2."""
    p = min(max(0.5 + weight / 2, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def decide(evidence: list[Evidence], t: Thresholds) -> Verdict:
    total = math.log(t.prior / (1 - t.prior))
    seen: set[str] = set()
    for ev in evidence:
        if ev.signal in seen:  # a signal counts once, however many places it matched
            continue
        seen.add(ev.signal)
        total += log_odds(ev.weight)
    score = 1 / (1 + math.exp(-total))
    backed = any(ev.weight > 0 and ev.strength in ("strong", "medium") for ev in evidence)
    if score >= t.agent and backed:
        verdict = "agent"
    elif score >= t.possible:
        verdict = "possible"
    else:
        verdict = "none"
    review = next((ev for ev in evidence if ev.role == REVIEW_ROLE), None)
    if review is not None:  # a person decided: the decision stands, the score shows the signals
        verdict = "agent" if review.weight > 0 else "none"
    positive = [ev for ev in evidence if ev.weight > 0 and ev.role != REVIEW_ROLE]
    role = max(positive, key=lambda ev: ev.weight).role if positive and verdict != "none" else None
    if verdict == "agent" and role is None:
        role = REVIEW_ROLE
    return Verdict(verdict, score, role, evidence, t.prior)


def direct_evidence(node: Node, view: SnapshotView, signals: list[Signal]) -> list[Evidence]:
    out = []
    for sig in signals:
        if not sig.counts or not sig.applies(node.kind.value, node.provider):
            continue
        matches: list[Match] = sig.matcher(sig, node, view)
        for m in matches[:3]:  # three places are evidence enough; the rest is noise
            out.append(Evidence(signal=sig.id, weight=sig.weight, strength=sig.strength, role=sig.role,
                                why=sig.why, matched=m.matched, field=m.field, object=m.object,
                                object_name=m.object_name, via=m.via))
    return out


def classify(view: SnapshotView, signals: list[Signal], thresholds: Thresholds,
             reviews: Mapping[str, Evidence] | None = None) -> dict[str, Verdict]:
    """A verdict for every identity and credential of the view. ``reviews``: node id ->
    the evidence of a person's triage decision (``review.evidence_for``)."""
    subjects = [n for n in view.nodes.values() if isinstance(n, (Identity, Credential))]
    evidence = {n.id: direct_evidence(n, view, signals) for n in subjects}
    for nid, ev in (reviews or {}).items():
        if nid in evidence:
            evidence[nid].append(ev)
    verdicts = {nid: decide(ev, thresholds) for nid, ev in evidence.items()}

    # Propagation to a fixed point (chains of roles, tools of tools). What a neighbour
    # lends is recomputed each round: a neighbour that rose from possible to agent lends more.
    for _ in range(6):
        changed = False
        for node in subjects:
            for propagator in PROPAGATORS:
                lent = propagator(node, view, verdicts)
                if lent is None or node.id in lent.neighbours:
                    continue
                ev = _lent_evidence(lent, node, view, verdicts)
                current = next((e for e in evidence[node.id] if e.signal == lent.signal), None)
                if current is not None and current.weight >= ev.weight:
                    continue
                evidence[node.id] = [e for e in evidence[node.id] if e.signal != lent.signal] + [ev]
                verdicts[node.id] = decide(evidence[node.id], thresholds)
                changed = True
        if not changed:
            break

    # A credential of an agent identity is an agent credential.
    for node in subjects:
        if not isinstance(node, Credential):
            continue
        for ident in view.identities_of(node.id):
            parent = verdicts.get(ident)
            if parent is None or parent.verdict == "none":
                continue
            weight = FROM_AGENT["credential"] if parent.verdict == "agent" else FROM_POSSIBLE["credential"]
            evidence[node.id].append(Evidence(
                signal="propagated.credential-of-agent", weight=weight,
                strength="strong" if parent.verdict == "agent" else "medium", role="agent_credential",
                why=f"it authenticates as {view.name(ident)}, whose verdict is {parent.verdict}",
                matched=f"{view.name(ident)} ({parent.verdict}, {parent.score:.2f})", field="authenticates",
                object=ident, object_name=view.name(ident), via="authenticates"))
        verdicts[node.id] = decide(evidence[node.id], thresholds)
    return verdicts


def _lent_evidence(lent: Lent, node: Node, view: SnapshotView, verdicts: Mapping[str, Verdict]) -> Evidence:
    """The evidence a propagator's finding is worth: as much as the weakest neighbour lends."""
    from_agent = all(verdicts[n].verdict == "agent" for n in lent.neighbours)
    weight = (FROM_AGENT if from_agent else FROM_POSSIBLE)[lent.key]
    return Evidence(
        signal=lent.signal, weight=weight, strength="strong" if from_agent else "medium", role=lent.role,
        why=lent.why, field=lent.field, via=lent.via,
        matched=", ".join(f"{view.name(c)} ({verdicts[c].verdict}, {verdicts[c].score:.2f})" for c in lent.neighbours),
        object=lent.object or node.id, object_name=view.name(lent.object) if lent.object else node.name)
