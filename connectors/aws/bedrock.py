"""Bedrock agents and AgentCore runtimes and gateways: the AI agents themselves, each a
workload that runs as an IAM role. List calls omit the role, so each object is read once."""

from __future__ import annotations

from typing import Any, Iterator

from agentreach.classify.envvalues import readable_values
from agentreach.model import Edge, EdgeKind, Record, Workload, node_id, parse_datetime

from .calls import AwsCalls
from .ids import SOURCE, role_id, tags_dict


def get_agents(calls: AwsCalls, region: str) -> list[dict[str, Any]]:
    out = []
    for summary in calls.paginate("bedrock-agent", "ListAgents", "agentSummaries", region=region, need=("agentId",)):
        resp = calls.call("bedrock-agent", "GetAgent", region=region, need=("agent.agentId",),
                          agentId=summary["agentId"])
        agent = dict((resp or {}).get("agent") or summary)
        if agent.get("agentArn"):
            tags = calls.call("bedrock-agent", "ListTagsForResource", region=region, resourceArn=agent["agentArn"])
            agent["tags"] = (tags or {}).get("tags", {})
        out.append(agent)
    return out


def transform_agents(agents: list[dict[str, Any]], account: str, region: str) -> Iterator[Record]:
    for agent in agents:
        arn = agent.get("agentArn") or f"arn:aws:bedrock:{region}:{account}:agent/{agent['agentId']}"
        wid = node_id("aws", "bedrock_agent", arn)
        yield Workload(
            id=wid, provider="aws", source=SOURCE, type="aws_bedrock_agent",
            name=agent.get("agentName") or agent["agentId"], native_id=arn, account=account, region=region,
            created=parse_datetime(agent.get("createdAt")), tags=tags_dict(agent.get("tags")),
            attrs={"agent_id": agent.get("agentId"), "status": agent.get("agentStatus"),
                   "foundation_model": agent.get("foundationModel"),
                   "description": agent.get("description"),
                   "role_arn": agent.get("agentResourceRoleArn"),
                   "updated": _iso(agent.get("updatedAt"))},
        )
        if agent.get("agentResourceRoleArn"):
            yield Edge(src=wid, dst=role_id(agent["agentResourceRoleArn"]), kind=EdgeKind.RUNS_AS,
                       source=SOURCE, attrs={"via": "agentResourceRoleArn"})


def get_agentcore(calls: AwsCalls, region: str) -> list[dict[str, Any]]:
    """Runtimes and gateways, each tagged with ``_kind``."""
    svc = "bedrock-agentcore-control"
    out: list[dict[str, Any]] = []
    for summary in calls.paginate(svc, "ListAgentRuntimes", "agentRuntimes", region=region, need=("agentRuntimeId",)):
        detail = calls.call(svc, "GetAgentRuntime", region=region, need=("agentRuntimeId",),
                            agentRuntimeId=summary["agentRuntimeId"])
        item = {k: v for k, v in (detail or summary).items() if k != "environmentVariables"}
        variables = (detail or {}).get("environmentVariables") or {}
        item["environmentNames"] = sorted(variables.keys())
        item["environmentValues"] = readable_values(variables)  # allow-listed model / framework ids only
        out.append({**item, "_kind": "runtime"})
    for summary in calls.paginate(svc, "ListGateways", "items", region=region, need=("gatewayId",)):
        detail = calls.call(svc, "GetGateway", region=region, need=("gatewayId",),
                            gatewayIdentifier=summary["gatewayId"])
        out.append({**(detail or summary), "_kind": "gateway"})
    for item in out:
        arn = item.get("agentRuntimeArn") or item.get("gatewayArn")
        if arn:
            tags = calls.call(svc, "ListTagsForResource", region=region, resourceArn=arn)
            item["tags"] = (tags or {}).get("tags", {})
    return out


def transform_agentcore(items: list[dict[str, Any]], account: str, region: str) -> Iterator[Record]:
    for item in items:
        runtime = item["_kind"] == "runtime"
        if runtime:
            arn = (item.get("agentRuntimeArn")
                   or f"arn:aws:bedrock-agentcore:{region}:{account}:runtime/{item['agentRuntimeId']}")
            name, type_ = item.get("agentRuntimeName") or item.get("agentRuntimeId"), "aws_agentcore_runtime"
        else:
            arn = item.get("gatewayArn") or f"arn:aws:bedrock-agentcore:{region}:{account}:gateway/{item['gatewayId']}"
            name, type_ = item.get("name") or item.get("gatewayId"), "aws_agentcore_gateway"
        wid = node_id("aws", type_.removeprefix("aws_"), arn)
        yield Workload(
            id=wid, provider="aws", source=SOURCE, type=type_, name=str(name), native_id=arn,
            account=account, region=region, created=parse_datetime(item.get("createdAt")),
            tags=tags_dict(item.get("tags")), env_var_names=tuple(item.get("environmentNames", ())),
            attrs={"status": item.get("status"), "description": item.get("description"),
                   "role_arn": item.get("roleArn"), "authorizer_type": item.get("authorizerType"),
                   "protocol": (item.get("protocolType")
                                or (item.get("protocolConfiguration") or {}).get("serverProtocol")),
                   "gateway_url": item.get("gatewayUrl"),
                   "env_values": dict(item.get("environmentValues") or {}),
                   "workload_identity": (item.get("workloadIdentityDetails") or {}).get("workloadIdentityArn")},
        )
        if item.get("roleArn"):
            yield Edge(src=wid, dst=role_id(item["roleArn"]), kind=EdgeKind.RUNS_AS, source=SOURCE,
                       attrs={"via": "roleArn"})


def _iso(value: Any) -> str | None:
    parsed = parse_datetime(value) if value else None
    return parsed.isoformat().replace("+00:00", "Z") if parsed else None
