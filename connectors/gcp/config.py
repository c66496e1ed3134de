"""The GCP connector's config section, validated once so that every later error names a key."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from typing import Any, Mapping

from agentreach.connector import ConnectorConfigError, section_values

# Google's endpoints. ``iam`` is a gRPC target (host:port); every other one is a REST base
# URL. ``aiplatform`` is regional: ``{location}`` is replaced by each of ``vertex_locations``.
DEFAULT_ENDPOINTS: dict[str, str] = {
    "iam": "iam.googleapis.com:443",
    "iam_rest": "https://iam.googleapis.com",
    "iam_v2": "https://iam.googleapis.com",
    "resourcemanager": "https://cloudresourcemanager.googleapis.com",
    "policyanalyzer": "https://policyanalyzer.googleapis.com",
    "apikeys": "https://apikeys.googleapis.com",
    "aiplatform": "https://{location}-aiplatform.googleapis.com",
    "storage": "https://storage.googleapis.com",
    "secretmanager": "https://secretmanager.googleapis.com",
    "bigquery": "https://bigquery.googleapis.com",
    "cloudidentity": "https://cloudidentity.googleapis.com",
    "run": "https://run.googleapis.com",
    "logging": "https://logging.googleapis.com",
}

DEFAULT_OWNER_CONVENTIONS = (r"owner[:=]\s*(?P<owner>[\w.@-]+)",)
_PROJECT_ID = re.compile(r"^[a-z][a-z0-9-]{4,28}[a-z0-9]$|^[\w.:-]+$")


@dataclass(frozen=True)
class GcpConfig:
    organization_id: str | None = None
    projects: tuple[str, ...] = ()  # empty: every project search_projects returns
    credentials: str = "adc"  # adc | a service-account key file path
    anonymous: bool = False  # AnonymousCredentials: tests and the demo only
    grpc_insecure: bool = False  # plaintext gRPC to endpoints.iam: the local fake only
    endpoints: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_ENDPOINTS))
    last_used: bool = True  # read Policy Analyzer last-authentication activities
    owner_conventions: tuple[str, ...] = DEFAULT_OWNER_CONVENTIONS
    vertex_locations: tuple[str, ...] = ("us-central1",)
    run_locations: tuple[str, ...] = ("us-central1",)  # Cloud Run v2 lists per region ("-" is refused)
    max_attempts: int = 5
    retry_base_delay: float = 0.5  # seconds; doubled per attempt, with jitter
    timeout: float = 30.0  # per call, seconds
    workers: int = 4
    page_size: int = 100
    # Access each Secret Manager secret's latest version and keep only its identity
    # (agentreach.secretvalues), so a file secret is linked to the secret it is.
    match_secret_values: bool = False
    value_workers: int = 2  # concurrent versions.access + scrypt per project
    # Cloud Audit Logs of service accounts as activity (entries:list): off unless asked for.
    activity: bool = False
    activity_since: str = "90d"

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> "GcpConfig":
        values = section_values(raw, (f.name for f in fields(cls)), "gcp")
        if "organization_id" in values:
            org = str(values["organization_id"]).removeprefix("organizations/")
            if not org.isdigit():
                raise ConnectorConfigError("connectors.gcp.organization_id: must be the numeric organization id")
            values["organization_id"] = org
        for key in ("projects", "vertex_locations", "run_locations", "owner_conventions"):
            if key in values:
                values[key] = _str_tuple(key, values[key])
        for i, project in enumerate(values.get("projects", ())):
            if not _PROJECT_ID.match(project):
                raise ConnectorConfigError(f"connectors.gcp.projects[{i}]: {project!r} is not a project id")
        for i, pattern in enumerate(values.get("owner_conventions", ())):
            try:
                compiled = re.compile(pattern)
            except re.error as exc:
                raise ConnectorConfigError(f"connectors.gcp.owner_conventions[{i}]: not a regex ({exc})") from None
            if "owner" not in compiled.groupindex:
                raise ConnectorConfigError(f"connectors.gcp.owner_conventions[{i}]: needs a named group (?P<owner>...)")
        if "endpoints" in values:
            eps = values["endpoints"]
            if not isinstance(eps, Mapping):
                raise ConnectorConfigError("connectors.gcp.endpoints: must be a mapping of API name to URL")
            bad = sorted(set(eps) - set(DEFAULT_ENDPOINTS))
            if bad:
                raise ConnectorConfigError(f"connectors.gcp.endpoints: unknown API(s) {', '.join(bad)} "
                                           f"(known: {', '.join(DEFAULT_ENDPOINTS)})")
            values["endpoints"] = {**DEFAULT_ENDPOINTS, **{k: str(v).rstrip("/") for k, v in eps.items() if v}}
        creds = values.get("credentials", "adc")
        if not isinstance(creds, str) or not creds:
            raise ConnectorConfigError("connectors.gcp.credentials: 'adc' or the path of a service-account key file")
        if "activity_since" in values:
            from agentreach.activity import checked_since

            try:
                values["activity_since"] = checked_since(values["activity_since"])
            except ValueError as exc:
                raise ConnectorConfigError(f"connectors.gcp.activity_since: {exc}") from None
        for key in ("anonymous", "grpc_insecure", "last_used", "activity", "match_secret_values"):
            if key in values and not isinstance(values[key], bool):
                raise ConnectorConfigError(f"connectors.gcp.{key}: must be true or false")
        for key in ("max_attempts", "workers", "page_size", "value_workers"):
            if key in values and (not isinstance(values[key], int) or isinstance(values[key], bool)
                                  or values[key] < 1):
                raise ConnectorConfigError(f"connectors.gcp.{key}: must be a whole number >= 1")
        for key in ("retry_base_delay", "timeout"):
            if key in values and (not isinstance(values[key], (int, float)) or values[key] < 0):
                raise ConnectorConfigError(f"connectors.gcp.{key}: must be a number >= 0")
        return cls(**values)


def _str_tuple(key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, (str, int)) for v in value):
        raise ConnectorConfigError(f"connectors.gcp.{key}: must be a list of strings")
    return tuple(str(v) for v in value)
