"""One fault description, three stand-ins: the plan decides which request fails, and each
stand-in (the AWS front door over moto, the Entra/Graph/ARM fake, the GCP REST and gRPC
fakes) renders each kind in its own wire format, checked here through real clients
(boto3, httpx, grpc) the way a connector would meet it."""

from __future__ import annotations

import functools
import re
import ssl
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import grpc
import httpx
import pytest
from agentreach_testing.azure_fake import AzureFake
from agentreach_testing.faults import Fault, FaultPlan
from agentreach_testing.gcp_fake import Faults, GcpFakes, start_fakes
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from .conftest import NOW

# -- the plan --------------------------------------------------------------------------


def test_the_first_live_matching_fault_answers_and_counts() -> None:
    plan = FaultPlan()
    once = plan.add(Fault("throttle", api="iam", operation="ListUsers", times=1))
    always = plan.add(Fault("deny", api="iam"))
    assert [plan.take("iam", "ListUsers") for _ in range(3)] == [once, always, always]
    assert (once.hits, once.exhausted, always.hits) == (1, True, 2)
    assert plan.take("s3", "ListBuckets") is None
    plan.reset()
    assert (once.hits, always.hits) == (0, 0) and plan.take("iam", "ListUsers") is once


def test_operation_exact_any_or_expression_and_scope() -> None:
    plan = FaultPlan()
    regex = plan.add(Fault("deny", api="arm", operation=re.compile(r"/denyAssignments$")))
    scoped = plan.add(Fault("deny", operation="keys.list", scope="agents-prod"))
    assert plan.take("arm", "/subscriptions/s1/providers/Microsoft.Authorization/denyAssignments") is regex
    assert plan.take("arm", "/subscriptions/s1/resources") is None
    assert plan.take("apikeys", "keys.list", "data-lake") is None
    assert plan.take("apikeys", "keys.list") is None  # a scoped fault needs the request's scope
    assert plan.take("apikeys", "keys.list", ("s1", "agents-prod")) is scoped


def test_partial_faults_replay_the_same_way_for_a_seed() -> None:
    def run(seed: int) -> list[bool]:
        plan = FaultPlan([Fault("throttle", probability=0.3)], seed=seed)
        return [plan.take("iam", "ListUsers") is not None for _ in range(200)]

    first = run(7)
    assert first == run(7) and first != run(8)
    assert 30 < sum(first) < 90  # about 30 % of 200
    plan = FaultPlan([Fault("throttle", probability=0.3)], seed=7)
    for _ in range(50):
        plan.take("iam", "ListUsers")
    plan.reset()
    assert [plan.take("iam", "ListUsers") is not None for _ in range(200)] == first


def test_a_truncation_cuts_where_it_says_or_at_a_seeded_draw() -> None:
    plan = FaultPlan(seed=3)
    half = plan.add(Fault("truncate", fraction=0.5))
    drawn = plan.add(Fault("truncate"))
    assert plan.cut(half, 1000) == 500
    cuts = [plan.cut(drawn, 1000) for _ in range(5)]
    plan.reset()
    assert cuts == [plan.cut(drawn, 1000) for _ in range(5)] and all(0 <= c < 1000 for c in cuts)
    assert plan.cut(drawn, 1) == 0


def test_hits_are_counted_exactly_under_concurrency() -> None:
    plan = FaultPlan([Fault("throttle", times=1000)])
    taken: list[int] = []

    def worker() -> None:
        taken.append(sum(plan.take("iam", "ListUsers") is not None for _ in range(500)))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(taken) == 1000 and plan.faults[0].hits == 1000


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"kind": "explode"}, "not one of"), ({"kind": "delay"}, "seconds"),
    ({"kind": "throttle", "probability": 0}, "probability"), ({"kind": "truncate", "fraction": 1.0}, "fraction"),
    ({"kind": "deny", "times": -1}, "times"), ({"kind": "error", "status": 42}, "HTTP status"),
])
def test_a_malformed_fault_is_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Fault(**kwargs)


def test_the_gcp_shorthand_is_a_view_of_the_plan() -> None:
    faults = Faults(denied={"data-lake": {"iam"}}, throttle={"apikeys": 2})
    assert [(f.kind, f.api, f.scope, f.times) for f in faults] == [("throttle", "apikeys", None, 2),
                                                                   ("deny", "iam", "data-lake", None)]
    faults.unavailable["secretmanager"] = 1
    faults.take("apikeys", "keys.list")
    assert dict(faults.throttle) == {"apikeys": 1} and faults.unavailable == {"secretmanager": 1}
    assert faults.denied == {"data-lake": frozenset({"iam"})}
    faults.add(Fault("throttle", api="iam", times=3))  # the shared description shows in the shorthand
    assert faults.throttle == {"iam": 3, "apikeys": 1}
    del faults.denied["data-lake"]
    assert faults.take("iam", "ListServiceAccounts", "data-lake").kind == "throttle"
    assert not faults.denied


# -- AWS: the front door over moto -------------------------------------------------------

NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1}, read_timeout=5)


@functools.cache
def _session() -> boto3.session.Session:
    return boto3.session.Session()  # one: each new session re-reads botocore's models


def aws(frontdoor: Any, service: str = "iam") -> Any:
    return _session().client(service, endpoint_url=frontdoor.url, region_name="us-east-1", config=NO_RETRIES)


@pytest.mark.parametrize(("fault", "service", "code", "status"), [
    (Fault("deny", api="iam"), "iam", "AccessDenied", 403),
    (Fault("deny", api="secretsmanager"), "secretsmanager", "AccessDeniedException", 403),
    (Fault("throttle", api="iam"), "iam", "Throttling", 400),
    (Fault("unavailable", api="iam"), "iam", "ServiceUnavailable", 503),
    (Fault("unavailable", api="secretsmanager"), "secretsmanager", "ServiceUnavailableException", 503),
    (Fault("error", api="iam"), "iam", "InternalFailure", 500),
    (Fault("error", api="iam", status=502, code="BadGateway"), "iam", "BadGateway", 502),
    (Fault("disabled", api="iam"), "iam", "OptInRequired", 403),
    (Fault("disabled", api="secretsmanager"), "secretsmanager", "SubscriptionRequiredException", 403),
])
def test_aws_error_kinds_in_each_protocol(frontdoor: Any, fault: Fault, service: str, code: str,
                                          status: int) -> None:
    frontdoor.add(fault)
    call = {"iam": lambda c: c.list_users(), "secretsmanager": lambda c: c.list_secrets()}[service]
    with pytest.raises(ClientError) as excinfo:
        call(aws(frontdoor, service))
    error = excinfo.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == (code, status)
    assert fault.hits == 1


def test_aws_delay_truncate_and_reset(frontdoor: Any) -> None:
    iam = aws(frontdoor)
    frontdoor.add(Fault("delay", api="iam", operation="ListUsers", seconds=0.3, times=1))
    started = time.monotonic()
    iam.list_users()
    assert time.monotonic() - started >= 0.3

    # botocore reads with enforce_content_length=False: a body cut short of its Content-Length
    # (the connection closed mid-way) and a well-framed half body both reach its XML parser.
    cut = frontdoor.add(Fault("truncate", api="iam", operation="ListUsers", fraction=0.5, times=1))
    with pytest.raises(ResponseParserError, match="invalid XML received"):
        iam.list_users()
    relabelled = frontdoor.add(Fault("truncate", api="iam", operation="ListUsers", fraction=0.5, times=1,
                                     whole_length=False))
    with pytest.raises(ResponseParserError, match="invalid XML received"):
        iam.list_users()
    reset = frontdoor.add(Fault("reset", api="iam", operation="ListUsers", times=1))
    with pytest.raises(BotoCoreError, match="(?i)connection"):
        iam.list_users()
    assert (cut.hits, relabelled.hits, reset.hits) == (1, 1, 1)
    assert "Users" in iam.list_users()  # every fault spent: moto answers again


def test_aws_scope_is_the_calling_account(frontdoor: Any) -> None:
    other = frontdoor.add(Fault("deny", api="iam", scope="210987654321"))
    assert "Users" in aws(frontdoor).list_users()  # the default account is not that one
    assert other.hits == 0
    with pytest.raises(ValueError, match="ListUser"):
        frontdoor.add(Fault("deny", api="iam", operation="ListUser"))


# -- Azure: Entra, Graph and ARM over TLS -------------------------------------------------

TENANT, SUB = "tenant-1", "sub-1"


@pytest.fixture(scope="module")
def azure() -> Iterator[AzureFake]:
    estate = {"tenant_id": TENANT, "graph": {"users": [{"id": "u1", "displayName": "Ada"}] * 5},
              "arm": {"subscriptions": [{"subscriptionId": SUB, "displayName": "s", "resources": {
                  "vaults": [{"id": "v1", "name": "kv"}]}}]}}
    with AzureFake(estate, page_size=10) as fake:
        yield fake


@pytest.fixture
def graph(azure: AzureFake) -> Iterator[httpx.Client]:
    azure.clear_rules()

    def bearer(request: httpx.Request) -> httpx.Request:  # a token of the audience each service accepts
        arm = request.url.path.startswith(("/subscriptions", "/providers"))
        aud = "https://management.azure.com" if arm else "https://graph.microsoft.com"
        request.headers["Authorization"] = f"Bearer {azure.bearer(aud)}"
        return request

    with httpx.Client(base_url=azure.url, verify=ssl.create_default_context(cafile=str(azure.ca_path)), timeout=5,
                      auth=bearer) as client:
        yield client
    azure.clear_rules()


VAULTS = f"/subscriptions/{SUB}/providers/Microsoft.KeyVault/vaults?api-version=2023-07-01"


@pytest.mark.parametrize(("fault", "path", "status", "code"), [
    (Fault("deny", api="graph"), "/v1.0/users", 403, "Authorization_RequestDenied"),
    (Fault("deny", api="arm"), VAULTS, 403, "AuthorizationFailed"),
    (Fault("throttle", api="graph", retry_after=7), "/v1.0/users", 429, "TooManyRequests"),
    (Fault("unavailable", api="arm", retry_after=2), VAULTS, 503, "ServiceUnavailable"),
    (Fault("error", api="arm"), VAULTS, 500, "InternalServerError"),
    (Fault("disabled", api="graph"), "/v1.0/users", 403, "Authentication_RequestFromNonPremiumTenantOrB2CTenant"),
    (Fault("disabled", api="arm"), VAULTS, 409, "MissingSubscriptionRegistration"),
])
def test_azure_error_kinds_in_graph_and_arm_envelopes(azure: AzureFake, graph: httpx.Client, fault: Fault,
                                                      path: str, status: int, code: str) -> None:
    azure.add(fault)
    resp = graph.get(path)
    assert (resp.status_code, resp.json()["error"]["code"]) == (status, code)
    assert resp.headers.get("Retry-After") == (f"{fault.retry_after:g}" if fault.retry_after is not None else None)
    assert ("innerError" in resp.json()["error"]) == path.startswith("/v1.0/")
    if code == "MissingSubscriptionRegistration":
        assert "'Microsoft.KeyVault'" in resp.json()["error"]["message"]


def test_azure_scopes_are_tenant_and_subscription(azure: AzureFake, graph: httpx.Client) -> None:
    azure.add(Fault("deny", api="arm", scope="another-sub"))
    tenant_wide = azure.add(Fault("throttle", api="arm", scope=TENANT, times=1))
    assert graph.get(VAULTS).status_code == 429  # an ARM request is within its tenant too
    assert graph.get(VAULTS).status_code == 200 and tenant_wide.hits == 1
    with pytest.raises(ValueError, match="keyvault"):
        azure.add(Fault("deny", api="keyvault"))


def test_azure_token_endpoint_answers_oauth_errors(azure: AzureFake, graph: httpx.Client) -> None:
    azure.add(Fault("throttle", api="login", operation=f"/{TENANT}/oauth2/v2.0/token", retry_after=1, times=1))
    resp = graph.post(f"/{TENANT}/oauth2/v2.0/token", data={"client_id": "c", "grant_type": "client_credentials"})
    assert resp.status_code == 429 and resp.json()["error"] == "temporarily_unavailable"
    assert resp.json()["error_codes"] == [90033] and resp.headers["Retry-After"] == "1"
    assert graph.post(f"/{TENANT}/oauth2/v2.0/token", data={"client_id": "c"}).json()["token_type"] == "Bearer"


def test_azure_delay_truncate_and_reset(azure: AzureFake, graph: httpx.Client) -> None:
    whole = graph.get("/v1.0/users").content
    azure.add(Fault("delay", api="graph", seconds=0.3, times=1))
    started = time.monotonic()
    assert graph.get("/v1.0/users").status_code == 200 and time.monotonic() - started >= 0.3
    azure.add(Fault("truncate", api="graph", fraction=0.25, times=1))
    with pytest.raises(httpx.RemoteProtocolError):  # fewer bytes than Content-Length, then the end
        graph.get("/v1.0/users")
    azure.add(Fault("truncate", api="graph", fraction=0.25, times=1, whole_length=False))
    resp = graph.get("/v1.0/users")
    assert resp.content == whole[:len(whole) // 4]
    azure.add(Fault("reset", api="graph", times=1))
    with pytest.raises(httpx.TransportError):
        graph.get("/v1.0/users")
    assert graph.get("/v1.0/users").content == whole


# -- GCP: REST and gRPC -------------------------------------------------------------------

PROJECT = "agents-prod"
SA = f"agent@{PROJECT}.iam.gserviceaccount.com"


@pytest.fixture(scope="module")
def gcp() -> Iterator[GcpFakes]:
    estate = {"projects": [{"projectId": PROJECT, "number": 111, "serviceAccounts": [
        {"email": SA, "uniqueId": "1", "displayName": "a" * 200}]}]}
    fakes = start_fakes(estate, NOW)
    yield fakes
    fakes.stop()


@pytest.fixture
def rest(gcp: GcpFakes) -> Iterator[httpx.Client]:
    gcp.faults.clear()
    with httpx.Client(base_url=gcp.rest.url, timeout=5) as client:
        yield client
    gcp.faults.clear()


PROJECT_PATH = f"/v3/projects/{PROJECT}"


@pytest.mark.parametrize(("fault", "status", "code"), [
    (Fault("deny", api="resourcemanager"), 403, "PERMISSION_DENIED"),
    (Fault("throttle", api="resourcemanager"), 429, "RESOURCE_EXHAUSTED"),
    (Fault("unavailable", api="resourcemanager"), 503, "UNAVAILABLE"),
    (Fault("error", api="resourcemanager"), 500, "INTERNAL"),
    (Fault("error", api="resourcemanager", status=504), 504, "DEADLINE_EXCEEDED"),
    (Fault("disabled", api="resourcemanager", scope=PROJECT), 403, "PERMISSION_DENIED"),
])
def test_gcp_rest_error_kinds_as_google_rpc_status(gcp: GcpFakes, rest: httpx.Client, fault: Fault, status: int,
                                                   code: str) -> None:
    gcp.add(fault)
    error = rest.get(PROJECT_PATH).json()["error"]
    assert (error["code"], error["status"]) == (status, code)
    reasons = [d["reason"] for d in error.get("details", [])]
    assert reasons == (["SERVICE_DISABLED"] if fault.kind == "disabled" else [])
    if fault.kind == "deny":
        assert "resourcemanager.projects.get" in error["message"]


def test_gcp_rest_operation_and_scope(gcp: GcpFakes, rest: httpx.Client) -> None:
    gcp.add(Fault("deny", operation="projects.getIamPolicy"))
    gcp.add(Fault("deny", scope="another-project"))
    assert rest.get(PROJECT_PATH).status_code == 200
    assert rest.post(f"{PROJECT_PATH}:getIamPolicy").status_code == 403
    by_number = gcp.add(Fault("throttle", scope=PROJECT, times=1))
    assert rest.get("/v3/projects/111").status_code == 429 and by_number.hits == 1  # the number is the project
    with pytest.raises(ValueError, match="compute"):
        gcp.add(Fault("deny", api="compute"))


def test_gcp_rest_delay_truncate_and_reset(gcp: GcpFakes, rest: httpx.Client) -> None:
    whole = rest.get(PROJECT_PATH).content
    gcp.add(Fault("delay", api="resourcemanager", seconds=0.3, times=1))
    started = time.monotonic()
    assert rest.get(PROJECT_PATH).status_code == 200 and time.monotonic() - started >= 0.3
    gcp.add(Fault("truncate", api="resourcemanager", fraction=0.5, times=1))
    with pytest.raises(httpx.RemoteProtocolError):
        rest.get(PROJECT_PATH)
    gcp.add(Fault("truncate", api="resourcemanager", fraction=0.5, times=1, whole_length=False))
    assert rest.get(PROJECT_PATH).content == whole[:len(whole) // 2]
    gcp.add(Fault("reset", api="resourcemanager", times=1))
    with pytest.raises(httpx.TransportError):
        rest.get(PROJECT_PATH)
    assert rest.get(PROJECT_PATH).content == whole


@pytest.fixture
def iam(gcp: GcpFakes) -> Iterator[Any]:
    """ListServiceAccounts over a real channel, answering the raw bytes (to see a cut)."""
    from google.cloud.iam_admin_v1 import types as T

    gcp.faults.clear()
    channel = grpc.insecure_channel(gcp.grpc.target)
    call = channel.unary_unary("/google.iam.admin.v1.IAM/ListServiceAccounts",
                               request_serializer=T.ListServiceAccountsRequest.serialize)
    yield lambda: call(T.ListServiceAccountsRequest(name=f"projects/{PROJECT}"), timeout=5)
    channel.close()
    gcp.faults.clear()


@pytest.mark.parametrize(("fault", "code"), [
    (Fault("deny", api="iam"), grpc.StatusCode.PERMISSION_DENIED),
    (Fault("throttle", api="iam"), grpc.StatusCode.RESOURCE_EXHAUSTED),
    (Fault("unavailable", api="iam"), grpc.StatusCode.UNAVAILABLE),
    (Fault("error", api="iam"), grpc.StatusCode.INTERNAL),
    (Fault("error", api="iam", code="DEADLINE_EXCEEDED"), grpc.StatusCode.DEADLINE_EXCEEDED),
    (Fault("disabled", api="iam", scope=PROJECT), grpc.StatusCode.PERMISSION_DENIED),
])
def test_gcp_grpc_error_kinds_as_status_codes(gcp: GcpFakes, iam: Any, fault: Fault, code: grpc.StatusCode) -> None:
    from google.rpc import error_details_pb2
    from grpc_status import rpc_status

    gcp.add(fault)
    with pytest.raises(grpc.RpcError) as excinfo:
        iam()
    assert excinfo.value.code() == code
    status = rpc_status.from_call(excinfo.value)
    reasons = []
    for detail in status.details if status is not None else []:
        info = error_details_pb2.ErrorInfo()
        detail.Unpack(info)
        reasons.append(info.reason)
    assert reasons == (["SERVICE_DISABLED"] if fault.kind == "disabled" else [])


def test_gcp_grpc_delay_truncate_and_reset(gcp: GcpFakes, iam: Any) -> None:
    whole = iam()
    gcp.add(Fault("delay", api="iam", operation="ListServiceAccounts", seconds=0.3, times=1))
    started = time.monotonic()
    assert iam() == whole and time.monotonic() - started >= 0.3
    gcp.add(Fault("truncate", api="iam", fraction=0.5, times=1))
    assert iam() == whole[:len(whole) // 2]  # the serialized message, cut
    reset = gcp.add(Fault("reset", api="iam", times=1))
    with pytest.raises(grpc.RpcError) as excinfo:
        iam()
    # The connection went away under the call: the client never saw the server's own status.
    assert excinfo.value.code() == grpc.StatusCode.UNAVAILABLE
    assert excinfo.value.details() != "the connection was reset" and reset.hits == 1
    assert iam() == whole  # the channel reconnects

