"""The GCP connector against the shipped fakes: the real IAMClient over a real gRPC channel,
the real Resource Manager REST clients and plain REST over real sockets. Paging, a 403 on
one project, throttling, an API that stays unavailable, and no secret kept."""

from __future__ import annotations

import copy
import datetime as dt
import time
from typing import Any, Iterator

import pytest
from agentreach_connectors.gcp import GcpConnector
from agentreach_testing.demo.gcp import load_estate
from agentreach_testing.faults import Fault
from agentreach_testing.gcp_fake import CANARY, Faults, GcpFakes, start_fakes

from agentreach.connector import ScanContext
from agentreach.model import Credential, CredentialStatus, Edge, Identity, Policy, System, Workload

NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
AGENT_SA = "adk-agent@agents-prod.iam.gserviceaccount.com"
NEVER_USED_KEY = "3f1e0c7a9b2d4e6f8a1b3c5d7e9f0a2b4c6d8e0f"
EXPIRED_KEY = "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b"
ENGINE_AGENT = "service-123456789012@gcp-sa-aiplatform-re.iam.gserviceaccount.com"


def estate() -> dict[str, Any]:
    """The demo project, plus one project whose IAM API is denied and one denied entirely."""
    data = copy.deepcopy(load_estate())
    data["projects"] += [
        {"projectId": "data-lake", "number": "222222222222", "parent": "organizations/1001",
         "policy": {"bindings": [{"role": "roles/bigquery.dataViewer",
                                  "members": ["serviceAccount:reporting@agents-prod.iam.gserviceaccount.com"]}]},
         "serviceAccounts": [{"email": "etl@data-lake.iam.gserviceaccount.com", "uniqueId": "9"}],
         "datasets": [{"datasetId": "orders", "access": []}]},
        {"projectId": "locked-proj", "number": "333333333333", "parent": "organizations/1001"},
    ]
    return data


@pytest.fixture
def fakes() -> Iterator[GcpFakes]:
    f = start_fakes(estate(), NOW, Faults(denied={"data-lake": {"iam"}, "locked-proj": {"*"}}))
    yield f
    f.stop()


def scan(fakes: GcpFakes, **extra: Any) -> tuple[list[Any], ScanContext, GcpConnector]:
    ctx = ScanContext(clock=lambda: NOW)
    conn = GcpConnector(fakes.config(**extra))
    return list(conn.scan(ctx)), ctx, conn


def by_native(records: list[Any], cls: type) -> dict[str, Any]:
    return {r.native_id: r for r in records if isinstance(r, cls)}


def test_scan_reads_every_kind_of_object_through_the_real_clients(fakes: GcpFakes) -> None:
    records, ctx, conn = scan(fakes)
    idents = by_native(records, Identity)
    assert idents[AGENT_SA].type == "gcp_sa" and idents[AGENT_SA].attrs["owners"][0]["name"] == "alice@example.com"
    assert idents[AGENT_SA].last_used == NOW - dt.timedelta(days=2)
    assert idents[ENGINE_AGENT].type == "gcp_service_agent"
    assert any(i.type == "gcp_principal" and i.native_id.startswith("principal://agents.global.org-1001.")
               for i in idents.values())
    creds = by_native(records, Credential)
    never = creds[NEVER_USED_KEY]
    assert never.created == NOW - dt.timedelta(days=200) and never.expires is None and never.last_used is None
    assert never.attrs["last_used_source"] and never.status == CredentialStatus.ACTIVE
    expired = creds[EXPIRED_KEY]
    assert expired.status == CredentialStatus.EXPIRED and expired.expires == NOW - dt.timedelta(days=35)
    assert expired.last_used == NOW - dt.timedelta(days=40)
    assert "0000aaaa1111bbbb2222cccc3333dddd4444eeee" not in creds  # system-managed: counted, not a node
    assert idents[AGENT_SA].attrs["system_managed_keys"] == 1
    api_key = next(c for c in creds.values() if c.type == "gcp_api_key")
    assert api_key.attrs["api_targets"] == ["generativelanguage.googleapis.com"]
    provider = next(c for c in creds.values() if c.type == "gcp_wif_provider")
    assert provider.attrs["issuer"] == "https://token.actions.githubusercontent.com"
    assert provider.attrs["has_attribute_condition"] is False
    engines = {w.name: w for w in records if isinstance(w, Workload)}
    assert engines["support-agent"].attrs["runs_as_member"] == f"serviceAccount:{ENGINE_AGENT}"
    assert engines["triage-agent"].attrs["identity_type"] == "AGENT_IDENTITY"
    systems = {s.type: s for s in records if isinstance(s, System)}
    assert {"gcp_organization", "gcp_folder", "gcp_project", "gcp_bucket", "gcp_secret",
            "gcp_bigquery_dataset"} <= set(systems)
    project = by_native(records, System)["projects/agents-prod"]
    assert project.attrs["parent"] == "folders/2001" and project.resource_policy["version"] == 3
    dataset = by_native(records, System)["projects/agents-prod/datasets/customer_data"]
    assert {"role": "roles/bigquery.dataEditor", "members": [f"serviceAccount:{ENGINE_AGENT}"]} \
        in dataset.resource_policy["bindings"]
    public = by_native(records, System)["projects/_/buckets/agents-prod-public-docs"]
    assert public.attrs["public_members"] == ["allUsers"]
    conditional = by_native(records, System)["projects/_/buckets/agents-prod-artifacts"].resource_policy["bindings"][0]
    assert conditional["condition"]["title"] == "prompts only"
    policies = by_native(records, Policy)
    assert policies["roles/bigquery.dataEditor"].document["includedPermissions"]
    deny = next(p for p in policies.values() if p.type == "gcp_deny_policy")
    assert deny.document["rules"][0]["deniedPermissions"] == ["secretmanager.googleapis.com/versions.access"]
    # Paging: four service accounts and two pages of roles' worth of lists, at two per page.
    assert fakes.estate.calls["iam:ListServiceAccounts"] >= 2 and conn.api_calls["iam:ListServiceAccounts"] >= 2
    assert fakes.estate.calls["iam:GetRole"] == len([p for p in policies.values() if p.type == "gcp_role"])


def test_a_denied_project_is_a_gap_and_the_scan_goes_on(fakes: GcpFakes) -> None:
    records, ctx, _ = scan(fakes)
    gaps = {(g.account, g.operation, g.error_code) for g in ctx.gaps.gaps}
    assert ("data-lake", "ListServiceAccounts", "PERMISSION_DENIED") in gaps
    assert ("locked-proj", "projects.get", "PERMISSION_DENIED") in gaps
    assert all(g.connector == "gcp" for g in ctx.gaps.gaps)
    assert not [g for g in ctx.gaps.gaps if g.account == "agents-prod"]
    natives = {r.native_id for r in records if not isinstance(r, Edge)}
    # data-lake: IAM denied, everything else read; locked-proj: nothing, and nothing more tried.
    assert {"projects/data-lake", "projects/data-lake/datasets/orders"} <= natives
    assert "etl@data-lake.iam.gserviceaccount.com" not in natives and "projects/locked-proj" not in natives
    assert not any(c.startswith("bigquery") for c in fakes.estate.calls if "locked" in c)
    msg = next(g.message for g in ctx.gaps.gaps if g.account == "locked-proj")
    assert "403" in msg and "denied" in msg


def test_throttling_is_retried_with_short_backoff(fakes: GcpFakes) -> None:
    fakes.faults.throttle.update({"apikeys": 2, "iam": 1})
    fakes.faults.unavailable.update({"resourcemanager": 1})
    started = time.monotonic()
    records, ctx, _ = scan(fakes, projects=["agents-prod"])
    assert time.monotonic() - started < 5
    assert not ctx.gaps.gaps
    assert any(isinstance(r, Credential) and r.type == "gcp_api_key" for r in records)
    assert fakes.estate.calls["apikeys:api_keys"] == 3  # two 429s, then the answer
    assert fakes.faults.throttle == {"apikeys": 0, "iam": 0}


def test_an_api_that_stays_unavailable_becomes_a_gap_after_max_attempts(fakes: GcpFakes) -> None:
    fakes.add(Fault("unavailable", api="secretmanager"))
    records, ctx, _ = scan(fakes, projects=["agents-prod"], max_attempts=2)
    gap = next(g for g in ctx.gaps.gaps if g.service == "secretmanager")
    assert (gap.operation, gap.error_code, gap.account) == ("secrets.list", "UNAVAILABLE", "agents-prod")
    assert fakes.estate.calls["secretmanager:secrets"] == 2
    assert any(isinstance(r, System) and r.type == "gcp_bigquery_dataset" for r in records)


def test_an_unreachable_endpoint_is_a_gap_not_a_hang(fakes: GcpFakes) -> None:
    started = time.monotonic()
    cfg_endpoints = {**fakes.config()["endpoints"], "policyanalyzer": "http://127.0.0.1:9"}
    records, ctx, _ = scan(fakes, projects=["agents-prod"], endpoints=cfg_endpoints, max_attempts=2)
    assert time.monotonic() - started < 10
    gap = next(g for g in ctx.gaps.gaps if g.service == "policyanalyzer")
    assert gap.error_code == "UNAVAILABLE"
    key = by_native(records, Credential)[NEVER_USED_KEY]
    assert key.last_used is None and key.attrs["last_used_source"] is None  # unknown, not "never used"


def test_an_api_not_enabled_in_a_project_is_named_so(fakes: GcpFakes) -> None:
    fakes.add(Fault("disabled", api="apikeys", scope="agents-prod"))
    _, ctx, _ = scan(fakes, projects=["agents-prod"])
    assert [(g.operation, g.error_code) for g in ctx.gaps.gaps] == [("keys.list", "SERVICE_DISABLED")]


def test_no_secret_value_is_read_or_kept(fakes: GcpFakes) -> None:
    records, _, _ = scan(fakes)
    text = repr(records)
    assert CANARY not in text
    assert not [r for r in fakes.rest.requests if "keyString" in r]


def test_missing_application_default_credentials_is_a_gap(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(tmp_path / "absent.json"))
    ctx = ScanContext()
    assert list(GcpConnector({"projects": ["agents-prod"]}).scan(ctx)) == []
    assert [g.operation for g in ctx.gaps.gaps] == ["Credentials"]


def test_listing_every_visible_project_when_none_are_configured(fakes: GcpFakes) -> None:
    records, ctx, _ = scan(fakes, projects=[])
    projects = {r.native_id: r for r in records if isinstance(r, System) and r.type == "gcp_project"}
    assert set(projects) == {"projects/agents-prod", "projects/data-lake", "projects/locked-proj"}
    # Search shows the locked project; each of its APIs then answers 403, each one a gap.
    assert projects["projects/locked-proj"].attrs["policy_readable"] is False
    locked = {g.service for g in ctx.gaps.gaps if g.account == "locked-proj"}
    assert {"resourcemanager", "iam", "apikeys", "storage", "bigquery"} <= locked
    assert fakes.estate.calls["resourcemanager:search_projects"] == 2  # three projects, two per page


# -- people, groups and conditional dataset access (issue 14) -----------------------------------

def test_groups_in_bindings_come_with_their_members_and_dataset_conditions_are_kept() -> None:
    data = estate()
    project = next(p for p in data["projects"] if p["projectId"] == "data-lake")
    project["datasets"] = [{"datasetId": "orders", "access": [
        {"role": "READER", "userByEmail": "dana@example.com",
         "condition": {"title": "until 2030", "expression": 'request.time < timestamp("2030-01-01T00:00:00Z")'}},
        {"role": "READER", "groupByEmail": "cloud-admins@example.com"}]}]
    fakes = start_fakes(data, NOW, Faults(denied={"data-lake": {"iam"}, "locked-proj": {"*"}}))
    try:
        records, ctx, _ = scan(fakes)
    finally:
        fakes.stop()
    idents = by_native(records, Identity)
    admins = idents["cloud-admins@example.com"]
    assert admins.type == "gcp_group" and admins.attrs["members_readable"] is True
    members = {e.src for e in records if isinstance(e, Edge) and e.kind.value == "member_of" and e.dst == admins.id}
    assert {idents["alice@example.com"].id, idents["bob@example.com"].id} <= members  # bob through a nested group
    assert idents["bob@example.com"].type == "gcp_user" and idents["bob@example.com"].attrs["human"] is True
    orders = next(r for r in records if isinstance(r, System) and r.name == "orders")
    conditional = [b for b in orders.resource_policy["bindings"] if b.get("condition")]
    assert conditional == [{"role": "roles/bigquery.dataViewer", "members": ["user:dana@example.com"],
                            "condition": {"title": "until 2030",
                                          "expression": 'request.time < timestamp("2030-01-01T00:00:00Z")'}}]
    assert not any(g.operation in ("groups.lookup", "memberships.searchTransitiveMemberships") for g in ctx.gaps.gaps)


def test_an_unreadable_group_is_a_gap_and_keeps_the_group() -> None:
    data = estate()
    data["groups"] = []
    fakes = start_fakes(data, NOW, Faults(denied={"data-lake": {"iam"}, "locked-proj": {"*"}}))
    try:
        records, ctx, _ = scan(fakes)
    finally:
        fakes.stop()
    group = by_native(records, Identity)["cloud-admins@example.com"]
    assert group.attrs["members_readable"] is False
    assert any(g.operation == "groups.lookup" and g.error_code for g in ctx.gaps.gaps)
