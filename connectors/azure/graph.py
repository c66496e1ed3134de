"""Microsoft Graph reads (the "get" half for Entra ID): bulk listings first, per-object
calls only where Graph has no bulk form (a service principal's app role assignments).

v1.0 is used wherever it has the data; beta only for Agent ID casts, sponsors and the two
sign-in activity reports (``beta: false`` skips them and says so in a gap).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from .http import AzureHttp, Listing
from .ids import MICROSOFT_TENANTS

APP_SELECT = ("id,appId,displayName,description,notes,signInAudience,publisherDomain,createdDateTime,tags,"
              "passwordCredentials,keyCredentials")
SP_SELECT = ("id,appId,displayName,description,servicePrincipalType,appOwnerOrganizationId,accountEnabled,"
             "alternativeNames,appRoles,tags,passwordCredentials,keyCredentials,servicePrincipalNames")
USER_SELECT = "id,displayName,mail,userPrincipalName,accountEnabled"
AGENT_SELECT = ("id,appId,displayName,agentIdentityBlueprintId,accountEnabled,createdByAppId,createdDateTime,"
                "servicePrincipalType,tags")
AGENT_USER_SELECT = "id,displayName,userPrincipalName,mail,accountEnabled,identityParentId,createdDateTime"
GROUP_SELECT = "id,displayName,mail,securityEnabled,description"
MEMBER_SELECT = "id,displayName,userPrincipalName,appId,servicePrincipalType"
USERS_PER_FILTER = 15  # Graph's limit on values in one `in` filter


@dataclass
class EntraRaw:
    """Everything read from Graph for one tenant; ``None`` lists were not readable."""

    tenant_id: str
    tenant_name: str | None = None
    applications: list[dict[str, Any]] = field(default_factory=list)
    fics: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # app object id -> FICs
    service_principals: list[dict[str, Any]] = field(default_factory=list)
    blueprints: list[dict[str, Any]] = field(default_factory=list)
    blueprint_principals: list[dict[str, Any]] = field(default_factory=list)
    agent_identities: list[dict[str, Any]] = field(default_factory=list)
    agent_users: list[dict[str, Any]] = field(default_factory=list)
    app_role_assignments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # sp id -> list
    directory_roles: list[dict[str, Any]] = field(default_factory=list)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    sp_sign_ins: list[dict[str, Any]] | None = None
    cred_sign_ins: list[dict[str, Any]] | None = None


class GraphReader:
    def __init__(self, http: AzureHttp) -> None:
        self.http = http
        self.cfg = http.cfg
        self.account: str | None = self.cfg.tenant_id

    def list(self, path: str, operation: str, params: dict[str, str] | None = None, beta: bool = False) -> Listing:
        return self.http.list_all(self.cfg.graph_url(path, beta), self.cfg.graph_scope, operation, self.account,
                                  params, service="graph")

    def beta_list(self, path: str, operation: str, params: dict[str, str] | None = None) -> Listing | None:
        if not self.cfg.beta:
            self.http.gap(operation, "BetaDisabled", "connectors.azure.beta is false; this data is beta-only in "
                          "Microsoft Graph", account=self.account, service="graph")
            return None
        return self.list(path, operation, params, beta=True)


def get_entra(http: AzureHttp) -> EntraRaw | None:
    """Read one tenant. ``None`` when not even the organization could be read (a gap says why)."""
    r = GraphReader(http)
    org = r.list("/organization", "GET /organization", {"$select": "id,displayName"})
    if http.sign_in_failed(http.cfg.graph_scope) or (not org.items and not http.cfg.tenant_id):
        return None  # the gap says why; /organization alone may be denied, and then we go on
    tenant = str((org.items[0].get("id") if org.items else None) or http.cfg.tenant_id).lower()
    r.account = tenant
    raw = EntraRaw(tenant_id=tenant, tenant_name=org.items[0].get("displayName") if org.items else None)
    raw.applications = r.list("/applications", "GET /applications",
                              {"$select": APP_SELECT, "$expand": "owners", "$top": "999"}).items
    for app in r.list("/applications", "GET /applications federatedIdentityCredentials",
                      {"$select": "id", "$expand": "federatedIdentityCredentials", "$top": "999"}).items:
        if app.get("federatedIdentityCredentials"):
            raw.fics[str(app["id"])] = list(app["federatedIdentityCredentials"])
    raw.service_principals = r.list("/servicePrincipals", "GET /servicePrincipals",
                                    {"$select": SP_SELECT, "$expand": "owners", "$top": "999"}).items
    for attr, path, op in (
        ("blueprints", "/applications/microsoft.graph.agentIdentityBlueprint", "GET agentIdentityBlueprints"),
        ("blueprint_principals", "/servicePrincipals/microsoft.graph.agentIdentityBlueprintPrincipal",
         "GET agentIdentityBlueprintPrincipals"),
        ("agent_identities", "/servicePrincipals/microsoft.graph.agentIdentity", "GET agentIdentities"),
    ):
        select = AGENT_SELECT if attr == "agent_identities" else "id,appId,displayName"
        listing = r.beta_list(path, op, {"$select": select, "$expand": "sponsors"})
        setattr(raw, attr, listing.items if listing else [])
    agent_users = r.beta_list("/users/microsoft.graph.agentUser", "GET agentUsers",
                              {"$select": AGENT_USER_SELECT, "$expand": "sponsors"})
    raw.agent_users = agent_users.items if agent_users else []
    raw.directory_roles = r.list("/roleManagement/directory/roleAssignments", "GET directory roleAssignments",
                                 {"$expand": "roleDefinition"}).items
    # Microsoft's own first-party principals are skipped as holders: hundreds per tenant, none
    # an agent of yours (Microsoft Graph itself stays, as the API most permissions are to).
    microsoft = {str(sp.get("id")) for sp in raw.service_principals
                 if str(sp.get("appOwnerOrganizationId") or "").lower() in MICROSOFT_TENANTS}
    raw.app_role_assignments = {
        holder: items for holder, items in _app_role_assignments(r, raw.service_principals).items()
        if holder not in microsoft}
    raw.users = _users(r, _referenced_users(raw))
    sp_sign_ins = r.beta_list("/reports/servicePrincipalSignInActivities", "GET servicePrincipalSignInActivities")
    raw.sp_sign_ins = sp_sign_ins.items if sp_sign_ins and sp_sign_ins.ok else None
    cred_sign_ins = r.beta_list("/reports/appCredentialSignInActivities", "GET appCredentialSignInActivities")
    raw.cred_sign_ins = cred_sign_ins.items if cred_sign_ins and cred_sign_ins.ok else None
    return raw


@dataclass
class AssignedRaw:
    """People and groups that ARM role assignments name, read from Graph after ARM: the users,
    the groups and every group's transitive members (None: the members could not be read)."""

    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    members: dict[str, list[dict[str, Any]] | None] = field(default_factory=dict)


def get_assigned(http: AzureHttp, tenant: str | None, user_ids: list[str], group_ids: list[str]) -> AssignedRaw:
    """``GET /users`` and ``GET /groups`` by id (``id in (...)``, 15 at a time), then
    ``GET /groups/{id}/transitiveMembers`` for each group, so that a group's role assignment
    reaches every person and workload in it, nested groups included."""
    r = GraphReader(http)
    r.account = tenant or r.account
    out = AssignedRaw(users=_users(r, sorted(set(user_ids))))
    ids = sorted(set(group_ids))
    for start in range(0, len(ids), USERS_PER_FILTER):
        chunk = ids[start:start + USERS_PER_FILTER]
        flt = "id in (" + ",".join(f"'{i}'" for i in chunk) + ")"
        for group in r.list("/groups", "GET /groups", {"$filter": flt, "$select": GROUP_SELECT}).items:
            out.groups[str(group["id"])] = group

    def members(gid: str) -> tuple[str, list[dict[str, Any]] | None]:
        listing = r.list(f"/groups/{gid}/transitiveMembers", "GET group transitiveMembers",
                         {"$select": MEMBER_SELECT, "$top": "999"})
        return gid, listing.items if listing.ok else None

    with ThreadPoolExecutor(max_workers=r.cfg.workers, thread_name_prefix="azure-graph") as pool:
        out.members = dict(pool.map(members, ids))
    return out


def _app_role_assignments(r: GraphReader, sps: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Application permissions, read from the side of the APIs that define app roles
    (``/servicePrincipals/{api}/appRoleAssignedTo``, paged): one listing per API, not one per
    client principal, so calls grow with the few APIs a tenant exposes (Microsoft Graph,
    Exchange, your own) rather than with its thousands of principals. Grouped by holder;
    assignments to users and groups are not workload permissions and are left out."""
    apis = [sp for sp in sps if sp.get("id") and sp.get("appRoles")]

    def one(api: dict[str, Any]) -> list[dict[str, Any]]:
        return r.list(f"/servicePrincipals/{api['id']}/appRoleAssignedTo", "GET appRoleAssignedTo").items

    by_holder: dict[str, list[dict[str, Any]]] = {}
    with ThreadPoolExecutor(max_workers=r.cfg.workers, thread_name_prefix="azure-graph") as pool:
        for items in pool.map(one, apis):
            for item in items:
                if str(item.get("principalType") or "") == "ServicePrincipal" and item.get("principalId"):
                    by_holder.setdefault(str(item["principalId"]), []).append(item)
    return by_holder


def _referenced_users(raw: EntraRaw) -> list[str]:
    """Users named as owners or sponsors anywhere (their accountEnabled tells who left)."""
    ids: set[str] = set()
    for obj in [*raw.applications, *raw.service_principals, *raw.agent_identities, *raw.blueprint_principals,
                *raw.blueprints, *raw.agent_users]:
        for link in [*(obj.get("owners") or []), *(obj.get("sponsors") or [])]:
            if str(link.get("@odata.type") or "").endswith(".user") and link.get("id"):
                ids.add(str(link["id"]))
    return sorted(ids)


def _users(r: GraphReader, ids: list[str]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), USERS_PER_FILTER):
        chunk = ids[start:start + USERS_PER_FILTER]
        flt = "id in (" + ",".join(f"'{i}'" for i in chunk) + ")"
        for user in r.list("/users", "GET /users", {"$filter": flt, "$select": USER_SELECT}).items:
            out[str(user["id"])] = user
    return out
