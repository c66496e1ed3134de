"""The Azure connector against the TLS fake: the real ClientSecretCredential gets its token
from the fake authority, httpx reads Graph and ARM pages, and failures (403, missing
licence, 429/503 with Retry-After, a bad secret) become coverage gaps while the scan goes on."""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from typing import Any, Iterator

import pytest
from agentreach_connectors.azure import AzureConnector
from agentreach_testing.azure_fake import LICENCE_CODE, AzureFake
from agentreach_testing.demo.azure import load_estate

from agentreach.connector import ScanContext
from agentreach.model import Credential, CredentialStatus, Edge, EdgeKind, Identity, Owner, System, Workload

NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
CLIENT_ID = "e5e5e5e5-0000-4000-8000-0000000000e5"
SECRET = "fake-client-secret-for-tests-only"
ENV = "AGENTREACH_TEST_AZURE_SECRET"
SUB = "5b5b5b5b-0000-4000-8000-000000000001"


@pytest.fixture(scope="module")
def fake() -> Iterator[AzureFake]:
    server = AzureFake(load_estate(NOW), page_size=2, clients={CLIENT_ID: SECRET})
    server.start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def clean(fake: AzureFake, monkeypatch: pytest.MonkeyPatch) -> None:
    fake.clear_rules()
    fake.requests.clear()
    monkeypatch.setenv(ENV, SECRET)


def config(fake: AzureFake, **extra: Any) -> dict[str, Any]:
    return {"tenant_id": fake.tenant_id, "credential": "client_secret", "client_id": CLIENT_ID,
            "client_secret_env": ENV, "authority_host": fake.url, "graph_endpoint": fake.url,
            "arm_endpoint": fake.url.replace("127.0.0.1", "localhost"), "ca_bundle": str(fake.ca_path), "max_attempts": 3, "timeout": 5,
            "max_retry_after": 0.05, "workers": 2, **extra}


class Scan:
    def __init__(self, fake: AzureFake, **extra: Any) -> None:
        self.connector = AzureConnector(config(fake, **extra))
        self.ctx = ScanContext(clock=lambda: NOW)
        started = time.monotonic()
        self.records = list(self.connector.scan(self.ctx))
        self.seconds = time.monotonic() - started
        self.gaps = self.ctx.gaps.gaps
        self.nodes = {r.id: r for r in self.records if not isinstance(r, Edge)}
        self.edges = {(e.src, e.kind.value, e.dst): e for e in self.records if isinstance(e, Edge)}

    def named(self, name: str, type_: str | None = None) -> Any:
        hits = [n for n in self.nodes.values() if n.name == name and (type_ is None or n.type == type_)]
        assert len(hits) == 1, (name, hits)
        return hits[0]


@pytest.fixture(scope="module")
def baseline(fake: AzureFake) -> Scan:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(ENV, SECRET)
        fake.requests.clear()
        scan = Scan(fake)
        scan.requests = list(fake.requests)  # type: ignore[attr-defined]
    return scan


def test_real_client_secret_credential_signs_in_over_tls(baseline: Scan, fake: AzureFake) -> None:
    assert baseline.gaps == []
    posts = [r for r in baseline.requests if r.method == "POST"]  # type: ignore[attr-defined]
    assert [r.path for r in posts] == [f"/{fake.tenant_id}/oauth2/v2.0/token"] * len(posts) and posts
    gets = [r for r in baseline.requests if r.method == "GET" and "/oauth2/" not in r.path  # type: ignore[attr-defined]
            and ".well-known" not in r.path]
    assert gets and all((r.authorization or "").startswith("Bearer ") for r in gets)
    assert sum(baseline.connector.api_calls.values()) == len(gets)


def test_paging_select_and_expand(baseline: Scan) -> None:
    reqs = baseline.requests  # type: ignore[attr-defined]
    apps = [r for r in reqs if r.path == "/v1.0/applications" and "owners" in r.query.get("$expand", "")]
    assert apps[0].query["$select"].startswith("id,appId,displayName") and "passwordCredentials" in apps[0].query["$select"]
    sps = [r for r in reqs if r.path == "/v1.0/servicePrincipals"]
    assert len(sps) == 5 and sps[-1].query["$skiptoken"] == "8" and sps[-1].query["$select"] == sps[0].query["$select"]
    assert any(r.path.endswith("/roleAssignments") and r.query.get("$skiptoken") for r in reqs)  # ARM nextLink
    types = Counter(n.type for n in baseline.nodes.values())
    assert types["azure_sp"] == 8 and types["azure_app"] == 3 and types["azure_managed_identity"] == 2
    assert types["azure_role_definition"] == 6 and types["azure_deny_assignment"] == 1


def test_app_permissions_are_read_per_api_not_per_principal(baseline: Scan, fake: AzureFake) -> None:
    """One paged appRoleAssignedTo listing per API that defines app roles: calls grow with
    the APIs a tenant exposes, not with its principals (2,410 -> 148 calls on the bench)."""
    reqs = baseline.requests  # type: ignore[attr-defined]
    assigned_to = [r for r in reqs if r.path.endswith("/appRoleAssignedTo")]
    apis = [sp for sp in fake.graph["servicePrincipals"] if sp.get("appRoles")]
    assert len({r.path for r in assigned_to}) == len(apis) >= 1
    assert not [r for r in reqs if r.path.endswith("/appRoleAssignments")]
    held = [a for n in baseline.nodes.values() for a in (n.attrs.get("app_role_assignments") or [])]
    assert "Application.ReadWrite.All" in str(held)  # still found, and named from the API's appRoles


def test_credentials_expired_expiring_long_lived_and_federated(baseline: Scan) -> None:
    expired = baseline.named("research-old")
    assert isinstance(expired, Credential) and expired.status == CredentialStatus.EXPIRED
    expiring = baseline.named("blueprint-prod")
    assert expiring.status == CredentialStatus.ACTIVE and expiring.expires == NOW + dt.timedelta(days=10)
    assert expiring.last_used == NOW - dt.timedelta(days=1) and expiring.preview == "Xy7…"
    two_years = baseline.named("research-2y")
    assert (two_years.expires - two_years.created).days == 730
    fic = baseline.named("token.actions.githubusercontent.com repo:contoso/agents:ref:refs/heads/main")
    assert fic.type == "azure_federated_credential" and fic.attrs["issuer"] == "https://token.actions.githubusercontent.com"
    research_sp = baseline.named("research-agent", "azure_sp")
    for cred in (expired, two_years, fic):
        assert (cred.id, "authenticates", research_sp.id) in baseline.edges
    cert = baseline.named("CN=research-agent")
    assert cert.attrs["thumbprint_sha1"] == "ABCDEF123456789ABCDEF123456789ABCDEF1234"


def test_foreign_tenant_managed_identities_and_workloads(baseline: Scan) -> None:
    foreign = baseline.named("Fabrikam Analytics Connector")
    assert foreign.attrs["foreign_tenant"] is True
    assert foreign.attrs["app_owner_organization_id"] == "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
    assert baseline.named("research-agent", "azure_sp").attrs["foreign_tenant"] is False
    mi = baseline.named("mi-agent-runtime", "azure_managed_identity")
    assert mi.attrs["mi_kind"] == "user_assigned" and mi.attrs["client_id"] == "c1c1c1c1-0000-4000-8000-0000000000c1"
    web_mi = baseline.named("app-contoso-web", "azure_managed_identity")
    assert web_mi.attrs["mi_kind"] == "system_assigned"
    runtime = baseline.named("ca-helpdesk-runtime")
    assert isinstance(runtime, Workload) and (runtime.id, "runs_as", mi.id) in baseline.edges
    oai = baseline.named("oai-contoso-agents")
    assert isinstance(oai, System) and oai.attrs["kind"] == "OpenAI" and oai.attrs["disable_local_auth"] is False
    assert "Microsoft.CognitiveServices/accounts/OpenAI/*/read" in mi.attrs["granted_actions"]


def test_agent_identities_sponsors_and_owners(baseline: Scan) -> None:
    us = baseline.named("Helpdesk Agent (US)")
    assert isinstance(us, Identity) and us.attrs["odata_type"] == "#microsoft.graph.agentIdentity"
    assert us.attrs["agent_identity_blueprint_id"] == "b1b1b1b1-0000-4000-8000-000000000001"
    assert us.attrs["sponsors"] == [{"name": "Bob Lee", "email": "bob@contoso.example", "active": False,
                                     "object_id": "11111111-aaaa-4aaa-8aaa-000000000002", "kind": "person"}]
    bob = baseline.named("Bob Lee")
    assert isinstance(bob, Owner) and bob.active is False
    blueprint_sp = baseline.named("Helpdesk Agent Blueprint", "azure_sp")
    assert (blueprint_sp.id, "can_assume", us.id) in baseline.edges
    assert baseline.named("Helpdesk Agent Blueprint", "azure_app").attrs["odata_type"] == \
        "#microsoft.graph.agentIdentityBlueprint"
    alice = baseline.named("Alice Martin", "entra_user")  # the owner; her role assignment makes her a principal too
    assert (alice.id, "owns", blueprint_sp.id) in baseline.edges
    assert baseline.named("Alice Martin", "azure_person").attrs["human"] is True
    assert baseline.named("Helpdesk Agent (EU) mailbox").attrs["odata_type"] == "#microsoft.graph.agentUser"


def test_throttling_honours_retry_after_and_recovers(fake: AzureFake) -> None:
    fake.throttle(r"^/v1\.0/servicePrincipals$", times=2, retry_after=1)
    fake.throttle(r"/providers/Microsoft\.Authorization/roleAssignments$", times=1, retry_after=2, status=503)
    scan = Scan(fake)
    assert scan.gaps == []
    assert scan.connector.http is not None
    assert scan.connector.http.retried["GET /servicePrincipals"] == 2
    assert scan.connector.http.retried["GET roleAssignments"] == 1
    assert Counter(n.type for n in scan.nodes.values())["azure_sp"] == 8
    assert scan.seconds < 5  # Retry-After of 1-2 s capped by max_retry_after (0.05 s)


def test_throttling_past_the_attempts_is_a_gap(fake: AzureFake) -> None:
    fake.throttle(r"/denyAssignments$", times=10, retry_after=1)
    scan = Scan(fake)
    assert [(g.operation, g.error_code, g.account) for g in scan.gaps] == \
        [("GET denyAssignments", "TooManyRequests", SUB)]
    assert not any(n.type == "azure_deny_assignment" for n in scan.nodes.values())
    assert any(n.type == "azure_role_definition" for n in scan.nodes.values())


def test_a_denied_endpoint_is_a_gap_and_the_scan_goes_on(fake: AzureFake) -> None:
    fake.deny(r"/roleManagement/directory/roleAssignments$")
    fake.deny(r"/providers/Microsoft\.KeyVault/vaults$", code="AuthorizationFailed",
              message="The client does not have authorization to perform action 'Microsoft.KeyVault/vaults/read'")
    scan = Scan(fake)
    gaps = {(g.operation, g.error_code, g.account, g.service) for g in scan.gaps}
    assert gaps == {("GET directory roleAssignments", "Authorization_RequestDenied", fake.tenant_id, "graph"),
                    ("GET vaults", "AuthorizationFailed", SUB, "arm")}
    assert scan.named("Helpdesk Agent (US)").attrs["directory_roles"] == []
    vault = scan.named("kv-agents-prod")  # still known from the generic /resources listing
    assert vault.type == "azure_key_vault" and "vault_uri" in vault.attrs and vault.attrs["vault_uri"] is None
    assert len(scan.records) > 60


def test_missing_licence_for_sign_in_activity(fake: AzureFake) -> None:
    fake.deny(r"^/beta/reports/", code=LICENCE_CODE,
              message="Tenant is not a B2C tenant and doesn't have premium license")
    scan = Scan(fake)
    assert sorted(g.operation for g in scan.gaps) == ["GET appCredentialSignInActivities",
                                                      "GET servicePrincipalSignInActivities"]
    assert {g.error_code for g in scan.gaps} == {LICENCE_CODE}
    secret = scan.named("research-2y")
    assert secret.last_used is None and secret.attrs["last_used_source"] is None
    assert scan.named("research-agent", "azure_sp").attrs["last_used_source"] is None


def test_a_wrong_secret_is_one_gap_per_api_not_a_crash(fake: AzureFake, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV, "not-the-secret")
    scan = Scan(fake)
    assert scan.records == []
    assert [(g.error_code, g.operation.split(" (")[0]) for g in scan.gaps] == \
        [("ClientAuthenticationError", "sign-in")] * 2
    assert "AADSTS7000215" in scan.gaps[0].message and SECRET not in repr(scan.gaps)


def test_beta_off_is_said_not_hidden(fake: AzureFake) -> None:
    scan = Scan(fake, beta=False)
    assert {g.error_code for g in scan.gaps} == {"BetaDisabled"}
    assert not any(r.path.startswith("/beta/") for r in fake.requests)
    us = scan.named("Helpdesk Agent (US)")  # v1.0 still lists agent identities as service principals
    assert us.attrs["odata_type"] == "#microsoft.graph.agentIdentity"


def test_subscription_shard(fake: AzureFake) -> None:
    scan = Scan(fake, subscriptions=["00000000-1111-4000-8000-000000000000"])
    assert [(g.error_code, g.account) for g in scan.gaps] == \
        [("SubscriptionNotFound", "00000000-1111-4000-8000-000000000000")]
    assert not any(n.type == "azure_subscription" for n in scan.nodes.values())
    assert all(e.kind != EdgeKind.HAS_POLICY for e in scan.records if isinstance(e, Edge))


def test_the_fake_answers_like_graph_for_unknown_select_and_missing_api_version(fake: AzureFake) -> None:
    """The fake must be able to fail a connector that asks for what Graph / ARM would refuse."""
    import httpx

    with httpx.Client(verify=__import__("ssl").create_default_context(cafile=str(fake.ca_path))) as client:
        auth = {"Authorization": f"Bearer {fake.bearer('https://graph.microsoft.com')}"}
        bad = client.get(f"{fake.url}/v1.0/servicePrincipals", params={"$select": "id,createdDateTime"}, headers=auth)
        assert bad.status_code == 400
        assert bad.json()["error"]["message"] == ("Could not find a property named 'createdDateTime' on type "
                                                  "'microsoft.graph.servicePrincipal'.")
        assert "innerError" in bad.json()["error"]
        arm = client.get(f"{fake.url}/subscriptions",
                         headers={"Authorization": f"Bearer {fake.bearer('https://management.azure.com')}"})
        assert arm.status_code == 400 and arm.json()["error"]["code"] == "MissingApiVersionParameter"
        assert client.get(f"{fake.url}/v1.0/applications").status_code == 401


def test_tokens_carry_the_real_audience_whatever_the_endpoint(fake: AzureFake) -> None:
    """The endpoints point at the fake (as at a proxy); the scopes stay Graph's and ARM's own,
    which the fake, like the real services, insists on. A token asked for another resource is
    refused with each service's own 401, and the scan says so in a gap."""
    scan = Scan(fake)
    assert not scan.gaps and scan.nodes
    asked = Scan(fake, graph_scope=f"{fake.url}/.default")  # what deriving the scope from the URL did
    assert {(g.error_code, g.service) for g in asked.gaps} >= {("InvalidAuthenticationToken", "graph")}
    assert not any(n.type == "azure_app" for n in asked.nodes.values())  # Graph said no to all of it


@pytest.mark.parametrize(("cloud", "graph", "arm"), [
    ("public", "https://graph.microsoft.com/.default", "https://management.azure.com/.default"),
    ("usgov", "https://graph.microsoft.us/.default", "https://management.usgovcloudapi.net/.default"),
    ("china", "https://microsoftgraph.chinacloudapi.cn/.default", "https://management.chinacloudapi.cn/.default"),
])
def test_clouds_give_endpoints_and_audiences(cloud: str, graph: str, arm: str) -> None:
    from agentreach_connectors.azure.config import AzureConfig
    from azure.identity import AzureAuthorityHosts

    cfg = AzureConfig.from_mapping({"cloud": cloud, "graph_endpoint": "https://proxy.example.internal/"})
    assert (cfg.graph_scope, cfg.arm_scope) == (graph, arm)
    assert cfg.graph_endpoint == "https://proxy.example.internal"  # the endpoint moves, the audience does not
    sdk = {"public": AzureAuthorityHosts.AZURE_PUBLIC_CLOUD, "usgov": AzureAuthorityHosts.AZURE_GOVERNMENT,
           "china": AzureAuthorityHosts.AZURE_CHINA}[cloud]
    assert cfg.authority_host == f"https://{sdk}"


# -- people and groups that role assignments name (issue 14) ----------------------------------

def test_people_and_groups_in_role_assignments_are_principals(monkeypatch: pytest.MonkeyPatch) -> None:
    """A group's role assignment reaches its (transitive) members, a user's reaches the user;
    the storage account listing says whether shared keys are allowed."""
    import copy

    from agentreach.graph.core import Graph
    from agentreach.graph.query import Want, who_can_reach
    from agentreach.policy.azure import edges as azure_edges
    from agentreach.view import SnapshotView

    estate = copy.deepcopy(load_estate(NOW))
    sub = estate["arm"]["subscriptions"][0]
    res = sub["resources"]
    account = next(r for r in res["resources"] if r["type"] == "Microsoft.Storage/storageAccounts")
    reader_role = next(r for r in res["roleDefinitions"] if r["properties"]["roleName"] == "Storage Blob Data Reader")
    graph = estate["graph"]
    carol, alice = "11111111-aaaa-4aaa-8aaa-000000000003", "11111111-aaaa-4aaa-8aaa-000000000001"
    graph["groups"] = [
        {"id": "44444444-0000-4000-8000-000000000001", "displayName": "data-readers", "securityEnabled": True,
         "members": ["44444444-0000-4000-8000-000000000002"]},
        {"id": "44444444-0000-4000-8000-000000000002", "displayName": "analysts", "securityEnabled": True,
         "members": [carol]},
    ]

    def assignment(n: int, principal: str, kind: str, role: dict, scope: str) -> dict:
        return {"id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/88888888-0000-4000-8000-00000000000{n}",
                "name": f"88888888-0000-4000-8000-00000000000{n}", "type": "Microsoft.Authorization/roleAssignments",
                "properties": {"roleDefinitionId": role["id"], "principalId": principal, "principalType": kind,
                               "scope": scope}}

    res["roleAssignments"] += [
        assignment(1, "44444444-0000-4000-8000-000000000001", "Group", reader_role, account["id"]),
        assignment(2, alice, "User", reader_role, account["id"]),
    ]
    res["storageAccounts"] = [{**account, "properties": {"allowSharedKeyAccess": False}}]
    server = AzureFake(estate, page_size=2, clients={CLIENT_ID: SECRET})
    server.start()
    try:
        monkeypatch.setenv(ENV, SECRET)
        scan = Scan(server)
    finally:
        server.stop()
    group = scan.named("data-readers", "azure_group")
    carol_node = scan.named("Carol Diaz", "azure_person")
    alice_node = scan.named("Alice Martin", "azure_person")
    assert group.attrs["members_readable"] is True and carol_node.attrs["human"] is True
    assert (carol_node.id, "member_of", group.id) in scan.edges  # through the nested group, transitively
    storage = scan.named(account["name"], "azure_storage_account")
    assert storage.attrs["allow_shared_key_access"] is False
    view = SnapshotView.build(scan.nodes.values(), [e.to_dict() for e in scan.edges.values()])
    derived = azure_edges.derive(view)
    g = Graph()
    for node in [*scan.nodes.values(), *derived.nodes]:
        g.add_node(node.id, node.kind.value, node.name, type=node.type, account=node.account, provider=node.provider)
    for edge in [*scan.edges.values(), *derived.edges]:
        for end in (edge.src, edge.dst):
            if end not in g.index:
                g.add_node(end, "unknown", end)
        g.add_edge(edge.src, edge.dst, edge.kind.value, dict(edge.to_dict()["attrs"]))
    readers = {r["subject"]: r for r in who_can_reach(g, g.index[storage.id], want=Want(access="read-data"))}
    assert {carol_node.id, alice_node.id, group.id} <= set(readers)
    assert [h["edge"] for h in readers[carol_node.id]["path"]] == ["member_of", "can_access"]
