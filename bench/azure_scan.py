"""Benchmark: the Azure connector on a generated Entra tenant + one subscription.

Generates (deterministically, from ``--seed``) a tenant of ``--n`` applications, each with
its service principal, 1-3 client secrets / certificates, some federated credentials and
owners among ``--users`` people (some disabled); 10 % of ``--n`` as Entra Agent ID agent
identities made from a few blueprints, with sponsors (and some agent users); Microsoft
Graph application permissions for some principals; sign-in activity reports; and one
subscription with ~``--resources`` resources (key vaults, AI accounts, storage accounts,
container apps running as managed identities) under which ~``--assignments`` role
assignments sit at subscription, resource-group and resource scope.

The estate is served by the shipped TLS fake (``agentreach_testing.azure_fake``) in this
process, with Graph's real page size (100, ``--page-size``), and scanned through the CLI in
a child process (``agentreach --db X --config cfg.yaml -q scan --only azure --format json``)
with the real ClientSecretCredential. Prints wall time, the connector's API calls by
operation, peak RSS and CPU of the scanning process, objects / edges, reach edges derived,
and what ``inventory --agents --format json`` finds. Timings are printed, never asserted.

    .venv/bin/python bench/azure_scan.py [--n 2000] [--seed 7] [--users 300] [--page-size 100]
"""

from __future__ import annotations

import argparse
import base64
import copy
import datetime as dt
import os
import random
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml
from cloudbench import measure, report  # bench/ is on sys.path when a script there runs

TENANT = "3f2b8c1e-0d4a-4b6e-9c2f-7a1d5e8b4c60"
SUB = "5b5b5b5b-0000-4000-8000-000000000001"  # the demo's, so its role definitions are reused verbatim
MS_TENANT = "f8cdef31-a31e-4b4a-93e4-5f571e91255a"
GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
CLIENT_ID = "e5e5e5e5-0000-4000-8000-0000000000e5"
SECRET_ENV = "AGENTREACH_BENCH_AZURE_SECRET"
ROLE = {"owner": "8e3af657-a8ff-443c-a75c-2fe8c4bcb635", "contributor": "b24988ac-6180-42a0-ab88-20f7382dd24c",
        "reader": "acdd72a7-3385-48ef-bd42-f606fba81ae7", "kv_secrets_user": "4633458b-17de-408a-b874-0445c86b69e6",
        "openai_user": "5e0bd9bd-7b93-4f28-af87-19fc36ad61bd", "blob_reader": "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1"}
DIRECTORY_ROLES = [("88d8e3e3-8f55-4a1e-953a-9b9898b8876b", "Directory Readers"),
                   ("9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3", "Application Administrator"),
                   ("158c047a-c907-4556-b7ef-446551a6b5f7", "Cloud Application Administrator")]
# Operations the connector makes per object (or per small batch), and the estate size they follow.
PER_OBJECT = {"GET appRoleAssignedTo": ("PER API, one listing per service principal that defines app roles",
                                        "APIs with app roles"),
              "GET /users": ("PER BATCH, one per `id in (...)` filter of 15", "users named as owner or sponsor")}
AGENT_WORDS = ["support", "research", "triage", "copilot", "assistant", "rag", "summarizer", "helpdesk"]
AGENT_DESCRIPTIONS = ["LangGraph agent that files reports", "Semantic Kernel assistant on Azure OpenAI",
                      "AutoGen multi-agent worker", "Copilot Studio agent for HR questions",
                      "AI agent calling the OpenAI Assistants API"]
PLAIN_WORDS = ["billing", "portal", "etl", "reporting", "crm", "inventory", "payments", "search", "backup", "sync"]


def guid(prefix: int, i: int) -> str:
    return f"{prefix:08x}-0000-4000-8000-{i:012x}"


def iso(now: dt.datetime, days: float) -> str:
    return (now + dt.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- the estate --------------------------------------------------------------------------------

def generate(n: int, n_users: int, n_resources: int, n_assignments: int, seed: int,
             now: dt.datetime) -> dict[str, Any]:
    """A tenant in the shape ``azure_estate.yaml`` documents (Graph / ARM JSON plus link ids)."""
    from agentreach_testing.demo.azure import load_estate

    r = random.Random(seed)
    demo = load_estate(now)
    graph_sp = copy.deepcopy(next(sp for sp in demo["graph"]["servicePrincipals"] if sp["appId"] == GRAPH_APP_ID))
    graph_sp["appOwnerOrganizationId"] = MS_TENANT
    graph_roles = [role["id"] for role in graph_sp["appRoles"]]
    role_definitions = copy.deepcopy(demo["arm"]["subscriptions"][0]["resources"]["roleDefinitions"])

    users = [{"id": guid(0x11111111, i), "displayName": f"User {i:04d}", "mail": f"user{i:04d}@contoso.example",
              "userPrincipalName": f"user{i:04d}@contoso.example", "accountEnabled": r.random() > 0.12}
             for i in range(n_users)]
    user_ids = [u["id"] for u in users]
    apps: list[dict[str, Any]] = []
    sps: list[dict[str, Any]] = [graph_sp]
    sp_sign_ins: list[dict[str, Any]] = []
    cred_sign_ins: list[dict[str, Any]] = []
    key_seq = 0

    def ara(principal: str, k: int) -> list[dict[str, Any]]:
        return [{"id": f"ara-{principal[-8:]}-{j}", "principalId": principal, "principalType": "ServicePrincipal",
                 "resourceId": graph_sp["id"], "resourceDisplayName": "Microsoft Graph", "appRoleId": role_id,
                 "createdDateTime": iso(now, -r.randint(1, 500))}
                for j, role_id in enumerate(r.sample(graph_roles, k))]

    def credentials(app_obj: str, app_id: str, sp_obj: str, name: str) -> tuple[list[Any], list[Any]]:
        nonlocal key_seq
        passwords, certs = [], []
        for _ in range(r.randint(1, 3)):
            key_seq += 1
            key_id = guid(0x55555555, key_seq)
            start = -r.randint(1, 900)
            end = start + r.choice([90, 180, 365, 730, 3650])  # some expired, some long-lived
            if r.random() < 0.75:
                hint = "".join(r.choice("abcdefXYZ0123~") for _ in range(3))
                passwords.append({"keyId": key_id, "displayName": f"{name}-secret-{key_seq}", "hint": hint,
                                  "startDateTime": iso(now, start), "endDateTime": iso(now, end),
                                  "customKeyIdentifier": None})
                kind = "clientSecret"
            else:
                thumb = base64.b64encode(r.randbytes(20)).decode()
                certs.append({"keyId": key_id, "displayName": f"CN={name}", "type": "AsymmetricX509Cert",
                              "usage": "Verify", "customKeyIdentifier": thumb,
                              "startDateTime": iso(now, start), "endDateTime": iso(now, end)})
                kind = "certificate"
            if r.random() < 0.4:
                cred_sign_ins.append({
                    "id": f"cred-act-{key_seq}", "keyId": key_id, "keyType": kind, "keyUsage": "verify",
                    "appId": app_id, "appObjectId": app_obj, "servicePrincipalObjectId": sp_obj,
                    "resourceId": GRAPH_APP_ID, "credentialOrigin": "application",
                    "createdDateTime": iso(now, start), "expirationDateTime": iso(now, end),
                    "signInActivity": {"lastSignInDateTime": iso(now, -r.randint(0, 120)),
                                       "lastSignInRequestId": guid(0x0f0f0f0f, key_seq)}})
        return passwords, certs

    # Blueprints, their principals, the agent identities made from them, and some agent users.
    n_blueprints = 4
    blueprints, blueprint_principals = [], []
    for b in range(n_blueprints):
        app_obj, app_id, sp_obj = guid(0x2222bbbb, b), guid(0xb1b1b1b1, b), guid(0x3333bbbb, b)
        passwords, certs = credentials(app_obj, app_id, sp_obj, f"blueprint-{b}")
        owners = r.sample(user_ids, 2)
        blueprints.append({"@odata.type": "#microsoft.graph.agentIdentityBlueprint", "id": app_obj, "appId": app_id,
                           "displayName": f"{AGENT_WORDS[b].title()} Agent Blueprint",
                           "description": f"Blueprint for the {AGENT_WORDS[b]} agents",
                           "signInAudience": "AzureADMyOrg", "createdDateTime": iso(now, -r.randint(30, 300)),
                           "owners": owners, "sponsors": owners[:1], "passwordCredentials": passwords,
                           "keyCredentials": certs})
        blueprint_principals.append({
            "@odata.type": "#microsoft.graph.agentIdentityBlueprintPrincipal", "id": sp_obj, "appId": app_id,
            "displayName": f"{AGENT_WORDS[b].title()} Agent Blueprint", "servicePrincipalType": "Application",
            "appOwnerOrganizationId": TENANT, "accountEnabled": True, "createdDateTime": iso(now, -200),
            "owners": owners, "sponsors": owners[:1], "appRoleAssignments": ara(sp_obj, 1) if b % 2 == 0 else []})
    agent_identities, agent_users = [], []
    for a in range(max(1, n // 10)):
        b = a % n_blueprints
        oid = guid(0x3333aaaa, a)
        agent_identities.append({
            "@odata.type": "#microsoft.graph.agentIdentity", "id": oid, "appId": guid(0x44444444, a),
            "displayName": f"{AGENT_WORDS[b].title()} Agent #{a}", "servicePrincipalType": "ServiceIdentity",
            "agentIdentityBlueprintId": blueprints[b]["appId"], "createdByAppId": blueprints[b]["appId"],
            "accountEnabled": r.random() > 0.05, "createdDateTime": iso(now, -r.randint(1, 200)),
            "sponsors": r.sample(user_ids, r.randint(1, 2)),
            "appRoleAssignments": ara(oid, r.randint(1, 2)) if r.random() < 0.5 else []})
        if a % 5 == 0:
            agent_users.append({"@odata.type": "#microsoft.graph.agentUser", "id": guid(0x1111aaaa, a),
                                "displayName": f"{AGENT_WORDS[b].title()} Agent #{a} mailbox",
                                "userPrincipalName": f"agent{a}@contoso.example", "mail": f"agent{a}@contoso.example",
                                "accountEnabled": True, "identityParentId": oid,
                                "createdDateTime": iso(now, -r.randint(1, 200)),
                                "sponsors": agent_identities[-1]["sponsors"][:1]})
        if r.random() < 0.6:
            sp_sign_ins.append({"id": f"spsi-ai-{a}", "appId": agent_identities[-1]["appId"],
                                "lastSignInActivity": {"lastSignInDateTime": iso(now, -r.randint(0, 90))}})

    # Ordinary applications (a fifth of them agent-looking by name / description) and their SPs.
    app_sp_ids = []
    for i in range(n):
        app_obj, app_id, sp_obj = guid(0x22222222, i), guid(0xa0000000, i), guid(0x33333333, i)
        agentish = r.random() < 0.2
        name = (f"{r.choice(AGENT_WORDS)}-agent-{i}" if agentish else f"{r.choice(PLAIN_WORDS)}-svc-{i}")
        passwords, certs = credentials(app_obj, app_id, sp_obj, name)
        owners = r.sample(user_ids, r.randint(0, 2)) if r.random() < 0.9 else [guid(0x33333333, r.randrange(n))]
        app = {"id": app_obj, "appId": app_id, "displayName": name,
               "description": r.choice(AGENT_DESCRIPTIONS) if agentish else f"{name} backend",
               "signInAudience": "AzureADMyOrg", "publisherDomain": "contoso.example",
               "createdDateTime": iso(now, -r.randint(1, 1500)), "tags": ["agent"] if agentish and i % 3 == 0 else [],
               "owners": owners, "passwordCredentials": passwords, "keyCredentials": certs}
        if r.random() < 0.15:
            app["federatedIdentityCredentials"] = [
                {"id": guid(0x66666666, i * 4 + k), "name": f"github-{k}",
                 "issuer": "https://token.actions.githubusercontent.com",
                 "subject": f"repo:contoso/{name}:ref:refs/heads/{'main' if k == 0 else f'release-{k}'}",
                 "audiences": ["api://AzureADTokenExchange"], "description": "deploys from GitHub Actions"}
                for k in range(r.randint(1, 2))]
        apps.append(app)
        sps.append({"id": sp_obj, "appId": app_id, "displayName": name, "servicePrincipalType": "Application",
                    "appOwnerOrganizationId": TENANT, "accountEnabled": r.random() > 0.03,
                    "createdDateTime": app["createdDateTime"], "owners": owners[:1], "tags": [],
                    "appRoleAssignments": ara(sp_obj, r.randint(1, 3)) if r.random() < 0.2 else []})
        app_sp_ids.append(sp_obj)
        if r.random() < 0.6:
            sp_sign_ins.append({"id": f"spsi-{i}", "appId": app_id,
                                "applicationAuthenticationClientSignInActivity":
                                    {"lastSignInDateTime": iso(now, -r.randint(0, 400))},
                                "lastSignInActivity": {"lastSignInDateTime": iso(now, -r.randint(0, 400))}})
    apps = blueprints + apps
    sps += blueprint_principals + agent_identities
    directory_roles = []
    for d in range(max(3, n // 200)):
        role_id, role_name = DIRECTORY_ROLES[d % len(DIRECTORY_ROLES)]
        directory_roles.append({"id": f"dra-{d}", "principalId": r.choice(app_sp_ids + [a["id"] for a in
                                                                                       agent_identities]),
                                "roleDefinitionId": role_id, "directoryScopeId": "/",
                                "roleDefinition": {"id": role_id, "displayName": role_name, "templateId": role_id,
                                                   "isBuiltIn": True}})

    # ARM: resource groups, resources, managed identities (also service principals in Graph).
    base = f"/subscriptions/{SUB}"
    n_rgs = max(2, n_resources // 10)
    rgs = [{"id": f"{base}/resourceGroups/rg-{g:03d}", "name": f"rg-{g:03d}", "type": "Microsoft.Resources/"
            "resourceGroups", "location": "westeurope", "properties": {"provisioningState": "Succeeded"}}
           for g in range(n_rgs)]
    generic, vaults, cognitive, uais = [], [], [], []
    mi_ids: list[str] = []
    # 15 % key vaults, 15 % AI accounts, 20 % storage, 30 % container apps, 20 % user-assigned identities,
    # interleaved so that any --resources gets every kind (identities first, for the apps to use).
    kinds = ["uai", "containerapp", "vault", "cog", "storage", "containerapp", "uai", "storage", "containerapp",
             "vault", "uai", "containerapp", "cog", "storage", "containerapp", "uai", "vault", "cog", "storage",
             "containerapp"]
    scopes_by_kind: dict[str, list[str]] = {k: [] for k in set(kinds)}
    mi_seq = 0
    for j in range(n_resources):
        kind = kinds[j % len(kinds)]
        rg = rgs[r.randrange(n_rgs)]
        def rid(provider: str, name: str, rg: dict[str, Any] = rg) -> str:
            return f"{rg['id']}/providers/{provider}/{name}"
        if kind == "uai":
            mi_seq += 1
            pid = guid(0x3333cccc, mi_seq)
            res = {"id": rid("Microsoft.ManagedIdentity/userAssignedIdentities", f"mi-{j}"), "name": f"mi-{j}",
                   "type": "Microsoft.ManagedIdentity/userAssignedIdentities", "location": "westeurope"}
            generic.append(res)
            uais.append({**res, "properties": {"tenantId": TENANT, "principalId": pid,
                                                "clientId": guid(0xc1c1c1c1, mi_seq)}})
            sps.append({"id": pid, "appId": guid(0xc1c1c1c1, mi_seq), "displayName": f"mi-{j}",
                        "servicePrincipalType": "ManagedIdentity", "accountEnabled": True,
                        "alternativeNames": ["isExplicit=True", res["id"].lower()]})
            mi_ids.append(pid)
        elif kind == "containerapp":
            res = {"id": rid("Microsoft.App/containerApps", f"ca-{j}"), "name": f"ca-{j}",
                   "type": "Microsoft.App/containerApps", "location": "westeurope",
                   "tags": {"owner": r.choice(users)["mail"]}}
            if uais and r.random() < 0.5:
                ua = r.choice(uais)
                res["identity"] = {"type": "UserAssigned", "userAssignedIdentities": {
                    ua["id"].lower(): {"principalId": ua["properties"]["principalId"],
                                       "clientId": ua["properties"]["clientId"]}}}
            else:
                mi_seq += 1
                pid = guid(0x3333cccc, mi_seq)
                res["identity"] = {"type": "SystemAssigned", "principalId": pid, "tenantId": TENANT}
                sps.append({"id": pid, "appId": guid(0xc1c1c1c1, mi_seq), "displayName": f"ca-{j}",
                            "servicePrincipalType": "ManagedIdentity", "accountEnabled": True,
                            "alternativeNames": ["isExplicit=False", res["id"]]})
                mi_ids.append(pid)
            generic.append(res)
        elif kind == "vault":
            res = {"id": rid("Microsoft.KeyVault/vaults", f"kv-{j}"), "name": f"kv-{j}",
                   "type": "Microsoft.KeyVault/vaults", "location": "westeurope"}
            generic.append(res)
            rbac = r.random() < 0.8
            policies = [] if rbac else [{"tenantId": TENANT, "objectId": r.choice(app_sp_ids),
                                         "permissions": {"secrets": ["get", "list"], "keys": [], "certificates": []}}
                                        for _ in range(r.randint(1, 3))]
            vaults.append({**res, "properties": {"tenantId": TENANT, "enableRbacAuthorization": rbac,
                                                  "vaultUri": f"https://kv-{j}.vault.azure.net/",
                                                  "accessPolicies": policies, "sku": {"family": "A",
                                                                                      "name": "standard"}}})
        elif kind == "cog":
            res = {"id": rid("Microsoft.CognitiveServices/accounts", f"oai-{j}"), "name": f"oai-{j}",
                   "type": "Microsoft.CognitiveServices/accounts", "kind": r.choice(["OpenAI", "AIServices"]),
                   "location": "swedencentral", "sku": {"name": "S0"}}
            generic.append(res)
            cognitive.append({**res, "properties": {"endpoint": f"https://oai-{j}.openai.azure.com/",
                                                     "disableLocalAuth": r.random() < 0.5,
                                                     "publicNetworkAccess": "Enabled",
                                                     "provisioningState": "Succeeded"}})
        else:
            res = {"id": rid("Microsoft.Storage/storageAccounts", f"st{j}"), "name": f"st{j}",
                   "type": "Microsoft.Storage/storageAccounts", "kind": "StorageV2", "location": "westeurope",
                   "sku": {"name": "Standard_LRS", "tier": "Standard"}}
            generic.append(res)
        scopes_by_kind[kind].append(res["id"])

    role_for = {"vault": [ROLE["kv_secrets_user"], ROLE["reader"]], "cog": [ROLE["openai_user"], ROLE["contributor"]],
                "storage": [ROLE["blob_reader"], ROLE["contributor"]], "containerapp": [ROLE["contributor"]],
                "uai": [ROLE["reader"]]}
    resource_scopes = [(k, s) for k in sorted(scopes_by_kind) for s in scopes_by_kind[k]]
    agent_ids = [a["id"] for a in agent_identities]
    assignments = []
    for k in range(n_assignments):
        x = r.random()
        if x < 0.05:
            scope, role = base, r.choice([ROLE["reader"], ROLE["reader"], ROLE["contributor"], ROLE["owner"]])
        elif x < 0.40:
            scope, role = r.choice(rgs)["id"], r.choice([ROLE["reader"], ROLE["contributor"]])
        else:
            kind, scope = r.choice(resource_scopes)
            role = r.choice(role_for[kind])
        y = r.random()
        if y < 0.50:
            principal, ptype = r.choice(app_sp_ids), "ServicePrincipal"
        elif y < 0.65:
            principal, ptype = r.choice(agent_ids), "ServicePrincipal"
        elif y < 0.90 and mi_ids:
            principal, ptype = r.choice(mi_ids), "ServicePrincipal"
        elif y < 0.97:
            principal, ptype = r.choice(user_ids), "User"
        else:
            principal, ptype = guid(0x3333dddd, k), "ServicePrincipal"  # a principal Graph does not show
        props: dict[str, Any] = {"roleDefinitionId": f"{base}/providers/Microsoft.Authorization/roleDefinitions/{role}",
                                 "principalId": principal, "principalType": ptype, "scope": scope,
                                 "createdOn": iso(now, -r.randint(1, 900))}
        if role == ROLE["blob_reader"] and r.random() < 0.3:
            props.update(condition="((!(ActionMatches{'Microsoft.Storage/storageAccounts/blobServices/containers/"
                                   "blobs/read'})) OR (@Resource[Microsoft.Storage/storageAccounts/blobServices/"
                                   "containers:name] StringEquals 'kb'))", conditionVersion="2.0")
        name = guid(0x77777777, k)
        assignments.append({"id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}", "name": name,
                            "type": "Microsoft.Authorization/roleAssignments", "properties": props})
    denies = []
    for d, vault in enumerate(vaults[:2]):
        did = f"{vault['id']}/providers/Microsoft.Authorization/denyAssignments/{guid(0x88888888, d)}"
        denies.append({"id": did, "name": guid(0x88888888, d), "type": "Microsoft.Authorization/denyAssignments",
                       "properties": {"denyAssignmentName": f"no vault access {d}", "description": "deployment stack",
                                      "permissions": [{"actions": ["Microsoft.KeyVault/vaults/*"], "notActions": [],
                                                       "dataActions": ["Microsoft.KeyVault/vaults/*"],
                                                       "notDataActions": []}],
                                      "scope": vault["id"], "doNotApplyToChildScopes": False,
                                      "principals": [{"id": app_sp_ids[d], "type": "ServicePrincipal"}],
                                      "excludePrincipals": [], "isSystemProtected": True}})
    subscription = {"id": base, "subscriptionId": SUB, "tenantId": TENANT, "displayName": "contoso-bench",
                    "state": "Enabled", "authorizationSource": "RoleBased",
                    "resources": {"resourceGroups": rgs, "resources": generic, "cognitiveAccounts": cognitive,
                                  "vaults": vaults, "userAssignedIdentities": uais,
                                  "roleDefinitions": role_definitions, "roleAssignments": assignments,
                                  "denyAssignments": denies}}
    return {"tenant_id": TENANT, "organization": {"id": TENANT, "displayName": "Contoso Bench"},
            "graph": {"users": users + agent_users, "applications": apps, "servicePrincipals": sps,
                      "directoryRoleAssignments": directory_roles, "servicePrincipalSignInActivities": sp_sign_ins,
                      "appCredentialSignInActivities": cred_sign_ins},
            "arm": {"subscriptions": [subscription]}}


def describe(estate: dict[str, Any]) -> dict[str, int]:
    g, res = estate["graph"], estate["arm"]["subscriptions"][0]["resources"]
    sps = g["servicePrincipals"]
    referenced = {i for o in [*g["applications"], *sps, *g["users"]] for i in [*(o.get("owners") or []),
                                                                                *(o.get("sponsors") or [])]
                  if i.startswith("11111111")}
    return {
        "users": sum(1 for u in g["users"] if "@odata.type" not in u),
        "disabled users": sum(1 for u in g["users"] if "@odata.type" not in u and not u["accountEnabled"]),
        "applications": len(g["applications"]),
        "service principals": len(sps),
        "agent identities": sum(1 for s in sps if s.get("@odata.type") == "#microsoft.graph.agentIdentity"),
        "blueprints": sum(1 for a in g["applications"] if "agentIdentityBlueprint" in a.get("@odata.type", "")),
        "agent users": sum(1 for u in g["users"] if "@odata.type" in u),
        "managed identities": sum(1 for s in sps if s.get("servicePrincipalType") == "ManagedIdentity"),
        "secrets + certificates": sum(len(a.get("passwordCredentials") or []) + len(a.get("keyCredentials") or [])
                                      for a in g["applications"]),
        "federated credentials": sum(len(a.get("federatedIdentityCredentials") or []) for a in g["applications"]),
        "Graph app role assignments": sum(len(s.get("appRoleAssignments") or []) for s in sps),
        "resources": len(res["resources"]),
        "resource groups": len(res["resourceGroups"]),
        "role assignments": len(res["roleAssignments"]),
        "service principals outside Microsoft's tenant": sum(1 for s in sps
                                                            if s.get("appOwnerOrganizationId") != MS_TENANT),
        "APIs with app roles": sum(1 for s in sps if s.get("appRoles")),
        "users named as owner or sponsor": len(referenced),
        "batches of 15 referenced users": -(-len(referenced) // 15),
    }


# -- running the CLI ---------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=2000, help="applications (each with a service principal)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--users", type=int, default=300)
    parser.add_argument("--resources", type=int, default=200)
    parser.add_argument("--assignments", type=int, default=500)
    parser.add_argument("--page-size", type=int, default=100, help="the fake's page size (Graph's default is 100)")
    args = parser.parse_args()

    from agentreach_testing.azure_fake import AzureFake

    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    t = time.perf_counter()
    estate = generate(args.n, args.users, args.resources, args.assignments, args.seed, now)
    gen_s = time.perf_counter() - t
    sizes = describe(estate)
    fake = AzureFake(estate, page_size=args.page_size)
    url = fake.start()
    load = os.getloadavg()
    print(f"azure bench: --n {args.n} --seed {args.seed}, fake page size {args.page_size}, "
          f"{os.cpu_count()} CPUs, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print("estate (generated in %.1f s): " % gen_s + ", ".join(f"{v:,} {k}" for k, v in sizes.items()) + "\n")

    env = {**os.environ, SECRET_ENV: "bench-throwaway-secret-not-a-credential", "PYTHONWARNINGS": "ignore"}
    try:
        with tempfile.TemporaryDirectory(prefix="agentreach-bench-azure-") as tmp:
            db, cfg = str(Path(tmp) / "bench.db"), Path(tmp) / "cfg.yaml"
            cfg.write_text(yaml.safe_dump({"connectors": {"azure": {
                "tenant_id": TENANT, "credential": "client_secret", "client_id": CLIENT_ID,
                "client_secret_env": SECRET_ENV, "authority_host": url, "graph_endpoint": url, "arm_endpoint": url,
                "ca_bundle": str(fake.ca_path), "max_attempts": 3, "timeout": 60, "max_retry_after": 1}}}))
            fake.requests.clear()
            measured = measure(db, str(cfg), "azure", env, lambda: len(fake.requests))
    finally:
        fake.stop()
    report(measured, "azure", sizes, PER_OBJECT, "one call per page of a tenant- or subscription-wide listing")


if __name__ == "__main__":
    main()
