"""Workload Identity Federation: pools and providers (IAM v1 REST).

A provider is how an outside token (GitHub Actions OIDC, AWS, Azure, SAML) becomes a
principal of the pool: it is a ``gcp_wif_provider`` credential that authenticates as the
pool's principalSet (``principalSet://iam.googleapis.com/<pool>/*``). Whether it has an
``attributeCondition`` matters: a multi-tenant issuer (GitHub, GitLab) without one lets
any repository of any owner mint tokens the pool accepts.
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from agentreach.model import Credential, CredentialStatus, Edge, EdgeKind, Identity, Record, node_id

from .calls import GcpCalls
from .ids import PROVIDER, SOURCE, pool_principal_set, principal_id

MULTI_TENANT_ISSUERS = ("https://token.actions.githubusercontent.com", "https://gitlab.com",
                        "https://app.terraform.io", "https://oidc.circleci.com")


def get(calls: GcpCalls, project: str) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    out = []
    for pool in calls.rest_pages("iam_rest", f"/v1/projects/{project}/locations/global/workloadIdentityPools",
                                 "workloadIdentityPools", operation="workloadIdentityPools.list", project=project):
        providers = list(calls.rest_pages("iam_rest", f"/v1/{pool['name']}/providers", "workloadIdentityPoolProviders",
                                          operation="workloadIdentityPoolProviders.list", project=project))
        out.append((pool, providers))
    return out


def issuer_of(provider: Mapping[str, Any]) -> str | None:
    if provider.get("oidc"):
        return provider["oidc"].get("issuerUri")
    if provider.get("aws"):
        return f"aws:{provider['aws'].get('accountId')}"
    if provider.get("saml"):
        return "saml"
    if provider.get("x509"):
        return "x509"
    return None


def transform(pools: list[tuple[dict[str, Any], list[dict[str, Any]]]], project: str) -> Iterator[Record]:
    for pool, providers in pools:
        uri = pool_principal_set(pool["name"])
        ident = Identity(id=principal_id(uri), provider=PROVIDER, source=SOURCE, type="gcp_principal",
                         name=f"{pool.get('displayName') or pool['name'].rsplit('/', 1)[-1]} (federated identities)",
                         native_id=uri, account=project, enabled=not pool.get("disabled"),
                         attrs={"principal_kind": "workload_identity_pool", "pool": pool["name"],
                                "state": pool.get("state")})
        yield ident
        for prov in providers:
            issuer = issuer_of(prov)
            condition = prov.get("attributeCondition") or None
            disabled = bool(prov.get("disabled")) or prov.get("state") == "DELETED"
            cred = Credential(
                id=node_id(PROVIDER, "wif_provider", prov["name"]), provider=PROVIDER, source=SOURCE,
                type="gcp_wif_provider", name=f"{pool['name'].rsplit('/', 1)[-1]}/{prov['name'].rsplit('/', 1)[-1]}",
                native_id=prov["name"], account=project,
                status=CredentialStatus.DISABLED if disabled else CredentialStatus.ACTIVE,
                attrs={"issuer": issuer, "attribute_condition": condition, "has_attribute_condition": bool(condition),
                       "multi_tenant_issuer": bool(issuer and issuer.rstrip("/") in MULTI_TENANT_ISSUERS),
                       "attribute_mapping": dict(prov.get("attributeMapping") or {}), "pool": pool["name"],
                       "allowed_audiences": list((prov.get("oidc") or {}).get("allowedAudiences") or []),
                       "last_used_source": None})
            yield cred
            yield Edge(src=cred.id, dst=ident.id, kind=EdgeKind.AUTHENTICATES, source=SOURCE,
                       attrs={"via": f"federated token from {issuer or 'an external issuer'}"
                                     + (f" if {condition}" if condition else " (no attribute condition)"),
                              "conditional": bool(condition),
                              **({"condition_keys": [condition]} if condition else {})})
