"""The Azure estate (azure/estate.yaml) as the records the Azure connector emits
(connectors/azure/resources.py, entra.py): systems keyed by their lower-case ARM ids, built-in
role definitions as ``azure_role_definition`` policies, each role assignment a ``has_policy`` edge
with ``attachment: role_assignment`` and its scope, vault access policies in the vault's attrs,
owners as ``owns`` edges, an application that ``can_assume`` its service principal."""

from __future__ import annotations

import json
import uuid
from typing import Any

from agentreach.model import Edge, EdgeKind, Identity, Policy, System, node_id

from .estate import HERE, Estate, escalations, expectations, read_yaml

SOURCE = PROVIDER = "azure"
TYPES = {"azure_storage_account": ("storage_account", "Microsoft.Storage/storageAccounts", "storageAccounts"),
         "azure_key_vault": ("key_vault", "Microsoft.KeyVault/vaults", "vaults")}
PROVIDERS = {"azure_storage_account": "Microsoft.Storage", "azure_key_vault": "Microsoft.KeyVault"}
IDENTITY_TYPES = {"sp": ("sp", "azure_sp"), "managed_identity": ("managed_identity", "azure_managed_identity"),
                  "app": ("app", "azure_app")}


def object_id(label: str) -> str:
    """A stable GUID per label (object ids are GUIDs; these are ours, not Microsoft's)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"agentreach-bench/azure/{label}"))


def roles() -> dict[str, Any]:
    return json.loads((HERE / "azure" / "roles.json").read_text())


def load() -> Estate:
    data = read_yaml(HERE / "azure" / "estate.yaml")
    estate = Estate(provider="azure", raw=dict(data))
    tenant, sub, rg = data["tenant"], data["subscription"], data["resource_group"]
    sub_rid, rg_rid = f"/subscriptions/{sub}", f"/subscriptions/{sub}/resourcegroups/{rg}".lower()
    nodes, edges = estate.nodes, estate.edges
    nodes.append(System(id=node_id(PROVIDER, "subscription", sub_rid), provider=PROVIDER, source=SOURCE,
                        type="azure_subscription", name="payments-prod", native_id=sub_rid, account=sub,
                        attrs={"tenant_id": tenant, "subscription_id": sub}))
    nodes.append(System(id=node_id(PROVIDER, "resource_group", rg_rid), provider=PROVIDER, source=SOURCE,
                        type="azure_resource_group", name=rg, native_id=rg_rid, account=sub,
                        attrs={"resource_type": "Microsoft.Resources/resourceGroups"}))
    scopes = {"subscription": sub_rid, "resource_group": rg_rid}
    principal_ids: dict[str, str] = {}
    for spec in data["principals"]:
        prefix, _ = IDENTITY_TYPES[spec["type"]]
        principal_ids[spec["id"]] = node_id(PROVIDER, prefix, object_id(spec["id"]))

    for label, spec in data["systems"].items():
        kind, rtype, segment = TYPES[spec["type"]]
        rid = f"{rg_rid}/providers/{PROVIDERS[spec['type']]}/{segment}/{spec['name']}".lower()
        attrs: dict[str, Any] = {"resource_type": rtype, "resource_group": rg_rid, "benchmark_label": label,
                                 "benchmark_source": spec.get("source")}
        if spec["type"] == "azure_storage_account":
            attrs["allow_shared_key_access"] = spec.get("allow_shared_key_access")
        else:
            attrs["enable_rbac_authorization"] = bool(spec.get("enable_rbac_authorization"))
            attrs["access_policies"] = [{"object_id": object_id(p["principal"]), "permissions": p["permissions"]}
                                        for p in spec.get("access_policies") or []]
        sid = node_id(PROVIDER, kind, rid)
        nodes.append(System(id=sid, provider=PROVIDER, source=SOURCE, type=spec["type"], name=spec["name"],
                            native_id=rid, account=sub, region="westeurope", attrs=attrs))
        estate.systems[label] = sid
        scopes[label] = rid

    definitions = roles()
    used: dict[str, str] = {}
    for spec in data["principals"]:
        label = spec["id"]
        prefix, type_ = IDENTITY_TYPES[spec["type"]]
        oid = object_id(label)
        attrs: dict[str, Any] = {"tenant_id": tenant, "benchmark_label": label}
        if spec.get("foreign_tenant"):
            attrs.update(foreign_tenant=True, app_owner_organization_id=object_id("publisher-tenant"))
        if spec["type"] == "app":
            attrs["object_id"] = object_id(f"{label}-object")
        nodes.append(Identity(id=principal_ids[label], provider=PROVIDER, source=SOURCE, type=type_, name=label,
                              native_id=oid, account=tenant, attrs=attrs))
        estate.principals[label] = principal_ids[label]
        estate.why[label] = spec.get("why", "")
        if spec.get("service_principal"):
            edges.append(Edge(src=principal_ids[label], dst=principal_ids[spec["service_principal"]],
                              kind=EdgeKind.CAN_ASSUME, source=SOURCE,
                              attrs={"reason": "the application's credentials sign in as its service principal in "
                                               "this tenant"}))
        for owned in spec.get("owns") or []:
            edges.append(Edge(src=principal_ids[label], dst=principal_ids[owned], kind=EdgeKind.OWNS, source=SOURCE,
                              attrs={"relation": "owner", "owner_type": "#microsoft.graph.servicePrincipal"}))
        for n, assignment in enumerate(spec.get("roles") or []):
            role = definitions[assignment["role"]]
            rd_id = node_id(PROVIDER, "role_definition", role["name"].lower())
            if rd_id not in used:
                used[rd_id] = role["roleName"]
                nodes.append(Policy(
                    id=rd_id, provider=PROVIDER, source=SOURCE, type="azure_role_definition", name=role["roleName"],
                    native_id=f"/providers/microsoft.authorization/roledefinitions/{role['name']}",
                    document={"roleName": role["roleName"], "roleType": role.get("roleType"),
                              "description": role.get("description"),
                              "permissions": [{k: list(p.get(k) or []) for k in
                                               ("actions", "notActions", "dataActions", "notDataActions")}
                                              for p in role.get("permissions") or []],
                              "assignableScopes": list(role.get("assignableScopes") or [])},
                    attrs={"benchmark_source": role["source"]}))
            scope = scopes[assignment["scope"]]
            assignment_id = f"{scope}/providers/microsoft.authorization/roleassignments/{object_id(f'{label}-{n}')}"
            edges.append(Edge(src=principal_ids[label], dst=rd_id, kind=EdgeKind.HAS_POLICY, source=SOURCE,
                              key=assignment_id,
                              attrs={"attachment": "role_assignment", "scope": scope, "condition": None,
                                     "condition_version": None, "principal_type": "ServicePrincipal",
                                     "role_name": role["roleName"], "assignment_id": assignment_id,
                                     "subscription_id": sub}))
    for spec in data["principals"]:
        expectations(estate, spec["id"], spec.get("expect"))
    escalations(estate, data.get("escalations"))
    return estate

