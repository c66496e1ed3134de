"""Azure RBAC evaluation: what a role definition allows on one target, minus what deny
assignments remove, in the access vocabulary every provider shares (list, read, tagging,
write, permissions-management). Pure; the checkers in :mod:`.edges` call it.

Azure RBAC in brief, as evaluated here: an assignment grants its role's ``actions`` minus
``notActions`` (control plane) and ``dataActions`` minus ``notDataActions`` (data plane) at
its scope and every scope below; a deny assignment removes its actions for its principals
(except ``excludePrincipals``) at its scope and, unless ``doNotApplyToChildScopes``, below.
Management-group and root scopes are taken to cover every scanned subscription (the scan
does not read the management-group tree).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Mapping

from ...model import Policy
from ...order import strongest_access

EVERYONE = "00000000-0000-0000-0000-000000000000"
ROLE_ASSIGNMENT_WRITE = "microsoft.authorization/roleassignments/write"


def _covers(pattern: str, action: str) -> bool:
    return fnmatchcase(action.lower(), pattern.lower())


def _relevant(pattern: str, rtype: str) -> bool:
    """Can ``pattern`` match some action on resources of type ``rtype``? (``*/read``,
    ``Microsoft.KeyVault/*`` and ``Microsoft.KeyVault/vaults/secrets/getSecret/action`` all
    can for ``Microsoft.KeyVault/vaults``.)"""
    psegs, rsegs = pattern.lower().split("/"), rtype.lower().split("/")
    for i, seg in enumerate(rsegs):
        if i >= len(psegs):
            return False
        if psegs[i] == "*":
            return True
        if not fnmatchcase(seg, psegs[i]):
            return False
    return len(psegs) > len(rsegs)


READ_VERBS = ("get", "read", "list", "completions", "embeddings", "chat", "search", "decrypt", "unwrap",
              "verify", "query", "generateuserdelegationkey")


def _data_level(pattern: str) -> str:
    """Data actions that only read or use what is there (get a secret, call a model, read a
    blob) are ``read``, as AWS files GetSecretValue and InvokeModel; the rest write."""
    segs = pattern.lower().split("/")
    if segs[-1] == "read":
        return "read"
    if segs[-1] == "action" and len(segs) > 1 and any(v in segs[-2] for v in READ_VERBS):
        return "read"
    return "write"


def _control_level(pattern: str) -> str:
    """Control-plane reads, and POST actions that only read (a user delegation key is
    bounded by the caller's data roles) are ``read``; listKeys and everything else write."""
    segs = pattern.lower().split("/")
    if segs[-1] == "read":
        return "read"
    if segs[-1] == "action" and len(segs) > 1 and "listkeys" not in segs[-2] \
            and any(v in segs[-2] for v in READ_VERBS):
        return "read"
    return "write"


@dataclass(frozen=True)
class Role:
    """A role definition's permission blocks, flattened (lower-case patterns)."""

    name: str
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    data_actions: tuple[str, ...]
    not_data_actions: tuple[str, ...]

    @classmethod
    def of(cls, policy: Policy) -> "Role":
        perms = policy.document.get("permissions") or []

        def flat(key: str) -> tuple[str, ...]:
            return tuple(str(a).lower() for p in perms if isinstance(p, Mapping) for a in p.get(key) or [])

        return cls(str(policy.document.get("roleName") or policy.name), flat("actions"), flat("notActions"),
                   flat("dataActions"), flat("notDataActions"))


@dataclass(frozen=True)
class Deny:
    name: str
    scope: str
    children: bool
    principals: frozenset[str]
    excluded: frozenset[str]
    actions: tuple[str, ...]
    not_actions: tuple[str, ...]
    data_actions: tuple[str, ...]
    not_data_actions: tuple[str, ...]

    @classmethod
    def of(cls, policy: Policy) -> "Deny":
        doc = policy.document
        role = Role.of(policy)
        return cls(policy.name, str(doc.get("scope") or "").lower().rstrip("/") or "/",
                   not doc.get("doNotApplyToChildScopes"),
                   frozenset(str(p.get("id") or "").lower() for p in doc.get("principals") or []
                             if isinstance(p, Mapping)),
                   frozenset(str(p.get("id") or "").lower() for p in doc.get("excludePrincipals") or []
                             if isinstance(p, Mapping)),
                   role.actions, role.not_actions, role.data_actions, role.not_data_actions)

    def applies(self, principal: str, target: str) -> bool:
        if principal in self.excluded or not (principal in self.principals or EVERYONE in self.principals):
            return False
        return in_scope(target, self.scope) if self.children else target == self.scope

    def denies(self, action: str, data: bool) -> bool:
        pats, nots = (self.data_actions, self.not_data_actions) if data else (self.actions, self.not_actions)
        return any(_covers(p, action) for p in pats) and not any(_covers(n, action) for n in nots)


def in_scope(target: str, scope: str) -> bool:
    """Is ``target`` (an ARM id, lower case) at or below ``scope``? Root and management
    groups cover every subscription."""
    if scope in ("/", "") or scope.startswith("/providers/microsoft.management/managementgroups/"):
        return target.startswith("/subscriptions/")
    return target == scope or target.startswith(scope + "/")


@dataclass
class Access:
    level: str | None = None
    admin: bool = False
    actions: set[str] = field(default_factory=set)
    planes: set[str] = field(default_factory=set)

    def add(self, level: str, action: str, plane: str) -> None:
        self.level = strongest_access((self.level, level))
        self.actions.add(action)
        self.planes.add(plane)


def evaluate(role: Role, rtype: str | None, denies: list[Deny]) -> Access:
    """What ``role`` allows on one target: on a resource of type ``rtype``, or on a scope
    (``rtype`` None: a subscription or resource group, judged by everything the role allows)."""
    acc = Access()

    def allowed(action: str) -> bool:
        return (any(_covers(a, action) for a in role.actions) and not any(_covers(n, action) for n in role.not_actions)
                and not any(d.denies(action, False) for d in denies))

    if allowed(ROLE_ASSIGNMENT_WRITE):
        acc.add("permissions-management", ROLE_ASSIGNMENT_WRITE, "control")
        acc.admin = True
    for pattern in role.actions:
        if rtype is not None and not _relevant(pattern, rtype):
            continue
        probe = pattern.replace("*", "x") if rtype is None else _probe(pattern, rtype)
        if not allowed(probe):
            continue
        acc.add(_control_level(pattern), pattern, "control")
    for pattern in role.data_actions:
        if rtype is not None and not _relevant(pattern, rtype):
            continue
        probe = _probe(pattern, rtype) if rtype else pattern.replace("*", "x")
        if any(_covers(n, probe) for n in role.not_data_actions) or any(d.denies(probe, True) for d in denies):
            continue
        acc.add(_data_level(pattern), pattern, "data")
    return acc


def _probe(pattern: str, rtype: str) -> str:
    """A concrete action under ``rtype`` that ``pattern`` matches, to test notActions and
    denies against (``*/read`` on vaults -> ``microsoft.keyvault/vaults/read``)."""
    low = pattern.lower()
    if low.startswith("*"):
        return rtype.lower() + low[1:] if low != "*" else rtype.lower() + "/write"
    segs, rsegs = low.split("/"), rtype.lower().split("/")
    out = [rsegs[i] if i < len(rsegs) and ("*" in s) else s for i, s in enumerate(segs)]
    return "/".join(s.replace("*", "x") for s in out)


