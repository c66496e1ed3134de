"""EKS Pod Identity associations: which IAM role the pods of a Kubernetes service account
run as (``eks:ListPodIdentityAssociations`` per cluster, then
``eks:DescribePodIdentityAssociation`` for the role, which the list's summaries lack).

An association is a workload that ``runs_as`` its role: the role's trust policy names only
``pods.eks.amazonaws.com``, so which namespace and service account use it (an agent's,
an MCP server's) is said here and nowhere else. A cluster deleted between the list and the
describe answers ResourceNotFoundException: nothing to read, no gap.
"""

from __future__ import annotations

from typing import Any, Iterator

from agentreach.model import Edge, EdgeKind, Record, Workload, node_id, parse_datetime

from .calls import AwsCalls
from .ids import SOURCE, role_id

POD_IDENTITY_SERVICE = "pods.eks.amazonaws.com"


def get(calls: AwsCalls, region: str) -> list[dict[str, Any]]:
    out = []
    for cluster in calls.paginate("eks", "ListClusters", "clusters", region=region):
        for summary in calls.paginate("eks", "ListPodIdentityAssociations", "associations", region=region,
                                      clusterName=cluster, need=("associationId",)):
            resp = calls.call("eks", "DescribePodIdentityAssociation", region=region, clusterName=cluster,
                              associationId=summary["associationId"],
                              need=("association.associationArn", "association.roleArn"))
            if resp:
                out.append(dict(resp["association"]))
    return out


def subject(association: dict[str, Any]) -> str:
    """The Kubernetes subject of the pods, spelled as IRSA's ``sub`` claim spells it."""
    return f"system:serviceaccount:{association.get('namespace')}:{association.get('serviceAccount')}"


def transform(associations: list[dict[str, Any]], account: str, region: str) -> Iterator[Record]:
    for assoc in associations:
        arn = assoc["associationArn"]
        wid = node_id("aws", "eks_pod_identity_association", arn)
        yield Workload(
            id=wid, provider="aws", source=SOURCE, type="aws_eks_pod_identity_association",
            name=f"{assoc.get('clusterName')}/{assoc.get('namespace')}/{assoc.get('serviceAccount')}",
            native_id=arn, account=account, region=region, created=parse_datetime(assoc.get("createdAt")),
            tags={str(k): str(v) for k, v in (assoc.get("tags") or {}).items()},
            attrs={"cluster": assoc.get("clusterName"), "namespace": assoc.get("namespace"),
                   "service_account": assoc.get("serviceAccount"), "role_arn": assoc.get("roleArn"),
                   "target_role_arn": assoc.get("targetRoleArn"), "association_id": assoc.get("associationId"),
                   "federated_subject": subject(assoc), "federated_via": POD_IDENTITY_SERVICE})
        yield Edge(src=wid, dst=role_id(assoc["roleArn"]), kind=EdgeKind.RUNS_AS, source=SOURCE,
                   attrs={"via": "EKS Pod Identity association", "subject": subject(assoc)})
