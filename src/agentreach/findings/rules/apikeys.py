"""API keys anyone holding them can use from anywhere (NHI7): a GCP API key (a Gemini
key is one) with no application restriction (no referrer, IP address or app binding) or no
API restriction. Whoever copies the key from a notebook, a browser bundle or a log can call
the model, on the project's bill, from any machine. Read from ``attrs.restrictions`` and
``attrs.api_restricted`` as the connector states them."""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from ...model import Credential, CredentialStatus
from ...order import shift
from ..base import Finding, FindingContext, RuleMeta, agent_line, owner_line, rule
from ..params import ApiKeyTypes

UNRESTRICTED = RuleMeta(
    id="AR-APIKEY-UNRESTRICTED",
    title="API key usable from anywhere",
    severity="medium",
    rationale="An API key is a bearer secret: with no application restriction (HTTP referrer, IP address, "
              "Android or iOS app) anyone who copies it can use it from any machine, and with no API "
              "restriction it calls every API enabled in the project.",
    remediation="Add an application restriction (server keys: the egress IP addresses) and restrict the key to "
                "the APIs it needs (e.g. generativelanguage.googleapis.com); better, move the agent to a "
                "service account and drop the key.",
    owasp_nhi="NHI7:2025 Long-Lived Secrets",
    nist_csf="PR.AA-01",
    params=ApiKeyTypes,
)


@rule(UNRESTRICTED)
def apikey_unrestricted(ctx: FindingContext, meta: RuleMeta, params: Mapping[str, Any]) -> Iterator[Finding]:
    types = set(params.get("types") or ("gcp_api_key",))
    for node in sorted(ctx.view.nodes.values(), key=lambda n: n.id):
        if not (isinstance(node, Credential) and node.type in types and node.status == CredentialStatus.ACTIVE):
            continue
        restrictions = node.attrs.get("restrictions") or {}
        anywhere = list(restrictions.get("application") or ["none"]) == ["none"]
        any_api = not node.attrs.get("api_restricted")
        if not (anywhere or any_api):
            continue
        lines = []
        if anywhere:
            lines.append("no application restriction: usable from any referrer, address or app")
        if any_api:
            lines.append("no API restriction: it calls every API enabled in the project")
        else:
            lines.append(f"it may call {', '.join(node.attrs.get('api_targets') or [])}")
        severity, why = meta.severity, []
        if anywhere and any_api:
            severity = shift(severity, +1)
            why.append(f"severity {severity}: neither restriction")
        if not ctx.is_agent(node.id):
            severity = shift(severity, -1)
            why.append(f"severity {severity}: not an agent's key")
        yield ctx.finding(meta, node, severity, [*lines, agent_line(ctx, node.id), owner_line(ctx, node.id), *why])
