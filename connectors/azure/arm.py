"""Azure Resource Manager reads (the "get" half for ARM): one pass per subscription over
bulk listings (role assignments, role and deny definitions, resources with their managed
identities, AI accounts, key vaults, storage accounts, container apps), each with the
api-version it is documented under, then the child collections ARM lists per parent:
AI Foundry projects per AI Services account, federated identity credentials per
user-assigned identity.

Container apps' environment values are dropped here, at the edge (``container_app_view``):
names are kept, and a value only for the few allow-listed, non-secret variables that name
a model or an agent framework (``agentreach.classify.envvalues``). A ``secretRef`` names a
secret of the app; its value is never requested (that is ``listSecrets``, a POST we do not make).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from agentreach.classify.envvalues import readable_values

from .http import AzureHttp

API = {
    "subscriptions": "2022-12-01",
    "roleAssignments": "2022-04-01",
    "roleDefinitions": "2022-04-01",
    "denyAssignments": "2022-04-01",
    "resourceGroups": "2021-04-01",
    "resources": "2021-04-01",
    "userAssignedIdentities": "2023-01-31",
    "cognitiveAccounts": "2024-10-01",
    "cognitiveProjects": "2025-06-01",
    "vaults": "2023-07-01",
    "storageAccounts": "2023-05-01",
    "containerApps": "2024-03-01",
    "federatedIdentityCredentials": "2023-01-31",
}
PATHS = {
    "roleAssignments": "/providers/Microsoft.Authorization/roleAssignments",
    "roleDefinitions": "/providers/Microsoft.Authorization/roleDefinitions",
    "denyAssignments": "/providers/Microsoft.Authorization/denyAssignments",
    "resourceGroups": "/resourcegroups",
    "resources": "/resources",
    "userAssignedIdentities": "/providers/Microsoft.ManagedIdentity/userAssignedIdentities",
    "cognitiveAccounts": "/providers/Microsoft.CognitiveServices/accounts",
    "vaults": "/providers/Microsoft.KeyVault/vaults",
    # allowSharedKeyAccess decides whether listKeys is a data path (config/access-classes.yaml)
    "storageAccounts": "/providers/Microsoft.Storage/storageAccounts",
    # what runs as which identity, with the env var names that say what it is
    "containerApps": "/providers/Microsoft.App/containerApps",
}
# Listings whose items pass through a view at the edge before anything keeps them.
VIEWS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}


@dataclass
class SubscriptionRaw:
    subscription: dict[str, Any]
    lists: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    complete: dict[str, bool] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return str(self.subscription.get("subscriptionId") or "").lower()

    def __getitem__(self, key: str) -> list[dict[str, Any]]:
        return self.lists.get(key, [])


def get_subscriptions(http: AzureHttp, account: str | None) -> list[dict[str, Any]]:
    cfg = http.cfg
    listing = http.list_all(cfg.arm_url("/subscriptions"), cfg.arm_scope, "GET /subscriptions", account,
                            {"api-version": API["subscriptions"]}, service="arm")
    subs = [s for s in listing.items if s.get("subscriptionId")]
    if cfg.subscriptions:
        wanted = set(cfg.subscriptions)
        subs = [s for s in subs if str(s["subscriptionId"]).lower() in wanted]
        seen = {str(s["subscriptionId"]).lower() for s in subs}
        for missing in sorted(wanted - seen):
            http.gap("GET /subscriptions", "SubscriptionNotFound",
                     f"configured subscription {missing} is not visible to the caller", account=missing, service="arm")
    return subs


def get_subscription(http: AzureHttp, sub: dict[str, Any]) -> SubscriptionRaw:
    cfg = http.cfg
    raw = SubscriptionRaw(subscription=sub)
    base = f"/subscriptions/{sub['subscriptionId']}"
    for key, path in PATHS.items():
        listing = http.list_all(cfg.arm_url(base + path), cfg.arm_scope, f"GET {path.rsplit('/', 1)[-1]}",
                                raw.id, {"api-version": API[key]}, service="arm")
        view = VIEWS.get(key)
        raw.lists[key] = [view(item) for item in listing.items] if view else listing.items
        raw.complete[key] = listing.ok
    get_foundry_projects(http, raw)
    get_identity_fics(http, raw)
    return raw


def get_identity_fics(http: AzureHttp, raw: SubscriptionRaw) -> None:
    """The federated identity credentials of every user-assigned identity: a child
    collection of the identity (not in Graph, not in the subscription's listings) that says
    which outside workloads (a GitHub environment, a Kubernetes service account) may sign in
    as it. An identity deleted since it was listed answers 404: nothing to read, no gap."""
    cfg = http.cfg
    fics: list[dict[str, Any]] = []
    complete = True
    for identity in raw["userAssignedIdentities"]:
        if not identity.get("id"):
            continue
        listing = http.list_all(cfg.arm_url(f"{identity['id']}/federatedIdentityCredentials"), cfg.arm_scope,
                                "GET federatedIdentityCredentials", raw.id,
                                {"api-version": API["federatedIdentityCredentials"]}, service="arm",
                                absent=frozenset({404}))
        fics += listing.items
        complete = complete and listing.ok
    raw.lists["federatedIdentityCredentials"] = fics
    raw.complete["federatedIdentityCredentials"] = complete


def _container_view(container: Mapping[str, Any]) -> dict[str, Any]:
    env = [e for e in container.get("env") or [] if isinstance(e, Mapping) and e.get("name")]
    plain = {str(e["name"]): e.get("value") for e in env if "secretRef" not in e}
    return {"name": container.get("name"), "image": container.get("image"),
            "env": [{"name": str(e["name"]), **({"secretRef": str(e["secretRef"])} if e.get("secretRef") else {})}
                    for e in env],
            # allow-listed model / framework ids only; every other value is dropped here
            "env_values": readable_values(plain)}


def container_app_view(app: Mapping[str, Any]) -> dict[str, Any]:
    """A container app as the connector keeps it: its identity, tags and, per container,
    the env var names (with the secret each ``secretRef`` names) and the allow-listed
    values; ``configuration`` (registries, ingress, the secrets' names) is left out."""
    props = app.get("properties") or {}
    template = props.get("template") or {}
    kept = {k: app[k] for k in ("id", "name", "type", "location", "tags", "identity", "kind") if k in app}
    kept["properties"] = {
        "managedEnvironmentId": props.get("managedEnvironmentId") or props.get("environmentId"),
        "template": {key: [_container_view(c) for c in template.get(key) or [] if isinstance(c, Mapping)]
                     for key in ("containers", "initContainers")}}
    return kept


VIEWS["containerApps"] = container_app_view


def get_foundry_projects(http: AzureHttp, raw: SubscriptionRaw) -> None:
    """The projects of every AI Services account (Azure AI Foundry): child resources the
    subscription-wide listings leave out, each with the managed identity its agents run as."""
    cfg = http.cfg
    projects: list[dict[str, Any]] = []
    complete = True
    for account in raw["cognitiveAccounts"]:
        props = account.get("properties") or {}
        if str(account.get("kind") or "").lower() != "aiservices" and not props.get("allowProjectManagement"):
            continue
        listing = http.list_all(cfg.arm_url(f"{account['id']}/projects"), cfg.arm_scope, "GET projects", raw.id,
                                {"api-version": API["cognitiveProjects"]}, service="arm")
        projects += listing.items
        complete = complete and listing.ok
    raw.lists["cognitiveProjects"] = projects
    raw.complete["cognitiveProjects"] = complete


def get_arm(http: AzureHttp, account: str | None) -> list[SubscriptionRaw]:
    subs = get_subscriptions(http, account)
    with ThreadPoolExecutor(max_workers=http.cfg.workers, thread_name_prefix="azure-arm") as pool:
        return list(pool.map(lambda s: get_subscription(http, s), subs))
