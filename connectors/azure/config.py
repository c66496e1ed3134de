"""The Azure connector's config section, validated once so that every later error names a key.

Secrets never live here: ``client_secret_env`` is the *name* of an environment variable,
read when the credential is built and handed straight to azure-identity.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Mapping

from agentreach.connector import ConnectorConfigError, section_values

CREDENTIALS = ("default", "client_secret", "certificate")

# The Azure clouds: where to sign in (azure-identity's AzureAuthorityHosts), where Graph and
# ARM answer, and the audience their tokens must carry (Microsoft Graph national cloud
# deployments; Azure Resource Manager endpoints per cloud). Real Graph and ARM accept only
# their own audiences, so the scope is the cloud's, never derived from an endpoint URL that
# may point at a proxy or a private endpoint.
CLOUDS: dict[str, dict[str, str]] = {
    "public": {"authority_host": "https://login.microsoftonline.com", "graph_endpoint": "https://graph.microsoft.com",
               "arm_endpoint": "https://management.azure.com",
               "graph_scope": "https://graph.microsoft.com/.default",
               "arm_scope": "https://management.azure.com/.default",
               "vault_scope": "https://vault.azure.net/.default"},
    "usgov": {"authority_host": "https://login.microsoftonline.us", "graph_endpoint": "https://graph.microsoft.us",
              "arm_endpoint": "https://management.usgovcloudapi.net",
              "graph_scope": "https://graph.microsoft.us/.default",
              "arm_scope": "https://management.usgovcloudapi.net/.default",
              "vault_scope": "https://vault.usgovcloudapi.net/.default"},
    "china": {"authority_host": "https://login.chinacloudapi.cn",
              "graph_endpoint": "https://microsoftgraph.chinacloudapi.cn",
              "arm_endpoint": "https://management.chinacloudapi.cn",
              "graph_scope": "https://microsoftgraph.chinacloudapi.cn/.default",
              "arm_scope": "https://management.chinacloudapi.cn/.default",
              "vault_scope": "https://vault.azure.cn/.default"},
}
_GUIDISH = re.compile(r"^[0-9a-fA-F-]{36}$|^[a-z0-9.-]+\.[a-z]{2,}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class AzureConfig:
    tenant_id: str | None = None
    credential: str = "default"
    client_id: str | None = None
    client_secret_env: str | None = None
    certificate_path: str | None = None
    cloud: str = "public"
    authority_host: str = CLOUDS["public"]["authority_host"]
    graph_endpoint: str = CLOUDS["public"]["graph_endpoint"]
    arm_endpoint: str = CLOUDS["public"]["arm_endpoint"]
    graph_scope: str = CLOUDS["public"]["graph_scope"]  # the audience tokens for Graph are asked for
    arm_scope: str = CLOUDS["public"]["arm_scope"]
    # Key Vault's data plane (secret values, only with match_secret_values): its own audience
    vault_scope: str = CLOUDS["public"]["vault_scope"]
    subscriptions: tuple[str, ...] = ()  # empty: every subscription the caller sees
    beta: bool = True
    ca_bundle: str | None = None
    max_attempts: int = 4
    timeout: float = 30.0
    max_retry_after: float = 60.0
    workers: int = 4
    # Read each Key Vault secret's current value (secrets/list, secrets/get on the data plane)
    # and keep only its identity (agentreach.secretvalues), to link the files holding it.
    match_secret_values: bool = False
    value_workers: int = 2
    # Workload sign-ins as activity (auditLogs/signIns, beta, AuditLog.Read.All): off unless asked.
    activity: bool = False
    activity_since: str = "90d"

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> "AzureConfig":
        v = section_values(raw, (f.name for f in fields(cls)), "azure")
        if v.get("credential", "default") not in CREDENTIALS:
            raise ConnectorConfigError(f"connectors.azure.credential: must be one of {', '.join(CREDENTIALS)}")
        for key in ("tenant_id", "client_id", "client_secret_env", "certificate_path", "ca_bundle"):
            if key in v and not isinstance(v[key], str):
                raise ConnectorConfigError(f"connectors.azure.{key}: must be a string")
        if "tenant_id" in v and not _GUIDISH.match(v["tenant_id"]):
            raise ConnectorConfigError("connectors.azure.tenant_id: must be a tenant GUID or a domain name")
        cred = v.get("credential", "default")
        if cred in ("client_secret", "certificate"):
            for key in ("tenant_id", "client_id"):
                if not v.get(key):
                    raise ConnectorConfigError(f"connectors.azure.{key}: required when credential is {cred}")
        if cred == "client_secret":
            name = v.get("client_secret_env")
            if not name:
                raise ConnectorConfigError("connectors.azure.client_secret_env: required when credential is "
                                           "client_secret (the NAME of an environment variable holding the secret)")
            if not _ENV_NAME.match(name):
                raise ConnectorConfigError("connectors.azure.client_secret_env: must be an environment variable "
                                           "name, not a secret value")
        if cred == "certificate":
            path = v.get("certificate_path")
            if not path:
                raise ConnectorConfigError("connectors.azure.certificate_path: required when credential is certificate")
            if not Path(path).expanduser().is_file():
                raise ConnectorConfigError(f"connectors.azure.certificate_path: no such file {path}")
        if v.get("ca_bundle") and not Path(v["ca_bundle"]).expanduser().is_file():
            raise ConnectorConfigError(f"connectors.azure.ca_bundle: no such file {v['ca_bundle']}")
        cloud = v.get("cloud", "public")
        if cloud not in CLOUDS:
            raise ConnectorConfigError(f"connectors.azure.cloud: must be one of {', '.join(CLOUDS)}")
        for key in ("authority_host", "graph_endpoint", "arm_endpoint", "graph_scope", "arm_scope", "vault_scope"):
            if key in v:
                if not isinstance(v[key], str) or not v[key].startswith("https://"):
                    raise ConnectorConfigError(f"connectors.azure.{key}: must be an https:// URL")
                v[key] = v[key].rstrip("/") if not key.endswith("_scope") else v[key]
            else:
                v[key] = CLOUDS[cloud][key]
        for key in ("graph_scope", "arm_scope", "vault_scope"):
            if not v[key].endswith("/.default"):
                raise ConnectorConfigError(f"connectors.azure.{key}: a resource's /.default scope, e.g. "
                                           f"{CLOUDS[cloud][key]}")
        if "subscriptions" in v:
            subs = v["subscriptions"]
            if isinstance(subs, str):
                subs = [s.strip() for s in subs.split(",") if s.strip()]
            if not isinstance(subs, (list, tuple)) or not all(isinstance(s, str) for s in subs):
                raise ConnectorConfigError("connectors.azure.subscriptions: must be a list of subscription ids")
            v["subscriptions"] = tuple(s.lower() for s in subs)
        for key in ("beta", "match_secret_values", "activity"):
            if key in v and not isinstance(v[key], bool):
                raise ConnectorConfigError(f"connectors.azure.{key}: must be true or false")
        if "activity_since" in v:
            from agentreach.activity import checked_since

            try:
                v["activity_since"] = checked_since(v["activity_since"])
            except ValueError as exc:
                raise ConnectorConfigError(f"connectors.azure.activity_since: {exc}") from None
        for key in ("max_attempts", "workers", "value_workers"):
            if key in v and (not isinstance(v[key], int) or isinstance(v[key], bool) or v[key] < 1):
                raise ConnectorConfigError(f"connectors.azure.{key}: must be a whole number >= 1")
        for key in ("timeout", "max_retry_after"):
            if key in v and (not isinstance(v[key], (int, float)) or isinstance(v[key], bool) or v[key] < 0):
                raise ConnectorConfigError(f"connectors.azure.{key}: must be a number >= 0")
        return cls(**v)

    def graph_url(self, path: str, beta: bool = False) -> str:
        return f"{self.graph_endpoint}/{'beta' if beta else 'v1.0'}{path}"

    def arm_url(self, path: str) -> str:
        return f"{self.arm_endpoint}{path}"
