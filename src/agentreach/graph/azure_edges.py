"""Derived Azure edges: what an Entra principal can reach through Azure RBAC, Microsoft
Graph application permissions, directory roles and key-vault access policies, and which
principals can take over another by adding a credential to it (ownership).

One checker per edge kind (PMapper's EdgeChecker idea), each a pure function of the
snapshot. Every edge carries the grants behind it ("role assignment Contributor at
/subscriptions/…"), its access level in the same vocabulary as AWS (list, read, tagging,
write, permissions-management), whether it is admin, and whether an ABAC condition makes it
uncertain (the condition text is kept, never evaluated).

Azure RBAC in brief, as evaluated here: an assignment grants its role's ``actions`` minus
``notActions`` (control plane) and ``dataActions`` minus ``notDataActions`` (data plane) at
its scope and every scope below; a deny assignment removes its actions for its principals
(except ``excludePrincipals``) at its scope and, unless ``doNotApplyToChildScopes``, below.
Management-group and root scopes are taken to cover every scanned subscription (the scan
does not read the management-group tree).
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, Iterator, Mapping

from ..classify.view import SnapshotView
from ..model import Edge, EdgeKind, Identity, Node, Policy, System, node_id
from .aws_edges import MAX_ACTIONS_LISTED, Derived

SOURCE = "policy:azure"
LEVELS = ("permissions-management", "write", "tagging", "read", "list")  # strongest first, as policy.aws
EVERYONE = "00000000-0000-0000-0000-000000000000"
ROLE_ASSIGNMENT_WRITE = "microsoft.authorization/roleassignments/write"
MSGRAPH_APP_IDS = frozenset({"00000003-0000-0000-c000-000000000000", "00000002-0000-0000-c000-000000000000"})
# Graph application permissions and directory roles that amount to running the tenant.
ADMIN_PERMISSIONS = frozenset({
    "rolemanagement.readwrite.directory", "application.readwrite.all", "approleassignment.readwrite.all",
    "directory.readwrite.all", "serviceprincipalendpoint.readwrite.all", "policy.readwrite.authenticationmethod",
    "agentidentityblueprint.addremovecreds.all", "group.readwrite.all", "groupmember.readwrite.all",
})
ADMIN_ROLES = frozenset({
    "global administrator", "privileged role administrator", "application administrator",
    "cloud application administrator", "privileged authentication administrator", "hybrid identity administrator",
    "agent id administrator",
})
SCOPE_TYPES = frozenset({"azure_subscription", "azure_resource_group"})
PRINCIPAL_TYPES = frozenset({"azure_sp", "azure_managed_identity", "azure_user", "azure_app"})


def _stronger(a: str | None, b: str | None) -> str | None:
    ranked = [lv for lv in (a, b) if lv in LEVELS]
    return min(ranked, key=LEVELS.index) if ranked else None


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
        return _in_scope(target, self.scope) if self.children else target == self.scope

    def denies(self, action: str, data: bool) -> bool:
        pats, nots = (self.data_actions, self.not_data_actions) if data else (self.actions, self.not_actions)
        return any(_covers(p, action) for p in pats) and not any(_covers(n, action) for n in nots)


def _in_scope(target: str, scope: str) -> bool:
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
        self.level = _stronger(self.level, level)
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


# -- checkers ------------------------------------------------------------------------------

@dataclass
class _Grant:
    access: Access
    grant: str
    condition: str | None


def _edge(src: str, dst: str, grants: list[_Grant], extra: Mapping[str, Any] | None = None) -> Edge:
    level = None
    for g in grants:
        level = _stronger(level, g.access.level)
    best = [g for g in grants if g.access.level == level]
    conditional = all(g.condition for g in best)
    actions = sorted({a for g in grants for a in g.access.actions})
    planes = sorted({p for g in grants for p in g.access.planes})
    attrs = {
        "level": level, "admin": any(g.access.admin for g in grants), "conditional": conditional,
        "condition_keys": sorted({g.condition[:300] for g in grants if g.condition}) if conditional else [],
        "action_count": len(actions), "actions": actions[:MAX_ACTIONS_LISTED],
        "grants": [g.grant for g in grants], "plane": "+".join(planes), **(extra or {}),
    }
    return Edge(src=src, dst=dst, kind=EdgeKind.CAN_ACCESS, source=SOURCE, attrs=attrs)


class Targets:
    """Systems by ARM id, sorted, so that "at or below this scope" is a range lookup, not a
    scan of every system for every assignment."""

    def __init__(self, systems: list[System]) -> None:
        self.items = sorted(((s.native_id or "").lower(), s) for s in systems)
        self.keys = [k for k, _ in self.items]

    def under(self, scope: str) -> list[System]:
        if scope in ("/", "") or scope.startswith("/providers/microsoft.management/managementgroups/"):
            lo, hi = bisect_left(self.keys, "/subscriptions/"), bisect_left(self.keys, "/subscriptions0")
        else:
            lo, hi = bisect_left(self.keys, scope), bisect_left(self.keys, scope + "0")  # "0" sorts after "/"
        return [s for k, s in self.items[lo:hi] if _in_scope(k, scope)]


class RoleAssignmentChecker:
    """identity -can_access-> every system at or below a role assignment's scope."""

    def edges(self, view: SnapshotView, systems: list[System], denies: list[Deny]) -> Iterator[Edge]:
        targets = Targets(systems)
        for ident in _principals(view):
            object_id = (ident.native_id or "").lower()
            per_target: dict[str, list[_Grant]] = {}
            for e in view.out_edges.get(ident.id, ()):
                attrs = e.get("attrs") or {}
                policy = view.nodes.get(e["dst"])
                if e["kind"] != "has_policy" or attrs.get("attachment") != "role_assignment" \
                        or not isinstance(policy, Policy):
                    continue
                role = Role.of(policy)
                scope = str(attrs.get("scope") or "/").lower().rstrip("/") or "/"
                for target in targets.under(scope):
                    tid = (target.native_id or "").lower()
                    applicable = [d for d in denies if d.applies(object_id, tid)]
                    rtype = None if target.type in SCOPE_TYPES else str(target.attrs.get("resource_type") or "")
                    access = evaluate(role, rtype or None, applicable)
                    if access.level is None:
                        continue
                    per_target.setdefault(target.id, []).append(_Grant(
                        access, f"role assignment {role.name} at {attrs.get('scope') or '/'}",
                        str(attrs["condition"]) if attrs.get("condition") else None))
            for tid, grants in sorted(per_target.items()):
                yield _edge(ident.id, tid, grants)


def _principals(view: SnapshotView) -> Iterator[Identity]:
    for node in view.nodes.values():
        if isinstance(node, Identity) and node.provider == "azure" and node.type in PRINCIPAL_TYPES:
            yield node


def _permission_level(name: str) -> tuple[str, bool]:
    low = name.lower()
    if low in ADMIN_PERMISSIONS:
        return "permissions-management", True
    if any(k in low for k in (".readwrite", ".write", ".send", ".manage", ".delete", "fullcontrol", ".invalidate")):
        return "write", False
    return "read", False


def _role_level(name: str) -> tuple[str, bool]:
    low = name.lower()
    if low in ADMIN_ROLES:
        return "permissions-management", True
    if low.endswith(("reader", "readers")):
        return "read", False
    return "write", False


class DirectoryChecker:
    """identity -can_access-> the Entra directory (Graph application permissions and
    directory roles), and -> other APIs it holds application permissions on."""

    def nodes_and_edges(self, view: SnapshotView) -> tuple[list[Node], list[Edge]]:
        nodes: dict[str, Node] = {}
        edges: list[Edge] = []
        for ident in _principals(view):
            tenant = str(ident.attrs.get("tenant_id") or ident.account or "")
            per_target: dict[str, list[_Grant]] = {}
            perms: dict[str, list[str]] = {}
            for ara in ident.attrs.get("app_role_assignments") or []:
                permission = str(ara.get("permission") or "")
                api = str(ara.get("resource_app_id") or "").lower()
                if api in MSGRAPH_APP_IDS:
                    target = node_id("azure", "directory", tenant)
                    if target not in view.nodes and target not in nodes:
                        nodes[target] = System(id=target, provider="azure", source=SOURCE, type="azure_directory",
                                               name=f"Entra directory {tenant}", native_id=tenant, account=tenant,
                                               attrs={"derived": True})
                else:
                    target = node_id("azure", "api", api or str(ara.get("resource_id") or "unknown"))
                    if target not in nodes:
                        nodes[target] = System(id=target, provider="azure", source=SOURCE, type="azure_api",
                                               name=f"API {ara.get('resource_name') or api}", native_id=api or None,
                                               account=tenant, attrs={"derived": True,
                                                                      "service_principal_id": ara.get("resource_id")})
                level, admin = _permission_level(permission)
                acc = Access(level=level, admin=admin, actions={permission}, planes={"graph"})
                via = f" (inherited from {ara['inherited_from']})" if ara.get("inherited_from") else ""
                per_target.setdefault(target, []).append(
                    _Grant(acc, f"application permission {permission} on {ara.get('resource_name') or api}{via}",
                           None))
                perms.setdefault(target, []).append(permission)
            for role in ident.attrs.get("directory_roles") or []:
                name = str(role.get("role") or "")
                level, admin = _role_level(name)
                target = node_id("azure", "directory", tenant)
                if target not in view.nodes and target not in nodes:
                    nodes[target] = System(id=target, provider="azure", source=SOURCE, type="azure_directory",
                                           name=f"Entra directory {tenant}", native_id=tenant, account=tenant,
                                           attrs={"derived": True})
                acc = Access(level=level, admin=admin, actions={f"directory role {name}"}, planes={"directory"})
                per_target.setdefault(target, []).append(
                    _Grant(acc, f"directory role {name} at {role.get('scope') or '/'}", None))
                perms.setdefault(target, []).append(f"role:{name}")
            for target, grants in sorted(per_target.items()):
                edges.append(_edge(ident.id, target, grants, {"permissions": sorted(set(perms[target]))}))
        return list(nodes.values()), edges


class AccessPolicyChecker:
    """identity -can_access-> key vault through a vault access policy (vaults not in RBAC mode)."""

    def edges(self, view: SnapshotView, vaults: list[System]) -> Iterator[Edge]:
        by_object = {(n.native_id or "").lower(): n for n in _principals(view)}
        for vault in vaults:
            if vault.attrs.get("enable_rbac_authorization"):
                continue
            for pol in vault.attrs.get("access_policies") or []:
                ident = by_object.get(str(pol.get("object_id") or "").lower())
                if ident is None:
                    continue
                acc = Access()
                for kind, ops in (pol.get("permissions") or {}).items():
                    for op in ops or []:
                        low = str(op).lower()
                        level = "read" if low in ("get", "list", "getrotationpolicy") else "write"
                        if low in ("all", "setissuers", "managecontacts", "purge", "set", "delete"):
                            level = "write"
                        acc.add(level, f"{kind}/{op}", "data")
                if acc.level:
                    yield _edge(ident.id, vault.id, [_Grant(acc, f"key vault access policy on {vault.name}", None)])


class OwnerChecker:
    """owner -can_assume-> the application or service principal it owns: an owner can add a
    credential to it and sign in as it. Not for managed identities (they take no
    credentials) and not for a principal of an application homed in another tenant (its
    credentials live there): BloodHound's AZAddSecret false positives (#943, Legacy #681)."""

    def edges(self, view: SnapshotView) -> Iterator[Edge]:
        for node in view.nodes.values():
            if not (isinstance(node, Identity) and node.provider == "azure" and node.type in PRINCIPAL_TYPES):
                continue
            for e in view.out_edges.get(node.id, ()):
                target = view.nodes.get(e["dst"])
                if e["kind"] != "owns" or not isinstance(target, Identity) or target.provider != "azure":
                    continue
                if target.type == "azure_managed_identity" or target.attrs.get("foreign_tenant"):
                    continue
                if node.account and target.account and node.account != target.account:
                    continue
                yield Edge(src=node.id, dst=target.id, kind=EdgeKind.CAN_ASSUME, source=SOURCE,
                           attrs={"reason": "owner can add a credential",
                                  "grants": [f"owner of {target.name} (can add a secret or certificate)"]})


def derive(view: SnapshotView) -> Derived:
    targets = [n for n in view.nodes.values() if isinstance(n, System) and n.provider == "azure"
               and (n.native_id or "").lower().startswith("/subscriptions/")]
    denies = [Deny.of(n) for n in view.nodes.values() if isinstance(n, Policy) and n.type == "azure_deny_assignment"]
    edges: list[Edge] = list(RoleAssignmentChecker().edges(view, targets, denies))
    dir_nodes, dir_edges = DirectoryChecker().nodes_and_edges(view)
    edges += dir_edges
    edges += AccessPolicyChecker().edges(view, [t for t in targets if t.type == "azure_key_vault"])
    edges += OwnerChecker().edges(view)
    merged: dict[tuple[str, str, str], Edge] = {}
    for edge in edges:
        key = (edge.src, edge.kind.value, edge.dst)
        if key in merged and edge.kind == EdgeKind.CAN_ACCESS:
            edge = _merge(merged[key], edge)
        merged[key] = edge
    return Derived(nodes=dir_nodes, edges=list(merged.values()), problems=[])


def _merge(a: Edge, b: Edge) -> Edge:
    """RBAC and an access policy on one vault: one edge, the stronger level, both grants."""
    x, y = dict(a.attrs), dict(b.attrs)
    level = _stronger(x.get("level"), y.get("level"))
    actions = sorted(set(x.get("actions") or []) | set(y.get("actions") or []))
    attrs = {**x, "level": level, "admin": bool(x.get("admin") or y.get("admin")),
             "conditional": bool(x.get("conditional") and y.get("conditional")),
             "condition_keys": sorted(set(x.get("condition_keys") or []) | set(y.get("condition_keys") or []))
             if x.get("conditional") and y.get("conditional") else [],
             "actions": actions[:MAX_ACTIONS_LISTED], "action_count": len(actions),
             "grants": list(dict.fromkeys([*(x.get("grants") or []), *(y.get("grants") or [])]))}
    return Edge(src=a.src, dst=a.dst, kind=a.kind, source=SOURCE, attrs=attrs)

