"""Lambda functions: workloads that run as their execution role, and systems others invoke
(the resource policy says who may). Environment variable *names* only: values of
``Environment.Variables`` are dropped here, at the edge, before anything stores them."""

from __future__ import annotations

from typing import Any, Iterator

from agentreach.model import Edge, EdgeKind, Record, Workload, node_id, parse_datetime

from .calls import AwsCalls
from .ids import SOURCE, role_id, tags_dict
from .policies import parse_policy


def get(calls: AwsCalls, region: str) -> list[dict[str, Any]]:
    out = []
    for fn in calls.paginate("lambda", "ListFunctions", "Functions", region=region):
        arn = fn["FunctionArn"]
        item = {k: v for k, v in fn.items() if k != "Environment"}
        item["EnvironmentNames"] = sorted(((fn.get("Environment") or {}).get("Variables") or {}).keys())
        pol = calls.call("lambda", "GetPolicy", region=region, FunctionName=arn)
        item["Policy"] = (pol or {}).get("Policy")
        tags = calls.call("lambda", "ListTags", region=region, Resource=arn)
        item["Tags"] = (tags or {}).get("Tags", {})
        out.append(item)
    return out


def transform(functions: list[dict[str, Any]], account: str, region: str) -> Iterator[Record]:
    for fn in functions:
        arn = fn["FunctionArn"]
        wid = node_id("aws", "lambda_function", arn)
        yield Workload(
            id=wid, provider="aws", source=SOURCE, type="aws_lambda_function", name=fn["FunctionName"],
            native_id=arn, account=account, region=region,
            created=parse_datetime(fn.get("LastModified")), tags=tags_dict(fn.get("Tags")),
            env_var_names=tuple(fn.get("EnvironmentNames", ())),
            attrs={"runtime": fn.get("Runtime"), "handler": fn.get("Handler"),
                   "description": fn.get("Description"), "role_arn": fn.get("Role"),
                   "package_type": fn.get("PackageType"),
                   "resource_policy": parse_policy(fn.get("Policy"), f"Lambda function {arn}"),
                   "reachable": True},
        )
        if fn.get("Role"):
            yield Edge(src=wid, dst=role_id(fn["Role"]), kind=EdgeKind.RUNS_AS, source=SOURCE,
                       attrs={"via": "execution role"})
