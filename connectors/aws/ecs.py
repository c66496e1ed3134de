"""ECS task definitions (latest active revision per family): the task role the containers
run as and the execution role that pulls their secrets. Env var names only; ``secrets``
entries keep their ``valueFrom`` reference, which is an ARN, never a value."""

from __future__ import annotations

from typing import Any, Iterator

from agentreach.classify.envvalues import readable_values
from agentreach.model import Edge, EdgeKind, Record, Workload, node_id, parse_datetime

from .calls import AwsCalls
from .ids import SOURCE, role_id, tags_dict


def get(calls: AwsCalls, region: str) -> list[dict[str, Any]]:
    out = []
    for family in calls.paginate("ecs", "ListTaskDefinitionFamilies", "families", region=region, status="ACTIVE"):
        resp = calls.call("ecs", "DescribeTaskDefinition", region=region, taskDefinition=family, include=["TAGS"],
                          need=("taskDefinition.taskDefinitionArn",))
        if not resp:
            continue
        td = dict(resp["taskDefinition"])
        containers = []
        for c in td.get("containerDefinitions", []):
            containers.append({
                "name": c.get("name"), "image": c.get("image"),
                "env_names": sorted(e["name"] for e in c.get("environment", []) if "name" in e),
                # allow-listed model / framework ids only; every other value is dropped here
                "env_values": readable_values({e["name"]: e.get("value") for e in c.get("environment", [])
                                               if "name" in e}),
                "secret_refs": [{"name": s.get("name"), "value_from": s.get("valueFrom")}
                                for s in c.get("secrets", [])],
            })
        td["containerDefinitions"] = containers
        td["tags"] = resp.get("tags", [])
        out.append(td)
    return out


def transform(tasks: list[dict[str, Any]], account: str, region: str) -> Iterator[Record]:
    for td in tasks:
        arn = td["taskDefinitionArn"]
        wid = node_id("aws", "ecs_task_definition", arn)
        env = sorted({n for c in td["containerDefinitions"] for n in c["env_names"]}
                     | {s["name"] for c in td["containerDefinitions"] for s in c["secret_refs"] if s["name"]})
        yield Workload(
            id=wid, provider="aws", source=SOURCE, type="aws_ecs_task_definition",
            name=f"{td.get('family')}:{td.get('revision')}", native_id=arn, account=account, region=region,
            created=parse_datetime(td.get("registeredAt")), tags=tags_dict(td.get("tags")),
            env_var_names=tuple(env),
            attrs={"family": td.get("family"), "revision": td.get("revision"),
                   "task_role_arn": td.get("taskRoleArn"), "execution_role_arn": td.get("executionRoleArn"),
                   "containers": td["containerDefinitions"],
                   "env_values": {k: v for c in td["containerDefinitions"]
                                  for k, v in (c.get("env_values") or {}).items()}},
        )
        if td.get("taskRoleArn"):
            yield Edge(src=wid, dst=role_id(td["taskRoleArn"]), kind=EdgeKind.RUNS_AS, source=SOURCE,
                       key="task", attrs={"via": "taskRoleArn"})
        if td.get("executionRoleArn"):
            yield Edge(src=wid, dst=role_id(td["executionRoleArn"]), kind=EdgeKind.RUNS_AS, source=SOURCE,
                       key="execution", attrs={"via": "executionRoleArn"})
