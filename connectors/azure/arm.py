"""Azure Resource Manager reads (the "get" half for ARM): one pass per subscription over
bulk listings (role assignments, role and deny definitions, resources with their managed
identities, AI accounts, key vaults, storage accounts), each with the api-version it is
documented under.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

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
}


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
        raw.lists[key] = listing.items
        raw.complete[key] = listing.ok
    get_foundry_projects(http, raw)
    return raw


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
