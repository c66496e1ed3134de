"""Lambda functions: workloads that run as their execution role, and systems others invoke
(the resource policy says who may). Environment variable *names* only: values of
``Environment.Variables`` are dropped here, at the edge, before anything stores them, but
for the few allow-listed, non-secret ones that say which model or framework the function
uses (``agentreach.classify.envvalues``)."""

from __future__ import annotations

import re
from typing import Any, Iterator, Mapping

from agentreach.classify.envvalues import readable_values
from agentreach.model import Edge, EdgeKind, Record, Workload, node_id, parse_datetime

from .calls import AwsCalls
from .ids import SOURCE, role_id, tags_dict
from .policies import parse_policy


def get(calls: AwsCalls, region: str) -> list[dict[str, Any]]:
    out = []
    for fn in calls.paginate("lambda", "ListFunctions", "Functions", region=region,
                             need=("FunctionArn", "FunctionName")):
        arn = fn["FunctionArn"]
        item = {k: v for k, v in fn.items() if k != "Environment"}
        variables = (fn.get("Environment") or {}).get("Variables") or {}
        item["EnvironmentNames"] = sorted(variables.keys())
        item["EnvironmentValues"] = readable_values(variables)
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
                   "resource_policy": with_object_principals(parse_policy(fn.get("Policy"),
                                                                          f"Lambda function {arn}")),
                   "env_values": dict(fn.get("EnvironmentValues") or {}),
                   "reachable": True},
        )
        if fn.get("Role"):
            yield Edge(src=wid, dst=role_id(fn["Role"]), kind=EdgeKind.RUNS_AS, source=SOURCE,
                       attrs={"via": "execution role"})


_ACCOUNT = re.compile(r"^\d{12}$")


def with_object_principals(policy: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    """The policy with each bare-string ``Principal`` in the object form IAM documents.

    Lambda's GetPolicy returns ``"Principal": "123456789012"`` or ``"Principal":
    "arn:aws:iam::123456789012:root"`` for account and ARN principals in some SDK and
    emulator versions (moto among them). Policy evaluation takes only ``"*"`` or an object,
    so such a statement was dropped as malformed and the tool link it states (a Bedrock
    agent's account or role may invoke the function) was lost. A service principal
    (``bedrock.amazonaws.com``) becomes ``{"Service": ...}``, an account id or ARN
    ``{"AWS": ...}``; ``"*"`` stays as it is.
    """
    if not isinstance(policy, Mapping) or policy.get("_unparsed"):
        return policy
    statements = policy.get("Statement")
    if not isinstance(statements, (list, Mapping)):
        return policy
    fixed = []
    for stmt in [statements] if isinstance(statements, Mapping) else statements:
        principal = stmt.get("Principal") if isinstance(stmt, Mapping) else None
        if isinstance(principal, str) and principal != "*":
            kind = "Service" if principal.endswith((".amazonaws.com", ".amazonaws.com.cn")) else "AWS"
            if kind == "AWS" and not (_ACCOUNT.match(principal) or principal.startswith("arn:")):
                fixed.append(stmt)  # not a principal IAM knows: leave it for the evaluator to name
                continue
            stmt = {**stmt, "Principal": {kind: principal}}
        fixed.append(stmt)
    return {**policy, "Statement": fixed}
