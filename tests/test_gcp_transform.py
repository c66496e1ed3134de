"""GCP transforms on recorded answers shaped like Google's API reference: pure functions,
no server. Each test feeds the JSON a real API returns and checks the records."""

from __future__ import annotations

import datetime as dt

import pytest
from agentreach_connectors.gcp import GcpConnector, activity, apikeys, iam_admin, policies, resources, vertex, wif
from agentreach_connectors.gcp.config import DEFAULT_OWNER_CONVENTIONS
from agentreach_connectors.gcp.members import member_identity, policy_member_identities

from agentreach.connector import ConnectorConfigError
from agentreach.model import Credential, CredentialStatus, Edge, Identity, Policy, System, Workload

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)
SA = "adk-agent@agents-prod.iam.gserviceaccount.com"


def _key(kid: str, **over: object) -> dict:
    key = {"name": f"projects/agents-prod/serviceAccounts/{SA}/keys/{kid}", "keyAlgorithm": "KEY_ALG_RSA_2048",
           "keyOrigin": "GOOGLE_PROVIDED", "keyType": "USER_MANAGED", "validAfterTime": "2025-11-13T10:00:00Z",
           "validBeforeTime": "9999-12-31T23:59:59Z", "disabled": False}
    key.update(over)
    return key


def _raw(keys: list[dict], **sa_over: object) -> iam_admin.RawIam:
    sa = {"name": f"projects/agents-prod/serviceAccounts/{SA}", "projectId": "agents-prod",
          "uniqueId": "110000000000000000001", "email": SA, "displayName": "ADK support agent",
          "description": "support bot. owner: alice@example.com", "disabled": False}
    sa.update(sa_over)
    return iam_admin.RawIam("agents-prod", accounts=[sa], keys={SA: keys},
                            policies={SA: {"version": 3, "bindings": [{"role": "roles/iam.serviceAccountTokenCreator",
                                                                       "members": ["serviceAccount:ci@p.iam.gserviceaccount.com"]}]}})


def test_user_managed_keys_become_credentials_with_age_expiry_and_status() -> None:
    raw = _raw([
        _key("aaaa1111"),
        _key("bbbb2222", validAfterTime="2025-01-01T00:00:00Z", validBeforeTime="2026-05-01T00:00:00Z"),
        _key("cccc3333", disabled=True, disableReason="SERVICE_ACCOUNT_KEY_DISABLE_REASON_EXPOSED"),
        _key("dddd4444", keyType="SYSTEM_MANAGED", validBeforeTime="2026-06-10T00:00:00Z"),
    ])
    last = activity.transform([], [{"activity": {"lastAuthenticatedTime": "2026-05-20T08:00:00Z",
                                                 "serviceAccountKey": {"serviceAccountKeyId": "bbbb2222"}}}])
    recs = list(iam_admin.transform(raw, NOW, conventions=DEFAULT_OWNER_CONVENTIONS, key_last_auth=last.keys,
                                    activity_source=last.source))
    creds = {r.native_id: r for r in recs if isinstance(r, Credential)}
    assert set(creds) == {"aaaa1111", "bbbb2222", "cccc3333"}  # the system-managed key is no node
    never = creds["aaaa1111"]
    assert never.expires is None and never.status == CredentialStatus.ACTIVE and never.last_used is None
    assert never.created == dt.datetime(2025, 11, 13, 10, tzinfo=dt.timezone.utc)
    assert never.attrs["last_used_source"]  # usage was read: no time means never used
    assert never.name.endswith(" key aaaa1111") and never.attrs["key_name"].endswith("/keys/aaaa1111") and never.attrs["key_origin"] == "GOOGLE_PROVIDED"
    assert creds["bbbb2222"].status == CredentialStatus.EXPIRED
    assert creds["bbbb2222"].last_used == dt.datetime(2026, 5, 20, 8, tzinfo=dt.timezone.utc)
    assert creds["cccc3333"].status == CredentialStatus.DISABLED
    assert creds["cccc3333"].attrs["disable_reason"] == "SERVICE_ACCOUNT_KEY_DISABLE_REASON_EXPOSED"
    sa = next(r for r in recs if isinstance(r, Identity))
    assert sa.type == "gcp_sa" and sa.native_id == SA and sa.name == "adk-agent" and sa.account == "agents-prod"
    assert sa.attrs["system_managed_keys"] == 1 and sa.attrs["user_managed_keys"] == 3
    assert sa.attrs["owners"] == [{"name": "alice@example.com", "email": "alice@example.com",
                                   "via": "description convention"}]
    assert sa.attrs["resource_policy"]["bindings"][0]["role"] == "roles/iam.serviceAccountTokenCreator"
    edges = [r for r in recs if isinstance(r, Edge)]
    assert {(e.src, e.dst, e.kind.value) for e in edges} == {
        (f"gcp:sa_key:{k}", f"gcp:sa:{SA}", "authenticates") for k in ("aaaa1111", "bbbb2222", "cccc3333")}


def test_without_activity_data_a_missing_last_use_claims_nothing() -> None:
    recs = list(iam_admin.transform(_raw([_key("aaaa1111")], disabled=True), NOW))
    sa = next(r for r in recs if isinstance(r, Identity))
    key = next(r for r in recs if isinstance(r, Credential))
    assert sa.enabled is False and "owners" not in sa.attrs  # no convention configured
    assert key.attrs["last_used_source"] is None and sa.attrs["last_used_source"] is None


def test_owner_conventions_read_the_display_name_too() -> None:
    got = iam_admin.owners_from([("description", "nothing here"), ("display_name", "bot [owner=team-ml]")],
                                DEFAULT_OWNER_CONVENTIONS)
    assert got == [{"name": "team-ml", "via": "display_name convention"}]
    assert iam_admin.owners_from([("description", "owned by nobody")], DEFAULT_OWNER_CONVENTIONS) == []


def test_activity_keeps_the_latest_time_per_account_and_key() -> None:
    sa_full = f"//iam.googleapis.com/projects/agents-prod/serviceAccounts/{SA}"
    got = activity.transform(
        [{"fullResourceName": sa_full, "activityType": "serviceAccountLastAuthentication",
          "activity": {"lastAuthenticatedTime": "2026-05-01T00:00:00Z", "serviceAccount": {"fullResourceName": sa_full}}},
         {"fullResourceName": sa_full, "activity": {"lastAuthenticatedTime": "2026-05-03T00:00:00Z"}}],
        [{"fullResourceName": f"{sa_full}/keys/abc", "activity": {"lastAuthenticatedTime": "2026-04-01T00:00:00Z"}}])
    assert got.accounts == {SA: dt.datetime(2026, 5, 3, tzinfo=dt.timezone.utc)}
    assert got.keys == {"abc": dt.datetime(2026, 4, 1, tzinfo=dt.timezone.utc)}


def test_api_keys_keep_targets_and_restrictions_but_never_the_key_string() -> None:
    key = {"name": "projects/123/locations/global/keys/k1", "uid": "5b1f-uid", "displayName": "gemini-prototype",
           "createTime": "2026-01-01T00:00:00Z", "keyString": "AIzaSy-NEVER-KEEP",
           "restrictions": {"serverKeyRestrictions": {"allowedIps": ["203.0.113.0/24"]},
                            "apiTargets": [{"service": "generativelanguage.googleapis.com"}]},
           "serviceAccountEmail": SA}
    recs = list(apikeys.transform([key], "agents-prod"))
    cred = recs[0]
    assert isinstance(cred, Credential) and cred.type == "gcp_api_key" and cred.native_id == "5b1f-uid"
    assert cred.attrs["api_targets"] == ["generativelanguage.googleapis.com"]
    assert cred.attrs["restrictions"]["application"] == ["server"]
    assert "AIzaSy" not in repr(recs)
    assert isinstance(recs[1], Edge) and recs[1].dst == f"gcp:sa:{SA}"
    unrestricted = next(iter(apikeys.transform([{"name": "projects/1/locations/global/keys/k2", "uid": "u2"}], "p")))
    assert unrestricted.attrs["api_restricted"] is False and unrestricted.attrs["restrictions"]["application"] == ["none"]


def test_wif_provider_authenticates_as_the_pool_and_reports_its_condition() -> None:
    pool = {"name": "projects/123/locations/global/workloadIdentityPools/github-pool", "displayName": "GitHub"}
    providers = [
        {"name": f"{pool['name']}/providers/open", "oidc": {"issuerUri": "https://token.actions.githubusercontent.com"},
         "attributeMapping": {"google.subject": "assertion.sub"}},
        {"name": f"{pool['name']}/providers/scoped", "oidc": {"issuerUri": "https://token.actions.githubusercontent.com"},
         "attributeCondition": "assertion.repository_owner == 'example'"},
    ]
    recs = list(wif.transform([(pool, providers)], "agents-prod"))
    ident = recs[0]
    assert ident.type == "gcp_principal"
    assert ident.native_id == "principalSet://iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/github-pool/*"
    creds = {r.native_id.rsplit("/", 1)[-1]: r for r in recs if isinstance(r, Credential)}
    assert creds["open"].attrs["has_attribute_condition"] is False and creds["open"].attrs["multi_tenant_issuer"]
    assert creds["scoped"].attrs["attribute_condition"] == "assertion.repository_owner == 'example'"
    assert all(e.dst == ident.id for e in recs if isinstance(e, Edge))


@pytest.mark.parametrize(("spec", "member"), [
    ({}, "serviceAccount:service-123@gcp-sa-aiplatform-re.iam.gserviceaccount.com"),
    ({"serviceAccount": SA, "identityType": "SERVICE_ACCOUNT"}, f"serviceAccount:{SA}"),
    ({"identityType": "AGENT_IDENTITY"}, "principal://agents.global.org-42.system.id.goog/resources/aiplatform/"
                                         "projects/123/locations/us-central1/reasoningEngines/9"),
])
def test_reasoning_engines_run_as_their_identity(spec: dict, member: str) -> None:
    eng = {"name": "projects/123/locations/us-central1/reasoningEngines/9", "displayName": "agent",
           "createTime": "2026-01-01T00:00:00Z", "spec": spec}
    assert vertex.runs_as(eng, "123", "42")[1] == member
    recs = list(vertex.transform([eng], "agents-prod", "123", "42", {SA.lower()}, {"123": "agents-prod"}))
    wl = recs[0]
    assert isinstance(wl, Workload) and wl.type == "gcp_reasoning_engine" and wl.region == "us-central1"
    runs = [r for r in recs if isinstance(r, Edge)]
    assert len(runs) == 1 and runs[0].kind.value == "runs_as"
    if not spec:
        agent = next(r for r in recs if isinstance(r, Identity))
        assert agent.type == "gcp_service_agent" and agent.attrs["service"] == "gcp-sa-aiplatform-re"
        assert agent.account == "agents-prod"


def test_policy_members_become_identities_except_people() -> None:
    policy = {"bindings": [{"role": "roles/bigquery.dataEditor", "members": [
        "serviceAccount:service-123@gcp-sa-aiplatform-re.iam.gserviceaccount.com", "user:alice@example.com",
        "group:admins@example.com", "domain:example.com", "allUsers", f"serviceAccount:{SA}",
        "serviceAccount:etl@other-proj.iam.gserviceaccount.com",
        "principal://agents.global.org-42.system.id.goog/resources/aiplatform/projects/123/locations/l/reasoningEngines/1",
        "principalSet://iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/gh/attribute.repository/x/y",
    ]}]}
    got = policy_member_identities([policy], {SA.lower()}, {"123": "agents-prod"},
                                   {"projects/123/locations/global/workloadIdentityPools/gh"})
    types = {i.native_id: i.type for i in got.values()}
    assert types == {
        "service-123@gcp-sa-aiplatform-re.iam.gserviceaccount.com": "gcp_service_agent",
        "etl@other-proj.iam.gserviceaccount.com": "gcp_sa",
        "principal://agents.global.org-42.system.id.goog/resources/aiplatform/projects/123/locations/l/reasoningEngines/1":
            "gcp_principal",
    }
    assert member_identity("user:alice@example.com", set(), {}) is None


def test_dataset_access_entries_become_bindings() -> None:
    pol = resources.dataset_policy([
        {"role": "WRITER", "userByEmail": "service-123@gcp-sa-aiplatform-re.iam.gserviceaccount.com"},
        {"role": "READER", "userByEmail": "bob@example.com"},
        {"role": "roles/bigquery.dataViewer", "iamMember": "principal://x"},
        {"role": "OWNER", "specialGroup": "projectOwners"},
        {"view": {"projectId": "p", "datasetId": "d", "tableId": "v"}},
    ])
    roles = {b["role"]: b["members"] for b in pol["bindings"]}
    assert roles["roles/bigquery.dataEditor"] == ["serviceAccount:service-123@gcp-sa-aiplatform-re.iam.gserviceaccount.com"]
    assert roles["roles/bigquery.dataViewer"] == ["principal://x", "user:bob@example.com"]
    systems = list(resources.transform("p", [], [], [({"datasetReference": {"projectId": "p", "datasetId": "d"}}, pol)]))
    assert isinstance(systems[0], System) and systems[0].attrs["parent"] == "projects/p"


def test_deny_policies_and_roles_become_policy_documents() -> None:
    deny = {"name": "policies/cloudresourcemanager.googleapis.com%2Fprojects%2Fp/denypolicies/no-secrets",
            "displayName": "no secrets", "rules": [{"denyRule": {
                "deniedPrincipals": ["principalSet://goog/public:all"],
                "deniedPermissions": ["secretmanager.googleapis.com/versions.access"],
                "denialCondition": {"title": "t", "expression": "resource.matchTag('env', 'prod')"}}}]}
    pol = next(policies.transform_deny([deny], "projects/p", "p"))
    assert isinstance(pol, Policy) and pol.type == "gcp_deny_policy"
    assert pol.attrs["attachment_point"] == "cloudresourcemanager.googleapis.com/projects/p"
    assert pol.document["rules"][0]["deniedPermissions"] == ["secretmanager.googleapis.com/versions.access"]
    assert pol.document["rules"][0]["denialCondition"]["expression"].startswith("resource.matchTag")
    roles = list(policies.transform_roles({"roles/viewer": {"includedPermissions": ["b.x.get", "a.y.list"]},
                                           "projects/p/roles/custom": {"includedPermissions": ["c.z.get"]},
                                           "roles/unreadable": None}))
    assert [(r.native_id, r.document["includedPermissions"], r.attrs["custom"]) for r in roles] == [
        ("projects/p/roles/custom", ["c.z.get"], True), ("roles/viewer", ["a.y.list", "b.x.get"], False)]


@pytest.mark.parametrize(("section", "message"), [
    ({"projectz": []}, r"connectors.gcp: unknown key\(s\) projectz"),
    ({"organization_id": "example.com"}, "connectors.gcp.organization_id"),
    ({"endpoints": {"iamm": "x"}}, r"connectors.gcp.endpoints: unknown API\(s\) iamm"),
    ({"owner_conventions": ["owner: (\\w+)"]}, r"connectors.gcp.owner_conventions\[0\]: needs a named group"),
    ({"max_attempts": 0}, "connectors.gcp.max_attempts"),
    ({"grpc_insecure": "yes"}, "connectors.gcp.grpc_insecure"),
    ({"projects": ["ok-project", "Bad Project!"]}, r"connectors.gcp.projects\[1\]"),
])
def test_config_errors_name_the_key(section: dict, message: str) -> None:
    with pytest.raises(ConnectorConfigError, match=message):
        GcpConnector(section)


def test_shipped_defaults_are_a_valid_config() -> None:
    from agentreach.config import load_config

    conn = GcpConnector(load_config()["connectors"]["gcp"])
    assert conn.cfg.endpoints["iam"] == "iam.googleapis.com:443" and conn.cfg.credentials == "adc"
    assert conn.cfg.anonymous is False and conn.cfg.grpc_insecure is False


def test_a_key_message_is_copied_field_by_field_without_its_private_data() -> None:
    from google.cloud.iam_admin_v1 import types as T
    from google.protobuf import timestamp_pb2

    after = timestamp_pb2.Timestamp()
    after.FromJsonString("2025-11-13T10:00:00Z")
    msg = T.ServiceAccountKey(
        name=f"projects/p/serviceAccounts/{SA}/keys/abc", private_key_data=b"-----BEGIN PRIVATE KEY-----x",
        key_origin=T.ServiceAccountKeyOrigin.USER_PROVIDED, key_type=T.ListServiceAccountKeysRequest.KeyType.USER_MANAGED,
        key_algorithm=T.ServiceAccountKeyAlgorithm.KEY_ALG_RSA_2048, valid_after_time=after, disabled=True)
    got = iam_admin.key_json(msg)
    assert got == {"name": f"projects/p/serviceAccounts/{SA}/keys/abc", "keyAlgorithm": "KEY_ALG_RSA_2048",
                   "keyOrigin": "USER_PROVIDED", "keyType": "USER_MANAGED", "validAfterTime": "2025-11-13T10:00:00Z",
                   "validBeforeTime": None, "disabled": True}
