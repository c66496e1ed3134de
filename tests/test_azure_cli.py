"""End to end through the CLI: the demo's Entra tenant (served by the TLS fake, signed in to
with the real CertificateCredential) scanned with ``--only azure``, then inventory, reach
by client id and by keyId, show and findings; and the canary: no ``secretText`` the fake
serves appears in the store or in any output."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml
from agentreach_testing.azure_fake import iter_secret_texts
from agentreach_testing.demo.azure import demo_tenant, load_estate
from click.testing import CliRunner

from agentreach.cli import main

NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
RESEARCH_CLIENT_ID = "a2a2a2a2-0000-4000-8000-000000000002"
BLUEPRINT_SECRET = "55555555-0000-4000-8000-000000000001"
RESEARCH_SECRET = "55555555-0000-4000-8000-000000000003"
OUTPUTS: list[str] = []


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("azure-cli")
    path = str(tmp / "inv.db")
    with demo_tenant(NOW) as section:
        cfg = tmp / "cfg.yaml"
        cfg.write_text(yaml.safe_dump({"connectors": {"azure": section}}))
        result = CliRunner().invoke(main, ["--db", path, "-q", "--config", str(cfg), "scan", "--only", "azure"])
        OUTPUTS.append(result.output)
        assert result.exit_code == 0, result.output
        assert "0 coverage gaps" in result.output
        yield path


def run(db: str, *args: str) -> Any:
    result = CliRunner().invoke(main, ["--db", db, *args])
    OUTPUTS.append(result.output)
    assert result.exit_code == 0, result.output
    return json.loads(result.output) if "json" in args else result.output


def test_inventory_agents_with_owners_expiry_and_reach(db: str) -> None:
    objs = {o["name"]: o for o in run(db, "inventory", "--agents", "--format", "json")["objects"]}
    us = objs["Helpdesk Agent (US)"]
    assert us["agent"]["verdict"] == "agent"
    assert us["owner"]["name"] == "Bob Lee" and us["owner"]["status"] == "orphaned"  # the sponsor left
    eu = objs["Helpdesk Agent (EU)"]
    assert eu["owner"]["name"] == "Carol Diaz" and eu["owner"]["status"] == "owned"
    secret = objs["blueprint-prod"]
    assert secret["kind"] == "credential" and secret["agent"]["verdict"] == "agent"
    assert secret["owner"]["name"] == "Alice Martin" and secret["owner"]["status"] == "owned"
    assert secret["expires"] == (NOW + dt.timedelta(days=10)).strftime("%Y-%m-%dT%H:%M:%SZ")
    reach = secret["reach"]  # via its agent identities; "systems" counts those whose data it reaches
    assert reach["systems"] >= 2 and reach["systems"] + reach["without_data"] >= 3 and reach["admin"] is True
    assert "contoso-web-frontend" not in objs  # the ordinary web app is not an agent's
    table = run(db, "inventory", "--agents")
    assert "blueprint-prod" in table and "in 10d" in table


def test_reach_by_client_id(db: str) -> None:
    out = run(db, "reach", RESEARCH_CLIENT_ID, "--format", "json")
    assert out["from"]["type"] == "azure_app" and out["from"]["native_id"] == RESEARCH_CLIENT_ID
    systems = {s["name"]: s for s in out["systems"]}
    directory = systems["Entra directory Contoso Agents"]
    assert directory["access"] == "permissions-management" and directory["admin"] is True
    assert [h["edge"] for h in directory["path"]] == ["can_assume", "can_access"]
    assert directory["path"][-1]["grant"] == ["application permission Application.ReadWrite.All on Microsoft Graph"]
    assert systems["oai-contoso-agents"]["access"] == "write"  # Contributor on the resource group
    assert "kv-agents-prod" not in systems  # removed by the deny assignment
    assert "Fabrikam Analytics Connector" not in json.dumps(out)  # owning a foreign-tenant SP gives nothing


def test_reach_by_key_id_follows_the_blueprint_to_its_agents(db: str) -> None:
    out = run(db, "reach", BLUEPRINT_SECRET, "--format", "json")
    assert out["from"]["type"] == "azure_client_secret"
    systems = {s["name"]: s for s in out["systems"]}
    vault = systems["kv-agents-prod"]
    assert vault["access"] == "read" and vault["sensitivity"] == "high"
    assert [h["to_name"] for h in vault["path"]] == ["Helpdesk Agent Blueprint", "Helpdesk Agent (US)",
                                                     "kv-agents-prod"]
    storage = systems["stagentsdata"]
    assert storage["conditional"] is True  # an ABAC condition on the assignment
    assert "StringEquals 'helpdesk-kb'" in storage["path"][-1]["condition_keys"][0]
    assert run(db, "reach", RESEARCH_SECRET, "--format", "json")["systems"]


def test_show_and_findings(db: str) -> None:
    shown = run(db, "show", "55555555-0000-4000-8000-000000000002")
    assert "expired" in shown and "research-agent" in shown
    found = run(db, "findings", "--format", "json")["findings"]
    rules = {(f["rule"], f["subject_name"]) for f in found}
    assert ("AR-AGENT-ORPHANED", "Helpdesk Agent (US)") in rules
    assert any(f["subject_name"] == "blueprint-prod" and "EXPIR" in f["rule"] for f in found), rules


def test_no_secret_text_in_the_store_or_any_output(db: str) -> None:
    canaries = list(iter_secret_texts(load_estate(NOW)))
    assert len(canaries) == 4 and all("CANARY" in c for c in canaries)
    run(db, "inventory", "--format", "json")
    run(db, "graph", "export", "--format", "json")
    run(db, "report", "--format", "md")
    blob = b"".join(p.read_bytes() for p in Path(db).parent.glob(Path(db).name + "*"))
    assert len(blob) > 10_000 and b"blueprint-prod" in blob
    for canary in canaries:
        assert canary.encode() not in blob
        assert all(canary not in out for out in OUTPUTS)
    assert b"CANARY" not in blob and not any("CANARY" in out for out in OUTPUTS)
