"""Cloud Run services (Cloud Run Admin API v2): which service account each service runs as,
with its labels and its containers' env var *names*.

``template.serviceAccount`` is the identity of every revision made from the template; when
it is empty Cloud Run uses the project's Compute Engine default service account
(``{number}-compute@developer.gserviceaccount.com``). v2 lists per region (its ``-``
wildcard is refused), so the connector lists each of ``run_locations``.

Env values are dropped here, at the edge (``service_view``), but for the few allow-listed,
non-secret variables that name a model or an agent framework
(``agentreach.classify.envvalues``); a variable from Secret Manager
(``valueSource.secretKeyRef``) keeps the secret's name, never its value.
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from agentreach.classify.envvalues import readable_values
from agentreach.model import Edge, EdgeKind, Record, Workload, node_id

from .calls import GcpCalls
from .ids import PROVIDER, SOURCE, labels, parse_time
from .members import member_identity

DEFAULT_COMPUTE_SA = "{number}-compute@developer.gserviceaccount.com"


def get(calls: GcpCalls, project: str, locations: tuple[str, ...]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for location in locations:
        out += [service_view(s) for s in calls.rest_pages(
            "run", f"/v2/projects/{project}/locations/{location}/services", "services",
            operation=f"services.list:{location}", project=project)]
    return out


def _container_view(container: Mapping[str, Any]) -> dict[str, Any]:
    env = [e for e in container.get("env") or [] if isinstance(e, Mapping) and e.get("name")]
    plain = {str(e["name"]): e.get("value") for e in env if "valueSource" not in e}
    kept = []
    for e in env:
        item: dict[str, Any] = {"name": str(e["name"])}
        secret = ((e.get("valueSource") or {}).get("secretKeyRef") or {}) if isinstance(e.get("valueSource"),
                                                                                         Mapping) else {}
        if secret.get("secret"):
            item["secret"] = str(secret["secret"])
        kept.append(item)
    return {"name": container.get("name"), "image": container.get("image"), "env": kept,
            # allow-listed model / framework ids only; every other value is dropped here
            "env_values": readable_values(plain)}


def service_view(service: Mapping[str, Any]) -> dict[str, Any]:
    """A service as the connector keeps it: name, labels, description, times, and its
    template's service account and containers (image, env names, allow-listed values)."""
    template = service.get("template") or {}
    kept = {k: service[k] for k in ("name", "uid", "description", "labels", "createTime", "updateTime", "creator",
                                    "uri") if k in service}
    kept["template"] = {"serviceAccount": template.get("serviceAccount"), "labels": template.get("labels") or {},
                        "containers": [_container_view(c) for c in template.get("containers") or []
                                       if isinstance(c, Mapping)]}
    return kept


def runs_as(service: Mapping[str, Any], project_number: str | None) -> str | None:
    """The member string of the service account the service runs as."""
    email = (service.get("template") or {}).get("serviceAccount")
    if email:
        return f"serviceAccount:{email}"
    return f"serviceAccount:{DEFAULT_COMPUTE_SA.format(number=project_number)}" if project_number else None


def transform(services: list[Mapping[str, Any]], project: str, project_number: str | None,
              known_emails: set[str], number_to_project: Mapping[str, str]) -> Iterator[Record]:
    for svc in services:
        name = str(svc["name"])  # projects/P/locations/L/services/S
        template = svc.get("template") or {}
        containers = template.get("containers") or []
        member = runs_as(svc, project_number)
        wl = Workload(
            id=node_id(PROVIDER, "cloud_run_service", name), provider=PROVIDER, source=SOURCE,
            type="gcp_cloud_run_service", name=name.rsplit("/", 1)[-1], native_id=name, account=project,
            region=name.split("/")[3] if name.count("/") >= 5 else None, created=parse_time(svc.get("createTime")),
            tags=labels(svc.get("labels")),
            env_var_names=tuple(sorted({str(e["name"]) for c in containers for e in c.get("env") or []})),
            attrs={"service_account": template.get("serviceAccount"), "runs_as_member": member,
                   "description": svc.get("description"), "uri": svc.get("uri"),
                   "containers": [{"name": c.get("name"), "image": c.get("image")} for c in containers],
                   "env_values": {k: v for c in containers for k, v in (c.get("env_values") or {}).items()}})
        yield wl
        target = member_identity(member, known_emails, number_to_project) if member else None
        if target is not None:
            node, target_id = target
            if node is not None and node.type != "gcp_sa":  # plain SAs: the listing (or the final pass) emits
                yield node
            yield Edge(src=wl.id, dst=target_id, kind=EdgeKind.RUNS_AS, source=SOURCE,
                       attrs={"via": "Cloud Run service template.serviceAccount"
                              if template.get("serviceAccount") else "the Compute Engine default service account"})
