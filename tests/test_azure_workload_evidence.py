"""Two ARM reads that give the classifier evidence it had no way to see, through the TLS
fake with the real client: a user-assigned identity's own federated identity credentials
(``userAssignedIdentities/{name}/federatedIdentityCredentials``, paged by nextLink) as
credential nodes that authenticate as it, and container apps (``Microsoft.App/containerApps``)
as workloads that run as their identities with their env var *names*; values are dropped
at the edge but for allow-listed model / framework ids, and a ``secretRef`` is never followed."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any, Iterator

import pytest
from agentreach_connectors.azure import AzureConnector
from agentreach_testing.azure_fake import AzureFake
from agentreach_testing.demo.azure import load_estate

from agentreach.classify import SnapshotView, Thresholds, classify, load_signals
from agentreach.connector import ScanContext
from agentreach.model import Edge, EdgeKind

from .test_azure_connector import CLIENT_ID, ENV, SECRET, config

NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
SUB = "/subscriptions/5b5b5b5b-0000-4000-8000-000000000001"
RG = f"{SUB}/resourceGroups/rg-agents"
RUNTIME_MI = f"{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/mi-agent-runtime"
API_MI = f"{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-travel-api"
API_PRINCIPAL = "44444444-0000-4000-8000-0000000000a7"
APP = f"{RG}/providers/Microsoft.App/containerApps/api-travel"
PLAIN_SECRET = "sk-proj-plain-value-that-must-not-be-kept-0123456789"


def _fic(parent: str, name: str, subject: str, issuer: str = "https://token.actions.githubusercontent.com"
         ) -> dict[str, Any]:
    return {"id": f"{parent}/federatedIdentityCredentials/{name}", "name": name,
            "type": "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
            "properties": {"issuer": issuer, "subject": subject, "audiences": ["api://AzureADTokenExchange"]}}


def estate() -> dict[str, Any]:
    data = copy.deepcopy(load_estate(NOW))
    arm = data["arm"]["subscriptions"][0]["resources"]
    # three credentials on one identity: with page_size 2 the list takes a nextLink
    arm["federatedIdentityCredentials"] = [
        _fic(RUNTIME_MI, "octo-org-octo-repo-copilot-env", "repo:octo-org/octo-repo:environment:copilot"),
        _fic(RUNTIME_MI, "main", "repo:octo-org/octo-repo:ref:refs/heads/main"),
        _fic(RUNTIME_MI, "aks", "system:serviceaccount:default:worker",
             issuer="https://oidc.prod-aks.azure.com/00000000-0000-0000-0000-000000000000/"),
    ]
    api_mi = {"id": API_MI, "name": "id-travel-api", "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
              "location": "eastus", "properties": {"tenantId": data["tenant_id"], "principalId": API_PRINCIPAL,
                                                   "clientId": "c7c7c7c7-0000-4000-8000-0000000000c7"}}
    arm["userAssignedIdentities"].append(api_mi)
    arm["resources"].append({k: v for k, v in api_mi.items() if k != "properties"})
    identity = {"type": "UserAssigned", "userAssignedIdentities": {
        API_MI: {"principalId": API_PRINCIPAL, "clientId": "c7c7c7c7-0000-4000-8000-0000000000c7"}}}
    app = {"id": APP, "name": "api-travel", "type": "Microsoft.App/containerApps", "location": "eastus",
           "tags": {"azd-service-name": "api-travel"}, "identity": identity,
           "properties": {
               "managedEnvironmentId": f"{RG}/providers/Microsoft.App/managedEnvironments/cae-travel",
               "configuration": {"secrets": [{"name": "mcp-token"}], "activeRevisionsMode": "Single"},
               "template": {"containers": [{
                   "name": "main", "image": "contoso.azurecr.io/api:1",
                   "env": [{"name": "LLM_PROVIDER", "value": "azure-openai"},
                           {"name": "AZURE_OPENAI_ENDPOINT", "value": "https://cog-travel.openai.azure.com/"},
                           {"name": "OPENAI_API_KEY", "value": PLAIN_SECRET},
                           {"name": "MCP_ECHO_PING_ACCESS_TOKEN", "secretRef": "mcp-token"},
                           {"name": "MCP_ECHO_PING_URL", "value": "http://mcp-echo-ping"}]}]}}}
    arm["containerApps"] = [app]
    arm["resources"].append({k: v for k, v in app.items() if k != "properties"})
    return data


def _scan(server: AzureFake) -> tuple[list[Any], ScanContext]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(ENV, SECRET)
        ctx = ScanContext(clock=lambda: NOW)
        return list(AzureConnector(config(server)).scan(ctx)), ctx


@pytest.fixture(scope="module")
def server() -> Iterator[AzureFake]:
    fake = AzureFake(estate(), page_size=2, clients={CLIENT_ID: SECRET})
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture(scope="module")
def scanned(server: AzureFake) -> tuple[dict[str, Any], list[Edge], list[Any], Any]:
    server.requests.clear()
    records, ctx = _scan(server)
    assert not ctx.gaps.gaps, ctx.gaps.gaps
    requests = list(server.requests)
    return ({r.id: r for r in records if not isinstance(r, Edge)}, [r for r in records if isinstance(r, Edge)],
            records, requests)


def _verdicts(nodes: dict[str, Any], edges: list[Edge]) -> Any:
    view = SnapshotView.build(list(nodes.values()), [e.to_dict() for e in edges])
    return classify(view, load_signals(), Thresholds())


def test_identity_federated_credentials_are_paged_and_authenticate_as_it(scanned: Any) -> None:
    nodes, edges, _, requests = scanned
    fic_calls = [r for r in requests if r.path.lower().endswith("/federatedidentitycredentials")]
    runtime_calls = [r for r in fic_calls if "mi-agent-runtime" in r.path]
    assert len(runtime_calls) == 2 and runtime_calls[1].query.get("$skiptoken") == "2"
    assert {r.query["api-version"] for r in fic_calls} == {"2023-01-31"}
    fics = [n for n in nodes.values() if n.type == "azure_federated_credential" and n.attrs.get("from") == "arm"]
    assert sorted(f.attrs["fic_name"] for f in fics) == ["aks", "main", "octo-org-octo-repo-copilot-env"]
    runtime = next(n for n in nodes.values() if n.type == "azure_managed_identity" and n.name == "mi-agent-runtime")
    for fic in fics:
        assert any(e.src == fic.id and e.dst == runtime.id and e.kind == EdgeKind.AUTHENTICATES for e in edges)
    verdict = _verdicts(nodes, edges)[runtime.id]
    hits = [e for e in verdict.evidence if e.signal == "any.federation.coding-agent"]
    assert hits and "environment:copilot" in hits[0].matched and hits[0].via == "authenticates"


def test_container_apps_run_as_their_identity_with_env_names_only(scanned: Any) -> None:
    nodes, edges, records, requests = scanned
    assert any(r.path.endswith("/providers/Microsoft.App/containerApps") and r.query["api-version"] == "2024-03-01"
               for r in requests)
    app = next(n for n in nodes.values() if n.native_id == APP.lower())
    assert app.env_var_names == ("AZURE_OPENAI_ENDPOINT", "LLM_PROVIDER", "MCP_ECHO_PING_ACCESS_TOKEN",
                                 "MCP_ECHO_PING_URL", "OPENAI_API_KEY")
    assert app.attrs["env_values"] == {"LLM_PROVIDER": "azure-openai"}  # the allow-list, nothing else
    runs_as = [e for e in edges if e.src == app.id and e.kind == EdgeKind.RUNS_AS]
    assert len(runs_as) == 1 and nodes[runs_as[0].dst].native_id == API_PRINCIPAL
    text = json.dumps([r.to_dict() for r in records], default=str)
    for value in (PLAIN_SECRET, "cog-travel.openai.azure.com", "http://mcp-echo-ping"):
        assert value not in text
    verdict = _verdicts(nodes, edges)[runs_as[0].dst]
    assert verdict.verdict == "agent"
    assert {"aws.workload.ai-env", "any.workload.env-value-model"} <= {e.signal for e in verdict.evidence}


def test_denied_reads_are_gaps_and_the_rest_is_kept(server: AzureFake) -> None:
    server.deny(r"/federatedIdentityCredentials$", code="AuthorizationFailed")
    server.deny(r"/providers/Microsoft\.App/containerApps$", code="AuthorizationFailed")
    try:
        records, ctx = _scan(server)
    finally:
        server.clear_rules()
    ops = sorted({g.operation for g in ctx.gaps.gaps})
    assert ops == ["GET containerApps", "GET federatedIdentityCredentials"], ops
    assert all(g.error_code == "AuthorizationFailed" for g in ctx.gaps.gaps)
    nodes = {r.id: r for r in records if not isinstance(r, Edge)}
    app = next(n for n in nodes.values() if n.native_id == APP.lower())  # still there, from /resources
    assert app.env_var_names == ()
    assert any(n.name == "mi-agent-runtime" for n in nodes.values())


def test_the_fake_answers_404_for_an_unknown_identity(server: AzureFake) -> None:
    import ssl

    import httpx

    url = (f"{server.url}{RG}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/nope/"
           "federatedIdentityCredentials")
    resp = httpx.get(url, params={"api-version": "2023-01-31"}, verify=ssl.create_default_context(cafile=str(server.ca_path)),
                     headers={"Authorization": f"Bearer {server.bearer('https://management.azure.com')}"})
    assert resp.status_code == 404 and resp.json()["error"]["code"] == "ResourceNotFound"
