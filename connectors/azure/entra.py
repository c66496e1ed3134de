"""Entra ID objects as records (the "transform" half for Graph; pure).

Applications, service principals (incl. Agent ID objects and managed identities), their
credentials, owners and sponsors, app permissions and directory roles, last sign-ins. An
application's credentials sign in as its home-tenant service principal, so they
authenticate as that principal, and the application -can_assume-> it: ``reach <client id>``
then follows on to whatever the principal may access.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterator, Mapping

from agentreach.model import Edge, EdgeKind, Identity, Owner, Record, System

from . import credentials
from .agents import AGENT_USER, BLUEPRINT, AgentIndex, blueprint_edges, sponsor_list
from .graph import EntraRaw
from .ids import PROVIDER, SOURCE, agent_user_id, app_id, date, directory_id, guarded, mi_id, sp_id, user_id

SP_FLOWS = (("applicationAuthenticationClientSignInActivity", "app-only sign-in as a client"),
            ("delegatedClientSignInActivity", "delegated sign-in as a client"),
            ("applicationAuthenticationResourceSignInActivity", "app-only sign-in as a resource"),
            ("delegatedResourceSignInActivity", "delegated sign-in as a resource"))


def principal_ids(raw: EntraRaw) -> dict[str, str]:
    """Object id -> node id for every principal Graph showed (ARM role assignments name
    principals by object id only)."""
    out = {}
    for sp in raw.service_principals + raw.agent_identities:
        oid = str(sp.get("id") or "").lower()
        if oid:
            out[oid] = mi_id(oid) if sp.get("servicePrincipalType") == "ManagedIdentity" else sp_id(oid)
    for user in raw.agent_users:
        out[str(user["id"]).lower()] = agent_user_id(str(user["id"]))
    return out


def _last_sign_in(activity: Mapping[str, Any] | None) -> tuple[dt.datetime | None, str | None]:
    if not activity:
        return None, None
    best: tuple[dt.datetime | None, str | None] = (date((activity.get("lastSignInActivity") or {})
                                                        .get("lastSignInDateTime")), None)
    for key, label in SP_FLOWS:
        when = date((activity.get(key) or {}).get("lastSignInDateTime"))
        if when and (best[0] is None or when >= best[0]):
            best = (when, label)
    return best


def _latest(*candidates: tuple[dt.datetime | None, str | None]) -> tuple[dt.datetime | None, str | None]:
    best: tuple[dt.datetime | None, str | None] = (None, None)
    for when, detail in candidates:
        if when is not None and (best[0] is None or when > best[0]):
            best = (when, detail)
    return best


def _credential_use(obj: Mapping[str, Any], usage: Mapping[str, credentials.LastUse] | None
                    ) -> tuple[dt.datetime | None, str | None]:
    """The latest sign-in of any of an object's credentials: a service principal whose app
    secret signed in yesterday was used yesterday, whatever the SP report lags behind."""
    best: tuple[dt.datetime | None, str | None] = (None, None)
    for cred in [*(obj.get("passwordCredentials") or []), *(obj.get("keyCredentials") or [])]:
        use = (usage or {}).get(str(cred.get("keyId") or "").lower())
        if use is not None:
            best = _latest(best, (use.when, f"credential {cred.get('displayName') or cred.get('keyId')}: "
                                            f"{use.detail}"))
    return best


def _merged_sps(raw: EntraRaw) -> list[dict[str, Any]]:
    """v1.0 service principals with the beta Agent ID casts' extra properties laid over."""
    by_id: dict[str, dict[str, Any]] = {str(sp["id"]): dict(sp) for sp in raw.service_principals if sp.get("id")}
    for extra in [*raw.blueprint_principals, *raw.agent_identities]:
        oid = str(extra.get("id") or "")
        if oid:
            by_id[oid] = {**by_id.get(oid, {}), **{k: v for k, v in extra.items() if v is not None}}
    return list(by_id.values())


class _Owners:
    """Owner nodes for people (with accountEnabled) and ``owns`` edges to what they own."""

    def __init__(self, raw: EntraRaw) -> None:
        self.raw = raw
        self.emitted: set[str] = set()

    def person(self, oid: str, link: Mapping[str, Any]) -> Owner:
        user = self.raw.users.get(oid) or {}
        kind = "team" if "group" in str(link.get("@odata.type")) else "person"
        return Owner(id=user_id(oid), provider=PROVIDER, source=SOURCE, type="entra_user" if kind == "person"
                     else "entra_group", name=user.get("displayName") or link.get("displayName") or oid,
                     native_id=oid, account=self.raw.tenant_id,
                     active=user.get("accountEnabled") if "accountEnabled" in user else None,
                     attrs={"email": user.get("mail") or link.get("mail") or user.get("userPrincipalName")
                            or link.get("userPrincipalName"),
                            "upn": user.get("userPrincipalName") or link.get("userPrincipalName"), "kind": kind})

    def links(self, target: str, owners: list[Mapping[str, Any]], principals: Mapping[str, str]) -> Iterator[Record]:
        for link in owners:
            oid = str(link.get("id") or "")
            otype = str(link.get("@odata.type") or "")
            if not oid:
                continue
            if otype.endswith((".user", ".group")):
                owner = self.person(oid, link)
                if owner.id not in self.emitted:
                    self.emitted.add(owner.id)
                    yield owner
                yield Edge(src=owner.id, dst=target, kind=EdgeKind.OWNS, source=SOURCE, attrs={"relation": "owner"})
            elif oid.lower() in principals:  # a service principal or agent identity owns it
                yield Edge(src=principals[oid.lower()], dst=target, kind=EdgeKind.OWNS, source=SOURCE,
                           attrs={"relation": "owner", "owner_type": otype})

    def sponsors(self, links: list[Mapping[str, Any]]) -> Iterator[Owner]:
        for link in links:
            oid = str(link.get("id") or "")
            if oid and str(link.get("@odata.type") or "").endswith((".user", ".group")):
                owner = self.person(oid, link)
                if owner.id not in self.emitted:
                    self.emitted.add(owner.id)
                    yield owner


def transform(raw: EntraRaw, now: dt.datetime, granted_actions: Mapping[str, list[str]] | None = None,
              problems: list[str] | None = None,
              identity_tags: Mapping[str, Mapping[str, str]] | None = None) -> Iterator[Record]:
    """Records of one tenant. An object whose JSON cannot be read is skipped and named in
    ``problems`` (the connector turns those into coverage gaps). ``identity_tags``: the ARM
    tags of user-assigned managed identities, by principal id (Graph does not have them)."""
    tenant = raw.tenant_id
    granted_actions = granted_actions or {}
    identity_tags = identity_tags or {}
    idx = AgentIndex.build(raw.blueprints, raw.blueprint_principals, raw.agent_identities, raw.agent_users)
    principals = principal_ids(raw)
    owners = _Owners(raw)
    sps = _merged_sps(raw)
    sp_by_app = {str(sp.get("appId") or "").lower(): sp for sp in sps if sp.get("appId")}
    sp_names = {str(sp["id"]): sp for sp in sps}
    sign_ins = {str(a.get("appId") or "").lower(): a for a in raw.sp_sign_ins or []}
    usage = credentials.usage_by_key(raw.cred_sign_ins) if raw.cred_sign_ins is not None else None
    sign_in_source = "servicePrincipalSignInActivities" if raw.sp_sign_ins is not None else None
    roles_by_principal: dict[str, list[dict[str, Any]]] = {}
    for ra in raw.directory_roles:
        rd = ra.get("roleDefinition") or {}
        roles_by_principal.setdefault(str(ra.get("principalId") or ""), []).append({
            "role": rd.get("displayName") or ra.get("roleDefinitionId"),
            "role_template_id": rd.get("templateId") or ra.get("roleDefinitionId"),
            "scope": ra.get("directoryScopeId") or "/", "assignment_id": ra.get("id")})

    yield System(id=directory_id(tenant), provider=PROVIDER, source=SOURCE, type="azure_directory",
                 name=f"Entra directory {raw.tenant_name or tenant}", native_id=tenant, account=tenant,
                 attrs={"tenant_id": tenant, "display_name": raw.tenant_name})

    for sp in sps:
        oid = str(sp["id"])
        yield from guarded(f"service principal {oid}", lambda sp=sp, oid=oid: _service_principal(
            sp, raw, idx, principals, owners, sign_ins, sign_in_source, usage, roles_by_principal.get(oid, []),
            granted_actions.get(oid.lower(), []), sp_names, now, identity_tags.get(oid.lower())), problems)
    for app in raw.applications:
        yield from guarded(f"application {app.get('appId') or app.get('id')}", lambda app=app: _application(
            app, raw, idx, principals, owners, sp_by_app, sign_ins, sign_in_source, usage, now), problems)
    yield from blueprint_edges(idx, sp_by_app)
    for user in raw.agent_users:
        yield from guarded(f"agent user {user.get('id')}", lambda user=user: _agent_user(
            user, raw, idx, owners, principals, granted_actions), problems)


def _apps_by_client_id(raw: EntraRaw) -> dict[str, Mapping[str, Any]]:
    """Applications by client id, built once per scan (a lookup per principal was quadratic)."""
    index = getattr(raw, "_apps_by_client_id", None)
    if index is None:
        index = {str(a.get("appId") or "").lower(): a for a in raw.applications if a.get("appId")}
        raw._apps_by_client_id = index  # type: ignore[attr-defined]
    return index


def _service_principal(sp: Mapping[str, Any], raw: EntraRaw, idx: AgentIndex, principals: Mapping[str, str],
                       owners: _Owners, sign_ins: Mapping[str, Mapping[str, Any]], sign_in_source: str | None,
                       usage: Mapping[str, credentials.LastUse] | None, dir_roles: list[dict[str, Any]],
                       granted: list[str], sp_names: Mapping[str, Mapping[str, Any]], now: dt.datetime,
                       arm_tags: Mapping[str, str] | None = None) -> Iterator[Record]:
    tenant = raw.tenant_id
    oid = str(sp["id"])
    client_id = str(sp.get("appId") or "").lower()
    app = _apps_by_client_id(raw).get(client_id, {})
    last_used, detail = _latest(_last_sign_in(sign_ins.get(client_id)), _credential_use(sp, usage),
                                _credential_use(app, usage))
    sp_type = sp.get("servicePrincipalType") or "Application"
    common = dict(provider=PROVIDER, source=SOURCE, name=sp.get("displayName") or oid, native_id=oid.lower(),
                  account=tenant, created=date(sp.get("createdDateTime")), last_used=last_used,
                  last_used_detail=detail, enabled=sp.get("accountEnabled") is not False)
    if sp_type == "ManagedIdentity":
        resource = next((n for n in sp.get("alternativeNames") or [] if str(n).lower().startswith("/subscriptions/")),
                        None)
        explicit = any(str(n).lower() == "isexplicit=true" for n in sp.get("alternativeNames") or [])
        ident = Identity(id=mi_id(oid), type="azure_managed_identity", **common, tags=dict(arm_tags or {}), attrs={
            "client_id": client_id, "mi_kind": "user_assigned" if explicit else "system_assigned",
            "resource_id": resource, "service_principal_type": sp_type, "tenant_id": tenant,
            "granted_actions": granted, "app_role_assignments": _app_roles(raw, oid, sp_names),
            "directory_roles": dir_roles, "last_used_source": sign_in_source,
            "odata_type": "#microsoft.graph.servicePrincipal"})
        yield ident
        yield from owners.links(ident.id, list(sp.get("owners") or []), principals)
        return
    owner_org = str(sp.get("appOwnerOrganizationId") or "").lower() or None
    sponsors = idx.sponsors.get(oid, list(sp.get("sponsors") or []))
    app_roles = _app_roles(raw, oid, sp_names)
    blueprint_app = idx.blueprint_of.get(oid)
    parent = next((p for p in sp_names.values() if blueprint_app and str(p.get("appId") or "").lower() == blueprint_app
                   and str(p.get("id")) != oid), None)
    if parent is not None:  # an agent identity inherits its blueprint principal's application permissions
        app_roles += [{**a, "inherited_from": parent.get("displayName") or parent["id"]}
                      for a in _app_roles(raw, str(parent["id"]), sp_names)]
    ident = Identity(id=sp_id(oid), type="azure_sp", **common, tags={t: "" for t in sp.get("tags") or []
                                                                      if isinstance(t, str)}, attrs={
        "app_id": client_id, "service_principal_type": sp_type, "app_owner_organization_id": owner_org,
        "foreign_tenant": bool(owner_org and owner_org != tenant),
        "odata_type": idx.odata_type(sp, "#microsoft.graph.servicePrincipal"),
        "agent_identity_blueprint_id": idx.blueprint_of.get(oid) or sp.get("agentIdentityBlueprintId"),
        # A service principal rarely has a description of its own: its application's says
        # what it is for (and feeds the classifier's description signals).
        "sponsors": sponsor_list(sponsors, raw.users), "description": sp.get("description") or app.get("description"),
        "notes": sp.get("notes") or app.get("notes"),
        "granted_actions": granted, "app_role_assignments": app_roles,
        "directory_roles": dir_roles, "tenant_id": tenant, "last_used_source": sign_in_source,
        "service_principal_names": list(sp.get("servicePrincipalNames") or [])[:10]})
    yield ident
    yield from owners.links(ident.id, list(sp.get("owners") or []), principals)
    yield from owners.sponsors(sponsors)
    yield from credentials.transform(sp, "service_principal", ident.id, tenant, now, usage)


def _app_roles(raw: EntraRaw, oid: str, sp_names: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """App permissions this principal holds, with the permission's name from the API's appRoles."""
    out = []
    for ara in raw.app_role_assignments.get(oid, []):
        resource = sp_names.get(str(ara.get("resourceId") or "")) or {}
        role_id = str(ara.get("appRoleId") or "")
        role = next((r for r in resource.get("appRoles") or [] if str(r.get("id")) == role_id), {})
        out.append({"id": ara.get("id"), "resource_id": ara.get("resourceId"),
                    "resource_app_id": str(resource.get("appId") or "").lower() or None,
                    "resource_name": ara.get("resourceDisplayName") or resource.get("displayName"),
                    "app_role_id": role_id,
                    "permission": role.get("value") or ("default access" if role_id.strip("0-") == "" else role_id),
                    "created": ara.get("createdDateTime")})
    return out


def _application(app: Mapping[str, Any], raw: EntraRaw, idx: AgentIndex, principals: Mapping[str, str],
                 owners: _Owners, sp_by_app: Mapping[str, Mapping[str, Any]],
                 sign_ins: Mapping[str, Mapping[str, Any]], sign_in_source: str | None,
                 usage: Mapping[str, credentials.LastUse] | None, now: dt.datetime) -> Iterator[Record]:
    tenant = raw.tenant_id
    client_id = str(app.get("appId") or "").lower()
    if not client_id:
        return
    home_sp = sp_by_app.get(client_id)
    odata = BLUEPRINT if client_id in idx.blueprint_app_ids else idx.odata_type(app, "#microsoft.graph.application")
    last_used, detail = _latest(_last_sign_in(sign_ins.get(client_id)), _credential_use(app, usage))
    sponsors = idx.sponsors.get(str(app.get("id")), [])
    ident = Identity(
        id=app_id(client_id), provider=PROVIDER, source=SOURCE, type="azure_app",
        name=app.get("displayName") or client_id, native_id=client_id, account=tenant,
        created=date(app.get("createdDateTime")), last_used=last_used, last_used_detail=detail,
        tags={t: "" for t in app.get("tags") or [] if isinstance(t, str)},
        attrs={"object_id": app.get("id"), "odata_type": odata, "tenant_id": tenant,
               "sign_in_audience": app.get("signInAudience"), "description": app.get("description"),
               "notes": app.get("notes"),
               "publisher_domain": app.get("publisherDomain"), "sponsors": sponsor_list(sponsors, raw.users),
               "service_principal_id": home_sp.get("id") if home_sp else None,
               "last_used_source": sign_in_source})
    yield ident
    yield from owners.links(ident.id, list(app.get("owners") or []), principals)
    yield from owners.sponsors(sponsors)
    signs_in_as = ident.id
    if home_sp is not None:
        signs_in_as = principals.get(str(home_sp["id"]).lower(), sp_id(str(home_sp["id"])))
        yield Edge(src=ident.id, dst=signs_in_as, kind=EdgeKind.CAN_ASSUME, source=SOURCE,
                   attrs={"reason": "the application's credentials sign in as its service principal in this tenant",
                          "grants": [f"application {client_id} -> service principal {home_sp['id']}"]})
    full = {**app, "federatedIdentityCredentials": raw.fics.get(str(app.get("id")), [])}
    yield from credentials.transform(full, "application", signs_in_as, tenant, now, usage)


def _agent_user(user: Mapping[str, Any], raw: EntraRaw, idx: AgentIndex, owners: _Owners,
                principals: Mapping[str, str], granted: Mapping[str, list[str]]) -> Iterator[Record]:
    oid = str(user["id"])
    sponsors = idx.sponsors.get(oid, list(user.get("sponsors") or []))
    ident = Identity(id=agent_user_id(oid), provider=PROVIDER, source=SOURCE, type="azure_user",
                     name=user.get("displayName") or user.get("userPrincipalName") or oid, native_id=oid.lower(),
                     account=raw.tenant_id, created=date(user.get("createdDateTime")),
                     enabled=user.get("accountEnabled") is not False,
                     attrs={"odata_type": AGENT_USER, "upn": user.get("userPrincipalName"),
                            "identity_parent_id": user.get("identityParentId"), "tenant_id": raw.tenant_id,
                            "sponsors": sponsor_list(sponsors, raw.users),
                            "granted_actions": granted.get(oid.lower(), []), "last_used_source": None})
    yield ident
    yield from owners.sponsors(sponsors)
    parent = str(user.get("identityParentId") or "").lower()
    if parent and parent in principals:
        yield Edge(src=principals[parent], dst=ident.id, kind=EdgeKind.CAN_ASSUME, source=SOURCE,
                   attrs={"reason": "an agent identity acts as the agent user it is the parent of",
                          "grants": [f"identityParentId {parent}"]})
