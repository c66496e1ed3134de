"""GCP IAM evaluation: what each identity holds on a resource through the bindings on it and
its ancestors, minus deny policies, in the access vocabulary every provider shares. Pure;
the checkers in :mod:`.edges` call it.

GCP's model, as evaluated here:

- A resource's effective bindings are its own and those of its ancestors (organization ->
  folders -> project -> bucket / secret / dataset / service account), read from each
  System's ``resource_policy`` and a service account's ``attrs.resource_policy``; the
  chain follows ``attrs.parent`` resource names.
- A role's permissions are the ``includedPermissions`` of its ``gcp_role`` Policy node.
  On a bucket, secret or dataset only that service's permissions count.
- Deny policies (IAM v2) attached to the resource's ancestors remove the permissions they
  name from the principals they name, unless excepted; a deny with a denial condition is
  not subtracted (it may not apply) but is named in the grants, so the edge stays honest.
- A binding with a condition makes what only it grants conditional, with its CEL
  expression in ``condition_keys``.
- Holding getAccessToken / signBlob / signJwt / implicitDelegation on a service account (on
  it or inherited) means becoming it: a ``can_assume`` edge. The graph's walk then chains
  impersonation (A mints for B, B for C). Creating a key for it (``keys.create``), acting as
  it on compute one may create (``actAs`` with ``compute.instances.create`` …) and
  rewriting an IAM policy (``setIamPolicy``) are escalations (``can_escalate``): each changes
  the estate first. ``actAs`` alone is neither: Google documents that the Service Account
  User role "does not allow principals to create short-lived credentials"
  (cloud.google.com/iam/docs/service-account-permissions).
- Members: service accounts, principals and pools, and people (``user:``), groups
  (``group:``) and domains (``domain:``), which become identities of their own, a group's
  members reaching what it reaches through ``member_of``; BigQuery's ``specialGroup:
  projectReaders / projectWriters / projectOwners`` stand for the project's viewers, editors
  and owners.
- A condition that only compares ``request.time`` with timestamps is decided against the
  time of derivation (the scan's); any other condition stays conditional with its
  expression.

"""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
from dataclasses import dataclass, field
from typing import Any, Mapping

from ...model import Identity, Node, Policy, System, node_id
from ...view import SnapshotView

HIERARCHY_TYPES = frozenset({"gcp_organization", "gcp_folder", "gcp_project"})
RESOURCE_SERVICES = {"gcp_bucket": "storage.", "gcp_secret": "secretmanager.", "gcp_bigquery_dataset": "bigquery."}
IDENTITY_TYPES = frozenset({"gcp_sa", "gcp_service_agent", "gcp_principal", "gcp_user", "gcp_group", "gcp_domain"})
# Minting a token or a signature as the account: becoming it.
IMPERSONATE = frozenset({
    "iam.serviceAccounts.getAccessToken", "iam.serviceAccounts.signBlob", "iam.serviceAccounts.signJwt",
    "iam.serviceAccounts.implicitDelegation",
})
KEY_CREATE = "iam.serviceAccountKeys.create"
ACT_AS = "iam.serviceAccounts.actAs"
PEOPLE = {"user": "gcp_user", "group": "gcp_group", "domain": "gcp_domain"}
# BigQuery's dataset access "specialGroup" members: the project's basic-role holders
# (cloud.google.com/bigquery/docs/access-control-basic-roles).
SPECIAL_GROUPS = {"projectReaders": "roles/viewer", "projectWriters": "roles/editor", "projectOwners": "roles/owner"}
ADMIN_ROLES = frozenset({"roles/owner", "roles/editor"})
PUBLIC_ALL = "principalSet://goog/public:all"


# -- the snapshot, indexed -------------------------------------------------------------------

@dataclass
class Index:
    """What the checkers look up: resources by name, identities by member, roles, denies."""

    by_name: dict[str, Node] = field(default_factory=dict)  # organizations/1, folders/2, projects/p
    identities: dict[str, Identity] = field(default_factory=dict)  # by node id
    by_email: dict[str, str] = field(default_factory=dict)
    by_uri: dict[str, str] = field(default_factory=dict)
    pools: dict[str, str] = field(default_factory=dict)  # pool resource name -> principalSet identity id
    roles: dict[str, frozenset[str]] = field(default_factory=dict)
    denies: dict[str, list[tuple[str, Mapping[str, Any]]]] = field(default_factory=dict)  # resource -> (policy, rule)
    targets: list[Node] = field(default_factory=list)
    now: dt.datetime | None = None  # what request.time conditions are decided against

    @classmethod
    def of(cls, view: SnapshotView, now: dt.datetime | None = None) -> "Index":
        ix = cls(now=now)
        for node in view.nodes.values():
            if node.provider != "gcp":
                continue
            if isinstance(node, System) and (node.type in HIERARCHY_TYPES or node.type in RESOURCE_SERVICES):
                ix.targets.append(node)
                if node.type in HIERARCHY_TYPES and node.native_id:
                    ix.by_name[node.native_id] = node
            elif isinstance(node, Identity) and node.type in IDENTITY_TYPES:
                ix.identities[node.id] = node
                if node.type == "gcp_principal":
                    ix.by_uri[node.native_id or node.name] = node.id
                    if node.attrs.get("pool"):
                        ix.pools[str(node.attrs["pool"])] = node.id
                elif node.type in PEOPLE.values():
                    ix.by_uri[f"{_PREFIX_OF[node.type]}:{(node.native_id or node.name).lower()}"] = node.id
                else:
                    ix.by_email[(node.native_id or node.name).lower()] = node.id
            elif isinstance(node, Policy) and node.type == "gcp_role":
                ix.roles[node.native_id or node.name] = frozenset(node.document.get("includedPermissions") or ())
            elif isinstance(node, Policy) and node.type == "gcp_deny_policy":
                attached = str(node.attrs.get("attached_to") or "")
                for rule in node.document.get("rules") or []:
                    ix.denies.setdefault(attached, []).append((node.name, rule))
        ix.targets.sort(key=lambda n: n.id)
        return ix


_PREFIX_OF = {v: k for k, v in PEOPLE.items()}


def people_nodes(view: SnapshotView) -> list[Identity]:
    """Identities for the people, groups and domains IAM policies name that the snapshot does
    not hold yet (a connector that reads the directory emits them itself, with members)."""
    known = {f"{_PREFIX_OF[n.type]}:{(n.native_id or n.name).lower()}" for n in view.nodes.values()
             if isinstance(n, Identity) and n.type in PEOPLE.values()}
    out: dict[str, Identity] = {}
    for node in view.nodes.values():
        if node.provider != "gcp":
            continue
        for binding in (policy_of(node).get("bindings") or []):
            for member in binding.get("members") or []:
                kind, _, value = str(member).partition(":")
                key = f"{kind}:{value.lower()}"
                if kind in PEOPLE and value and key not in known and key not in out:
                    value = value.lower()
                    out[key] = Identity(id=node_id("gcp", kind, value), provider="gcp", source="policy:gcp",
                                        type=PEOPLE[kind], name=value, native_id=value,
                                        account=value.rsplit("@", 1)[-1] if kind != "domain" else value,
                                        attrs={"seen_in": "iam policy members", "human": kind == "user",
                                               "derived": True})
    return sorted(out.values(), key=lambda n: n.id)


def parent_of(node: Node) -> str | None:
    return node.attrs.get("parent") or None


def policy_of(node: Node) -> Mapping[str, Any]:
    return (node.resource_policy if isinstance(node, System) else node.attrs.get("resource_policy")) or {}


def ancestry(ix: Index, node: Node) -> list[tuple[str, Mapping[str, Any]]]:
    """(resource name, policy) from the node itself up to the organization."""
    chain = [(node.native_id or node.id, policy_of(node))]
    seen = {chain[0][0]}
    parent = parent_of(node)
    while parent and parent not in seen:
        seen.add(parent)
        up = ix.by_name.get(parent)
        chain.append((parent, policy_of(up) if up else {}))
        parent = parent_of(up) if up else None
    return chain


def member_ids(ix: Index, member: str) -> list[tuple[str, str | None]]:
    """(identity id, narrowing) for what a binding member stands for; people and groups
    stand for none. A member that is only part of a workload identity pool (one subject,
    one repository) stands for the pool's identity, narrowed to that part: only tokens
    whose attributes match it get the grant, which makes the grant conditional."""
    if member.startswith("serviceAccount:"):
        got = ix.by_email.get(member.split(":", 1)[1].lower())
        return [(got, None)] if got else []
    kind, _, value = member.partition(":")
    if kind in PEOPLE:
        got = ix.by_uri.get(f"{kind}:{value.lower()}")
        return [(got, None)] if got else []
    if member.startswith(("principal://", "principalSet://")):
        if member in ix.by_uri:
            return [(ix.by_uri[member], None)]
        for pool, pid in ix.pools.items():
            prefix = f"iam.googleapis.com/{pool}/"
            if prefix in member:
                return [(pid, "federated token with " + member.split(prefix, 1)[1])]
    return []


def permission_v1(v2: str) -> str:
    """``secretmanager.googleapis.com/versions.access`` -> ``secretmanager.versions.access``."""
    if "/" not in v2:
        return v2
    fqdn, _, rest = v2.partition("/")
    return f"{fqdn.split('.', 1)[0]}.{rest}"


def deny_principals(ident: Identity) -> set[str]:
    """The v2 principal identifiers a deny rule could name this identity by."""
    if ident.type == "gcp_principal":
        return {ident.native_id or ident.name}
    email = (ident.native_id or ident.name).lower()
    if ident.type == "gcp_user":
        return {f"principal://goog/subject/{email}"}
    if ident.type == "gcp_group":
        return {f"principalSet://goog/group/{email}"}
    if ident.type == "gcp_domain":
        return {f"principalSet://goog/cloudIdentityCustomerId/{email}"}
    return {f"principal://iam.googleapis.com/projects/-/serviceAccounts/{email}"}


def _names(patterns: list[str], principals: set[str]) -> bool:
    for p in patterns:
        if p == PUBLIC_ALL or p in principals:
            return True
        if p.endswith("*") and any(x.startswith(p[:-1]) for x in principals):
            return True
    return False


def denied(ix: Index, chain: list[tuple[str, Mapping[str, Any]]], ident: Identity,
           perms: set[str]) -> tuple[set[str], list[str]]:
    """(permissions removed by unconditional deny rules, notes on conditional ones)."""
    principals = deny_principals(ident)
    removed: set[str] = set()
    notes: list[str] = []
    for resource, _ in chain:
        for policy_name, rule in ix.denies.get(resource, ()):
            if not _names(rule.get("deniedPrincipals") or [], principals) or \
                    _names(rule.get("exceptionPrincipals") or [], principals):
                continue
            patterns = [permission_v1(p) for p in rule.get("deniedPermissions") or []]
            excepted = [permission_v1(p) for p in rule.get("exceptionPermissions") or []]
            hit = {p for p in perms if any(fnmatch.fnmatchcase(p, pat) for pat in patterns)
                   and not any(fnmatch.fnmatchcase(p, pat) for pat in excepted)}
            if not hit:
                continue
            if rule.get("denialCondition"):
                cond = rule["denialCondition"]
                notes.append(f"deny policy {policy_name} on {resource} removes {len(hit)} permission(s) "
                             f"if {cond.get('expression')}")
            else:
                removed |= hit
                notes.append(f"deny policy {policy_name} on {resource} removes {', '.join(sorted(hit))}")
    return removed, notes


def special_members(ix: Index, chain: list[tuple[str, Mapping[str, Any]]], member: str) -> list[tuple[str, None]]:
    """A dataset's ``specialGroup:projectReaders`` (…Writers, …Owners): every member holding
    the project's basic role (viewer, editor, owner) on the project or above it."""
    kind, _, name = member.partition(":")
    role = SPECIAL_GROUPS.get(name) if kind == "specialGroup" else None
    if role is None:
        return []
    out: list[tuple[str, None]] = []
    for where, policy in chain:
        if not where.startswith(("projects/", "folders/", "organizations/")):
            continue
        for binding in policy.get("bindings") or []:
            if binding.get("role") != role or binding.get("condition"):
                continue
            for m in binding.get("members") or []:
                out += [(i, None) for i, narrowing in member_ids(ix, m) if narrowing is None]
    return out


_TIME = re.compile(r'^\s*request\.time\s*(<=|>=|<|>)\s*timestamp\(\s*["\']([^"\']+)["\']\s*\)\s*$')


def decide_time(expression: str, now: dt.datetime | None) -> bool | None:
    """True/False for a CEL condition made only of ``request.time`` comparisons with
    timestamps joined by ``&&``; None for anything else (or no time to decide against)."""
    if now is None or not expression.strip():
        return None
    result = True
    for part in expression.split("&&"):
        text = part.strip()
        m = _TIME.match(text)
        if m is None and text.startswith("(") and text.endswith(")"):
            m = _TIME.match(text[1:-1])
        if m is None:
            return None
        try:
            when = dt.datetime.fromisoformat(m.group(2).replace("Z", "+00:00"))
        except ValueError:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.timezone.utc)
        op = m.group(1)
        holds = {"<": now < when, "<=": now <= when, ">": now > when, ">=": now >= when}[op]
        result = result and holds
    return result


# -- permissions -> access level ---------------------------------------------------------------

def perm_level(perm: str) -> str:
    verb = perm.rsplit(".", 1)[-1]
    if verb.startswith("setIamPolicy"):
        return "permissions-management"
    if verb == "list" or verb.startswith("list"):
        return "list"
    if "TagBinding" in verb or verb in ("setTags", "setLabels"):
        return "tagging"
    if verb.startswith(("get", "read", "access", "query", "download", "export", "search", "lookup", "view")):
        return "read"
    return "write"


def fallback_perms(role: str) -> frozenset[str]:
    """A role whose permissions could not be read: a stand-in by its name, so that the
    grant is still seen (marked in the grants as unreadable)."""
    svc = role.removeprefix("roles/").split(".", 1)[0] if "." in role else "*"
    name = role.rsplit(".", 1)[-1].lower()
    verb = "setIamPolicy" if name.endswith(("owner", "admin")) else \
        "update" if name.endswith(("editor", "writer", "user", "creator")) else "get"
    return frozenset({f"{svc}.unknown.{verb}"})


# -- one access computation, used by both checkers --------------------------------------------

@dataclass
class Acc:
    """What one identity holds on one target."""

    perms: set[str] = field(default_factory=set)  # granted without condition
    cond_perms: set[str] = field(default_factory=set)  # granted only under a condition
    conditions: list[str] = field(default_factory=list)
    grants: list[str] = field(default_factory=list)
    roles: set[str] = field(default_factory=set)


def effective(ix: Index, node: Node, prefix: str | None = None) -> dict[str, Acc]:
    """Identity id -> what it holds on ``node`` through every binding on it or above it."""
    chain = ancestry(ix, node)
    target = node.native_id or node.id
    out: dict[str, Acc] = {}
    for where, policy in chain:
        for binding in policy.get("bindings") or []:
            role = str(binding.get("role") or "")
            if not role:
                continue
            perms = ix.roles.get(role)
            unreadable = perms is None
            perms = set(fallback_perms(role) if perms is None else perms)
            if prefix:
                perms = {p for p in perms if p.startswith(prefix) or (unreadable and p.startswith("*."))}
            if not perms:
                continue
            cond = binding.get("condition") or None
            decided = decide_time(str(cond.get("expression") or ""), ix.now) if cond else None
            if decided is False:
                continue  # a condition on request.time that no longer (or not yet) holds
            if decided is True:
                cond = None
            text = f"{role} on {target}" + (f" (inherited from {where})" if where != target else "")
            if cond:
                text += f" if {cond.get('title') or 'condition'}: {cond.get('expression')}"
            if unreadable:
                text += " (role permissions unreadable)"
            for member in binding.get("members") or []:
                for ident_id, narrowing in (special_members(ix, chain, member) or member_ids(ix, member)):
                    acc = out.setdefault(ident_id, Acc())
                    expressions = [str(c) for c in (cond and cond.get("expression"), narrowing) if c]
                    (acc.cond_perms if expressions else acc.perms).update(perms)
                    acc.conditions += [e for e in expressions if e not in acc.conditions]
                    acc.grants.append(text + (f" (as {member})" if narrowing else ""))
                    acc.roles.add(role)
    for ident_id, acc in out.items():
        removed, notes = denied(ix, chain, ix.identities[ident_id], acc.perms | acc.cond_perms)
        acc.perms -= removed
        acc.cond_perms -= removed | acc.perms
        acc.grants += notes
    return out


