"""Derived Azure edges: what an Entra principal can reach through Azure RBAC, Microsoft
Graph application permissions, directory roles and key-vault access policies, and which
principals can take over another by adding a credential to it (ownership, an escalation).

The Azure reach deriver. One checker per edge kind (:class:`agentreach.graph.derive.EdgeChecker`),
each pure over the snapshot. Every edge carries the grants behind it ("role assignment
Contributor at /subscriptions/…"), its access level in the vocabulary every provider shares,
whether it is admin, and whether an ABAC condition makes it uncertain (the condition text is
kept, never evaluated). RBAC itself is evaluated in :mod:`.rbac`.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

from ...graph.derive import Derived, EdgeChecker, run_checkers
from ...graph.grant import AccessGrant, Escalation, Technique
from ...model import Credential, Edge, EdgeKind, Identity, Node, Policy, System, node_id
from ...order import strongest_access
from ...view import SnapshotView
from ..classes import access_classes
from .rbac import Access, Deny, Role, evaluate, in_scope, target_flags

SOURCE = "policy:azure"
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
PRINCIPAL_TYPES = frozenset({"azure_sp", "azure_managed_identity", "azure_user", "azure_app", "azure_person",
                             "azure_group"})


# -- the typed grant of one principal on one target ----------------------------------------

@dataclass
class _Grant:
    access: Access
    grant: str
    condition: str | None


def grant_of(grants: list[_Grant], extra: Mapping[str, Any] | None = None) -> AccessGrant:
    """Several grants on one target: the strongest level, conditional only when every grant
    at that level has an ABAC condition (the others are a way in without one); a class is
    conditional only when every grant giving it has one."""
    level = strongest_access(g.access.level for g in grants)
    conditional = all(g.condition for g in grants if g.access.level == level)
    planes = sorted({p for g in grants for p in g.access.planes})
    by_class: dict[str, set[str]] = {}
    sure: set[str] = set()
    for g in grants:
        for cls, acts in g.access.classes.items():
            by_class.setdefault(cls, set()).update(acts)
            if not g.condition:
                sure.add(cls)
    return AccessGrant(
        level=level, admin=any(g.access.admin for g in grants), conditional=conditional,
        condition_keys=tuple(sorted({g.condition[:300] for g in grants if g.condition})) if conditional else (),
        actions=frozenset(a for g in grants for a in g.access.actions), grants=tuple(g.grant for g in grants),
        extra={"plane": "+".join(planes), **(extra or {})},
        classes=frozenset(by_class), conditional_classes=frozenset(by_class) - sure,
        class_actions={c: tuple(sorted(v)) for c, v in sorted(by_class.items())})


class Targets:
    """Systems by ARM id, sorted, so that "at or below this scope" is a range lookup, not a
    scan of every system for every assignment; and by id, for "the system this scope is in"."""

    def __init__(self, systems: list[System]) -> None:
        self.items = sorted(((s.native_id or "").lower(), s) for s in systems)
        self.keys = [k for k, _ in self.items]
        self.by_id = dict(self.items)

    def under(self, scope: str) -> list[System]:
        if scope in ("/", "") or scope.startswith("/providers/microsoft.management/managementgroups/"):
            lo, hi = bisect_left(self.keys, "/subscriptions/"), bisect_left(self.keys, "/subscriptions0")
        else:
            lo, hi = bisect_left(self.keys, scope), bisect_left(self.keys, scope + "0")  # "0" sorts after "/"
        return [s for k, s in self.items[lo:hi] if in_scope(k, scope)]

    def containing(self, scope: str) -> System | None:
        """The nearest system a scope lies *below* (a blob container's storage account, a
        key-vault secret's vault): a grant there reaches part of that system."""
        parts = scope.split("/")
        for end in range(len(parts) - 1, 2, -1):
            hit = self.by_id.get("/".join(parts[:end]))
            if hit is not None and hit.type not in SCOPE_TYPES:
                return hit
        return None


@dataclass
class Context:
    """What every Azure checker reads: the snapshot, its ARM targets and deny assignments."""

    view: SnapshotView
    targets: list[System]
    denies: list[Deny]

    @classmethod
    def of(cls, view: SnapshotView) -> "Context":
        return cls(view=view,
                   targets=[n for n in view.nodes.values() if isinstance(n, System) and n.provider == "azure"
                            and (n.native_id or "").lower().startswith("/subscriptions/")],
                   denies=[Deny.of(n) for n in view.nodes.values()
                           if isinstance(n, Policy) and n.type == "azure_deny_assignment"])


def _principals(view: SnapshotView) -> Iterator[Identity]:
    for node in view.nodes.values():
        if isinstance(node, Identity) and node.provider == "azure" and node.type in PRINCIPAL_TYPES:
            yield node


# -- checkers ------------------------------------------------------------------------------

class RoleAssignmentChecker(EdgeChecker[Context]):
    finds = ("identity -can_access-> every system at or below a role assignment's scope, or the system a "
             "scope lies in (a container, a secret); -can_escalate-> the scope where it may write role "
             "assignments, the access-policy vault it may write")

    def return_edges(self, ctx: Context) -> Iterator[Edge]:
        targets = Targets(ctx.targets)
        for ident in _principals(ctx.view):
            object_id = (ident.native_id or "").lower()
            per_target: dict[str, list[_Grant]] = {}
            escalations: dict[str, list[Technique]] = {}
            for e in ctx.view.out_edges.get(ident.id, ()):
                attrs = e.get("attrs") or {}
                policy = ctx.view.nodes.get(e["dst"])
                if e["kind"] != "has_policy" or attrs.get("attachment") != "role_assignment" \
                        or not isinstance(policy, Policy):
                    continue
                role = Role.of(policy)
                scope = str(attrs.get("scope") or "/").lower().rstrip("/") or "/"
                reached = [(t, "") for t in targets.under(scope)]
                inside = targets.containing(scope) if not reached else None
                if inside is not None:
                    reached.append((inside, f" (a part of {inside.name}: {scope[len(inside.native_id or ''):]})"))
                condition = str(attrs["condition"]) if attrs.get("condition") else None
                for target, part in reached:
                    tid = (target.native_id or "").lower()
                    applicable = [d for d in ctx.denies if d.applies(object_id, tid)]
                    rtype = None if target.type in SCOPE_TYPES else str(target.attrs.get("resource_type") or "")
                    access = evaluate(role, rtype or None, applicable, target.type, target_flags(target.attrs))
                    if access.level is None:
                        continue
                    text = f"role assignment {role.name} at {attrs.get('scope') or '/'}{part}"
                    per_target.setdefault(target.id, []).append(_Grant(access, text, condition))
                    for technique in sorted(access.escalations):
                        if technique == "roleAssignments/write" and tid != scope:
                            continue  # once, at the scope itself
                        escalations.setdefault(target.id, []).append(Technique(
                            technique=technique, grants=(text,), via=_escalation_via(technique, target),
                            conditional=bool(condition), condition_keys=(condition[:300],) if condition else ()))
                if not reached or scope not in {(t.native_id or "").lower() for t, _ in reached}:
                    # a scope that is no system of the snapshot (a management group, the root)
                    access = evaluate(role, None, [d for d in ctx.denies if d.applies(object_id, scope)])
                    if "roleAssignments/write" in access.escalations:
                        text = f"role assignment {role.name} at {attrs.get('scope') or '/'}"
                        escalations.setdefault(ident.id, []).append(Technique(
                            technique="roleAssignments/write", grants=(text,), via=f"any role at {scope}",
                            conditional=bool(condition), condition_keys=(condition[:300],) if condition else ()))
            for tid, grants in sorted(per_target.items()):
                yield grant_of(grants).edge(ident.id, tid, SOURCE)
            for tid, techs in sorted(escalations.items()):
                yield Escalation(techniques=tuple(techs), gains="admin" if tid == ident.id else
                                 "any access to the target").edge(ident.id, tid, SOURCE)


def _escalation_via(technique: str, target: System) -> str:
    if technique == "roleAssignments/write":
        return f"any role at {target.native_id}"
    return f"an access policy of its own on {target.name}"


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


def _directory(view: SnapshotView, tenant: str, made: set[str]) -> Iterator[System]:
    """The tenant's directory as a system, once, unless a connector stated it."""
    target = node_id("azure", "directory", tenant)
    if target not in view.nodes and target not in made:
        made.add(target)
        yield System(id=target, provider="azure", source=SOURCE, type="azure_directory",
                     name=f"Entra directory {tenant}", native_id=tenant, account=tenant, attrs={"derived": True})


class DirectoryChecker(EdgeChecker[Context]):
    finds = ("identity -can_access-> the Entra directory (Graph application permissions, directory roles) "
             "and -> other APIs it holds application permissions on")

    def return_edges(self, ctx: Context) -> Iterator[Node | Edge]:
        view, made = ctx.view, set()
        for ident in _principals(view):
            tenant = str(ident.attrs.get("tenant_id") or ident.account or "")
            per_target: dict[str, list[_Grant]] = {}
            perms: dict[str, list[str]] = {}
            for ara in ident.attrs.get("app_role_assignments") or []:
                permission = str(ara.get("permission") or "")
                api = str(ara.get("resource_app_id") or "").lower()
                if api in MSGRAPH_APP_IDS:
                    target = node_id("azure", "directory", tenant)
                    yield from _directory(view, tenant, made)
                else:
                    target = node_id("azure", "api", api or str(ara.get("resource_id") or "unknown"))
                    if target not in made:
                        made.add(target)
                        yield System(id=target, provider="azure", source=SOURCE, type="azure_api",
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
                yield from _directory(view, tenant, made)
                acc = Access(level=level, admin=admin, actions={f"directory role {name}"}, planes={"directory"})
                per_target.setdefault(target, []).append(
                    _Grant(acc, f"directory role {name} at {role.get('scope') or '/'}", None))
                perms.setdefault(target, []).append(f"role:{name}")
            for target, grants in sorted(per_target.items()):
                yield grant_of(grants, {"permissions": sorted(set(perms[target]))}).edge(ident.id, target, SOURCE)


class AccessPolicyChecker(EdgeChecker[Context]):
    finds = "identity -can_access-> key vault through a vault access policy (vaults not in RBAC mode)"

    def return_edges(self, ctx: Context) -> Iterator[Edge]:
        by_object = {(n.native_id or "").lower(): n for n in _principals(ctx.view)}
        for vault in (t for t in ctx.targets if t.type == "azure_key_vault"):
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
                        acc.grant_class(_policy_classes(str(kind), low), f"{kind}/{op}")
                if acc.level:
                    yield grant_of([_Grant(acc, f"key vault access policy on {vault.name}", None)]).edge(
                        ident.id, vault.id, SOURCE)


def _policy_classes(kind: str, op: str) -> tuple[str, ...]:
    """An access-policy permission's classes (config/access-classes.yaml); an unlisted one
    reads metadata when it gets or lists, else writes configuration."""
    table = access_classes().azure_access_policies.get(kind.lower(), {})
    if op in table:
        return table[op]
    return ("read-metadata",) if op.startswith(("get", "list")) else ("write-config",)


class OwnerChecker(EdgeChecker[Context]):
    """An owner of an application or service principal can add a secret or certificate to it
    (Graph addPassword / addKey) and sign in as it: a change it makes to the directory, so an
    escalation (BloodHound's AZAddSecret abuse edge), not an identity it already is; the same
    reading as AWS's iam:CreateAccessKey on another user. Not for managed identities (they take
    no credentials) and not for a principal of an application homed in another tenant (its
    credentials live there): BloodHound's AZAddSecret false positives (#943, Legacy #681)."""

    finds = "owner -can_escalate-> the application or service principal it owns (it can add a credential)"

    def return_edges(self, ctx: Context) -> Iterator[Edge]:
        view = ctx.view
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
                technique = Technique(technique="owner-can-add-credential",
                                      grants=(f"owner of {target.name} (can add a secret or certificate)",),
                                      via=f"a new secret or certificate on {target.name}")
                yield Escalation(techniques=(technique,)).edge(node.id, target.id, SOURCE)


class FederatedCredentialChecker(EdgeChecker[Context]):
    """An application's federated identity credential whose issuer is Entra ID itself and whose
    subject is a managed identity's object id lets that managed identity get a token for the
    application (workload identity federation with a managed identity as the credential): the
    managed identity can_assume the application."""

    finds = "managed identity -can_assume-> the application that trusts it as a federated credential"

    def return_edges(self, ctx: Context) -> Iterator[Edge]:
        view = ctx.view
        by_object = {(n.native_id or "").lower(): n for n in _principals(view)
                     if n.type == "azure_managed_identity"}
        for cred in view.nodes.values():
            if not isinstance(cred, Credential) or cred.type != "azure_federated_credential":
                continue
            issuer = str(cred.attrs.get("issuer") or "")
            subject = str(cred.attrs.get("subject") or "").lower()
            if not _entra_issuer(issuer) or subject not in by_object:
                continue
            mi = by_object[subject]
            for app_id in view.identities_of(cred.id):
                app = view.nodes.get(app_id)
                if app is None or app.id == mi.id:
                    continue
                yield AccessGrant(level=None, grants=(f"federated credential {cred.name} of {app.name} "
                                                      f"(issuer {issuer}, subject {subject})",),
                                  extra={"reason": "federated credential trusts the managed identity"}).edge(
                    mi.id, app.id, SOURCE, EdgeKind.CAN_ASSUME)


def _entra_issuer(issuer: str) -> bool:
    """``https://login.microsoftonline.com/<tenant>/v2.0`` (and the sovereign clouds' hosts)."""
    low = issuer.lower()
    return low.startswith(("https://login.microsoftonline.com/", "https://login.microsoftonline.us/",
                           "https://login.partner.microsoftonline.cn/", "https://sts.windows.net/"))


CHECKERS: tuple[EdgeChecker[Context], ...] = (RoleAssignmentChecker(), DirectoryChecker(), AccessPolicyChecker(),
                                              OwnerChecker(), FederatedCredentialChecker())


def derive(view: SnapshotView) -> Derived:
    return run_checkers(CHECKERS, Context.of(view))
