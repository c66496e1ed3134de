"""End to end through the command line, as a user would: the shipped demo project served by
the fakes, ``agentreach scan --only gcp``, then inventory, reach, path and findings."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml
from agentreach_testing.demo.gcp import demo_project
from agentreach_testing.gcp_fake import CANARY
from click.testing import CliRunner

from agentreach.cli import main

NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
AGENT_SA = "adk-agent@agents-prod.iam.gserviceaccount.com"
CI_SA = "ci-deployer@agents-prod.iam.gserviceaccount.com"
NEVER_USED_KEY = "3f1e0c7a9b2d4e6f8a1b3c5d7e9f0a2b4c6d8e0f"
EXPIRED_KEY = "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b"
ENGINE_AGENT = "service-123456789012@gcp-sa-aiplatform-re.iam.gserviceaccount.com"


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("gcp")
    with demo_project(NOW) as section:
        cfg = tmp / "cfg.yaml"
        cfg.write_text(yaml.safe_dump({"connectors": {"gcp": section}}))
        db = str(tmp / "inv.db")
        result = CliRunner().invoke(main, ["--db", db, "--config", str(cfg), "-q", "scan", "--only", "gcp"])
        yield {"db": db, "cfg": str(cfg), "scan": result}


def run(scanned: dict[str, Any], *args: str) -> Any:
    result = CliRunner().invoke(main, ["--db", scanned["db"], "--config", scanned["cfg"], *args])
    assert result.exit_code == 0, result.output
    return result


def as_json(scanned: dict[str, Any], *args: str) -> Any:
    return json.loads(run(scanned, *args, "--format", "json").output)


def test_the_demo_project_scans_clean(scanned: dict[str, Any]) -> None:
    result = scanned["scan"]
    assert result.exit_code == 0, result.output
    assert "snapshot 1: complete" in result.output and "0 coverage gaps" in result.output


def test_inventory_agents_lists_agent_identities_and_keys_with_age_expiry_and_last_use(scanned: dict[str, Any]) -> None:
    objects = {o["native_id"]: o for o in as_json(scanned, "inventory", "--agents")["objects"]}
    assert objects[ENGINE_AGENT]["agent"]["verdict"] == "agent"
    assert any(k.startswith("principal://agents.global.org-1001.") and v["agent"]["verdict"] == "agent"
               for k, v in objects.items())
    never = objects[NEVER_USED_KEY]
    assert never["type"] == "gcp_sa_key" and never["last_used"] is None and never["expires"] is None
    assert never["created"] == (NOW - dt.timedelta(days=200)).isoformat().replace("+00:00", "Z")
    assert never["stale"]["value"] is True and {"never_used", "unused", "rotation_overdue"} <= {
        r["code"] for r in never["stale"]["reasons"]}
    assert never["owner"]["name"] == "alice@example.com"  # the SA's description convention, borrowed
    expired = objects[EXPIRED_KEY]
    assert expired["status"] == "expired" and expired["last_used"] is not None and expired["expires"] is not None
    sa = objects[AGENT_SA]
    assert sa["last_used"] is not None and sa["owner"]["status"] == "owned"
    api_key = next(o for o in objects.values() if o["type"] == "gcp_api_key")
    assert api_key["agent"]["verdict"] in ("agent", "possible")
    assert "123456789012-compute@developer.gserviceaccount.com" not in objects  # an ordinary SA is no agent


def test_reach_of_a_service_account_email_and_of_a_key_id(scanned: dict[str, Any]) -> None:
    by_email = {s["name"]: s for s in as_json(scanned, "reach", AGENT_SA)["systems"]}
    by_key = {s["name"]: s for s in as_json(scanned, "reach", NEVER_USED_KEY)["systems"]}
    assert set(by_email) == set(by_key) and "customer_data" in by_key
    hops = [h["edge"] for h in by_key["customer_data"]["path"]]
    assert hops == ["authenticates", "can_assume", "can_access"]  # the key, its SA, reporting, the dataset
    assert "inherited from folders/2001" in by_key["customer_data"]["path"][-1]["grant"][0]


def test_the_agent_engine_service_agent_reaches_the_customer_dataset_for_write(scanned: dict[str, Any]) -> None:
    systems = {s["name"]: s for s in as_json(scanned, "reach", ENGINE_AGENT)["systems"]}
    assert systems["customer_data"]["access"] == "write" and systems["customer_data"]["sensitivity"] == "high"
    engine = {s["name"]: s for s in as_json(scanned, "reach", "support-agent")["systems"]}
    assert engine["customer_data"]["path"][0]["edge"] == "runs_as"


def test_impersonation_two_hops_deep_shows_in_path_and_reach(scanned: dict[str, Any]) -> None:
    paths = as_json(scanned, "path", CI_SA, "customer_data")["paths"]
    shortest = [(h["from_name"], h["edge"], h["to_name"]) for h in paths[0]]
    assert shortest == [("ci-deployer", "can_assume", "adk-agent"), ("adk-agent", "can_assume", "reporting"),
                        ("reporting", "can_access", "customer_data")]
    systems = {s["name"]: s for s in as_json(scanned, "reach", CI_SA)["systems"]}
    assert "openai-api-key" not in systems  # the deny policy removed secretmanager.versions.access
    bucket = systems["agents-prod-artifacts"]
    assert bucket["access"] == "write" and bucket["conditional"] is False  # via reporting's objectAdmin
    direct = {s["name"]: s for s in as_json(scanned, "reach", AGENT_SA, "--depth", "1")["systems"]}
    assert direct["agents-prod-artifacts"]["conditional"] is True  # its own, conditional, binding
    assert "startsWith" in direct["agents-prod-artifacts"]["path"][0]["condition_keys"][0]


def test_federated_github_identities_reach_through_the_ci_account(scanned: dict[str, Any]) -> None:
    inv = as_json(scanned, "inventory", "--kind", "credential")["objects"]
    provider = next(o for o in inv if o["type"] == "gcp_wif_provider")
    systems = {s["name"]: s for s in as_json(scanned, "reach", provider["id"])["systems"]}
    assert "customer_data" in systems
    path = systems["customer_data"]["path"]
    assert [h["edge"] for h in path][:2] == ["authenticates", "can_assume"]
    assert path[1]["conditional"] is True and "attribute.repository/example/agents" in path[1]["condition_keys"][0]
    assert path[0]["grant"].endswith("(no attribute condition)")


def test_findings_name_the_gcp_problems(scanned: dict[str, Any]) -> None:
    findings = as_json(scanned, "findings")["findings"]
    pairs = {(f["rule"], f["subject_name"]) for f in findings}
    assert ("AR-CREDENTIAL-EXPIRY", f"{AGENT_SA.split('@')[0]} key {EXPIRED_KEY[:12]}") in pairs
    assert any(rule == "AR-AGENT-SENSITIVE-REACH" and name == ENGINE_AGENT for rule, name in pairs)


def test_no_secret_reaches_the_store_or_any_output(scanned: dict[str, Any]) -> None:
    outputs = [run(scanned, *args).output for args in (
        ["inventory", "--format", "json"], ["reach", NEVER_USED_KEY, "--format", "json"],
        ["findings", "--format", "json"], ["show", NEVER_USED_KEY, "--format", "json"])]
    assert not [o for o in outputs if CANARY in o]
    assert CANARY.encode() not in Path(scanned["db"]).read_bytes()


def test_a_denied_project_makes_the_scan_exit_3_with_the_gap_shown(tmp_path: Path) -> None:
    with demo_project(NOW) as section:
        section["projects"] = ["agents-prod", "no-access-proj"]
        cfg = tmp_path / "cfg.yaml"
        cfg.write_text(yaml.safe_dump({"connectors": {"gcp": section}}))
        result = CliRunner().invoke(main, ["--db", str(tmp_path / "x.db"), "--config", str(cfg), "-q", "scan",
                                           "--only", "gcp", "--format", "json"])
    assert result.exit_code == 3, result.output
    gaps = json.loads(result.output)["coverage_gaps"]
    assert [(g["account"], g["operation"], g["error_code"]) for g in gaps] == [
        ("no-access-proj", "projects.get", "PERMISSION_DENIED")]
