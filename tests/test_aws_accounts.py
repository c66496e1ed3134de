"""Which accounts get scanned, and how the connector finds its endpoint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from agentreach_testing.faults import Fault

from agentreach.connector import ScanContext
from agentreach.scan import prepare, run_scan
from agentreach.store import Store

from .conftest import aws_config, reset_moto


@pytest.fixture
def organization(moto_url: str, frontdoor: Any) -> list[str]:
    """An Organization with two member accounts, each holding one user, and no Bedrock API
    keys (the front door answers that call, which moto lacks)."""
    reset_moto(moto_url)
    frontdoor.serve_service_specific_credentials({})
    org = boto3.client("organizations", endpoint_url=moto_url, region_name="us-east-1")
    org.create_organization(FeatureSet="ALL")
    members = []
    for name in ("agents-dev", "agents-prod"):
        status = org.create_account(AccountName=name, Email=f"{name}@example.com")["CreateAccountStatus"]
        members.append(status["AccountId"])
    sts = boto3.client("sts", endpoint_url=moto_url, region_name="us-east-1")
    for account in members:
        creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/OrganizationAccountAccessRole",
                                RoleSessionName="seed")["Credentials"]
        keys = {"aws_access_key_id": creds["AccessKeyId"], "aws_secret_access_key": creds["SecretAccessKey"],
                "aws_session_token": creds["SessionToken"], "endpoint_url": moto_url, "region_name": "us-east-1"}
        iam = boto3.client("iam", **keys)
        iam.create_user(UserName=f"bot-{account}")
        iam.put_user_policy(UserName=f"bot-{account}", PolicyName="data", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
        boto3.client("s3", **keys).create_bucket(Bucket=f"data-{account}")
    # The dev account may not touch S3, whatever its own policies say.
    scp = org.create_policy(Name="deny-s3-in-dev", Type="SERVICE_CONTROL_POLICY", Description="no S3 in dev",
                            Content=json.dumps({"Version": "2012-10-17", "Statement": [
                                {"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]}))["Policy"]
    org.attach_policy(PolicyId=scp["PolicySummary"]["Id"], TargetId=members[0])
    yield members
    reset_moto(moto_url)


def run(config: dict[str, Any], tmp_path: Path):
    store = Store(tmp_path / "inv.db")
    result = run_scan(store, config, prepare(config), ScanContext())
    return result, [n.node for n in store.nodes(result.snapshot.id)]


def test_every_account_of_the_organization(organization: list[str], frontdoor: Any, tmp_path: Path) -> None:
    config = aws_config(frontdoor.url, organization=True, regions=["us-east-1"], services=["iam"])
    result, nodes = run(config, tmp_path)
    scanned = {n.account for n in nodes if n.type == "aws_account"}
    assert set(organization) | {"123456789012"} == scanned
    users = {n.name for n in nodes if n.type == "aws_iam_user"}
    assert users == {f"bot-{a}" for a in organization}
    assert frontdoor.calls[("organizations", "ListAccounts")] == 1
    assert frontdoor.calls[("sts", "AssumeRole")] == len(organization)  # not for the caller's own account
    assert result.exit_code == 0, [g.to_dict() for g in result.gaps]


def test_service_control_policies_limit_reach(organization: list[str], frontdoor: Any, tmp_path: Path) -> None:
    config = aws_config(frontdoor.url, organization=True, regions=["us-east-1"], services=["iam", "s3"])
    result, nodes = run(config, tmp_path)
    scps = [n for n in nodes if n.type == "aws_scp"]
    assert {n.name for n in scps} >= {"deny-s3-in-dev", "FullAWSAccess"}
    store = Store(tmp_path / "inv.db")
    edges = store.edges(result.snapshot.id, kinds=["can_access"])
    dev, prod = organization
    reached = {(e["src"].rsplit("/", 1)[-1], e["dst"].rsplit(":", 1)[-1]) for e in edges}
    assert (f"bot-{prod}", f"data-{prod}") in reached
    assert not any(src == f"bot-{dev}" and "data-" in dst for src, dst in reached)


def test_endpoint_from_the_environment(organization: list[str], frontdoor: Any, tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """No endpoint in config: botocore's own AWS_ENDPOINT_URL handling reaches the server."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", frontdoor.url)
    config = aws_config(frontdoor.url, regions=["us-east-1"], services=["iam"], accounts=[organization[0]])
    config["connectors"]["aws"]["endpoint_url"] = None
    result, nodes = run(config, tmp_path)
    assert {n.name for n in nodes if n.type == "aws_iam_user"} == {f"bot-{organization[0]}"}
    assert frontdoor.calls[("iam", "GetAccountAuthorizationDetails")] == 1


def test_an_unimplemented_api_is_a_gap(organization: list[str], frontdoor: Any, moto_url: str,
                                       tmp_path: Path) -> None:
    # A fault answers before the front door's stand-in for the call: it fails as an unimplemented one does.
    frontdoor.add(Fault("error", api="iam", operation="ListServiceSpecificCredentials", status=501,
                        code="NotImplemented", message="ListServiceSpecificCredentials is not available in this partition"))
    config = aws_config(frontdoor.url, regions=["us-east-1"], services=["iam"])
    # Something to collect in the (otherwise empty) management account: with nothing collected
    # and a gap, the scan would fail (exit 4, README "Exit codes"), which is not this test's point.
    boto3.client("iam", endpoint_url=moto_url, region_name="us-east-1").create_user(UserName="ops")
    result, nodes = run(config, tmp_path)
    assert [(g.operation, g.error_code) for g in result.gaps] == [("ListServiceSpecificCredentials", "NotImplemented")]
    assert result.snapshot.status == "complete" and result.exit_code == 3


def test_one_service_routed_to_a_fake_through_its_own_env_var(organization: list[str], frontdoor: Any, moto_url: str,
                                                              tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """AWS_ENDPOINT_URL_IAM sends only IAM to the fake that implements what moto lacks;
    every other service goes to moto directly through AWS_ENDPOINT_URL."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    monkeypatch.setenv("AWS_ENDPOINT_URL_IAM", frontdoor.url)
    config = aws_config(frontdoor.url, regions=["us-east-1"], services=["iam", "s3"], accounts=[organization[0]])
    config["connectors"]["aws"]["endpoint_url"] = None
    result, nodes = run(config, tmp_path)
    assert result.gaps == []
    assert frontdoor.calls[("iam", "ListServiceSpecificCredentials")] == 1
    assert {service for service, _ in frontdoor.calls} == {"iam"}
