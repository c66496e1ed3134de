"""Ids, member parsing and small conversions shared by the GCP modules (pure)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Mapping

from agentreach.model import node_id, parse_datetime

SOURCE = "gcp"
PROVIDER = "gcp"

# service-123@gcp-sa-aiplatform-re.iam.gserviceaccount.com and the older Google-managed forms.
SERVICE_AGENT = re.compile(r"^(?:service-|)(?P<num>\d+)?[^@]*@(?P<svc>gcp-sa-[a-z0-9-]+)\.iam\.gserviceaccount\.com$")
GOOGLE_MANAGED = re.compile(
    r"@(?:cloudservices\.gserviceaccount\.com|cloudbuild\.gserviceaccount\.com|"
    r"container-engine-robot\.iam\.gserviceaccount\.com|compute-system\.iam\.gserviceaccount\.com|"
    r"[a-z-]+\.google\.com\.iam\.gserviceaccount\.com|serverless-robot-prod\.iam\.gserviceaccount\.com)$")
PRINCIPAL = re.compile(r"^principal(?:Set)?://")
POOL = re.compile(r"^principal(?:Set)?://iam\.googleapis\.com/projects/(?P<num>\d+)/locations/global/"
                  r"workloadIdentityPools/(?P<pool>[^/]+)/")
PUBLIC_MEMBERS = ("allUsers", "allAuthenticatedUsers")
NEVER = 9999  # validBeforeTime year Google uses for "does not expire"


def sa_id(email: str) -> str:
    return node_id(PROVIDER, "sa", email.lower())


def service_agent_id(email: str) -> str:
    return node_id(PROVIDER, "service_agent", email.lower())


def principal_id(uri: str) -> str:
    return node_id(PROVIDER, "principal", uri)


def pool_principal_set(pool_name: str) -> str:
    """``projects/N/locations/global/workloadIdentityPools/P`` -> the pool's principalSet of everyone."""
    return f"principalSet://iam.googleapis.com/{pool_name}/*"


def is_service_agent(email: str) -> bool:
    return bool(SERVICE_AGENT.match(email) or GOOGLE_MANAGED.search(email))


def service_agent_parts(email: str) -> tuple[str | None, str | None]:
    """(service, project number) of a service agent, e.g. ("gcp-sa-aiplatform-re", "123")."""
    m = SERVICE_AGENT.match(email)
    if m:
        return m.group("svc"), m.group("num")
    local, _, domain = email.partition("@")
    num = local.split("-", 1)[-1] if local.startswith("service-") else (local if local.isdigit() else None)
    return domain.split(".", 1)[0], num


def split_member(member: str) -> tuple[str, str]:
    """``serviceAccount:x@y`` -> ("serviceAccount", "x@y"); a URI member is its own kind."""
    if PRINCIPAL.match(member):
        return ("principalSet" if member.startswith("principalSet") else "principal"), member
    if member in PUBLIC_MEMBERS:
        return member, member
    kind, _, value = member.partition(":")
    if kind == "deleted":  # deleted:serviceAccount:x@y?uid=123
        return "deleted", value
    return kind, value


def parse_time(value: Any) -> dt.datetime | None:
    """RFC 3339 (REST), protobuf Timestamp / datetime (gRPC), BigQuery epoch millis."""
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return None if value.year <= 1970 and value.timestamp() <= 0 else parse_datetime(value)
    if hasattr(value, "ToDatetime"):
        if not value.seconds and not value.nanos:
            return None
        return value.ToDatetime(tzinfo=dt.timezone.utc)
    text = str(value)
    if text.isdigit():
        return dt.datetime.fromtimestamp(int(text) / 1000, tz=dt.timezone.utc)
    return parse_datetime(text)


def labels(raw: Mapping[str, Any] | None) -> dict[str, str]:
    return {str(k): str(v) for k, v in (raw or {}).items()}


def policy_dict(policy: Any) -> dict[str, Any]:
    """An IAM policy (protobuf or JSON) as Google's JSON: version, bindings with condition."""
    if policy is None:
        return {}
    if not isinstance(policy, Mapping):
        from google.protobuf.json_format import MessageToDict

        policy = MessageToDict(policy)
    out: dict[str, Any] = {"version": int(policy.get("version") or 1)}
    bindings = []
    for b in policy.get("bindings") or []:
        item: dict[str, Any] = {"role": b.get("role"), "members": sorted(b.get("members") or [])}
        cond = b.get("condition")
        if cond and cond.get("expression"):
            item["condition"] = {k: cond[k] for k in ("expression", "title", "description") if cond.get(k)}
        bindings.append(item)
    if bindings:
        out["bindings"] = bindings
    return out


def public_members(policy: Mapping[str, Any]) -> list[str]:
    """Members of a policy that open it beyond named principals (allUsers, domain:…)."""
    out = set()
    for b in policy.get("bindings") or []:
        for m in b.get("members") or []:
            if m in PUBLIC_MEMBERS or m.startswith("domain:"):
                out.add(m)
    return sorted(out)
