"""App Runner services: the instance role the service's code runs as
(``InstanceConfiguration.InstanceRoleArn``), with its runtime env var *names*.

``ListServices`` gives summaries; ``DescribeService`` the configuration. Values of
``RuntimeEnvironmentVariables`` are dropped here, at the edge, but for the few allow-listed,
non-secret ones that name a model or an agent framework (``agentreach.classify.envvalues``);
``RuntimeEnvironmentSecrets`` keep their reference (a Secrets Manager or SSM ARN), never a
value. The access role (``AuthenticationConfiguration.AccessRoleArn``) is the one App Runner's
build service pulls the image with: kept as an attribute, not a ``runs_as`` edge, because the
service's code never runs as it. App Runner is offered in a few regions only; elsewhere
there is no endpoint, which is not a gap.
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from agentreach.classify.envvalues import readable_values
from agentreach.model import Edge, EdgeKind, Record, Workload, node_id, parse_datetime

from .calls import AwsCalls
from .ids import SOURCE, role_id, tags_dict


def get(calls: AwsCalls, region: str) -> list[dict[str, Any]]:
    out = []
    for summary in _summaries(calls, region):
        resp = calls.call("apprunner", "DescribeService", region=region, ServiceArn=summary["ServiceArn"],
                          need=("Service.ServiceArn",))
        if not resp:
            continue
        item = service_view(resp["Service"])
        tags = calls.call("apprunner", "ListTagsForResource", region=region, ResourceArn=summary["ServiceArn"])
        item["Tags"] = (tags or {}).get("Tags", [])
        out.append(item)
    return out


def _summaries(calls: AwsCalls, region: str) -> Iterator[dict[str, Any]]:
    """ListServices page by page: botocore has no paginator for it, so NextToken is followed
    here (a failure mid-way keeps what was read, its gap recorded by ``call``)."""
    params: dict[str, Any] = {}
    while True:
        page = calls.call("apprunner", "ListServices", region=region, **params)
        if page is None:
            return
        yield from calls.keep(page.get("ServiceSummaryList") or [], ("ServiceArn",), "apprunner", "ListServices",
                              region)
        if not page.get("NextToken"):
            return
        params["NextToken"] = page["NextToken"]


def _runtime(source: Mapping[str, Any]) -> Mapping[str, Any]:
    """The runtime configuration of an image or a code repository source."""
    image = (source.get("ImageRepository") or {}).get("ImageConfiguration")
    code = ((source.get("CodeRepository") or {}).get("CodeConfiguration") or {}).get("CodeConfigurationValues")
    return image or code or {}


def service_view(service: Mapping[str, Any]) -> dict[str, Any]:
    """A service as the connector keeps it: env names, allow-listed values, secret references."""
    source = service.get("SourceConfiguration") or {}
    runtime = _runtime(source)
    variables = runtime.get("RuntimeEnvironmentVariables") or {}
    secrets = runtime.get("RuntimeEnvironmentSecrets") or {}
    kept = {k: service[k] for k in ("ServiceName", "ServiceId", "ServiceArn", "ServiceUrl", "CreatedAt", "Status")
            if k in service}
    kept.update(
        InstanceRoleArn=(service.get("InstanceConfiguration") or {}).get("InstanceRoleArn"),
        AccessRoleArn=(source.get("AuthenticationConfiguration") or {}).get("AccessRoleArn"),
        ImageIdentifier=(source.get("ImageRepository") or {}).get("ImageIdentifier"),
        Runtime=(((source.get("CodeRepository") or {}).get("CodeConfiguration") or {})
                 .get("CodeConfigurationValues") or {}).get("Runtime"),
        EnvironmentNames=sorted(set(variables) | set(secrets)),
        EnvironmentValues=readable_values(variables),  # allow-listed model / framework ids only
        SecretRefs=[{"name": k, "value_from": v} for k, v in sorted(secrets.items())])
    return kept


def transform(services: list[Mapping[str, Any]], account: str, region: str) -> Iterator[Record]:
    for svc in services:
        arn = svc["ServiceArn"]
        wid = node_id("aws", "apprunner_service", arn)
        yield Workload(
            id=wid, provider="aws", source=SOURCE, type="aws_apprunner_service", name=svc.get("ServiceName") or arn,
            native_id=arn, account=account, region=region, created=parse_datetime(svc.get("CreatedAt")),
            tags=tags_dict(svc.get("Tags")), env_var_names=tuple(svc.get("EnvironmentNames") or ()),
            attrs={"status": svc.get("Status"), "instance_role_arn": svc.get("InstanceRoleArn"),
                   "access_role_arn": svc.get("AccessRoleArn"), "image": svc.get("ImageIdentifier"),
                   "runtime": svc.get("Runtime"), "secret_refs": list(svc.get("SecretRefs") or []),
                   "env_values": dict(svc.get("EnvironmentValues") or {})})
        if svc.get("InstanceRoleArn"):
            yield Edge(src=wid, dst=role_id(svc["InstanceRoleArn"]), kind=EdgeKind.RUNS_AS, source=SOURCE,
                       attrs={"via": "App Runner instance role"})
