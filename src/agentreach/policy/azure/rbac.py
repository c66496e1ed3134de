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
from typing import Any, Iterable, Mapping

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
    # access class -> the operations (or patterns) that give it (config/access-classes.yaml)
    classes: dict[str, set[str]] = field(default_factory=dict)
    # escalation techniques the role opens on the target ("roleAssignments/write" …)
    escalations: set[str] = field(default_factory=set)

    def add(self, level: str, action: str, plane: str) -> None:
        self.level = strongest_access((self.level, level))
        self.actions.add(action)
        self.planes.add(plane)

    def grant_class(self, classes: Iterable[str], action: str) -> None:
        for c in classes:
            self.classes.setdefault(c, set()).add(action)


def target_flags(attrs: Mapping[str, Any]) -> frozenset[str]:
    """The facts of a target an access class depends on (config/access-classes.yaml ``when``)."""
    flags = set()
    if attrs.get("allow_shared_key_access") is not False:  # unset behaves as allowed
        flags.add("shared_key_allowed")
    if attrs.get("enable_rbac_authorization"):
        flags.add("rbac_authorization")
    else:
        flags.add("access_policies")
    return frozenset(flags)


def _is_read(pattern: str, data: bool) -> bool:
    return (_data_level(pattern) if data else _control_level(pattern)) == "read"


def evaluate(role: Role, rtype: str | None, denies: list[Deny], system_type: str | None = None,
             flags: frozenset[str] = frozenset()) -> Access:
    """What ``role`` allows on one target: on a resource of type ``rtype`` (a system of
    ``system_type`` with ``flags``), or on a scope (``rtype`` None: a subscription or resource
    group, judged by everything the role allows). The data plane is left out where the target
    does not honour role assignments on it (a key vault in the access-policy model)."""
    from ..classes import access_classes

    table = access_classes()
    rules = table.azure_rules(system_type)
    data_when = table.azure_data_plane_when.get(system_type or "")
    data_ok = data_when is None or data_when in flags
    fallback = table.fallback["azure"]
    acc = Access()

    def allowed(action: str) -> bool:
        return (any(_covers(a, action) for a in role.actions) and not any(_covers(n, action) for n in role.not_actions)
                and not any(d.denies(action, False) for d in denies))

    def data_allowed(action: str) -> bool:
        return (any(_covers(a, action) for a in role.data_actions)
                and not any(_covers(n, action) for n in role.not_data_actions)
                and not any(d.denies(action, True) for d in denies))

    if allowed(ROLE_ASSIGNMENT_WRITE):
        acc.add("permissions-management", ROLE_ASSIGNMENT_WRITE, "control")
        acc.admin = True
        acc.escalations.add("roleAssignments/write")
    listed: set[str] = set()
    for rule in rules:
        if rule.plane == "data" and not data_ok:
            continue
        for action in rule.match:
            listed.add(action)
            if not (data_allowed(action) if rule.plane == "data" else allowed(action)):
                continue
            held = rule.classes if rule.when is None or rule.when in flags else rule.otherwise
            acc.grant_class(held, action)
            if rule.when == "access_policies" and rule.when in flags and "permissions-management" in held:
                acc.escalations.add("vaults/accessPolicies/write")
    for pattern in role.actions:
        if rtype is not None and not _relevant(pattern, rtype):
            continue
        probe = pattern.replace("*", "x") if rtype is None else _probe(pattern, rtype)
        if not allowed(probe):
            continue
        acc.add(_control_level(pattern), pattern, "control")
        if pattern not in listed:
            if _is_read(pattern, False) or pattern.endswith("*"):
                acc.grant_class((fallback["control-read"],), pattern)
            if not _is_read(pattern, False):
                acc.grant_class((fallback["control-write"],), pattern)
    for pattern in role.data_actions if data_ok else ():
        if rtype is not None and not _relevant(pattern, rtype):
            continue
        probe = _probe(pattern, rtype) if rtype else pattern.replace("*", "x")
        if any(_covers(n, probe) for n in role.not_data_actions) or any(d.denies(probe, True) for d in denies):
            continue
        acc.add(_data_level(pattern), pattern, "data")
        if pattern in listed:
            continue
        if "*" in pattern:  # a wildcard covers writes; its reads are the listed ones it covers, if any
            acc.grant_class((fallback["data-write"],), pattern)
            if not any(_covers(pattern, a) for a in listed):
                acc.grant_class((fallback["data-read"],), pattern)
        else:
            acc.grant_class((fallback["data-read" if _is_read(pattern, True) else "data-write"],), pattern)
    if acc.admin:
        acc.grant_class(("permissions-management",), ROLE_ASSIGNMENT_WRITE)
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


