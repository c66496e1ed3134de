"""ARM objects as records (the "transform" half for ARM; pure).

Subscriptions, resource groups, key vaults, AI accounts and storage accounts become
systems; any other resource with a managed identity becomes a workload that ``runs_as``
it (an Azure AI Foundry project, ``Microsoft.CognitiveServices/accounts/projects``, is one:
its agents and their tools run as the project's identity; a container app is one too,
with the env var names of its containers). A user-assigned identity's own federated
identity credentials (ARM, not Graph) become credential nodes that ``authenticate`` as it,
as an application's do. Role definitions and deny
assignments are policy documents; a role assignment is a ``has_policy`` edge from the
principal to its role definition that carries the scope and any ABAC condition. Reach is
derived from those later (graph/azure_edges.py), not here.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator, Mapping

from agentreach import secretvalues
from agentreach.model import Credential, Edge, EdgeKind, Identity, Policy, Record, System, Workload, node_id

from .arm import SubscriptionRaw
from .ids import (
    PROVIDER,
    SOURCE,
    arm_node_id,
    arm_type,
    credential_id,
    group_id,
    guarded,
    host_of,
    mi_id,
    person_id,
    role_definition_id,
    sp_id,
)

SYSTEM_TYPES = {
    "microsoft.keyvault/vaults": "azure_key_vault",
    "microsoft.cognitiveservices/accounts": "azure_cognitive_account",
    "microsoft.storage/storageaccounts": "azure_storage_account",
}
NOT_WORKLOADS = frozenset({"microsoft.managedidentity/userassignedidentities"})


def granted_actions(subs: Iterable[SubscriptionRaw]) -> dict[str, list[str]]:
    """Principal object id -> every action and data action its role assignments hold (the
    classifier's "may call Azure OpenAI" signal reads these)."""
    defs: dict[str, Mapping[str, Any]] = {}
    subs = list(subs)
    for sub in subs:
        for rd in sub["roleDefinitions"]:
            defs[role_definition_id(str(rd.get("id") or rd.get("name")))] = rd
    out: dict[str, set[str]] = {}
    for sub in subs:
        for ra in sub["roleAssignments"]:
            props = ra.get("properties") or {}
            rd = defs.get(role_definition_id(str(props.get("roleDefinitionId") or "")))
            if not rd or not props.get("principalId"):
                continue
            acts = out.setdefault(str(props["principalId"]).lower(), set())
            for perm in (rd.get("properties") or {}).get("permissions") or []:
                acts.update(perm.get("actions") or [])
                acts.update(perm.get("dataActions") or [])
    return {k: sorted(v) for k, v in out.items()}


def identity_tags(subs: Iterable[SubscriptionRaw]) -> dict[str, dict[str, str]]:
    """Principal object id -> the ARM tags of its user-assigned managed identity resource
    (Graph knows the identity but not its tags, which say what it is for)."""
    out: dict[str, dict[str, str]] = {}
    for sub in subs:
        for rid, res in _merged_resources(sub).items():
            if str(res.get("type") or arm_type(rid)).lower() == "microsoft.managedidentity/userassignedidentities":
                pid = str((res.get("properties") or {}).get("principalId") or "").lower()
                if pid and res.get("tags"):
                    out[pid] = _tags(res)
    return out


def transform(sub: SubscriptionRaw, tenant: str | None, principals: Mapping[str, str],
              emitted_principals: set[str], problems: list[str] | None = None) -> Iterator[Record]:
    """Records of one subscription. ``principals`` maps object ids Graph showed to node ids;
    a principal it lacks (Graph denied, or not yet replicated) still gets a node, marked
    ``unresolved``, so that its reach is not lost. ``emitted_principals`` is shared across
    subscriptions so that such a node is made once."""
    s = sub.subscription
    sid = sub.id
    tenant = tenant or str(s.get("tenantId") or "").lower() or None
    sub_rid = f"/subscriptions/{sid}"
    yield System(id=arm_node_id("subscription", sub_rid), provider=PROVIDER, source=SOURCE, type="azure_subscription",
                 name=s.get("displayName") or sid, native_id=sub_rid, account=sid,
                 attrs={"tenant_id": tenant, "state": s.get("state"), "subscription_id": sid})
    for rg in sub["resourceGroups"]:
        rid = str(rg.get("id") or "").lower()
        if rid:
            yield System(id=arm_node_id("resource_group", rid), provider=PROVIDER, source=SOURCE,
                         type="azure_resource_group", name=rg.get("name") or rid, native_id=rid, account=sid,
                         region=rg.get("location"), tags=_tags(rg), attrs={"resource_type": "Microsoft.Resources/"
                                                                                            "resourceGroups"})
    fics = _fics_by_identity(sub)
    for rid, res in sorted(_merged_resources(sub).items()):
        yield from guarded(f"resource {rid}", lambda rid=rid, res=res: _resource(
            sub.id, rid, res, tenant, principals, emitted_principals, fics.get(rid, [])), problems)
    yield from guarded(f"role definitions and assignments of subscription {sid}",
                       lambda: _roles(sub, tenant, principals, emitted_principals), problems)


def _tags(obj: Mapping[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in (obj.get("tags") or {}).items()}


def _merged_resources(sub: SubscriptionRaw) -> dict[str, dict[str, Any]]:
    """The generic /resources listing, with the provider listings' properties over it
    (either may be missing when one call was denied)."""
    out: dict[str, dict[str, Any]] = {}
    for key in ("resources", "cognitiveAccounts", "cognitiveProjects", "vaults", "storageAccounts",
                "userAssignedIdentities", "containerApps"):
        for res in sub[key]:
            rid = str(res.get("id") or "").lower()
            if rid:
                out[rid] = {**out.get(rid, {}), **res}
    return out


FIC_SEGMENT = "/federatedidentitycredentials/"


def _fics_by_identity(sub: SubscriptionRaw) -> dict[str, list[Mapping[str, Any]]]:
    """User-assigned identity resource id -> its federated identity credentials (a child
    resource's id is its parent's id and ``/federatedIdentityCredentials/{name}``)."""
    out: dict[str, list[Mapping[str, Any]]] = {}
    for fic in sub["federatedIdentityCredentials"]:
        fid = str(fic.get("id") or "").lower()
        if FIC_SEGMENT in fid:
            out.setdefault(fid.split(FIC_SEGMENT, 1)[0], []).append(fic)
    return out


def _identity_fics(fics: Iterable[Mapping[str, Any]], identity: str, pid: str, name: str, rid: str,
                   tenant: str | None) -> Iterator[Record]:
    """An identity's federated credentials, each -authenticates-> it: the same node type and
    attributes as an application's (Graph), so the federation signals and rules read both."""
    for fic in fics:
        fid = str(fic.get("id") or "").lower()
        props = fic.get("properties") or {}
        issuer, subject = str(props.get("issuer") or ""), str(props.get("subject") or "")
        node = Credential(
            id=credential_id("federated_credential", fid), provider=PROVIDER, source=SOURCE,
            type="azure_federated_credential", name=f"{host_of(issuer)} {subject}".strip(), native_id=fid,
            account=tenant,
            attrs={"holder": "managed_identity", "holder_object_id": pid, "holder_name": name,
                   "holder_resource_id": rid, "fic_name": fic.get("name"), "issuer": issuer, "subject": subject,
                   "audiences": list(props.get("audiences") or []),
                   "claims_matching_expression": (props.get("claimsMatchingExpression") or {}).get("value"),
                   "from": "arm", "last_used_source": None})
        yield node
        yield Edge(src=node.id, dst=identity, kind=EdgeKind.AUTHENTICATES, source=SOURCE)


def _env(props: Mapping[str, Any]) -> tuple[tuple[str, ...], dict[str, str]]:
    """Env var names and allow-listed values of a container app's containers, as
    ``arm.container_app_view`` kept them."""
    template = props.get("template") or {}
    containers = [c for key in ("containers", "initContainers") for c in template.get(key) or []
                  if isinstance(c, Mapping)]
    names = sorted({str(e["name"]) for c in containers for e in c.get("env") or []
                    if isinstance(e, Mapping) and e.get("name")})
    values = {str(k): str(v) for c in containers for k, v in (c.get("env_values") or {}).items()}
    return tuple(names), values


def _resource(sid: str, rid: str, res: Mapping[str, Any], tenant: str | None, principals: Mapping[str, str],
              emitted: set[str], fics: list[Mapping[str, Any]] | None = None) -> Iterator[Record]:
    rtype = str(res.get("type") or arm_type(rid))
    low = rtype.lower()
    props = res.get("properties") or {}
    identity = res.get("identity") or {}
    common = dict(provider=PROVIDER, source=SOURCE, name=res.get("name") or rid, native_id=rid, account=sid,
                  region=res.get("location"), tags=_tags(res))
    if low == "microsoft.managedidentity/userassignedidentities":
        pid = str(props.get("principalId") or "").lower()
        if pid and pid not in principals and mi_id(pid) not in emitted:
            emitted.add(mi_id(pid))
            yield Identity(id=mi_id(pid), provider=PROVIDER, source=SOURCE, type="azure_managed_identity",
                           name=res.get("name") or pid, native_id=pid, account=tenant, tags=_tags(res),
                           attrs={"client_id": str(props.get("clientId") or "").lower(),
                                  "mi_kind": "user_assigned", "resource_id": rid, "tenant_id": tenant,
                                  "from": "arm", "subscription_id": sid})
        if pid:
            yield from _identity_fics(fics or [], principals.get(pid, mi_id(pid)), pid, res.get("name") or pid,
                                      rid, tenant)
        return
    runs_as = list(_identities_of(identity))
    for pid, kind, mi_rid in runs_as:
        if pid not in principals and mi_id(pid) not in emitted:
            emitted.add(mi_id(pid))
            yield Identity(id=mi_id(pid), provider=PROVIDER, source=SOURCE, type="azure_managed_identity",
                           name=(mi_rid or rid).rsplit("/", 1)[-1], native_id=pid, account=tenant,
                           attrs={"mi_kind": kind, "resource_id": mi_rid or rid, "tenant_id": tenant,
                                  "from": "arm", "subscription_id": sid})
    attrs = {"resource_type": rtype, "kind": res.get("kind"), "resource_group": _rg_of(rid),
             "identity_type": identity.get("type")}
    if low in SYSTEM_TYPES:
        if low == "microsoft.cognitiveservices/accounts":
            attrs.update(disable_local_auth=bool(props.get("disableLocalAuth")), endpoint=props.get("endpoint"),
                         public_network_access=props.get("publicNetworkAccess"))
        elif low == "microsoft.keyvault/vaults":
            attrs.update(enable_rbac_authorization=bool(props.get("enableRbacAuthorization")),
                         vault_uri=props.get("vaultUri"), **_value_attrs(res.get("ValueRead")),
                         access_policies=[{"object_id": str(p.get("objectId") or "").lower(),
                                           "permissions": p.get("permissions") or {}}
                                          for p in props.get("accessPolicies") or []])
        elif low == "microsoft.storage/storageaccounts":
            attrs.update(allow_shared_key_access=props.get("allowSharedKeyAccess"))
        yield System(id=arm_node_id(SYSTEM_TYPES[low].removeprefix("azure_"), rid), type=SYSTEM_TYPES[low],
                     attrs=attrs, **common)
    elif runs_as and low not in NOT_WORKLOADS:
        env_names: tuple[str, ...] = ()
        if low == "microsoft.app/containerapps":
            env_names, env_values = _env(props)
            attrs.update(env_values=env_values, managed_environment_id=props.get("managedEnvironmentId"),
                         containers=[{"name": c.get("name"), "image": c.get("image")}
                                     for c in (props.get("template") or {}).get("containers") or []
                                     if isinstance(c, Mapping)])
        wl = Workload(id=arm_node_id("resource", rid), type="azure_resource", attrs=attrs, env_var_names=env_names,
                      **common)
        yield wl
        for pid, kind, _ in runs_as:
            yield Edge(src=wl.id, dst=principals.get(pid, mi_id(pid)), kind=EdgeKind.RUNS_AS, source=SOURCE,
                       attrs={"identity": kind})


def _value_attrs(read: Mapping[str, Any] | None) -> dict[str, Any]:
    """``value_identities`` and ``value_read`` of a vault whose secrets were read
    (--match-secret-values); nothing otherwise."""
    if not read:
        return {}
    read = dict(read)
    return {secretvalues.ATTR: read.pop("identities", None) or [], secretvalues.READ_ATTR: read}


def _rg_of(rid: str) -> str | None:
    parts = rid.split("/")
    return "/".join(parts[:5]) if len(parts) >= 5 and parts[3] == "resourcegroups" else None


def _identities_of(identity: Mapping[str, Any]) -> Iterator[tuple[str, str, str | None]]:
    """(principal object id, system_assigned|user_assigned, MI resource id) of a resource."""
    if identity.get("principalId"):
        yield str(identity["principalId"]).lower(), "system_assigned", None
    for mi_rid, ua in (identity.get("userAssignedIdentities") or {}).items():
        if isinstance(ua, Mapping) and ua.get("principalId"):
            yield str(ua["principalId"]).lower(), "user_assigned", str(mi_rid).lower()


def _roles(sub: SubscriptionRaw, tenant: str | None, principals: Mapping[str, str],
           emitted: set[str]) -> Iterator[Record]:
    sid = sub.id
    names: dict[str, str] = {}
    for rd in sub["roleDefinitions"]:
        props = rd.get("properties") or {}
        pid = role_definition_id(str(rd.get("id") or rd.get("name")))
        guid = pid.rsplit(":", 1)[-1]
        names[pid] = props.get("roleName") or guid
        builtin = props.get("type") == "BuiltInRole" or props.get("roleType") == "BuiltInRole"
        yield Policy(id=pid, provider=PROVIDER, source=SOURCE, type="azure_role_definition",
                     name=props.get("roleName") or guid,
                     native_id=f"/providers/microsoft.authorization/roledefinitions/{guid}",
                     account=None if builtin else sid,
                     document={"roleName": props.get("roleName"), "roleType": props.get("type")
                               or props.get("roleType"), "description": props.get("description"),
                               "permissions": [{k: list(p.get(k) or []) for k in
                                                ("actions", "notActions", "dataActions", "notDataActions")}
                                               for p in props.get("permissions") or []],
                               "assignableScopes": list(props.get("assignableScopes") or [])})
    for ra in sub["roleAssignments"]:
        props = ra.get("properties") or {}
        principal = str(props.get("principalId") or "").lower()
        ptype = props.get("principalType") or "Unknown"
        if not principal:
            continue
        src = principals.get(principal)
        if src is None:
            kinds = {"ServicePrincipal": (sp_id, "azure_sp", "service principal"),
                     "User": (person_id, "azure_person", "user"), "Group": (group_id, "azure_group", "group")}
            if ptype not in kinds:
                continue  # a foreign group or an unknown kind: nothing Graph can say who it is
            make, type_, what = kinds[ptype]
            src = make(principal)
            if src not in emitted:
                emitted.add(src)
                yield Identity(id=src, provider=PROVIDER, source=SOURCE, type=type_,
                               name=f"{what} {principal}", native_id=principal, account=tenant,
                               attrs={"unresolved": True, "tenant_id": tenant, "human": ptype == "User",
                                      "note": "named by an ARM role assignment; Graph did not show it"})
        rd_id = role_definition_id(str(props.get("roleDefinitionId") or ""))
        yield Edge(src=src, dst=rd_id, kind=EdgeKind.HAS_POLICY, source=SOURCE,
                   key=str(ra.get("id") or "").lower(),
                   attrs={"attachment": "role_assignment", "scope": str(props.get("scope") or "").lower() or "/",
                          "condition": props.get("condition"), "condition_version": props.get("conditionVersion"),
                          "principal_type": ptype, "role_name": names.get(rd_id), "assignment_id": ra.get("id"),
                          "subscription_id": sid})
    for da in sub["denyAssignments"]:
        props = da.get("properties") or {}
        did = str(da.get("id") or "").lower()
        if not did:
            continue
        yield Policy(id=node_id(PROVIDER, "deny_assignment", did), provider=PROVIDER, source=SOURCE,
                     type="azure_deny_assignment", name=props.get("denyAssignmentName") or did.rsplit("/", 1)[-1],
                     native_id=did, account=sid,
                     document={"denyAssignmentName": props.get("denyAssignmentName"),
                               "permissions": [{k: list(p.get(k) or []) for k in
                                                ("actions", "notActions", "dataActions", "notDataActions")}
                                               for p in props.get("permissions") or []],
                               "principals": list(props.get("principals") or []),
                               "excludePrincipals": list(props.get("excludePrincipals") or []),
                               "scope": str(props.get("scope") or "").lower(),
                               "doNotApplyToChildScopes": bool(props.get("doNotApplyToChildScopes")),
                               "isSystemProtected": bool(props.get("isSystemProtected"))})
