"""Tokens: azure-identity's own credential classes, so that every way a customer already
signs in (environment, workload identity, managed identity, Azure CLI; or an explicit
client secret / certificate) works unchanged, and MSAL's token cache is used.

Sovereign clouds and the test fake are reached through ``authority_host``. MSAL checks an
authority it does not know against Microsoft's instance-discovery endpoint, which is
pointless (and offline-breaking) for a host the user named themselves, so discovery is
only left on for Microsoft's well-known login hosts.
"""

from __future__ import annotations

import os
from typing import Any

from agentreach.connector import ConnectorConfigError

from .config import AzureConfig

KNOWN_AUTHORITIES = frozenset({
    "https://login.microsoftonline.com", "https://login.microsoftonline.us", "https://login.chinacloudapi.cn",
    "https://login.partner.microsoftonline.cn",
})


def make_credential(cfg: AzureConfig) -> Any:
    """An azure.core TokenCredential for the configured sign-in."""
    from azure.identity import CertificateCredential, ClientSecretCredential, DefaultAzureCredential

    kwargs: dict[str, Any] = {"authority": cfg.authority_host}
    if cfg.authority_host not in KNOWN_AUTHORITIES:
        kwargs["disable_instance_discovery"] = True
    if cfg.ca_bundle:
        kwargs["connection_verify"] = cfg.ca_bundle
    if cfg.credential == "client_secret":
        name = cfg.client_secret_env or ""
        secret = os.environ.get(name)
        if not secret:
            raise ConnectorConfigError(f"connectors.azure.client_secret_env: environment variable {name} is not set")
        return ClientSecretCredential(cfg.tenant_id or "", cfg.client_id or "", secret, **kwargs)
    if cfg.credential == "certificate":
        return CertificateCredential(cfg.tenant_id or "", cfg.client_id or "",
                                     certificate_path=os.path.expanduser(cfg.certificate_path or ""), **kwargs)
    kwargs.pop("disable_instance_discovery", None)
    if cfg.tenant_id:
        kwargs["workload_identity_tenant_id"] = cfg.tenant_id
        kwargs["interactive_browser_tenant_id"] = cfg.tenant_id
    return DefaultAzureCredential(**kwargs)
