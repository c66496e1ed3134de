"""Vertex AI Agent Engine (reasoning engines): which identity each agent runs as.

``spec.identityType`` decides (aiplatform ReasoningEngineSpec): ``AGENT_IDENTITY`` runs as
the engine's own agent principal (SPIFFE, ``principal://agents.global.org-<org>...``);
otherwise ``spec.serviceAccount`` if set, else the project's Agent Engine service agent
``service-<number>@gcp-sa-aiplatform-re.iam.gserviceaccount.com``. ``spec.effectiveIdentity``
(output only) wins where the API gives it.
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from agentreach.model import Edge, EdgeKind, Record, Workload, node_id

from .calls import GcpCalls
from .ids import PROVIDER, SOURCE, labels, parse_time
from .members import member_identity

AGENT_ENGINE_AGENT = "service-{number}@gcp-sa-aiplatform-re.iam.gserviceaccount.com"


def get(calls: GcpCalls, project: str, locations: tuple[str, ...]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    template = calls.cfg.endpoints["aiplatform"]
    for location in locations:
        out += calls.rest_pages("aiplatform", f"/v1/projects/{project}/locations/{location}/reasoningEngines",
                                "reasoningEngines", operation=f"reasoningEngines.list:{location}", project=project,
                                base=template.replace("{location}", location))
    return out


def runs_as(engine: Mapping[str, Any], project_number: str | None, org_id: str | None) -> tuple[str, str]:
    """(identity type, member string) the engine runs as."""
    spec = engine.get("spec") or {}
    identity_type = str(spec.get("identityType") or "IDENTITY_TYPE_UNSPECIFIED")
    effective = spec.get("effectiveIdentity")
    parts = engine["name"].split("/")  # projects/N/locations/L/reasoningEngines/ID
    number = project_number or parts[1]
    if identity_type == "AGENT_IDENTITY":
        if effective:
            return identity_type, effective if effective.startswith("principal") else f"principal://{effective}"
        domain = f"org-{org_id}" if org_id else f"proj-{number}"
        return identity_type, (f"principal://agents.global.{domain}.system.id.goog/resources/aiplatform/"
                               f"projects/{number}/locations/{parts[3]}/reasoningEngines/{parts[5]}")
    if spec.get("serviceAccount"):
        return identity_type, f"serviceAccount:{spec['serviceAccount']}"
    if effective and "@" in effective:
        return identity_type, f"serviceAccount:{effective}"
    return identity_type, f"serviceAccount:{AGENT_ENGINE_AGENT.format(number=number)}"


def transform(engines: list[Mapping[str, Any]], project: str, project_number: str | None,
              org_id: str | None, known_emails: set[str], number_to_project: Mapping[str, str]) -> Iterator[Record]:
    for eng in engines:
        spec = eng.get("spec") or {}
        identity_type, member = runs_as(eng, project_number, org_id)
        target = member_identity(member, known_emails, number_to_project)
        wl = Workload(
            id=node_id(PROVIDER, "reasoning_engine", eng["name"]), provider=PROVIDER, source=SOURCE,
            type="gcp_reasoning_engine", name=eng.get("displayName") or eng["name"].rsplit("/", 1)[-1],
            native_id=eng["name"], account=project, region=eng["name"].split("/")[3],
            created=parse_time(eng.get("createTime")), tags=labels(eng.get("labels")),
            attrs={"identity_type": identity_type, "service_account": spec.get("serviceAccount"),
                   "effective_identity": spec.get("effectiveIdentity"), "runs_as_member": member,
                   "agent_framework": spec.get("agentFramework"), "description": eng.get("description")})
        yield wl
        if target is not None:
            node, target_id = target
            if node is not None and node.type != "gcp_sa":  # plain SAs: the listing (or the final pass) emits
                yield node
            yield Edge(src=wl.id, dst=target_id, kind=EdgeKind.RUNS_AS, source=SOURCE,
                       attrs={"via": f"reasoning engine identity ({identity_type})"})
