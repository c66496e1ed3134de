"""Azure transforms and the Azure reach deriver on recorded JSON shaped like Microsoft's
API reference (Graph v1.0/beta, ARM Authorization 2022-04-01): pure functions, no server."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

import pytest
from agentreach_connectors.azure import credentials, entra, resources
from agentreach_connectors.azure.arm import SubscriptionRaw
from agentreach_connectors.azure.config import AzureConfig
from agentreach_connectors.azure.graph import EntraRaw
from agentreach_connectors.azure.ids import arm_type, date

from agentreach.connector import ConnectorConfigError
from agentreach.model import Credential, CredentialStatus, Edge, EdgeKind, Identity, Owner, Policy, System, Workload
from agentreach.policy.azure import edges as azure_edges
from agentreach.view import SnapshotView

NOW = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.timezone.utc)
TENANT = "3f2b8c1e-0d4a-4b6e-9c2f-7a1d5e8b4c60"
OTHER_TENANT = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
SUB = "5b5b5b5b-0000-4000-8000-000000000001"
RG = f"/subscriptions/{SUB}/resourceGroups/rg-agents"
VAULT = f"{RG}/providers/Microsoft.KeyVault/vaults/kv-prod"
OAI = f"{RG}/providers/Microsoft.CognitiveServices/accounts/oai"
THUMB = bytes(range(20))


def iso(days: int) -> str:
    return (NOW + dt.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- credentials ---------------------------------------------------------------------------

APP = {
    "id": "22222222-0000-4000-8000-000000000002", "appId": "a2a2a2a2-0000-4000-8000-000000000002",
    "displayName": "research-agent",
    "passwordCredentials": [
        {"customKeyIdentifier": None, "displayName": "old", "endDateTime": iso(-20), "hint": "Q8~",
         "keyId": "55555555-0000-4000-8000-000000000002", "startDateTime": iso(-385),
         "secretText": "Q8~canary-should-never-be-stored"},
        {"customKeyIdentifier": None, "displayName": None, "endDateTime": iso(10), "hint": "rT5",
         "keyId": "55555555-0000-4000-8000-000000000003", "startDateTime": iso(-355), "secretText": None},
    ],
    "keyCredentials": [
        {"customKeyIdentifier": base64.b64encode(THUMB).decode(), "displayName": "CN=research",
         "endDateTime": iso(300), "key": "MIIC-base64-cert-body-never-stored", "keyId": "55555555-0000-4000-8000-000000000004",
         "startDateTime": iso(-65), "type": "AsymmetricX509Cert", "usage": "Verify"},
    ],
    "federatedIdentityCredentials": [
        {"id": "66666666-0000-4000-8000-000000000001", "name": "github-main",
         "issuer": "https://token.actions.githubusercontent.com", "subject": "repo:contoso/agents:ref:refs/heads/main",
         "audiences": ["api://AzureADTokenExchange"], "description": None},
    ],
}


def test_credentials_keep_public_metadata_only() -> None:
    usage = credentials.usage_by_key([{
        "id": "x", "keyId": "55555555-0000-4000-8000-000000000003", "keyType": "clientSecret", "keyUsage": "verify",
        "appId": APP["appId"], "resourceId": "00000003-0000-0000-c000-000000000000",
        "signInActivity": {"lastSignInDateTime": iso(-2), "lastSignInRequestId": "r"}}])
    recs = list(credentials.transform(APP, "application", "azure:sp:x", TENANT, NOW, usage))
    creds = {r.native_id: r for r in recs if isinstance(r, Credential)}
    old, current = creds["55555555-0000-4000-8000-000000000002"], creds["55555555-0000-4000-8000-000000000003"]
    assert old.type == "azure_client_secret" and old.status == CredentialStatus.EXPIRED
    assert old.preview == "Q8~…" and old.name == "old" and old.account == TENANT
    assert current.status == CredentialStatus.ACTIVE and current.expires == NOW + dt.timedelta(days=10)
    assert current.name == "client secret 55555555" and current.last_used == NOW - dt.timedelta(days=2)
    assert "to resource 00000003" in (current.last_used_detail or "")
    assert old.last_used is None and old.attrs["last_used_source"] == "appCredentialSignInActivities"
    cert = creds["55555555-0000-4000-8000-000000000004"]
    assert cert.type == "azure_certificate" and cert.attrs["thumbprint_sha1"] == THUMB.hex().upper()
    fic = creds["66666666-0000-4000-8000-000000000001"]
    assert fic.type == "azure_federated_credential"
    assert fic.name == "token.actions.githubusercontent.com repo:contoso/agents:ref:refs/heads/main"
    assert fic.attrs["audiences"] == ["api://AzureADTokenExchange"]
    assert all(e.dst == "azure:sp:x" and e.kind == EdgeKind.AUTHENTICATES for e in recs if isinstance(e, Edge))
    dumped = repr([r.to_dict() for r in recs])
    assert "canary" not in dumped and "never-stored" not in dumped


def test_unreadable_credential_report_is_not_never_used() -> None:
    recs = [r for r in credentials.transform(APP, "application", "azure:sp:x", TENANT, NOW, None)
            if isinstance(r, Credential)]
    assert {r.attrs["last_used_source"] for r in recs} == {None}


def test_graph_dates_as_the_docs_print_them() -> None:
    assert date("2021-03-01T00:00:00-8:00") == dt.datetime(2021, 3, 1, 8, tzinfo=dt.timezone.utc)
    assert date("2024-01-02T03:04:05.1234567Z") == dt.datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=dt.timezone.utc)
    assert date(None) is None and date("garbage") is None
    assert arm_type(VAULT) == "Microsoft.KeyVault/vaults"
    assert arm_type(f"{VAULT}/secrets/s1") == "Microsoft.KeyVault/vaults/secrets"
    assert arm_type(RG) == "Microsoft.Resources/resourceGroups"


# -- Entra objects -------------------------------------------------------------------------

def user(n: int, enabled: bool) -> dict[str, Any]:
    return {"id": f"11111111-aaaa-4aaa-8aaa-00000000000{n}", "displayName": f"User {n}",
            "mail": f"u{n}@contoso.example", "userPrincipalName": f"u{n}@contoso.example", "accountEnabled": enabled}


def link(obj: dict[str, Any], kind: str = "user") -> dict[str, Any]:
    return {"@odata.type": f"#microsoft.graph.{kind}", "id": obj["id"], "displayName": obj.get("displayName")}


def entra_raw() -> EntraRaw:
    active, left = user(1, True), user(2, False)
    blueprint = {"@odata.type": "#microsoft.graph.agentIdentityBlueprint", "id": "app-bp",
                 "appId": "b1b1b1b1-0000-4000-8000-000000000001", "displayName": "Blueprint", "owners": [link(active)],
                 "passwordCredentials": [{"keyId": "55555555-0000-4000-8000-000000000001", "hint": "Xy7",
                                          "endDateTime": iso(10), "startDateTime": iso(-300)}]}
    web = {"id": "app-web", "appId": "a3a3a3a3-0000-4000-8000-000000000003", "displayName": "web",
           "description": "customer portal front end", "owners": [link(active), {"@odata.type": "#microsoft.graph.servicePrincipal", "id": "sp-owner"}]}
    sps = [
        {"id": "sp-graph", "appId": "00000003-0000-0000-c000-000000000000", "displayName": "Microsoft Graph",
         "servicePrincipalType": "Application", "appOwnerOrganizationId": "f8cdef31-a31e-4b4a-93e4-5f571e91255a",
         "appRoles": [{"id": "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9", "value": "Application.ReadWrite.All"}]},
        {"id": "sp-bp", "appId": blueprint["appId"], "displayName": "Blueprint", "servicePrincipalType": "Application",
         "appOwnerOrganizationId": TENANT},
        {"id": "sp-web", "appId": web["appId"], "displayName": "web", "servicePrincipalType": "Application",
         "appOwnerOrganizationId": TENANT, "accountEnabled": False},
        {"id": "sp-owner", "appId": "owner-app", "displayName": "automation", "servicePrincipalType": "Application",
         "appOwnerOrganizationId": TENANT},
        {"id": "sp-foreign", "appId": "f1f1", "displayName": "Fabrikam", "servicePrincipalType": "Application",
         "appOwnerOrganizationId": OTHER_TENANT, "owners": [{"@odata.type": "#microsoft.graph.servicePrincipal",
                                                            "id": "sp-owner"}]},
        {"id": "sp-mi", "appId": "c1c1", "displayName": "mi-runtime", "servicePrincipalType": "ManagedIdentity",
         "alternativeNames": ["isExplicit=True", f"{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/mi"]},
        {"id": "sp-legacy", "appId": "l1", "displayName": "legacy", "servicePrincipalType": "Legacy"},
    ]
    agents = [{"@odata.type": "#microsoft.graph.agentIdentity", "id": "sp-agent", "displayName": "Helpdesk (US)",
               "agentIdentityBlueprintId": blueprint["appId"], "servicePrincipalType": "ServiceIdentity",
               "accountEnabled": True, "sponsors": [link(left)]}]
    return EntraRaw(
        tenant_id=TENANT, tenant_name="Contoso", applications=[blueprint, web], service_principals=sps,
        blueprints=[{"id": "app-bp", "appId": blueprint["appId"]}], blueprint_principals=[{"id": "sp-bp"}],
        agent_identities=agents,
        agent_users=[{"id": "au-1", "displayName": "agent mailbox", "identityParentId": "sp-agent",
                      "sponsors": [link(active)]}],
        app_role_assignments={"sp-agent": [{"id": "ara", "resourceId": "sp-graph",
                                            "appRoleId": "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9",
                                            "resourceDisplayName": "Microsoft Graph"}],
                              "sp-bp": [{"id": "ara-bp", "resourceId": "sp-graph", "appRoleId": "unknown-role",
                                         "resourceDisplayName": "Microsoft Graph"}]},
        directory_roles=[{"id": "dra", "principalId": "sp-owner", "directoryScopeId": "/",
                          "roleDefinition": {"displayName": "Cloud Application Administrator", "templateId": "t"}}],
        users={active["id"]: active, left["id"]: left},
        sp_sign_ins=[{"appId": "a3a3a3a3-0000-4000-8000-000000000003",
                      "delegatedClientSignInActivity": {"lastSignInDateTime": iso(-100)},
                      "lastSignInActivity": {"lastSignInDateTime": iso(-100)}}],
        cred_sign_ins=[{"keyId": "55555555-0000-4000-8000-000000000001", "keyType": "clientSecret",
                        "signInActivity": {"lastSignInDateTime": iso(-1)}}],
    )


def by_name(recs: list[Any], type_: str) -> dict[str, Any]:
    return {r.name: r for r in recs if getattr(r, "type", None) == type_}


def test_entra_objects_agent_id_owners_and_sponsors() -> None:
    recs = list(entra.transform(entra_raw(), NOW, {"sp-agent": ["Microsoft.CognitiveServices/accounts/OpenAI/*"]}))
    sps, apps = by_name(recs, "azure_sp"), by_name(recs, "azure_app")
    agent = sps["Helpdesk (US)"]
    assert agent.attrs["odata_type"] == "#microsoft.graph.agentIdentity"
    assert sps["web"].attrs["description"] == "customer portal front end"  # the application's, it has none
    assert agent.attrs["agent_identity_blueprint_id"] == "b1b1b1b1-0000-4000-8000-000000000001"
    assert agent.attrs["sponsors"][0]["active"] is False and agent.attrs["sponsors"][0]["email"] == "u2@contoso.example"
    assert agent.attrs["granted_actions"] == ["Microsoft.CognitiveServices/accounts/OpenAI/*"]
    own, inherited = agent.attrs["app_role_assignments"]
    assert own["permission"] == "Application.ReadWrite.All" and "inherited_from" not in own
    assert inherited["inherited_from"] == "Blueprint" and inherited["permission"] == "unknown-role"
    assert len(sps["Blueprint"].attrs["app_role_assignments"]) == 1
    assert sps["Blueprint"].attrs["odata_type"] == "#microsoft.graph.agentIdentityBlueprintPrincipal"
    assert apps["Blueprint"].attrs["odata_type"] == "#microsoft.graph.agentIdentityBlueprint"
    assert sps["Fabrikam"].attrs["foreign_tenant"] is True and sps["web"].attrs["foreign_tenant"] is False
    assert sps["web"].enabled is False and sps["web"].last_used == NOW - dt.timedelta(days=100)
    assert sps["legacy"].attrs["service_principal_type"] == "Legacy"
    assert sps["automation"].attrs["directory_roles"][0]["role"] == "Cloud Application Administrator"
    mi = by_name(recs, "azure_managed_identity")["mi-runtime"]
    assert mi.attrs["mi_kind"] == "user_assigned" and mi.attrs["resource_id"].endswith("/userAssignedIdentities/mi")
    # the blueprint SP was used yesterday through its app's secret, whatever its own report says
    assert sps["Blueprint"].last_used == NOW - dt.timedelta(days=1)
    agent_user = by_name(recs, "azure_user")["agent mailbox"]
    assert agent_user.attrs["odata_type"] == "#microsoft.graph.agentUser"
    owners = {r.name: r for r in recs if isinstance(r, Owner)}
    assert owners["User 1"].active is True and owners["User 2"].active is False
    assert owners["User 1"].type == "entra_user" and owners["User 1"].attrs["email"] == "u1@contoso.example"
    edges = {(e.src, e.kind.value, e.dst) for e in recs if isinstance(e, Edge)}
    assert ("azure:app:a3a3a3a3-0000-4000-8000-000000000003", "can_assume", "azure:sp:sp-web") in edges
    assert ("azure:sp:sp-bp", "can_assume", "azure:sp:sp-agent") in edges  # blueprint principal -> agent identity
    assert ("azure:sp:sp-agent", "can_assume", "azure:agent_user:au-1") in edges
    assert ("azure:user:11111111-aaaa-4aaa-8aaa-000000000001", "owns", "azure:app:a3a3a3a3-0000-4000-8000-000000000003") in edges
    assert ("azure:sp:sp-owner", "owns", "azure:app:a3a3a3a3-0000-4000-8000-000000000003") in edges
    secret = next(r for r in recs if isinstance(r, Credential))
    assert ("azure:client_secret:55555555-0000-4000-8000-000000000001", "authenticates", "azure:sp:sp-bp") in edges
    assert secret.last_used == NOW - dt.timedelta(days=1)
    assert sum(1 for r in recs if isinstance(r, System) and r.type == "azure_directory") == 1


# -- ARM -----------------------------------------------------------------------------------

def role_def(guid: str, name: str, actions: list[str], not_actions: list[str] | None = None,
             data: list[str] | None = None) -> dict[str, Any]:
    return {"id": f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{guid}", "name": guid,
            "type": "Microsoft.Authorization/roleDefinitions",
            "properties": {"roleName": name, "type": "BuiltInRole", "assignableScopes": ["/"],
                           "permissions": [{"actions": actions, "notActions": not_actions or [],
                                            "dataActions": data or [], "notDataActions": []}]}}


OWNER = role_def("8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "Owner", ["*"])
CONTRIBUTOR = role_def("b24988ac-6180-42a0-ab88-20f7382dd24c", "Contributor", ["*"],
                       ["Microsoft.Authorization/*/Delete", "Microsoft.Authorization/*/Write",
                        "Microsoft.Authorization/elevateAccess/Action"])
READER = role_def("acdd72a7-3385-48ef-bd42-f606fba81ae7", "Reader", ["*/read"])
KV_SECRETS = role_def("4633458b-17de-408a-b874-0445c86b69e6", "Key Vault Secrets User", [],
                      data=["Microsoft.KeyVault/vaults/secrets/getSecret/action"])
OAI_USER = role_def("5e0bd9bd-7b93-4f28-af87-19fc36ad61bd", "Cognitive Services OpenAI User",
                    ["Microsoft.CognitiveServices/*/read"],
                    data=["Microsoft.CognitiveServices/accounts/OpenAI/*/read",
                          "Microsoft.CognitiveServices/accounts/OpenAI/deployments/chat/completions/action"])


def assignment(n: int, rd: dict[str, Any], principal: str, scope: str, ptype: str = "ServicePrincipal",
               condition: str | None = None) -> dict[str, Any]:
    return {"id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/7777777{n}", "name": f"7777777{n}",
            "properties": {"roleDefinitionId": rd["id"], "principalId": principal, "principalType": ptype,
                           "scope": scope, "condition": condition, "conditionVersion": "2.0" if condition else None}}


def subscription(assignments: list[dict[str, Any]], denies: list[dict[str, Any]] | None = None) -> SubscriptionRaw:
    return SubscriptionRaw(subscription={"subscriptionId": SUB, "displayName": "prod", "tenantId": TENANT}, lists={
        "roleDefinitions": [OWNER, CONTRIBUTOR, READER, KV_SECRETS, OAI_USER],
        "roleAssignments": assignments, "denyAssignments": denies or [],
        "resourceGroups": [{"id": RG, "name": "rg-agents", "location": "westeurope"}],
        "resources": [
            {"id": VAULT, "name": "kv-prod", "type": "Microsoft.KeyVault/vaults",
             "properties": {"enableRbacAuthorization": True}},
            {"id": OAI, "name": "oai", "type": "Microsoft.CognitiveServices/accounts", "kind": "OpenAI"},
            {"id": f"{RG}/providers/Microsoft.App/containerApps/ca", "name": "ca", "type": "Microsoft.App/containerApps",
             "identity": {"type": "SystemAssigned, UserAssigned", "principalId": "sp-ca-system",
                          "userAssignedIdentities": {f"{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/mi":
                                                     {"principalId": "sp-mi", "clientId": "c1c1"}}}},
        ],
        "cognitiveAccounts": [{"id": OAI, "name": "oai", "type": "Microsoft.CognitiveServices/accounts",
                               "kind": "OpenAI", "properties": {"disableLocalAuth": True,
                                                                "endpoint": "https://oai.openai.azure.com/"}}],
    })


def test_arm_records() -> None:
    sub = subscription([assignment(1, CONTRIBUTOR, "sp-owner", RG),
                        assignment(2, OWNER, "11111111-aaaa-4aaa-8aaa-000000000001", f"/subscriptions/{SUB}", "User"),
                        assignment(3, READER, "sp-unknown", f"/subscriptions/{SUB}")])
    principals = {"sp-owner": "azure:sp:sp-owner", "sp-mi": "azure:managed_identity:sp-mi"}
    recs = list(resources.transform(sub, TENANT, principals, set()))
    oai = next(r for r in recs if isinstance(r, System) and r.type == "azure_cognitive_account")
    assert oai.attrs["kind"] == "OpenAI" and oai.attrs["disable_local_auth"] is True and oai.account == SUB
    assert oai.native_id == OAI.lower()
    wl = next(r for r in recs if isinstance(r, Workload))
    assert wl.type == "azure_resource" and wl.attrs["resource_type"] == "Microsoft.App/containerApps"
    runs_as = {e.dst for e in recs if isinstance(e, Edge) and e.kind == EdgeKind.RUNS_AS}
    assert runs_as == {"azure:managed_identity:sp-mi", "azure:managed_identity:sp-ca-system"}
    system_mi = next(r for r in recs if isinstance(r, Identity) and r.id == "azure:managed_identity:sp-ca-system")
    assert system_mi.attrs["mi_kind"] == "system_assigned" and system_mi.attrs["resource_id"].endswith("/ca")
    pols = {r.name: r for r in recs if isinstance(r, Policy)}
    assert pols["Contributor"].document["permissions"][0]["notActions"][1] == "Microsoft.Authorization/*/Write"
    assert pols["Contributor"].id == "azure:role_definition:b24988ac-6180-42a0-ab88-20f7382dd24c"
    has = [e for e in recs if isinstance(e, Edge) and e.kind == EdgeKind.HAS_POLICY]
    # a user named by a role assignment is a principal too (a person, unresolved when Graph did not show them)
    assert {e.src for e in has} == {"azure:sp:sp-owner", "azure:sp:sp-unknown",
                                    "azure:person:11111111-aaaa-4aaa-8aaa-000000000001"}
    assert has[0].attrs["attachment"] == "role_assignment" and has[0].attrs["scope"] == RG.lower()
    unknown = next(r for r in recs if isinstance(r, Identity) and r.id == "azure:sp:sp-unknown")
    assert unknown.attrs["unresolved"] is True
    granted = resources.granted_actions([subscription([assignment(4, OAI_USER, "sp-agent", OAI)])])
    assert "Microsoft.CognitiveServices/accounts/OpenAI/deployments/chat/completions/action" in granted["sp-agent"]


# -- reach ---------------------------------------------------------------------------------

def derive(assignments: list[dict[str, Any]], denies: list[dict[str, Any]] | None = None,
           extra: list[Any] | None = None, kinds: str | None = None) -> dict[tuple[str, str], dict[str, Any]]:
    """(src, dst) -> attrs of the derived edges (escalations only with ``kinds="can_escalate"``)."""
    raw = entra_raw()
    principals = entra.principal_ids(raw)
    principals["sp-x"] = "azure:sp:sp-x"
    recs = [*entra.transform(raw, NOW), *resources.transform(subscription(assignments, denies), TENANT,
                                                                principals, set()), *(extra or [])]
    recs.append(Identity(id="azure:sp:sp-x", provider="azure", source="azure", type="azure_sp", name="x",
                         native_id="sp-x", account=TENANT))
    nodes = [r for r in recs if not isinstance(r, Edge)]
    edges = [e.to_dict() for e in recs if isinstance(e, Edge)]
    derived = azure_edges.derive(SnapshotView.build(nodes, edges))
    keep = (lambda k: k != "can_escalate") if kinds is None else (lambda k: k == kinds)
    return {(e.src, e.dst): dict(e.attrs, kind=e.kind.value) for e in derived.edges if keep(e.kind.value)}


VAULT_ID = f"azure:key_vault:{VAULT.lower()}"
OAI_ID = f"azure:cognitive_account:{OAI.lower()}"
RG_ID = f"azure:resource_group:{RG.lower()}"
SUB_ID = f"azure:subscription:/subscriptions/{SUB}"
X = "azure:sp:sp-x"


def test_role_levels_scope_and_admin() -> None:
    edges = derive([assignment(1, CONTRIBUTOR, "sp-x", RG)])
    vault = edges[(X, VAULT_ID)]
    assert vault["level"] == "write" and vault["admin"] is False and vault["conditional"] is False
    assert vault["grants"] == [f"role assignment Contributor at {RG.lower()}"]
    assert edges[(X, RG_ID)]["level"] == "write"
    assert (X, SUB_ID) not in edges  # the subscription is above the scope
    owner = derive([assignment(1, OWNER, "sp-x", f"/subscriptions/{SUB}")])
    assert owner[(X, VAULT_ID)]["level"] == "permissions-management" and owner[(X, VAULT_ID)]["admin"] is True
    assert owner[(X, SUB_ID)]["admin"] is True
    reader = derive([assignment(1, READER, "sp-x", "/")])  # the root scope covers every subscription
    assert reader[(X, OAI_ID)]["level"] == "read" and reader[(X, SUB_ID)]["level"] == "read"


def test_data_roles_reach_only_their_resource_types() -> None:
    edges = derive([assignment(1, KV_SECRETS, "sp-x", RG), assignment(2, OAI_USER, "sp-x", OAI)])
    assert edges[(X, VAULT_ID)]["level"] == "read" and edges[(X, VAULT_ID)]["plane"] == "data"
    assert edges[(X, VAULT_ID)]["actions"] == ["microsoft.keyvault/vaults/secrets/getsecret/action"]
    assert (X, OAI_ID) in edges and edges[(X, OAI_ID)]["level"] == "read"  # calling a model reads, like InvokeModel
    assert "data" in edges[(X, OAI_ID)]["plane"]
    assert (X, RG_ID) in edges  # the RG itself is reached by the data role at RG scope


def test_deny_assignment_subtracts_and_conditions_are_carried() -> None:
    deny = {"id": f"{VAULT}/providers/Microsoft.Authorization/denyAssignments/d1", "name": "d1",
            "properties": {"denyAssignmentName": "no vault", "scope": VAULT, "doNotApplyToChildScopes": False,
                           "permissions": [{"actions": ["Microsoft.KeyVault/vaults/*"], "notActions": [],
                                            "dataActions": ["Microsoft.KeyVault/vaults/*"], "notDataActions": []}],
                           "principals": [{"id": "sp-x", "type": "ServicePrincipal"}], "excludePrincipals": []}}
    edges = derive([assignment(1, CONTRIBUTOR, "sp-x", RG)], [deny])
    assert (X, VAULT_ID) not in edges and (X, OAI_ID) in edges
    excluded = dict(deny, properties={**deny["properties"], "principals": [{"id": "0" * 8 + "-0000-0000-0000-" + "0" * 12}],
                                      "excludePrincipals": [{"id": "sp-x"}]})
    assert (X, VAULT_ID) in derive([assignment(1, CONTRIBUTOR, "sp-x", RG)], [excluded])
    cond = "@Resource[Microsoft.KeyVault/vaults/secrets:name] StringEquals 'agent'"
    edges = derive([assignment(1, KV_SECRETS, "sp-x", VAULT, condition=cond)])
    assert edges[(X, VAULT_ID)]["conditional"] is True and edges[(X, VAULT_ID)]["condition_keys"] == [cond]
    both = derive([assignment(1, KV_SECRETS, "sp-x", VAULT, condition=cond), assignment(2, KV_SECRETS, "sp-x", RG)])
    assert both[(X, VAULT_ID)]["conditional"] is False  # an unconditional grant of the same level wins


def test_directory_permissions_and_roles() -> None:
    edges = derive([])
    directory = f"azure:directory:{TENANT}"
    agent = edges[("azure:sp:sp-agent", directory)]
    assert agent["level"] == "permissions-management" and agent["admin"] is True
    assert agent["permissions"] == ["Application.ReadWrite.All", "unknown-role"]
    assert "application permission unknown-role on Microsoft Graph (inherited from Blueprint)" in agent["grants"]
    admin = edges[("azure:sp:sp-owner", directory)]
    assert admin["admin"] is True and admin["grants"] == ["directory role Cloud Application Administrator at /"]


def test_owner_can_add_credentials_but_not_to_managed_or_foreign_principals() -> None:
    mi_owned = Edge(src="azure:sp:sp-owner", dst="azure:managed_identity:sp-mi", kind=EdgeKind.OWNS, source="azure")
    edges = derive([], extra=[mi_owned], kinds="can_escalate")
    web = edges[("azure:sp:sp-owner", "azure:app:a3a3a3a3-0000-4000-8000-000000000003")]
    assert web["kind"] == "can_escalate" and web["technique"] == "owner-can-add-credential"
    assert ("azure:sp:sp-owner", "azure:app:a3a3a3a3-0000-4000-8000-000000000003") not in derive([], extra=[mi_owned])
    assert ("azure:sp:sp-owner", "azure:sp:sp-foreign") not in edges
    assert ("azure:sp:sp-owner", "azure:managed_identity:sp-mi") not in edges


# -- config --------------------------------------------------------------------------------

@pytest.mark.parametrize(("raw", "key"), [
    ({"credential": "password"}, "connectors.azure.credential"),
    ({"credential": "client_secret", "tenant_id": TENANT, "client_id": "c"}, "connectors.azure.client_secret_env"),
    ({"credential": "client_secret", "tenant_id": TENANT, "client_id": "c", "client_secret_env": "abc~def.ghi"},
     "connectors.azure.client_secret_env"),
    ({"credential": "certificate", "tenant_id": TENANT, "client_id": "c", "certificate_path": "/nonexistent.pem"},
     "connectors.azure.certificate_path"),
    ({"credential": "certificate", "client_id": "c"}, "connectors.azure.tenant_id"),
    ({"graph_endpoint": "http://graph.local"}, "connectors.azure.graph_endpoint"),
    ({"max_attempts": 0}, "connectors.azure.max_attempts"),
    ({"subscriptions": [1]}, "connectors.azure.subscriptions"),
    ({"tenantid": TENANT}, "connectors.azure: unknown key"),
])
def test_config_errors_name_the_key(raw: dict[str, Any], key: str) -> None:
    with pytest.raises(ConnectorConfigError, match=key.replace(".", r"\.")):
        AzureConfig.from_mapping(raw)


def test_config_defaults_and_sovereign_endpoints() -> None:
    cfg = AzureConfig.from_mapping({"enabled": True, "cloud": "usgov", "subscriptions": "A,b"})
    assert cfg.graph_url("/applications") == "https://graph.microsoft.us/v1.0/applications"
    assert cfg.graph_scope == "https://graph.microsoft.us/.default" and cfg.subscriptions == ("a", "b")
    public = AzureConfig.from_mapping({"enabled": True})
    assert public.credential == "default" and public.arm_scope == "https://management.azure.com/.default"


def test_a_malformed_object_is_named_and_the_rest_kept() -> None:
    raw = entra_raw()
    raw.service_principals.append({"id": "sp-odd", "appId": "odd", "displayName": "odd",
                                   "passwordCredentials": "not-a-list-of-objects"})
    problems: list[str] = []
    recs = list(entra.transform(raw, NOW, None, problems))
    assert len(problems) == 1 and problems[0].startswith("service principal sp-odd: AttributeError")
    assert "web" in by_name(recs, "azure_sp") and "odd" not in by_name(recs, "azure_sp")
    with pytest.raises(AttributeError):
        list(entra.transform(raw, NOW))  # without a problems list, a test sees the bug
