"""The typed record behind every derived reach edge, and its one merge rule.

A ``can_access`` (identity -> system) or ``can_assume`` (identity -> identity) edge that
policy evaluation derives says *what* is granted (the level, the actions, admin or not),
*by what* (one line per grant: a statement, a role assignment, a binding) and *whether a
condition* the snapshot cannot decide stands in the way. Every provider's evaluator
produces an :class:`AccessGrant`; only :meth:`AccessGrant.to_attrs` writes the stored
edge attributes, and only :meth:`AccessGrant.from_attrs` reads them back, so the three
clouds cannot drift apart in what an edge means.

The merge rule (two grants of the same kind between the same two objects, e.g. Azure RBAC
and a key-vault access policy on one vault): the stronger level, admin if either is, the
union of actions and grants, and conditional only when *both* are, because either grant
alone is a way in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from ..model import Edge, EdgeKind
from ..order import strongest_access

# Actions listed on an edge; ``action_count`` keeps the true number.
MAX_ACTIONS_LISTED = 40
_CORE_KEYS = frozenset({"level", "admin", "conditional", "condition_keys", "action_count", "actions", "grants"})


@dataclass(frozen=True)
class AccessGrant:
    """What one principal holds on one target, and why."""

    level: str | None
    admin: bool = False
    conditional: bool = False
    condition_keys: tuple[str, ...] = ()
    actions: frozenset[str] = frozenset()
    grants: tuple[str, ...] = ()
    # Provider-specific facts a reader needs beside the grant (Azure's control/data plane,
    # Graph permission names, GCP's impersonation permissions); kept verbatim.
    extra: Mapping[str, Any] = field(default_factory=dict)
    # The true number of actions when only a capped list was stored (read back from attrs).
    action_total: int | None = None

    def merge(self, other: "AccessGrant") -> "AccessGrant":
        both_conditional = self.conditional and other.conditional
        return AccessGrant(
            level=strongest_access((self.level, other.level)),
            admin=self.admin or other.admin,
            conditional=both_conditional,
            condition_keys=tuple(sorted(set(self.condition_keys) | set(other.condition_keys)))
            if both_conditional else (),
            actions=self.actions | other.actions,
            grants=tuple(dict.fromkeys((*self.grants, *other.grants))),
            extra={**other.extra, **self.extra},
        )

    def to_attrs(self) -> dict[str, Any]:
        actions = sorted(self.actions)
        return {
            "level": self.level, "admin": self.admin, "conditional": self.conditional,
            "condition_keys": list(self.condition_keys),
            "action_count": self.action_total if self.action_total is not None else len(actions),
            "actions": actions[:MAX_ACTIONS_LISTED], "grants": list(self.grants), **dict(self.extra),
        }

    @classmethod
    def from_attrs(cls, attrs: Mapping[str, Any]) -> "AccessGrant":
        actions = frozenset(str(a) for a in attrs.get("actions") or ())
        count = attrs.get("action_count")
        return cls(
            level=attrs.get("level"), admin=bool(attrs.get("admin")), conditional=bool(attrs.get("conditional")),
            condition_keys=tuple(str(k) for k in attrs.get("condition_keys") or ()), actions=actions,
            grants=tuple(str(g) for g in attrs.get("grants") or ()),
            extra={k: v for k, v in attrs.items() if k not in _CORE_KEYS},
            action_total=int(count) if isinstance(count, int) and count != len(actions) else None,
        )

    def edge(self, src: str, dst: str, source: str, kind: EdgeKind = EdgeKind.CAN_ACCESS) -> Edge:
        return Edge(src=src, dst=dst, kind=kind, source=source, attrs=self.to_attrs())


GRANT_KINDS = frozenset({EdgeKind.CAN_ACCESS, EdgeKind.CAN_ASSUME})


def merge_edges(edges: Iterable[Edge]) -> list[Edge]:
    """One edge per (src, kind, dst): grant edges merge by :meth:`AccessGrant.merge`, any
    other kind keeps its first record (a derived ``found_in`` link is the same fact twice)."""
    merged: dict[tuple[str, str, str], Edge] = {}
    for edge in edges:
        key = (edge.src, edge.kind.value, edge.dst)
        old = merged.get(key)
        if old is None:
            merged[key] = edge
        elif edge.kind in GRANT_KINDS:
            grant = AccessGrant.from_attrs(old.attrs).merge(AccessGrant.from_attrs(edge.attrs))
            merged[key] = grant.edge(old.src, old.dst, old.source, old.kind)
    return list(merged.values())
