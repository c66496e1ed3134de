"""Azure cases as the Azure connector sees them: Microsoft Graph objects (applications,
their service principals, federated credentials, managed identities' service principals,
Agent ID objects) and ARM answers (resources with their identities, role definitions, role
assignments), run through the connector's own pure transforms.

Object ids are derived from names (uuid5), so an estate is the same on every load.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any, Mapping

from agentreach_connectors.azure import entra, resources
from agentreach_connectors.azure.arm import SubscriptionRaw, container_app_view
from agentreach_connectors.azure.graph import EntraRaw
from agentreach_connectors.azure.ids import app_id, mi_id, sp_id

from agentreach.model import Record

from .cases import Case, CaseError, check_record_keys

READ = frozenset({"applications", "service_principals", "managed_identities", "resources", "agent_blueprints",
                  "agent_identities", "role_assignments"})

TENANT = "5f0c2d1e-3b4a-4c6d-8e9f-0a1b2c3d4e5f"
SUBSCRIPTION = "9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d"
T0 = dt.datetime(2025, 3, 1, tzinfo=dt.timezone.utc)
NS = uuid.UUID("0b1d2f3a-4c5e-4f60-8a7b-9c0d1e2f3a4b")


FOUNDRY_PROJECT = "microsoft.cognitiveservices/accounts/projects"
CONTAINER_APP = "microsoft.app/containerapps"


def oid(*parts: str) -> str:
    return str(uuid.uuid5(NS, "/".join(parts)))


def rg_id(rg: str) -> str:
    return f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{rg}"


def resource_id(res: Mapping[str, Any]) -> str:
    """ARM id; a child resource (type ``A/b/c``, name ``x/y``) interleaves type and name."""
    provider, *types = res["type"].split("/")
    names = res["name"].split("/")
    path = "/".join(f"{t}/{n}" for t, n in zip(types, names, strict=True))
    return f"{rg_id(res.get('resource_group', 'rg-agents'))}/providers/{provider}/{path}"


@dataclass
class AzureEstate:
    roles: Mapping[str, Mapping[str, Any]]  # role name -> built-in definition (reference file)
    raw: EntraRaw = field(default_factory=lambda: EntraRaw(tenant_id=TENANT, tenant_name="Contoso"))
    arm: dict[str, list[dict[str, Any]]] = field(default_factory=lambda: {
        "resources": [], "cognitiveProjects": [], "roleAssignments": [], "roleDefinitions": [], "resourceGroups": [],
        "containerApps": [], "federatedIdentityCredentials": []})
    principals: dict[str, str] = field(default_factory=dict)  # "kind:name" -> principal object id
    nodes: dict[str, str] = field(default_factory=dict)  # "kind:name" -> node id
    used_roles: set[str] = field(default_factory=set)

    def add(self, case: Case) -> None:
        rec = case.records
        check_record_keys(case, rec, READ, frozenset())
        for app in rec.get("applications", []):
            self._application(app)
        for sp in rec.get("service_principals", []):
            self._foreign_sp(sp)
        for mi in rec.get("managed_identities", []):
            self._user_assigned(mi)
        for res in rec.get("resources", []):
            self._resource(res)
        for bp in rec.get("agent_blueprints", []):
            self._blueprint(bp)
        for ai in rec.get("agent_identities", []):
            self._agent_identity(ai)
        for ra in rec.get("role_assignments", []):
            self._assignment(ra, case)

    def _credentials(self, spec: Mapping[str, Any], owner: str) -> dict[str, Any]:
        out: dict[str, Any] = {"passwordCredentials": [], "keyCredentials": []}
        for i in range(int(spec.get("secrets", 0))):
            out["passwordCredentials"].append({"keyId": oid(owner, "secret", str(i)), "displayName": f"secret {i + 1}",
                                               "hint": "Q~x", "startDateTime": T0.isoformat(),
                                               "endDateTime": (T0 + dt.timedelta(days=730)).isoformat()})
        return out

    def _application(self, app: Mapping[str, Any]) -> None:
        name = app["name"]
        app_oid, client_id, sp_oid = oid("app", name), oid("client", name), oid("sp", name)
        body = {"id": app_oid, "appId": client_id, "displayName": name, "createdDateTime": T0.isoformat(),
                "signInAudience": app.get("sign_in_audience", "AzureADMyOrg"), "tags": app.get("tags", []),
                "publisherDomain": "contoso.onmicrosoft.com", **self._credentials(app, name)}
        for key in ("description", "notes"):
            if app.get(key):
                body[key] = app[key]
        self.raw.applications.append(body)
        self._fics(app_oid, name, app.get("federated", []))
        self.raw.service_principals.append({
            "id": sp_oid, "appId": client_id, "displayName": name, "servicePrincipalType": "Application",
            "appOwnerOrganizationId": TENANT, "accountEnabled": True, "tags": app.get("sp_tags", []),
            "servicePrincipalNames": [client_id], "alternativeNames": [], "appRoles": [],
            "passwordCredentials": [], "keyCredentials": [], "createdDateTime": T0.isoformat()})
        self.principals[f"sp:{name}"] = sp_oid
        self.nodes[f"sp:{name}"] = sp_id(sp_oid)
        self.nodes[f"app:{name}"] = app_id(client_id)

    def _fics(self, app_oid: str, name: str, specs: list[Mapping[str, Any]]) -> None:
        """Federated credentials as Graph lists them. An issuer ``{entra}`` is this tenant's
        Entra issuer; a subject ``mi:NAME`` is that managed identity's principal id (resolved
        in ``records()``, as the managed identity may come from a later case)."""
        fics = [{"id": oid(name, "fic", f.get("name", str(i))), "name": f.get("name", f"fic-{i}"),
                 "issuer": self._issuer(f["issuer"]),
                 "subject": f["subject"], "audiences": f.get("audiences", ["api://AzureADTokenExchange"]),
                 "description": f.get("description")}
                for i, f in enumerate(specs)]
        if fics:
            self.raw.fics[app_oid] = fics

    @staticmethod
    def _issuer(issuer: str) -> str:
        return issuer.replace("{entra}", f"https://login.microsoftonline.com/{TENANT}/v2.0")

    def _foreign_sp(self, sp: Mapping[str, Any]) -> None:
        name = sp["name"]
        sp_oid = oid("sp", name)
        body = {"id": sp_oid, "appId": sp.get("app_id") or oid("client", name), "displayName": name,
                "servicePrincipalType": "Application", "appOwnerOrganizationId": sp.get("owner_tenant", TENANT),
                "accountEnabled": True, "tags": sp.get("tags", []), "alternativeNames": [], "appRoles": [],
                "servicePrincipalNames": sp.get("service_principal_names", []),
                "passwordCredentials": [], "keyCredentials": [], "createdDateTime": T0.isoformat()}
        if sp.get("description"):
            body["description"] = sp["description"]
        self.raw.service_principals.append(body)
        self.principals[f"sp:{name}"] = sp_oid
        self.nodes[f"sp:{name}"] = sp_id(sp_oid)

    def _mi_sp(self, key: str, display: str, rid: str, explicit: bool) -> str:
        principal = oid("mi", rid.lower())
        self.raw.service_principals.append({
            "id": principal, "appId": oid("mi-client", rid.lower()), "displayName": display,
            "servicePrincipalType": "ManagedIdentity", "accountEnabled": True,
            "alternativeNames": [f"isExplicit={'True' if explicit else 'False'}", rid],
            "servicePrincipalNames": [], "appRoles": [], "tags": [], "createdDateTime": T0.isoformat()})
        self.principals[key] = principal
        self.nodes[key] = mi_id(principal)
        return principal

    def _user_assigned(self, mi: Mapping[str, Any]) -> None:
        res = {"type": "Microsoft.ManagedIdentity/userAssignedIdentities",
               **{k: v for k, v in mi.items() if k != "federated"}}
        rid = resource_id(res)
        principal = self._mi_sp(f"mi:{mi['name']}", mi["name"], rid, explicit=True)
        self.arm["resources"].append({"id": rid, "name": mi["name"], "type": res["type"], "location": "eastus",
                                      "tags": mi.get("tags", {}),
                                      "properties": {"principalId": principal, "tenantId": TENANT,
                                                     "clientId": oid("mi-client", rid.lower())}})
        # The identity's own federated credentials, as ARM's Federated Identity Credentials -
        # List returns them (a child collection of the identity; properties nested).
        for i, f in enumerate(mi.get("federated", [])):
            name = f.get("name", f"fic-{i}")
            self.arm["federatedIdentityCredentials"].append({
                "id": f"{rid}/federatedIdentityCredentials/{name}", "name": name,
                "type": "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
                "properties": {"issuer": self._issuer(f["issuer"]), "subject": f["subject"],
                               "audiences": f.get("audiences", ["api://AzureADTokenExchange"])}})

    def _resource(self, res: Mapping[str, Any]) -> None:
        rid = resource_id(res)
        ident: dict[str, Any] = {}
        kinds = []
        if res.get("system_identity"):
            ident["principalId"] = self._mi_sp(f"resource:{res['name']}", res["name"], rid, explicit=False)
            ident["tenantId"] = TENANT
            kinds.append("SystemAssigned")
        if res.get("user_identities"):
            ident["userAssignedIdentities"] = {}
            for name in res["user_identities"]:
                mi_rid = resource_id({"type": "Microsoft.ManagedIdentity/userAssignedIdentities", "name": name,
                                      "resource_group": res.get("resource_group", "rg-agents")})
                ident["userAssignedIdentities"][mi_rid] = {"principalId": self.principals[f"mi:{name}"],
                                                           "clientId": oid("mi-client", mi_rid.lower())}
            kinds.append("UserAssigned")
        if kinds:
            ident["type"] = ", ".join(kinds)
        body = {"id": rid, "name": res["name"], "type": res["type"], "location": "eastus",
                "tags": res.get("tags", {}), "properties": res.get("properties", {})}
        if res.get("kind"):
            body["kind"] = res["kind"]
        if ident:
            body["identity"] = ident
        # A Foundry project is a child resource: ARM lists it under its account (what the
        # connector reads), not in the subscription's /resources.
        if res["type"].lower() == FOUNDRY_PROJECT:
            self.arm["cognitiveProjects"].append(body)
        elif res["type"].lower() == CONTAINER_APP:
            # ARM lists a container app twice: in /resources without its properties, and in
            # Microsoft.App/containerApps with them, which the connector's get step reduces to
            # env names and allow-listed values (container_app_view) before anything keeps them.
            self.arm["resources"].append({k: v for k, v in body.items() if k != "properties"})
            self.arm["containerApps"].append(container_app_view(body))
        else:
            self.arm["resources"].append(body)
        self.nodes[f"resource_id:{res['name']}"] = rid

    def _blueprint(self, bp: Mapping[str, Any]) -> None:
        name = bp["name"]
        app_oid, client_id, sp_oid = oid("app", name), oid("client", name), oid("sp", name)
        self.raw.applications.append({"id": app_oid, "appId": client_id, "displayName": name,
                                      "createdDateTime": T0.isoformat(), "tags": bp.get("tags", []),
                                      "signInAudience": "AzureADMyOrg", "passwordCredentials": [],
                                      "keyCredentials": []})
        self.raw.blueprints.append({"id": app_oid, "appId": client_id, "displayName": name})
        self._fics(app_oid, name, bp.get("federated", []))
        self.raw.service_principals.append({"id": sp_oid, "appId": client_id, "displayName": name,
                                            "servicePrincipalType": "Application", "appOwnerOrganizationId": TENANT,
                                            "accountEnabled": True, "tags": [], "alternativeNames": [],
                                            "appRoles": [], "createdDateTime": T0.isoformat()})
        self.raw.blueprint_principals.append({"id": sp_oid, "appId": client_id, "displayName": name})
        self.principals[f"sp:{name}"] = sp_oid
        self.nodes[f"sp:{name}"] = sp_id(sp_oid)
        self.nodes[f"app:{name}"] = app_id(client_id)

    def _agent_identity(self, ai: Mapping[str, Any]) -> None:
        name = ai["name"]
        sp_oid = oid("agent", name)
        item = {"id": sp_oid, "appId": oid("agent-client", name), "displayName": name,
                "servicePrincipalType": "ServiceIdentity", "accountEnabled": True,
                "agentIdentityBlueprintId": oid("client", ai["blueprint"]), "createdDateTime": T0.isoformat(),
                "tags": ai.get("tags", [])}
        self.raw.agent_identities.append(item)
        self.principals[f"agent:{name}"] = sp_oid
        self.nodes[f"agent:{name}"] = sp_id(sp_oid)

    def _assignment(self, ra: Mapping[str, Any], case: Case) -> None:
        principal = self.principals.get(ra["principal"])
        if principal is None:
            raise CaseError(f"{case.file}: case {case.id}: role assignment to unknown principal {ra['principal']!r}")
        role = self.roles.get(ra["role"])
        if role is None:
            raise CaseError(f"{case.file}: case {case.id}: role {ra['role']!r} is not in reference/azure_roles.yaml")
        self.used_roles.add(ra["role"])
        scope = ra.get("scope") or rg_id("rg-agents")
        if scope.startswith("resource:"):
            scope = self.nodes[f"resource_id:{scope.removeprefix('resource:')}"]
        self.arm["roleAssignments"].append({
            "id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/{oid(principal, ra['role'], scope)}",
            "properties": {"principalId": principal, "principalType": "ServicePrincipal", "scope": scope,
                           "roleDefinitionId": f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/"
                                               f"roleDefinitions/{role['id']}"}})

    def records(self) -> list[Record]:
        for fics in self.raw.fics.values():
            for fic in fics:
                if str(fic["subject"]).startswith("mi:"):
                    principal = self.principals.get(fic["subject"])
                    if principal is None:
                        raise CaseError(f"federated credential {fic['name']}: no managed identity {fic['subject']!r}")
                    fic["subject"] = principal
        for fic in self.arm["federatedIdentityCredentials"]:
            subject = str(fic["properties"]["subject"])
            if subject.startswith("mi:"):
                if subject not in self.principals:
                    raise CaseError(f"federated credential {fic['name']}: no managed identity {subject!r}")
                fic["properties"]["subject"] = self.principals[subject]
        for name in sorted(self.used_roles):
            role = self.roles[name]
            self.arm["roleDefinitions"].append({
                "id": f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{role['id']}",
                "name": role["id"], "properties": {"roleName": name, "type": "BuiltInRole",
                                                   "description": role.get("description"),
                                                   "permissions": role["permissions"], "assignableScopes": ["/"]}})
        self.arm["resourceGroups"] = [{"id": rg_id(g), "name": g, "location": "eastus"} for g in sorted(
            {r["id"].split("/")[4] for r in self.arm["resources"]})]
        sub = SubscriptionRaw(subscription={"subscriptionId": SUBSCRIPTION, "displayName": "contoso-ai",
                                            "tenantId": TENANT, "state": "Enabled"}, lists=self.arm)
        granted = resources.granted_actions([sub])
        out: list[Record] = list(entra.transform(self.raw, T0, granted, identity_tags=resources.identity_tags([sub])))
        out += resources.transform(sub, TENANT, entra.principal_ids(self.raw), set())
        return out

    def subject_id(self, case: Case) -> str:
        if case.subject not in self.nodes or case.subject.startswith("resource_id:"):
            raise CaseError(f"{case.file}: case {case.id}: subject {case.subject!r} is defined by no case")
        return self.nodes[case.subject]
