"""EKS Pod Identity associations with the real boto3 client: clusters from the moto server,
the associations from the front door (moto implements neither ListPodIdentityAssociations
nor DescribePodIdentityAssociation; the door answers them as the EKS API reference says).
Each association is a workload that runs as its role and names the Kubernetes subject, the
evidence a Pod Identity role's trust policy (``pods.eks.amazonaws.com`` only) never carries."""

from __future__ import annotations

import json
from typing import Any, Iterator

import boto3
import pytest
from agentreach_connectors.aws import AwsConnector
from agentreach_testing.faults import Fault

from agentreach.classify import SnapshotView, Thresholds, classify, load_signals
from agentreach.connector import ScanContext
from agentreach.model import Edge, EdgeKind, Workload

from .conftest import reset_moto

ACCOUNT = "123456789012"  # moto's default account
ROLE = "eks-bedrock-weather-role"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{ROLE}"
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"},
                                                 "Action": ["sts:AssumeRole", "sts:TagSession"]}]}


def _assoc(namespace: str, service_account: str, n: int) -> dict[str, Any]:
    aid = f"a-{n:017d}"
    return {"clusterName": "agents", "namespace": namespace, "serviceAccount": service_account,
            "roleArn": ROLE_ARN, "associationId": aid, "createdAt": 1740830400, "modifiedAt": 1740830400,
            "associationArn": f"arn:aws:eks:us-east-1:{ACCOUNT}:podidentityassociation/agents/{aid}",
            "tags": {}, "disableSessionTags": False}


ASSOCIATIONS = [_assoc("weather-agent", "weather-agent", 1), _assoc("weather-mcp-server", "weather-mcp-server", 2)]


def _client(door: Any, service: str) -> Any:
    return boto3.client(service, endpoint_url=door.url, region_name="us-east-1")


@pytest.fixture(scope="module")
def door(moto_url: str, frontdoor_session: Any) -> Iterator[Any]:
    reset_moto(moto_url)
    frontdoor_session.clear_rules()
    frontdoor_session.serve_service_specific_credentials({})  # moto lacks it too; the IAM read calls it
    iam = _client(frontdoor_session, "iam")
    iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(TRUST))
    cluster_role = iam.create_role(RoleName="eks-cluster", AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    eks = _client(frontdoor_session, "eks")
    eks.create_cluster(name="agents", roleArn=cluster_role, resourcesVpcConfig={"subnetIds": []})
    eks.create_cluster(name="empty", roleArn=cluster_role, resourcesVpcConfig={"subnetIds": []})
    frontdoor_session.serve_pod_identity_associations(ASSOCIATIONS, clusters=["agents", "empty"])
    yield frontdoor_session
    frontdoor_session.clear_rules()
    frontdoor_session.faults.clear()
    reset_moto(moto_url)


def scan(door: Any) -> tuple[list[Any], ScanContext]:
    ctx = ScanContext()
    conn = AwsConnector({"endpoint_url": door.url, "regions": ["us-east-1"], "services": ["iam", "eks"],
                         "max_attempts": 2})
    return list(conn.scan(ctx)), ctx


def test_the_door_pages_and_refuses_like_eks(door: Any) -> None:
    eks = _client(door, "eks")
    first = eks.list_pod_identity_associations(clusterName="agents", maxResults=1)
    assert [a["namespace"] for a in first["associations"]] == ["weather-agent"] and first["nextToken"]
    assert "roleArn" not in first["associations"][0]  # summaries: Describe gives the role
    assert eks.list_pod_identity_associations(clusterName="empty")["associations"] == []
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.list_pod_identity_associations(clusterName="gone")
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.describe_pod_identity_association(clusterName="agents", associationId="a-nope")


def test_associations_are_workloads_that_run_as_the_role_and_name_the_subject(door: Any) -> None:
    records, ctx = scan(door)
    assert not ctx.gaps.gaps, ctx.gaps.gaps
    workloads = {w.name: w for w in records if isinstance(w, Workload) and w.type == "aws_eks_pod_identity_association"}
    assert sorted(workloads) == ["agents/weather-agent/weather-agent", "agents/weather-mcp-server/weather-mcp-server"]
    mcp = workloads["agents/weather-mcp-server/weather-mcp-server"]
    assert mcp.attrs["federated_subject"] == "system:serviceaccount:weather-mcp-server:weather-mcp-server"
    role = next(r for r in records if not isinstance(r, Edge) and r.native_id == ROLE_ARN)
    runs_as = [e for e in records if isinstance(e, Edge) and e.kind == EdgeKind.RUNS_AS and e.dst == role.id]
    assert {e.src for e in runs_as} == {w.id for w in workloads.values()}
    nodes = [r for r in records if not isinstance(r, Edge)]
    view = SnapshotView.build(nodes, [r.to_dict() for r in records if isinstance(r, Edge)])
    verdict = classify(view, load_signals(), Thresholds())[role.id]
    signals = {e.signal: e for e in verdict.evidence}
    assert verdict.verdict == "agent"
    assert signals["any.mcp.server-named"].via == "runs_as"
    assert signals["any.federation.agent-namespace"].field == "pod identity"


def test_a_denied_describe_is_a_gap_and_the_rest_is_kept(door: Any) -> None:
    door.add(Fault("deny", api="eks", operation="DescribePodIdentityAssociation"))
    try:
        records, ctx = scan(door)
    finally:
        door.faults.clear()
    gaps = [g for g in ctx.gaps.gaps if g.operation == "DescribePodIdentityAssociation"]
    assert len(gaps) == 2 and gaps[0].error_code == "AccessDeniedException"
    assert not [w for w in records if isinstance(w, Workload) and w.type == "aws_eks_pod_identity_association"]
    assert any(not isinstance(r, Edge) and r.native_id == ROLE_ARN for r in records)
