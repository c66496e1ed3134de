"""The typed records behind every derived reach edge, and their one merge rule each.

A ``can_access`` (identity -> system) or ``can_assume`` (identity -> identity) edge that
policy evaluation derives says *what* is granted (the level, the access classes and the
actions behind each, admin or not), *by what* (one line per grant: a statement, a role
assignment, a binding) and *whether a condition* stands in the way. Every provider's
evaluator produces an :class:`AccessGrant`; only :meth:`AccessGrant.to_attrs` writes the
stored edge attributes, and only :meth:`AccessGrant.from_attrs` reads them back, so the three
clouds cannot drift apart in what an edge means.

A ``can_escalate`` edge (identity -> the identity or system it can take over) is an
:class:`Escalation`: the techniques (``iam:PassRole+lambda:CreateFunction``, "owner can add
a credential", ``iam.serviceAccountKeys.create``), each with the statements behind it and
what it goes through (the role passed, the function, the policy edited). It is never folded
into ``can_access``: a principal that could attach AdministratorAccess to itself does not
read a bucket until it does.

Merge rules (two records of one kind between the same two objects, e.g. Azure RBAC and a
key-vault access policy on one vault): the stronger level, admin if either is, the union of
classes, actions and grants, and conditional only when *both* are, because either grant
alone is a way in; a class is conditional only when every grant holding it is. Escalations
merge their techniques the same way.

Actions are kept twice: ``actions`` is a capped, readable list (``action_count`` the true
number), and ``actions_by_service`` the whole set, compactly: per service either the list of
names, ``"*"`` (every action of the catalogue that applies to the system) or ``{"all_but":
[...]}``, so ``--action s3:GetObject`` is answered exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterable, Mapping

from ..model import Edge, EdgeKind
from ..order import ACCESS_CLASSES, strongest_access

# Actions listed on an edge; ``action_count`` keeps the true number.
MAX_ACTIONS_LISTED = 40
_CORE_KEYS = frozenset({"level", "admin", "conditional", "condition_keys", "action_count", "actions", "grants",
                        "classes", "conditional_classes", "class_actions", "actions_by_service",
                        "conditional_actions"})
Compact = Any  # list[str] | "*" | {"all_but": list[str]}


# -- compact action sets --------------------------------------------------------------------

def compact(actions: Iterable[str], candidates: Iterable[str] | None = None) -> dict[str, Compact]:
    """``{"s3": ["GetObject", …]}`` for a set of ``service:Name`` actions; a service whose
    granted actions are all of ``candidates`` (the actions that apply to the system) is
    ``"*"``, one missing a few is ``{"all_but": [...]}``. Cached: a scan asks the same
    question for many principals with the same grant."""
    acts = actions if isinstance(actions, frozenset) else frozenset(actions)
    cand = candidates if isinstance(candidates, frozenset) or candidates is None else frozenset(candidates)
    return dict(_compact(acts, cand))


@lru_cache(maxsize=16384)
def _by_service(actions: frozenset[str]) -> dict[str, frozenset[str]]:
    by: dict[str, set[str]] = {}
    for a in actions:
        service, _, name = a.partition(":")
        by.setdefault(service, set()).add(name)
    return {k: frozenset(v) for k, v in by.items()}


@lru_cache(maxsize=16384)
def _compact(actions: frozenset[str], candidates: frozenset[str] | None) -> tuple[tuple[str, Compact], ...]:
    by = _by_service(actions)
    cand = _by_service(candidates) if candidates else {}
    out: list[tuple[str, Compact]] = []
    for service, names in sorted(by.items()):
        pool = cand.get(service)
        if pool and names >= pool and len(pool) > 3:
            out.append((service, "*"))
        elif pool and names <= pool and len(pool - names) < len(names) and len(pool - names) <= MAX_ACTIONS_LISTED:
            out.append((service, {"all_but": sorted(pool - names)}))
        else:
            out.append((service, sorted(names)))
    return tuple(out)


def holds(compacted: Mapping[str, Compact], action: str) -> bool | None:
    """Is ``action`` in the compact set? None when the answer needs the system's own action
    list (``"*"`` or ``all_but``): the caller asks the catalogue whether it applies."""
    service, _, name = action.partition(":")
    for svc, names in compacted.items():
        if svc.lower() != service.lower():
            continue
        if isinstance(names, list):
            return name.lower() in {n.lower() for n in names}
        if isinstance(names, Mapping):
            if name.lower() in {n.lower() for n in names.get("all_but") or ()}:
                return False
        return None
    return False


def _union(a: Mapping[str, Compact], b: Mapping[str, Compact]) -> dict[str, Compact]:
    out: dict[str, Compact] = {}
    for service in sorted(set(a) | set(b)):
        x, y = a.get(service), b.get(service)
        if x is None or y is None:
            out[service] = x if y is None else y
        elif x == "*" or y == "*":
            out[service] = "*"
        elif isinstance(x, Mapping) and isinstance(y, Mapping):
            out[service] = {"all_but": sorted(set(x["all_but"]) & set(y["all_but"]))}
        elif isinstance(x, Mapping) or isinstance(y, Mapping):
            excl, names = (x, y) if isinstance(x, Mapping) else (y, x)
            out[service] = {"all_but": sorted(set(excl["all_but"]) - set(names))}
        else:
            out[service] = sorted(set(x) | set(y))
    return out


# -- the grant behind can_access and can_assume ------------------------------------------------

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
    # Access classes held, those held only under a condition, and the actions behind each.
    classes: frozenset[str] = frozenset()
    conditional_classes: frozenset[str] = frozenset()
    class_actions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Every granted action, compactly per service (see the module docstring), and the ones
    # granted only under a condition (a plain list: they are few).
    actions_by_service: Mapping[str, Compact] = field(default_factory=dict)
    conditional_actions: frozenset[str] = frozenset()

    def merge(self, other: "AccessGrant") -> "AccessGrant":
        both_conditional = self.conditional and other.conditional
        sure = (self.classes - self.conditional_classes) | (other.classes - other.conditional_classes)
        classes = self.classes | other.classes
        class_actions = {c: tuple(sorted(set(self.class_actions.get(c, ())) | set(other.class_actions.get(c, ()))))
                         for c in sorted(set(self.class_actions) | set(other.class_actions))}
        cond = (self.conditional_actions & other.conditional_actions) \
            | {a for a in self.conditional_actions if holds(other.actions_by_service, a) is False} \
            | {a for a in other.conditional_actions if holds(self.actions_by_service, a) is False}
        return AccessGrant(
            level=strongest_access((self.level, other.level)),
            admin=self.admin or other.admin,
            conditional=both_conditional,
            condition_keys=tuple(sorted(set(self.condition_keys) | set(other.condition_keys)))
            if both_conditional else (),
            actions=self.actions | other.actions,
            grants=tuple(dict.fromkeys((*self.grants, *other.grants))),
            extra={**other.extra, **self.extra},
            classes=classes, conditional_classes=classes - sure, class_actions=class_actions,
            actions_by_service=_union(self.actions_by_service, other.actions_by_service),
            conditional_actions=frozenset(cond),
        )

    @property
    def access(self) -> tuple[str, ...]:
        """The classes in their shared order, admin included when the grant is admin."""
        held = set(self.classes) | ({"admin"} if self.admin else set())
        return tuple(c for c in ACCESS_CLASSES if c in held)

    def to_attrs(self) -> dict[str, Any]:
        actions = sorted(self.actions)
        out = {
            "level": self.level, "admin": self.admin, "conditional": self.conditional,
            "condition_keys": list(self.condition_keys),
            "action_count": self.action_total if self.action_total is not None else len(actions),
            "actions": actions[:MAX_ACTIONS_LISTED], "grants": list(self.grants), **dict(self.extra),
        }
        if self.classes or self.admin:
            out["classes"] = list(self.access)
            out["conditional_classes"] = [c for c in ACCESS_CLASSES if c in self.conditional_classes]
            out["class_actions"] = {c: list(v[:MAX_ACTIONS_LISTED]) for c, v in self.class_actions.items()}
        if self.actions_by_service:
            out["actions_by_service"] = {k: (list(v) if isinstance(v, (list, tuple)) else v)
                                         for k, v in self.actions_by_service.items()}
        if self.conditional_actions:
            out["conditional_actions"] = sorted(self.conditional_actions)
        return out

    @classmethod
    def from_attrs(cls, attrs: Mapping[str, Any]) -> "AccessGrant":
        actions = frozenset(str(a) for a in attrs.get("actions") or ())
        count = attrs.get("action_count")
        classes = frozenset(str(c) for c in attrs.get("classes") or () if c != "admin")
        return cls(
            level=attrs.get("level"), admin=bool(attrs.get("admin")), conditional=bool(attrs.get("conditional")),
            condition_keys=tuple(str(k) for k in attrs.get("condition_keys") or ()), actions=actions,
            grants=tuple(str(g) for g in attrs.get("grants") or ()),
            extra={k: v for k, v in attrs.items() if k not in _CORE_KEYS},
            action_total=int(count) if isinstance(count, int) and count != len(actions) else None,
            classes=classes, conditional_classes=frozenset(str(c) for c in attrs.get("conditional_classes") or ()),
            class_actions={str(k): tuple(v) for k, v in (attrs.get("class_actions") or {}).items()},
            actions_by_service=dict(attrs.get("actions_by_service") or {}),
            conditional_actions=frozenset(str(a) for a in attrs.get("conditional_actions") or ()),
        )

    def edge(self, src: str, dst: str, source: str, kind: EdgeKind = EdgeKind.CAN_ACCESS) -> Edge:
        return Edge(src=src, dst=dst, kind=kind, source=source, attrs=self.to_attrs())


# -- the record behind can_escalate -----------------------------------------------------------------

@dataclass(frozen=True)
class Technique:
    """One way to escalate: its name, what it goes through, the statements that allow each
    step, and the condition keys that stand in the way (conditional when any does)."""

    technique: str
    grants: tuple[str, ...] = ()
    via: str | None = None
    conditional: bool = False
    condition_keys: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"technique": self.technique, "via": self.via, "grants": list(self.grants),
                "conditional": self.conditional, "condition_keys": list(self.condition_keys)}

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> "Technique":
        return cls(technique=str(data.get("technique") or ""), grants=tuple(str(g) for g in data.get("grants") or ()),
                   via=data.get("via"), conditional=bool(data.get("conditional")),
                   condition_keys=tuple(str(k) for k in data.get("condition_keys") or ()))


@dataclass(frozen=True)
class Escalation:
    """What one principal can take over (``gains``: "admin", "the role's permissions") and how."""

    techniques: tuple[Technique, ...]
    gains: str = "the target's permissions"

    @property
    def conditional(self) -> bool:
        return all(t.conditional for t in self.techniques)

    def merge(self, other: "Escalation") -> "Escalation":
        seen = {(t.technique, t.via): t for t in self.techniques}
        for t in other.techniques:
            seen.setdefault((t.technique, t.via), t)
        gains = "admin" if "admin" in (self.gains, other.gains) else self.gains
        return Escalation(techniques=tuple(seen.values()), gains=gains)

    def to_attrs(self) -> dict[str, Any]:
        conditional = self.conditional
        return {
            "technique": self.techniques[0].technique if self.techniques else None,
            "techniques": [t.to_json() for t in self.techniques],
            "grants": list(dict.fromkeys(g for t in self.techniques for g in t.grants)),
            "gains": self.gains, "conditional": conditional,
            "condition_keys": sorted({k for t in self.techniques for k in t.condition_keys}) if conditional else [],
        }

    @classmethod
    def from_attrs(cls, attrs: Mapping[str, Any]) -> "Escalation":
        return cls(techniques=tuple(Technique.of(t) for t in attrs.get("techniques") or ()),
                   gains=str(attrs.get("gains") or "the target's permissions"))

    def edge(self, src: str, dst: str, source: str) -> Edge:
        return Edge(src=src, dst=dst, kind=EdgeKind.CAN_ESCALATE, source=source, attrs=self.to_attrs())


GRANT_KINDS = frozenset({EdgeKind.CAN_ACCESS, EdgeKind.CAN_ASSUME})


def merge_edges(edges: Iterable[Edge]) -> list[Edge]:
    """One edge per (src, kind, dst): grant edges merge by :meth:`AccessGrant.merge`,
    escalations by :meth:`Escalation.merge`, any other kind keeps its first record (a derived
    ``found_in`` link is the same fact twice)."""
    merged: dict[tuple[str, str, str], Edge] = {}
    for edge in edges:
        key = (edge.src, edge.kind.value, edge.dst)
        old = merged.get(key)
        if old is None:
            merged[key] = edge
        elif edge.kind in GRANT_KINDS:
            grant = AccessGrant.from_attrs(old.attrs).merge(AccessGrant.from_attrs(edge.attrs))
            merged[key] = grant.edge(old.src, old.dst, old.source, old.kind)
        elif edge.kind == EdgeKind.CAN_ESCALATE:
            esc = Escalation.from_attrs(old.attrs).merge(Escalation.from_attrs(edge.attrs))
            merged[key] = esc.edge(old.src, old.dst, old.source)
    return list(merged.values())
