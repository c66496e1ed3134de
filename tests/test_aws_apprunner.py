"""App Runner services with the real boto3 client, served by the front door (moto has no App
Runner; the door answers as the App Runner API reference says, and as an account without
services when nothing is served). A service runs as its instance role, never as the access
role its build uses, with env var names; values are dropped but for allow-listed model ids."""

from __future__ import annotations

import json
from typing import Any, Iterator

import boto3
import pytest
from agentreach_connectors.aws import AwsConnector
from agentreach_testing.faults import Fault

from agentreach.connector import ScanContext
from agentreach.model import Edge, EdgeKind, Workload

from .conftest import reset_moto

ACCOUNT = "123456789012"
INSTANCE = "AgentAppRunnerStack-AppRunnerInstanceRole"
ACCESS = "AgentAppRunnerStack-AppRunnerAccessRole"
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "tasks.apprunner.amazonaws.com"},
                                                 "Action": "sts:AssumeRole"}]}
PLAIN_SECRET = "sk-ant-api03-plain-value-that-must-not-be-kept"


def _service(n: int) -> dict[str, Any]:
    arn = f"arn:aws:apprunner:us-east-1:{ACCOUNT}:service/agent-service-{n}/0123456789abcdef{n}"
    return {"ServiceName": f"agent-service-{n}", "ServiceId": f"0123456789abcdef{n}", "ServiceArn": arn,
            "ServiceUrl": f"x{n}.us-east-1.awsapprunner.com", "CreatedAt": 1740830400, "UpdatedAt": 1740830400,
            "Status": "RUNNING",
            "SourceConfiguration": {
                "AuthenticationConfiguration": {"AccessRoleArn": f"arn:aws:iam::{ACCOUNT}:role/{ACCESS}"},
                "ImageRepository": {"ImageIdentifier": f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/agent:latest",
                                    "ImageRepositoryType": "ECR",
                                    "ImageConfiguration": {
                                        "Port": "8080",
                                        "RuntimeEnvironmentVariables": {"LOG_LEVEL": "INFO",
                                                                        "BEDROCK_MODEL_ID": "anthropic.claude-3-haiku",
                                                                        "ANTHROPIC_API_KEY": PLAIN_SECRET},
                                        "RuntimeEnvironmentSecrets": {
                                            "DB_PASSWORD": f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:db"}}}},
            "InstanceConfiguration": {"Cpu": "1024", "Memory": "2048",
                                      "InstanceRoleArn": f"arn:aws:iam::{ACCOUNT}:role/{INSTANCE}"},
            "Tags": [{"Key": "app", "Value": "strands-agent"}]}


SERVICES = [_service(n) for n in range(1, 23)]  # more than one 20-service page


def _client(door: Any, service: str) -> Any:
    return boto3.client(service, endpoint_url=door.url, region_name="us-east-1")


@pytest.fixture(scope="module")
def door(moto_url: str, frontdoor_session: Any) -> Iterator[Any]:
    reset_moto(moto_url)
    frontdoor_session.clear_rules()
    frontdoor_session.serve_service_specific_credentials({})  # moto lacks it too; the IAM read calls it
    iam = _client(frontdoor_session, "iam")
    for name in (INSTANCE, ACCESS):
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))
    yield frontdoor_session
    frontdoor_session.clear_rules()
    reset_moto(moto_url)


def scan(door: Any) -> tuple[list[Any], ScanContext]:
    ctx = ScanContext()
    conn = AwsConnector({"endpoint_url": door.url, "regions": ["us-east-1"], "services": ["iam", "apprunner"],
                         "max_attempts": 2})
    return list(conn.scan(ctx)), ctx


def test_without_services_the_door_answers_as_an_empty_account(door: Any) -> None:
    runner = _client(door, "apprunner")
    assert runner.list_services()["ServiceSummaryList"] == []
    with pytest.raises(runner.exceptions.ResourceNotFoundException):
        runner.describe_service(ServiceArn=SERVICES[0]["ServiceArn"])
    records, ctx = scan(door)
    assert not ctx.gaps.gaps and not [r for r in records if isinstance(r, Workload)]


def test_services_run_as_their_instance_role_with_env_names_only(door: Any) -> None:
    rules = door.serve_apprunner_services(SERVICES)
    try:
        records, ctx = scan(door)
    finally:
        for rule in rules:
            door.remove_rule(rule)
    assert not ctx.gaps.gaps, ctx.gaps.gaps
    services = {w.name: w for w in records if isinstance(w, Workload) and w.type == "aws_apprunner_service"}
    assert len(services) == 22  # both pages
    svc = services["agent-service-1"]
    assert svc.env_var_names == ("ANTHROPIC_API_KEY", "BEDROCK_MODEL_ID", "DB_PASSWORD", "LOG_LEVEL")
    assert svc.attrs["env_values"] == {"BEDROCK_MODEL_ID": "anthropic.claude-3-haiku"}
    assert svc.tags == {"app": "strands-agent"}
    assert svc.attrs["access_role_arn"].endswith(ACCESS)
    edges = [e for e in records if isinstance(e, Edge) and e.src == svc.id]
    assert [(e.kind, e.dst.endswith(INSTANCE)) for e in edges] == [(EdgeKind.RUNS_AS, True)]
    assert PLAIN_SECRET not in json.dumps([r.to_dict() for r in records], default=str)


def test_a_denied_describe_is_a_gap_per_service(door: Any) -> None:
    rules = door.serve_apprunner_services(SERVICES[:2])
    door.add(Fault("deny", api="apprunner", operation="DescribeService"))
    try:
        records, ctx = scan(door)
    finally:
        door.faults.clear()
        for rule in rules:
            door.remove_rule(rule)
    assert [g.operation for g in ctx.gaps.gaps] == ["DescribeService", "DescribeService"]
    assert not [r for r in records if isinstance(r, Workload)]
