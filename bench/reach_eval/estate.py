"""What every cloud's labelled estate loads into: the records a connector would emit, the crown
jewels and principals by their short labels, and the expected answers with their reasons."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from agentreach.model import Edge, Node

HERE = Path(__file__).parent
CLASSES = ("read-data", "write-data", "read-metadata", "write-config", "permissions-management")


@dataclass(frozen=True)
class Escalation:
    """One privilege-escalation case: ``principal`` can (``expected``) or cannot escalate to
    ``target`` (a principal label, or "self") through ``technique``."""

    id: str
    technique: str
    principal: str
    target: str
    expected: bool
    near_miss_of: str | None = None
    why: str = ""
    source: tuple[Mapping[str, Any], ...] = ()


@dataclass
class Estate:
    provider: str
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    systems: dict[str, str] = field(default_factory=dict)  # label -> node id (the crown jewels)
    principals: dict[str, str] = field(default_factory=dict)  # label -> node id
    expect: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict)  # (principal, system) -> classes
    why: dict[str, str] = field(default_factory=dict)  # principal label -> reason
    escalations: list[Escalation] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)  # the YAML, for checks that re-read it

    def expected(self, principal: str, system: str) -> frozenset[str]:
        return self.expect.get((principal, system), frozenset())


def read_yaml(path: Path) -> dict[str, Any]:
    try:
        return yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise SystemExit(f"{path}: cannot read the estate: {exc}") from None


def expectations(estate: Estate, label: str, expect: Mapping[str, Any] | None) -> None:
    """``expect`` of one principal: system label (or "*" for every crown jewel) -> classes."""
    for system, classes in (expect or {}).items():
        targets = list(estate.systems) if system == "*" else [system]
        for target in targets:
            if target not in estate.systems:
                raise SystemExit(f"{estate.provider} principal {label}: unknown system {target!r} in expect")
            unknown = set(classes) - set(CLASSES)
            if unknown:
                raise SystemExit(f"{estate.provider} principal {label}: unknown access class {sorted(unknown)}")
            estate.expect[(label, target)] = frozenset(classes)


def escalations(estate: Estate, items: list[Mapping[str, Any]] | None) -> None:
    for item in items or []:
        case = Escalation(id=item["id"], technique=item["technique"], principal=item["principal"],
                          target=item["target"], expected=bool(item["expected"]),
                          near_miss_of=item.get("near_miss_of"), why=item.get("why", ""),
                          source=tuple(item.get("source") or ()))
        for who in (case.principal, case.target):
            if who != "self" and who not in estate.principals:
                raise SystemExit(f"{estate.provider} escalation {case.id}: unknown principal {who!r}")
        estate.escalations.append(case)
    ids = {c.id for c in estate.escalations}
    for case in estate.escalations:
        if case.near_miss_of and case.near_miss_of not in ids:
            raise SystemExit(f"{estate.provider} escalation {case.id}: near_miss_of {case.near_miss_of!r} is no case")
        if case.near_miss_of and case.expected:
            raise SystemExit(f"{estate.provider} escalation {case.id}: a near-miss is expected not to escalate")
