"""Evidence the Azure connector now keeps, read through the TLS fake with the real client:
Entra application ``notes`` (requested in $select; the fake refuses properties Graph's
application resource does not have), the ARM tags of user-assigned managed identities, and
Azure AI Foundry projects (``Microsoft.CognitiveServices/accounts/projects``, listed per AI
Services account) as workloads that run as their identities, which the classifier reads."""

from __future__ import annotations

import copy
import datetime as dt
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
ACCOUNT = f"{SUB}/resourceGroups/rg-agents/providers/Microsoft.CognitiveServices/accounts/ais-contoso"
PROJECT_PRINCIPAL = "44444444-0000-4000-8000-0000000000f1"
NOTES = "Runs the LangGraph helpdesk agent; owner: helpdesk platform team"


def estate() -> dict[str, Any]:
    data = copy.deepcopy(load_estate(NOW))
    data["graph"]["applications"][0]["notes"] = NOTES
    arm = data["arm"]["subscriptions"][0]["resources"]
    tags = {"workload-type": "ai-agent", "owner": "alice@contoso.example"}
    for item in arm["userAssignedIdentities"] + arm["resources"]:
        if item["name"] == "mi-agent-runtime":
            item["tags"] = tags
    account = {"id": ACCOUNT, "name": "ais-contoso", "type": "Microsoft.CognitiveServices/accounts",
               "kind": "AIServices", "location": "eastus2",
               "properties": {"allowProjectManagement": True, "customSubDomainName": "ais-contoso"}}
    arm["cognitiveAccounts"].append(account)
    arm["resources"].append({k: v for k, v in account.items() if k != "properties"})
    arm["cognitiveProjects"] = [{
        "id": f"{ACCOUNT}/projects/helpdesk", "name": "ais-contoso/helpdesk",
        "type": "Microsoft.CognitiveServices/accounts/projects", "location": "eastus2",
        "identity": {"type": "SystemAssigned", "principalId": PROJECT_PRINCIPAL,
                     "tenantId": data["tenant_id"]},
        "properties": {"displayName": "helpdesk", "description": "helpdesk agents"}}]
    return data


@pytest.fixture(scope="module")
def scanned() -> Iterator[tuple[dict[str, Any], list[Edge], AzureFake]]:
    server = AzureFake(estate(), page_size=2, clients={CLIENT_ID: SECRET})
    server.start()
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv(ENV, SECRET)
            ctx = ScanContext(clock=lambda: NOW)
            records = list(AzureConnector(config(server)).scan(ctx))
        assert not ctx.gaps.gaps, ctx.gaps.gaps
        yield ({r.id: r for r in records if not isinstance(r, Edge)}, [r for r in records if isinstance(r, Edge)],
               server)
    finally:
        server.stop()


def test_application_notes_are_requested_and_kept(scanned: Any) -> None:
    nodes, _, server = scanned
    selects = [r.query.get("$select") or "" for r in server.requests if r.path.endswith("/applications")]
    assert any("notes" in s.split(",") for s in selects), selects
    app = next(n for n in nodes.values() if n.type == "azure_app" and n.name == "Helpdesk Agent Blueprint")
    assert app.attrs["notes"] == NOTES


def test_user_assigned_identities_keep_their_arm_tags(scanned: Any) -> None:
    nodes, _, _ = scanned
    mi = next(n for n in nodes.values() if n.type == "azure_managed_identity" and n.name == "mi-agent-runtime")
    assert mi.tags["workload-type"] == "ai-agent"


def test_foundry_projects_run_as_their_identity_and_make_it_an_agent(scanned: Any) -> None:
    nodes, edges, _ = scanned
    project = next(n for n in nodes.values() if n.native_id == f"{ACCOUNT}/projects/helpdesk".lower())
    assert project.attrs["resource_type"] == "Microsoft.CognitiveServices/accounts/projects"
    runs_as = [e for e in edges if e.src == project.id and e.kind == EdgeKind.RUNS_AS]
    assert len(runs_as) == 1 and nodes[runs_as[0].dst].native_id == PROJECT_PRINCIPAL
    view = SnapshotView.build(list(nodes.values()), [e.to_dict() for e in edges])
    verdicts = classify(view, load_signals(), Thresholds())
    project_identity = verdicts[runs_as[0].dst]
    assert project_identity.verdict == "agent"
    assert project_identity.evidence[0].signal == "azure.linked.foundry-project"
    tagged = next(n for n in nodes.values() if n.type == "azure_managed_identity" and n.name == "mi-agent-runtime")
    assert "any.tag.declared-purpose" in {e.signal for e in verdicts[tagged.id].evidence}
