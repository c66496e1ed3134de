"""The AWS connector against a real moto server over HTTP, with real boto3 clients.

The estate is the demo's (two accounts, seeded with back-dated creation and last-use
dates); the front door answers ListServiceSpecificCredentials, which moto lacks.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from agentreach.connector import ScanContext
from agentreach.model import Credential, Identity, Workload
from agentreach.scan import prepare, run_scan
from agentreach.store import Store

from .conftest import aws_config


def scan(endpoint: str, estate: Any, tmp_path: Path, **extra: Any):
    config = aws_config(endpoint, estate, **extra)
    store = Store(tmp_path / "inv.db")
    result = run_scan(store, config, prepare(config), ScanContext())
    nodes = {n.node.id: n.node for n in store.nodes(result.snapshot.id)}
    edges = store.edges(result.snapshot.id)
    return result, nodes, edges


@pytest.fixture(scope="module")
def scanned(seeded_estate: Any, frontdoor_session: Any, tmp_path_factory: pytest.TempPathFactory):
    frontdoor_session.reset_counts()
    result, nodes, edges = scan(frontdoor_session.url, seeded_estate, tmp_path_factory.mktemp("scan"))
    return result, nodes, edges, dict(frontdoor_session.calls)


def by(nodes: dict[str, Any], type_: str, account: str | None = None) -> dict[str, Any]:
    return {n.name: n for n in nodes.values() if n.type == type_ and (account is None or n.account == account)}


def close(a: dt.datetime | None, b: Any) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if isinstance(b, str):
        b = dt.datetime.fromisoformat(b)
    return abs((a - b).total_seconds()) < 2


def test_scan_completes_cleanly_in_both_accounts(scanned: Any, seeded_estate: Any) -> None:
    result, nodes, _, _ = scanned
    assert result.snapshot.status == "complete"
    assert result.gaps == [], [g.to_dict() for g in result.gaps]
    assert result.exit_code == 0
    assert {n.account for n in nodes.values() if n.type == "aws_account"} == set(seeded_estate.accounts)


def test_users_keys_and_dates_read_back(scanned: Any, seeded_estate: Any) -> None:
    _, nodes, edges, _ = scanned
    auth = {(e["src"], e["dst"]) for e in edges if e["kind"] == "authenticates"}
    for account, exp in seeded_estate.expected["accounts"].items():
        users = by(nodes, "aws_iam_user", account)
        assert set(users) == set(exp["users"])
        for name, u in exp["users"].items():
            node: Identity = users[name]
            assert node.native_id == u["arn"]
            assert node.tags == u["tags"]
            for k in u["access_keys"]:
                cred: Credential = nodes[f"aws:access_key:{k['id']}"]
                assert (cred.id, node.id) in auth
                assert cred.status.value == ("active" if k["status"] == "Active" else "disabled")
                assert close(cred.created, k["created"]), (name, cred.created, k["created"])
                assert close(cred.last_used, k["last_used"]), (name, cred.last_used, k["last_used"])
                # moto's report says not_supported for the service and region of last use;
                # test_aws_transform checks them on a real AWS report row.
            if u["password_last_used"]:
                assert close(node.last_used, max(
                    [dt.datetime.fromisoformat(str(u["password_last_used"]))] +
                    [dt.datetime.fromisoformat(str(k["last_used"])) for k in u["access_keys"] if k["last_used"]]))
            if u["console"]:
                assert f"aws:console_password:{u['arn']}" in nodes


def test_roles_trust_policies_and_last_used(scanned: Any, seeded_estate: Any) -> None:
    _, nodes, _, _ = scanned
    for account, exp in seeded_estate.expected["accounts"].items():
        roles = by(nodes, "aws_iam_role", account)
        assert set(exp["roles"]) <= set(roles)
        for name, r in exp["roles"].items():
            role: Identity = roles[name]
            assert role.attrs["trust_policy"]["Statement"], name
            if r.get("last_used"):
                assert close(role.last_used, r["last_used"]), (name, role.last_used, r["last_used"])
    exec_role = by(nodes, "aws_iam_role")["support-agent-exec"]
    principals = [s["Principal"] for s in exec_role.attrs["trust_policy"]["Statement"]]
    assert {"Service": "bedrock.amazonaws.com"} in principals


def test_groups_policies_and_boundaries(scanned: Any, seeded_estate: Any) -> None:
    _, nodes, edges, _ = scanned
    main = seeded_estate.expected["main_account"]
    exp = seeded_estate.expected["accounts"][main]
    groups = by(nodes, "aws_iam_group", main)
    assert set(exp["groups"]) <= set(groups)
    members = {(e["src"], e["dst"]) for e in edges if e["kind"] == "member_of"}
    alice = by(nodes, "aws_iam_user", main)["alice"]
    assert (alice.id, groups["ml-engineers"].id) in members
    policies = by(nodes, "aws_iam_policy")
    for name in exp["managed_policies"]:
        assert policies[name].document["Statement"], name
    attached = {(e["src"], e["attrs"]["policy_arn"], e["attrs"]["attachment"]) for e in edges if e["kind"] == "has_policy"}
    svc = by(nodes, "aws_iam_user", main)["support-agent-svc"]
    assert (svc.id, exp["managed_policies"]["AgentBedrockInvoke"], "managed") in attached
    assert any(a == "boundary" for _, _, a in attached), "the estate has a permissions boundary"


def test_certificates_secrets_and_service_credentials(scanned: Any, seeded_estate: Any) -> None:
    _, nodes, _, _ = scanned
    certs = by(nodes, "aws_acm_certificate")
    assert {c.status.value for c in certs.values()} == {"active", "expired"}
    for cert in certs.values():
        assert cert.expires is not None
        assert (cert.status.value == "expired") == (cert.expires < dt.datetime.now(dt.timezone.utc))
    assert by(nodes, "aws_iam_server_certificate")
    secrets = by(nodes, "aws_secretsmanager_secret")
    main = seeded_estate.expected["main_account"]
    assert set(seeded_estate.expected["accounts"][main]["secrets"]) <= set(secrets)
    assert any(s.attrs["rotation"]["enabled"] for s in secrets.values())
    assert any(not s.attrs["rotation"]["enabled"] for s in secrets.values())
    assert any(s.region == "eu-west-1" for s in secrets.values())
    assert any(s.resource_policy for s in secrets.values())
    keys = by(nodes, "aws_bedrock_api_key")
    assert keys and all(k.expires for k in keys.values())
    ssc_ids = {i["ServiceSpecificCredentialId"] for items in seeded_estate.service_specific_credentials.values()
               for i in items}
    assert ssc_ids == {n.native_id for n in nodes.values() if n.id.startswith("aws:service_credential:")}


def test_agents_and_workloads_run_as_their_roles(scanned: Any, seeded_estate: Any) -> None:
    _, nodes, edges, _ = scanned
    runs_as = {e["src"]: nodes.get(e["dst"]) for e in edges if e["kind"] == "runs_as" and e["key"] != "execution"}
    expect = {
        "aws_bedrock_agent": "support-agent-exec", "aws_agentcore_runtime": "research-agent-runtime",
        "aws_ecs_task_definition": "rag-worker-task", "aws_ec2_instance": "batch-ec2",
    }
    for type_, role in expect.items():
        workloads = by(nodes, type_)
        assert workloads, type_
        assert any(runs_as[w.id] is not None and runs_as[w.id].name == role for w in workloads.values()), type_
    tools: Workload = by(nodes, "aws_lambda_function")["support-agent-tools"]
    assert runs_as[tools.id].name == "agent-tools-lambda"
    assert "OPENAI_API_KEY" in tools.env_var_names
    statement = tools.attrs["resource_policy"]["Statement"][0]
    assert statement["Principal"] == {"Service": "bedrock.amazonaws.com"}
    assert by(nodes, "aws_agentcore_gateway")


def test_reachable_systems_with_their_policies(scanned: Any) -> None:
    _, nodes, _, _ = scanned
    buckets = by(nodes, "aws_s3_bucket")
    pii = buckets["acme-customer-pii"]
    assert pii.resource_policy["Statement"] and pii.tags.get("data-classification") == "restricted"
    assert by(nodes, "aws_dynamodb_table")["customer-orders"]
    kms = [k for k in by(nodes, "aws_kms_key").values() if "alias/pii" in k.attrs["aliases"]]
    assert kms and kms[0].resource_policy["Statement"]


def test_api_calls_grow_with_pages_not_identities(scanned: Any, seeded_estate: Any) -> None:
    result, nodes, _, calls = scanned
    users = sum(len(a["users"]) for a in seeded_estate.expected["accounts"].values())
    holders = sum(1 for a in seeded_estate.expected["accounts"].values()
                  for u in a["users"].values() if u["access_keys"])
    assert calls.get(("iam", "ListAccessKeys"), 0) == holders < users
    assert calls.get(("iam", "GetAccessKeyLastUsed"), 0) == 0  # the credential report had it
    assert calls.get(("iam", "GetRole"), 0) == 0  # GetAccountAuthorizationDetails had RoleLastUsed
    assert calls.get(("iam", "ListUsers"), 0) == 0
    assert calls[("iam", "GetAccountAuthorizationDetails")] == len(seeded_estate.accounts)
    api = result.runs[0].api_calls
    assert api["iam:ListAccessKeys"] == holders


def test_secret_values_never_reach_the_records(scanned: Any, seeded_estate: Any) -> None:
    _, nodes, _, _ = scanned
    blob = repr([n.to_dict() for n in nodes.values()])
    leaked = [c for c in seeded_estate.canaries if c in blob]
    assert not leaked
