"""The AWS front door, exercised only through real boto3 clients and a real moto server.

Each test talks HTTP through the front door to an in-process ``ThreadedMotoServer``, so
what is checked is what a scan will see: botocore's own parsing of the error and reply
bodies, its retry logic and its timeouts.
"""

from __future__ import annotations

import datetime as dt
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from agentreach_testing.aws_frontdoor import (
    DEFAULT_ACCOUNT_ID,
    AwsFrontDoor,
    FrontDoorRequest,
    FrontDoorResponse,
    error_response,
    json_response,
    query_xml_response,
)
from botocore.config import Config
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

OTHER_ACCOUNT = "210987654321"
# botocore counts Config max_attempts as retries (total = max_attempts + 1), hence total_max_attempts.
NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})
STANDARD_RETRIES = Config(retries={"mode": "standard", "max_attempts": 5})
UTC = dt.UTC


@pytest.fixture(scope="module")
def own_moto_url(moto_url: str) -> str:
    """The session's moto server (moto keeps one state per process whatever the server)."""
    return moto_url


@pytest.fixture(scope="module")
def running_door(own_moto_url: str) -> Iterator[AwsFrontDoor]:
    with AwsFrontDoor(own_moto_url) as door:
        yield door


@pytest.fixture
def door(
    running_door: AwsFrontDoor, own_moto_url: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[AwsFrontDoor]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials")
    for name in (
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_REGION",
        "AWS_ENDPOINT_URL",
        "MOTO_ACCOUNT_ID",
    ):
        monkeypatch.delenv(name, raising=False)
    reset = urllib.request.Request(f"{own_moto_url}/moto-api/reset", method="POST")
    urllib.request.urlopen(reset, timeout=10).read()
    running_door.clear_rules()
    running_door.reset_counts()
    yield running_door
    running_door.clear_rules()


_SESSION: list[boto3.session.Session] = []


def client(
    door: AwsFrontDoor,
    service: str,
    config: Config = NO_RETRIES,
    region_name: str = "us-east-1",
    **kwargs: Any,
) -> Any:
    # One shared Session: a new one re-reads botocore's JSON models (~0.2 s per client).
    # Its cached credentials are the fixture's fake ones, the same for every test here.
    if not _SESSION:
        _SESSION.append(boto3.session.Session())
    return _SESSION[0].client(
        service, endpoint_url=door.url, region_name=region_name, config=config, **kwargs
    )


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    response = excinfo.value.response
    return (
        response["Error"]["Code"],
        response["Error"].get("Message", ""),
        response["ResponseMetadata"]["HTTPStatusCode"],
    )


# -- forwarding ------------------------------------------------------------------------


def test_forwards_every_protocol_family_to_moto(door: AwsFrontDoor) -> None:
    iam = client(door, "iam")
    iam.create_user(UserName="alice")
    assert [u["UserName"] for u in iam.list_users()["Users"]] == ["alice"]

    secrets = client(door, "secretsmanager")
    secrets.create_secret(Name="agent-key", SecretString="s3cr3t")
    assert [s["Name"] for s in secrets.list_secrets()["SecretList"]] == ["agent-key"]

    assert client(door, "lambda").list_functions()["Functions"] == []
    assert client(door, "bedrock-agent").list_agents()["agentSummaries"] == []

    s3 = client(door, "s3")
    s3.create_bucket(Bucket="agent-bucket")
    s3.put_object(Bucket="agent-bucket", Key="dir/a b.txt", Body=b"hello")
    assert s3.get_object(Bucket="agent-bucket", Key="dir/a b.txt")["Body"].read() == b"hello"
    assert s3.head_object(Bucket="agent-bucket", Key="dir/a b.txt")["ContentLength"] == 5
    listed = s3.list_objects_v2(Bucket="agent-bucket")["Contents"]
    assert [o["Key"] for o in listed] == ["dir/a b.txt"]

    assert door.calls == {
        ("iam", "CreateUser"): 1,
        ("iam", "ListUsers"): 1,
        ("secretsmanager", "CreateSecret"): 1,
        ("secretsmanager", "ListSecrets"): 1,
        ("lambda", "ListFunctions"): 1,
        ("bedrock-agent", "ListAgents"): 1,
        ("s3", "CreateBucket"): 1,
        ("s3", "PutObject"): 1,
        ("s3", "GetObject"): 1,
        ("s3", "HeadObject"): 1,
        ("s3", "ListObjectsV2"): 1,
    }


def test_reached_through_aws_endpoint_url_environment(
    door: AwsFrontDoor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_IAM", door.url)
    iam = boto3.session.Session().client("iam", region_name="us-east-1", config=NO_RETRIES)
    iam.list_roles()
    assert door.calls[("iam", "ListRoles")] == 1


# -- failures --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "operation", "call", "code", "status"),
    [
        ("iam", "ListUsers", lambda c: c.list_users(), "AccessDenied", 403),  # query
        ("sts", "GetCallerIdentity", lambda c: c.get_caller_identity(), "AccessDenied", 403),
        (
            "ec2",
            "DescribeInstances",
            lambda c: c.describe_instances(),
            "UnauthorizedOperation",
            403,
        ),
        (
            "secretsmanager",
            "ListSecrets",
            lambda c: c.list_secrets(),
            "AccessDeniedException",
            400,
        ),  # json
        (
            "sqs",
            "ListQueues",
            lambda c: c.list_queues(),
            "AccessDenied",
            403,
        ),  # json, query-compatible
        (
            "lambda",
            "ListFunctions",
            lambda c: c.list_functions(),
            "AccessDeniedException",
            403,
        ),  # rest-json
        ("bedrock-agent", "ListAgents", lambda c: c.list_agents(), "AccessDeniedException", 403),
        (
            "bedrock-agentcore-control",
            "ListAgentRuntimes",
            lambda c: c.list_agent_runtimes(),
            "AccessDeniedException",
            403,
        ),
        ("s3", "ListBuckets", lambda c: c.list_buckets(), "AccessDenied", 403),  # rest-xml
        ("s3", "GetObject", lambda c: c.get_object(Bucket="b-1", Key="k"), "AccessDenied", 403),
        (
            "eventbridgev2",
            "ListEventBuses",
            lambda c: c.list_event_buses(),
            "AccessDeniedException",
            403,
        ),  # cbor
    ],
)
def test_fail_is_parsed_by_botocore_in_each_protocol(
    door: AwsFrontDoor, service: str, operation: str, call: Any, code: str, status: int
) -> None:
    message = f"no {operation} for you"
    rule = door.fail(service, operation, code=code, status=status, message=message)
    with pytest.raises(ClientError) as excinfo:
        call(client(door, service))
    assert error_of(excinfo) == (code, message, status)
    assert rule.hits == 1
    assert door.calls[(service, operation)] == 1


def test_fail_times_then_forwards(door: AwsFrontDoor) -> None:
    iam = client(door, "iam")
    rule = door.fail("iam", "ListUsers", times=2)
    for _ in range(2):
        with pytest.raises(ClientError) as excinfo:
            iam.list_users()
        assert error_of(excinfo)[0] == "AccessDenied"
    assert iam.list_users()["Users"] == []
    assert rule.hits == 2 and rule.exhausted
    assert door.calls[("iam", "ListUsers")] == 3


def test_fail_leaves_other_operations_and_services_alone(door: AwsFrontDoor) -> None:
    door.fail("iam", "ListRoles")
    door.fail("lambda")
    assert client(door, "iam").list_users()["Users"] == []
    with pytest.raises(ClientError):
        client(door, "iam").list_roles()
    with pytest.raises(ClientError):
        client(door, "lambda").list_layers()


def test_first_matching_rule_wins(door: AwsFrontDoor) -> None:
    first = door.fail("iam", "ListUsers", code="First", times=1)
    second = door.fail("iam", code="Second")
    iam = client(door, "iam")
    codes = []
    for _ in range(2):
        with pytest.raises(ClientError) as excinfo:
            iam.list_users()
        codes.append(error_of(excinfo)[0])
    assert codes == ["First", "Second"]
    assert (first.hits, second.hits) == (1, 1)


def test_rules_reject_names_botocore_does_not_know(door: AwsFrontDoor) -> None:
    with pytest.raises(ValueError, match="bedrock_agent"):
        door.fail("bedrock_agent")
    with pytest.raises(ValueError, match="ListUser"):
        door.throttle("iam", "ListUser")


# -- throttling ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "call", "code", "status"),
    [
        ("iam", lambda c: c.list_users(), "Throttling", 400),
        ("ec2", lambda c: c.describe_regions(), "RequestLimitExceeded", 400),
        ("secretsmanager", lambda c: c.list_secrets(), "ThrottlingException", 400),
        ("lambda", lambda c: c.list_functions(), "ThrottlingException", 400),
        ("s3", lambda c: c.list_buckets(), "SlowDown", 503),
        ("eventbridgev2", lambda c: c.list_event_buses(), "ThrottlingException", 400),
    ],
)
def test_throttle_uses_each_protocols_throttling_code(
    door: AwsFrontDoor, service: str, call: Any, code: str, status: int
) -> None:
    door.throttle(service, times=1)
    with pytest.raises(ClientError) as excinfo:
        call(client(door, service))
    assert error_of(excinfo)[0::2] == (code, status)


@pytest.mark.parametrize(
    ("service", "operation", "call", "times"),
    [
        ("iam", "ListUsers", lambda c: c.list_users(), 2),
        ("secretsmanager", "ListSecrets", lambda c: c.list_secrets(), 1),
        ("bedrock-agent", "ListAgents", lambda c: c.list_agents(), 1),
        ("s3", "ListBuckets", lambda c: c.list_buckets(), 1),
    ],
)
def test_throttling_recovers_under_standard_retries(
    door: AwsFrontDoor, service: str, operation: str, call: Any, times: int
) -> None:
    rule = door.throttle(service, operation, times=times)
    response = call(client(door, service, config=STANDARD_RETRIES))
    assert response["ResponseMetadata"]["RetryAttempts"] == times
    assert rule.hits == times
    assert door.calls[(service, operation)] == times + 1


# -- accounts --------------------------------------------------------------------------


def test_account_restricts_a_rule_to_one_account(door: AwsFrontDoor) -> None:
    sts = client(door, "sts")
    assumed = sts.assume_role(
        RoleArn=f"arn:aws:iam::{OTHER_ACCOUNT}:role/agent", RoleSessionName="scan"
    )
    creds = assumed["Credentials"]
    other = client(
        door,
        "iam",
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    rule = door.fail("iam", "ListUsers", account=OTHER_ACCOUNT)

    with pytest.raises(ClientError) as excinfo:
        other.list_users()
    assert error_of(excinfo)[0] == "AccessDenied"
    assert client(door, "iam").list_users()["Users"] == []
    assert rule.hits == 1


def test_handler_sees_who_is_calling(door: AwsFrontDoor) -> None:
    seen: list[FrontDoorRequest] = []

    def record(request: FrontDoorRequest) -> None:
        seen.append(request)  # returning None lets moto answer

    door.answer("iam", "GetUser", record)
    sts = client(door, "sts")
    creds = sts.assume_role(
        RoleArn=f"arn:aws:iam::{OTHER_ACCOUNT}:role/agent", RoleSessionName="session"
    )["Credentials"]
    iam = client(door, "iam")
    iam.create_user(UserName="bob")
    iam.get_user(UserName="bob")
    other = client(
        door,
        "iam",
        region_name="eu-west-1",
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    with pytest.raises(ClientError):
        other.get_user(UserName="bob")  # bob lives in the default account only

    mine, theirs = seen
    assert (mine.access_key_id, mine.account_id, mine.region) == (
        "testing",
        DEFAULT_ACCOUNT_ID,
        "us-east-1",
    )
    assert mine.form["UserName"] == "bob" and mine.param("UserName") == "bob"
    assert mine.protocol == "query" and mine.signing_name == "iam"
    assert (theirs.access_key_id, theirs.account_id) == (creds["AccessKeyId"], OTHER_ACCOUNT)


# -- answers ---------------------------------------------------------------------------


def _credential(user: str, service: str, n: int, status: str = "Active") -> dict[str, Any]:
    return {
        "UserName": user,
        "Status": status,
        "ServiceUserName": f"{user}-at-{n}",
        "ServiceCredentialAlias": f"{user}-alias-{n}",
        "CreateDate": dt.datetime(2026, 1, n, 12, 0, 0, tzinfo=UTC),
        "ExpirationDate": dt.datetime(2027, 1, n, 12, 0, 0, tzinfo=UTC),
        "ServiceSpecificCredentialId": f"ACCA{user.upper()}{n:04d}",
        "ServiceName": service,
    }


def test_service_specific_credentials_filters_and_pages(door: AwsFrontDoor) -> None:
    mine = [
        _credential("alice", "bedrock.amazonaws.com", 1),
        _credential("alice", "codecommit.amazonaws.com", 2, status="Inactive"),
        _credential("bob", "bedrock.amazonaws.com", 3),
        _credential("bob", "bedrock.amazonaws.com", 4),
        _credential("carol", "cassandra.amazonaws.com", 5),
    ]
    theirs = [_credential("mallory", "bedrock.amazonaws.com", 6)]
    rule = door.serve_service_specific_credentials(
        {DEFAULT_ACCOUNT_ID: mine, OTHER_ACCOUNT: theirs}
    )
    iam = client(door, "iam")

    pages, kwargs = [], {"AllUsers": True, "MaxItems": 2}
    while True:
        page = iam.list_service_specific_credentials(**kwargs)
        pages.append(page)
        if not page["IsTruncated"]:
            break
        kwargs["Marker"] = page["Marker"]
    assert [len(p["ServiceSpecificCredentials"]) for p in pages] == [2, 2, 1]
    assert [p["IsTruncated"] for p in pages] == [True, True, False]
    got = [c for p in pages for c in p["ServiceSpecificCredentials"]]
    assert got == mine  # every field, datetimes included, round-trips botocore's parser

    alice = iam.list_service_specific_credentials(UserName="alice")
    assert [c["ServiceSpecificCredentialId"] for c in alice["ServiceSpecificCredentials"]] == [
        "ACCAALICE0001",
        "ACCAALICE0002",
    ]
    assert alice["IsTruncated"] is False and "Marker" not in alice

    bedrock = iam.list_service_specific_credentials(
        AllUsers=True, ServiceName="bedrock.amazonaws.com"
    )
    assert [c["UserName"] for c in bedrock["ServiceSpecificCredentials"]] == ["alice", "bob", "bob"]
    bob_bedrock = iam.list_service_specific_credentials(
        UserName="bob", ServiceName="bedrock.amazonaws.com"
    )
    assert len(bob_bedrock["ServiceSpecificCredentials"]) == 2
    assert iam.list_service_specific_credentials()["ServiceSpecificCredentials"] == []

    with pytest.raises(ClientError) as excinfo:
        iam.list_service_specific_credentials(UserName="alice", AllUsers=True)
    assert error_of(excinfo)[0::2] == ("ValidationError", 400)

    creds = client(door, "sts").assume_role(
        RoleArn=f"arn:aws:iam::{OTHER_ACCOUNT}:role/auditor", RoleSessionName="session"
    )["Credentials"]
    other = client(
        door,
        "iam",
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    assert (
        other.list_service_specific_credentials(AllUsers=True)["ServiceSpecificCredentials"]
        == theirs
    )
    assert rule.hits == 9


def test_query_xml_response_maps_lists_and_ec2(door: AwsFrontDoor) -> None:
    door.answer(
        "iam",
        "GetAccountSummary",
        lambda req: query_xml_response(
            req.service_model or "iam",
            "GetAccountSummary",
            {"SummaryMap": {"Users": 7, "Roles": 3}},
        ),
    )
    created = dt.datetime(2025, 5, 17, 8, 30, 1, 250000, tzinfo=UTC)
    door.answer(
        "iam",
        "ListUsers",
        lambda req: query_xml_response(
            "iam",
            "ListUsers",
            {
                "Users": [
                    {
                        "UserName": "agent",
                        "UserId": "AIDA1",
                        "Arn": "arn:aws:iam::1:user/agent",
                        "Path": "/",
                        "CreateDate": created,
                    }
                ],
                "IsTruncated": False,
            },
        ),
    )
    door.answer(
        "ec2",
        "DescribeRegions",
        lambda req: query_xml_response(
            "ec2",
            "DescribeRegions",
            {
                "Regions": [
                    {
                        "RegionName": "eu-west-3",
                        "Endpoint": "ec2.eu-west-3.amazonaws.com",
                        "OptInStatus": "opted-in",
                    }
                ]
            },
        ),
    )
    iam = client(door, "iam")
    assert iam.get_account_summary()["SummaryMap"] == {"Users": 7, "Roles": 3}
    users = iam.list_users()
    assert users["Users"][0]["CreateDate"] == created and users["IsTruncated"] is False
    regions = client(door, "ec2").describe_regions()["Regions"]
    assert regions == [
        {
            "RegionName": "eu-west-3",
            "Endpoint": "ec2.eu-west-3.amazonaws.com",
            "OptInStatus": "opted-in",
        }
    ]

    with pytest.raises(ValueError, match="NotAMember"):
        query_xml_response("iam", "ListUsers", {"NotAMember": 1})


def test_json_response_and_rest_path_params(door: AwsFrontDoor) -> None:
    seen: list[FrontDoorRequest] = []
    updated = dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)

    def get_runtime(request: FrontDoorRequest) -> FrontDoorResponse:
        seen.append(request)
        runtime_id = request.path_params["agentRuntimeId"]
        return json_response(
            {
                "agentRuntimeArn": f"arn:aws:bedrock-agentcore:us-east-1:123456789012:runtime/{runtime_id}",
                "agentRuntimeName": "support_bot",
                "agentRuntimeId": runtime_id,
                "agentRuntimeVersion": "1",
                "createdAt": updated,
                "lastUpdatedAt": updated,
                "roleArn": "arn:aws:iam::123456789012:role/runtime",
                "networkConfiguration": {"networkMode": "PUBLIC"},
                "status": "READY",
            },
            content_type="application/json",
        )

    door.answer("bedrock-agentcore-control", "GetAgentRuntime", get_runtime)
    door.answer(
        "secretsmanager",
        "ListSecrets",
        lambda req: json_response({"SecretList": [{"Name": "n", "LastChangedDate": updated}]}),
    )
    control = client(door, "bedrock-agentcore-control")
    runtime = control.get_agent_runtime(agentRuntimeId="support_bot-AbC123")
    assert runtime["agentRuntimeId"] == "support_bot-AbC123"
    assert runtime["lastUpdatedAt"] == updated and runtime["status"] == "READY"
    assert seen[0].method == "GET" and seen[0].protocol == "rest-json"
    assert client(door, "secretsmanager").list_secrets()["SecretList"] == [
        {"Name": "n", "LastChangedDate": updated}
    ]


def test_handler_errors_surface_as_internal_failure(door: AwsFrontDoor) -> None:
    def broken(request: FrontDoorRequest) -> FrontDoorResponse:
        raise RuntimeError("bug in the test double")

    def validation(request: FrontDoorRequest) -> FrontDoorResponse:
        return error_response(request, "ValidationException", "bad input", 400)

    rule = door.answer("lambda", "ListFunctions", broken)
    door.answer("bedrock-agent", "ListAgents", validation)
    with pytest.raises(ClientError) as excinfo:
        client(door, "lambda").list_functions()
    assert error_of(excinfo)[0::2] == ("InternalFailure", 500)
    assert isinstance(rule.errors[0], RuntimeError)
    with pytest.raises(ClientError) as excinfo:
        client(door, "bedrock-agent").list_agents()
    assert error_of(excinfo) == ("ValidationException", "bad input", 400)


# -- attribution -----------------------------------------------------------------------


def test_shared_signing_names_resolve_to_the_right_service(door: AwsFrontDoor) -> None:
    for service in (
        "bedrock",
        "bedrock-agent",
        "bedrock-runtime",
        "bedrock-agentcore",
        "bedrock-agentcore-control",
    ):
        door.fail(service, code=f"From-{service}")
    calls = [
        ("bedrock", "ListFoundationModels", lambda c: c.list_foundation_models()),
        ("bedrock-agent", "GetAgent", lambda c: c.get_agent(agentId="AGENT12345")),
        ("bedrock-runtime", "InvokeModel", lambda c: c.invoke_model(modelId="m", body=b"{}")),
        (
            "bedrock-agentcore",
            "InvokeAgentRuntime",
            lambda c: c.invoke_agent_runtime(agentRuntimeArn="arn:aws:x", payload=b"{}"),
        ),
        ("bedrock-agentcore-control", "ListAgentRuntimes", lambda c: c.list_agent_runtimes()),
    ]
    for service, operation, call in calls:
        with pytest.raises(ClientError) as excinfo:
            call(client(door, service))
        assert error_of(excinfo)[0] == f"From-{service}", operation
        assert door.calls[(service, operation)] == 1

    # events (json) and eventbridgev2 (cbor) both sign as "events"
    door.fail("eventbridgev2")
    assert client(door, "events").list_event_buses()["EventBuses"]
    assert door.calls[("events", "ListEventBuses")] == 1


def test_s3_operations_sharing_a_path_are_told_apart(door: AwsFrontDoor) -> None:
    s3 = client(door, "s3")
    s3.create_bucket(Bucket="src-bucket")
    s3.put_object(Bucket="src-bucket", Key="a", Body=b"x")
    s3.copy_object(Bucket="src-bucket", Key="b", CopySource={"Bucket": "src-bucket", "Key": "a"})
    s3.put_bucket_tagging(Bucket="src-bucket", Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    s3.get_bucket_tagging(Bucket="src-bucket")
    s3.list_objects(Bucket="src-bucket")
    assert {op for (svc, op) in door.calls if svc == "s3"} == {
        "CreateBucket",
        "PutObject",
        "CopyObject",
        "PutBucketTagging",
        "GetBucketTagging",
        "ListObjects",
    }


def test_calls_count_by_operation_and_reset(door: AwsFrontDoor) -> None:
    iam = client(door, "iam")
    for _ in range(3):
        iam.list_users()
    iam.list_roles()
    assert door.calls[("iam", "ListUsers")] == 3
    assert door.calls[("iam", "ListRoles")] == 1
    door.reset_counts()
    assert not door.calls


# -- slowness and lifecycle ------------------------------------------------------------


def test_delay_then_forward_and_client_timeouts(door: AwsFrontDoor) -> None:
    rule = door.delay("iam", "ListUsers", seconds=0.3, times=2)
    iam = client(door, "iam")
    started = time.monotonic()
    assert iam.list_users()["Users"] == []
    assert time.monotonic() - started >= 0.3

    impatient = client(
        door,
        "iam",
        config=Config(read_timeout=0.1, retries={"mode": "standard", "total_max_attempts": 1}),
    )
    with pytest.raises(ReadTimeoutError):
        impatient.list_users()
    assert rule.hits == 2 and rule.exhausted

    iam.list_users()  # no longer delayed (an upper bound on wall time would be flaky)
    assert rule.hits == 2
    assert door.calls[("iam", "ListUsers")] == 3


def test_stop_closes_the_door_even_on_kept_alive_connections(
    door: AwsFrontDoor, own_moto_url: str
) -> None:
    with AwsFrontDoor(own_moto_url) as own:
        url = own.url
        iam = boto3.session.Session().client(
            "iam", endpoint_url=url, region_name="us-east-1", config=NO_RETRIES
        )
        iam.list_users()
    assert own.calls[("iam", "ListUsers")] == 1
    with pytest.raises(EndpointConnectionError):
        iam.list_users()
