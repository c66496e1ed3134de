"""Scoring: signals to a verdict with its evidence, then propagation along stated edges.

Evidence adds up in log-odds from a prior, so a verdict is a sum a reader can redo by
hand (``explain`` shows it). Two rules keep keywords honest: a verdict of ``agent`` needs
at least one strong or medium signal for it, and weak signals (names, tags, descriptions)
can reach ``possible`` at most.

Propagation uses only edges the source states: a credential of an agent identity is an
agent credential (``authenticates``), and a role that only agent identities may assume is
agent-reachable (its trust policy). Each propagated piece of evidence names the edge and
the object it came from.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Mapping

from ..evidence import Sighting
from ..model import Credential, Identity, Node
from ..view import SnapshotView
from .matchers import Match, _listed, _statements
from .signals import Signal

PROPAGATED_AGENT_WEIGHT = 0.9
REACHABLE_WEIGHT = 0.85


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
    positive = [ev for ev in evidence if ev.weight > 0]
    role = max(positive, key=lambda ev: ev.weight).role if positive and verdict != "none" else None
    return Verdict(verdict, score, role, evidence, t.prior)


def direct_evidence(node: Node, view: SnapshotView, signals: list[Signal]) -> list[Evidence]:
    out = []
    for sig in signals:
        if not sig.applies(node.kind.value, node.provider):
            continue
        matches: list[Match] = sig.matcher(sig, node, view)
        for m in matches[:3]:  # three places are evidence enough; the rest is noise
            out.append(Evidence(signal=sig.id, weight=sig.weight, strength=sig.strength, role=sig.role,
                                why=sig.why, matched=m.matched, field=m.field, object=m.object,
                                object_name=m.object_name, via=m.via))
    return out


def classify(view: SnapshotView, signals: list[Signal], thresholds: Thresholds) -> dict[str, Verdict]:
    """A verdict for every identity and credential of the view."""
    subjects = [n for n in view.nodes.values() if isinstance(n, (Identity, Credential))]
    evidence = {n.id: direct_evidence(n, view, signals) for n in subjects}
    verdicts = {nid: decide(ev, thresholds) for nid, ev in evidence.items()}

    # Roles that only agent identities may assume, to a fixed point (chains of roles).
    for _ in range(5):
        changed = False
        for node in subjects:
            if node.type != "aws_iam_role" or verdicts[node.id].verdict == "agent" or any(
                    ev.signal == "propagated.assumed-only-by-agents" for ev in evidence[node.id]):
                continue
            chain = _assumed_only_by_agents(node, view, verdicts)
            if chain:
                evidence[node.id].append(Evidence(
                    signal="propagated.assumed-only-by-agents", weight=REACHABLE_WEIGHT, strength="strong",
                    role="agent_reachable", why="only agent identities may assume this role (its trust policy)",
                    matched=", ".join(f"{view.name(c)} ({verdicts[c].verdict}, {verdicts[c].score:.2f})"
                                      for c in chain),
                    field="trust_policy", object=node.id, object_name=node.name, via="can_assume (trust policy)"))
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
            weight = PROPAGATED_AGENT_WEIGHT if parent.verdict == "agent" else 0.4
            evidence[node.id].append(Evidence(
                signal="propagated.credential-of-agent", weight=weight,
                strength="strong" if parent.verdict == "agent" else "medium", role="agent_credential",
                why=f"it authenticates as {view.name(ident)}, whose verdict is {parent.verdict}",
                matched=f"{view.name(ident)} ({parent.verdict}, {parent.score:.2f})", field="authenticates",
                object=ident, object_name=view.name(ident), via="authenticates"))
        verdicts[node.id] = decide(evidence[node.id], thresholds)
    return verdicts


def _assumed_only_by_agents(role: Node, view: SnapshotView, verdicts: Mapping[str, Verdict]) -> list[str]:
    """Ids of the agent identities that are the only principals trusted by ``role``;
    empty when any principal is not a known agent identity (a service, an account, '*')."""
    by_arn = {n.native_id: n.id for n in view.nodes.values() if isinstance(n, Identity) and n.native_id}
    trusted: list[str] = []
    for stmt in _statements(role.attrs.get("trust_policy")):
        if stmt.get("Effect") != "Allow":
            continue
        principal = stmt.get("Principal")
        if not isinstance(principal, Mapping) or set(principal) != {"AWS"}:
            return []
        for arn in _listed(principal["AWS"]):
            ident = by_arn.get(arn)
            if ident is None or verdicts.get(ident) is None or verdicts[ident].verdict != "agent":
                return []
            trusted.append(ident)
    return trusted
