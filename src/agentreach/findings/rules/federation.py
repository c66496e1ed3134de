"""Federated trust that any outside workload can satisfy (NHI6): an identity that trusts
tokens from a public, multi-tenant issuer (GitHub Actions, GitLab, Terraform Cloud,
CircleCI, Google) without a condition on *which* repository, project or workload the
token names. Every user of that issuer can then become the identity: on GitHub that is
any repository of any owner.

Read from what the sources state, one shape per cloud:
- AWS: a role's trust statement with ``Principal.Federated`` an OIDC provider of such an
  issuer and no ``<issuer>:sub`` condition (or one that is only a wildcard);
- GCP: a Workload Identity Federation provider (``gcp_wif_provider``) with no attribute
  condition;
- Azure: a federated identity credential (``azure_federated_credential``) whose subject
  or claims-matching expression wildcards the owner.
"""

from __future__ import annotations

import re
from typing import Any, Iterator, Mapping

from ...model import Credential, Identity, Node
from ...order import shift
from ..base import Finding, FindingContext, RuleMeta, agent_line, owner_line, reach_line, rule
from ..params import Federation
from ._common import trust_statements

UNCONSTRAINED = RuleMeta(
    id="AR-FEDERATION-UNCONSTRAINED",
    title="Federated trust any workload of a public issuer can satisfy",
    severity="high",
    rationale="Trusting a public OIDC issuer (GitHub Actions, GitLab, Terraform Cloud…) without a condition "
              "on the token's subject lets every tenant of that issuer, e.g. any GitHub repository, exchange "
              "its token for this identity.",
    remediation="Constrain the trust to your repositories or projects: an aws `<issuer>:sub` condition "
                "(StringEquals / StringLike on repo:ORG/REPO:…), a GCP provider attribute condition "
                "(assertion.repository_owner == 'ORG'), an exact Entra federated credential subject.",
    owasp_nhi="NHI6:2025 Insecure Cloud Deployment Configurations",
    nist_csf="PR.AA-05",
    params=Federation,
)

_SUB_WILDCARD = re.compile(r"^\s*(\*|repo:\*|project_path:\*|organization:\*)")


def _host(issuer: str) -> str:
    return re.sub(r"^https?://", "", str(issuer or "")).split("/", 1)[0].lower()


def _public(issuer: str, params: Mapping[str, Any]) -> bool:
    return _host(issuer) in {_host(i) for i in params.get("public_issuers") or ()}


def _listed(value: Any) -> list[str]:
    """A policy element that should be a string or a list of strings, as the strings it holds:
    anything else (a number, a mapping) names no provider, and the document's problem is the
    policy parser's to report, not a reason to stop the findings step."""
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, (list, tuple)) else []


def _aws_lines(node: Identity, params: Mapping[str, Any]) -> list[str]:
    lines = []
    for i, stmt in trust_statements(node):
        principal = stmt.get("Principal")
        federated = principal.get("Federated") if isinstance(principal, Mapping) else None
        for provider in _listed(federated):
            issuer = str(provider).split("oidc-provider/", 1)[-1]
            if "oidc-provider/" not in str(provider) or not _public(issuer, params):
                continue
            condition = stmt.get("Condition")
            subs = [str(v) for ops in (condition.values() if isinstance(condition, Mapping) else ())
                    if isinstance(ops, Mapping)
                    for k, vals in ops.items() if str(k).lower().endswith(":sub")
                    for v in (vals if isinstance(vals, list) else [vals])]
            if not subs:
                lines.append(f"trust policy statement #{i} trusts {_host(issuer)} with no {_host(issuer)}:sub "
                             "condition: any of its tenants' workloads can assume it")
            elif all(_SUB_WILDCARD.match(s) for s in subs):
                lines.append(f"trust policy statement #{i} trusts {_host(issuer)} with only wildcard subjects "
                             f"({', '.join(subs)})")
    return lines


def _credential_lines(node: Credential, params: Mapping[str, Any]) -> list[str]:
    issuer = str(node.attrs.get("issuer") or "")
    if not _public(issuer, params):
        return []
    if node.type == "gcp_wif_provider":
        if not (node.attrs.get("attribute_condition") or "").strip():
            return [f"workload identity provider trusts {_host(issuer)} with no attribute condition: any of its "
                    "tenants' workloads can exchange a token"]
    elif node.type == "azure_federated_credential":
        subject = str(node.attrs.get("subject") or node.attrs.get("claims_matching_expression") or "")
        if not subject or "*" in subject.split("/", 1)[0]:
            return [f"federated credential trusts {_host(issuer)} with subject {subject or '(none)'}"]
    return []


def _unlocks(ctx: FindingContext, node: Node) -> list[str]:
    """The identities a federated credential leads to: what it authenticates as, and what
    that principal may become."""
    if isinstance(node, Identity):
        return [node.id]
    first = ctx.view.identities_of(node.id)
    more = [e["dst"] for i in first for e in ctx.view.out_edges.get(i, ()) if e["kind"] == "can_assume"]
    return list(dict.fromkeys([*first, *more]))


@rule(UNCONSTRAINED)
def federation_unconstrained(ctx: FindingContext, meta: RuleMeta, params: Mapping[str, Any]) -> Iterator[Finding]:
    levels = tuple(params.get("sensitive_levels") or ("high", "critical"))
    for node in sorted(ctx.view.nodes.values(), key=lambda n: n.id):
        if isinstance(node, Identity) and node.attrs.get("trust_policy"):
            lines = _aws_lines(node, params)
        elif isinstance(node, Credential) and node.type in ("gcp_wif_provider", "azure_federated_credential"):
            lines = _credential_lines(node, params)
        else:
            continue
        if not lines:
            continue
        unlocked = _unlocks(ctx, node)
        agents = [i for i in unlocked if ctx.is_agent(i)]
        severity, why = meta.severity, []
        if unlocked and not agents and not ctx.is_agent(node.id):
            severity = shift(severity, -1)
            why.append(f"severity {severity} (one below {meta.severity}): no agent identity behind it")
        reach = [r for i in unlocked for r in ctx.sensitive_reach(i, levels)][:1]
        if reach:
            severity = "critical"
            why.append("severity critical: whoever satisfies it reaches a sensitive system")
        names = ", ".join(ctx.name(i) for i in unlocked[:5]) or "nothing agentreach saw"
        yield ctx.finding(meta, node, severity, [
            *lines, f"it leads to: {names}", *(agent_line(ctx, i) for i in agents[:1]),
            owner_line(ctx, node.id), *(reach_line(r) for r in reach), *why], path=reach[0]["path"] if reach else ())
