"""Credential lifecycle: stale agent credentials (NHI1), long-lived or unrotated secrets,
two active keys, expiring or expired credentials (NHI7). The facts come from the
``stale`` annotation (agentreach.lifecycle); these rules decide what is worth a finding."""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Iterator, Mapping

from ...model import Credential, Identity, Node, System
from ...order import shift
from ..base import Finding, FindingContext, RuleMeta, agent_line, owner_line, possible_demotion, rule, stale_lines
from ..params import AgentsOnly, LongLived, SensitiveReach
from ._common import include_possible, risk_of, sensitive_summary

STALE = RuleMeta(
    id="AR-AGENT-STALE",
    title="Stale agent credential",
    severity="medium",
    rationale="An agent identity or credential unused for longer than the threshold is attack surface with "
              "no business use: nobody notices when it is used again.",
    remediation="Disable the credential (or the identity), confirm nothing breaks, then delete it.",
    owasp_nhi="NHI1:2025 Improper Offboarding",
    nist_csf="PR.AA-01",
    params=SensitiveReach,
    remediation_by={
        "aws": "Deactivate the access key or detach the role's policies, confirm nothing breaks, then delete "
                 "it.",
        "azure": "Disable the service principal (accountEnabled false) or remove the secret, confirm nothing "
                 "breaks, then delete it.",
        "gcp": "Disable the service account or its key, confirm nothing breaks, then delete it.",
    },
)

LONG_LIVED = RuleMeta(
    id="AR-SECRET-LONG-LIVED",
    title="Long-lived or unrotated secret",
    severity="high",
    rationale="A key or secret issued for a long lifetime, or never rotated, widens the window in which a "
              "leaked copy works.",
    remediation="Replace the static credential with short-lived ones (role assumption, workload identity "
                "federation); otherwise rotate it and enable automatic rotation.",
    owasp_nhi="NHI7:2025 Long-Lived Secrets",
    nist_csf="PR.AA-01",
    params=LongLived,
    remediation_by={
        "aws": "Replace the access key with role assumption (an instance profile, IRSA or IAM Roles "
                 "Anywhere); otherwise rotate it and enable automatic rotation of the secret.",
        "azure": "Replace the client secret with a managed identity or a federated credential; otherwise issue "
                 "a short-lived secret and rotate it before it expires.",
        "gcp": "Replace the service-account key with workload identity federation or an attached service "
                 "account; otherwise rotate it and set an organization policy on key expiry "
                 "(iam.serviceAccountKeyExpiryHours).",
        "files": "Revoke the secret and load a short-lived credential from the workload's identity or a secret "
                 "manager.",
    },
)

TWO_KEYS = RuleMeta(
    id="AR-KEY-TWO-ACTIVE",
    title="Two active access keys on one identity",
    severity="medium",
    rationale="Two active keys are meant only for the moment of a rotation; kept longer, one of them is "
              "usually forgotten and never rotated.",
    remediation="Find which key is in use (last used), deactivate the other, and delete it once nothing breaks.",
    owasp_nhi="NHI7:2025 Long-Lived Secrets",
    nist_csf="PR.AA-01",
    params=AgentsOnly,
    remediation_by={
        "aws": "Find which access key is in use (last used), deactivate the other (aws iam update-access-key "
                 "--status Inactive), and delete it once nothing breaks.",
        "gcp": "Find which key is in use (Policy Analyzer last authentication), disable the other (gcloud "
                 "iam service-accounts keys disable), and delete it once nothing breaks.",
    },
)

EXPIRY = RuleMeta(
    id="AR-CREDENTIAL-EXPIRY",
    title="Credential expired or expiring soon",
    severity="high",
    rationale="An expired credential still attached is dead weight nobody retired; one about to expire "
              "will break the workload that depends on it.",
    remediation="Renew or replace an expiring credential before it expires; delete expired ones.",
    owasp_nhi="NHI7:2025 Long-Lived Secrets",
    nist_csf="PR.AA-01",
    params=AgentsOnly,
)


def _scope(ctx: FindingContext, node: Node, severity: str) -> tuple[str, list[str]]:
    """Base severity is an agent's; a possible agent's one lower, anything else's one lower."""
    if ctx.verdict(node.id) == "agent":
        return severity, [agent_line(ctx, node.id)]
    if ctx.verdict(node.id) == "possible":
        lower, why = possible_demotion(ctx, node.id, severity)
        return lower, [agent_line(ctx, node.id), *why]
    lower = shift(severity, -1)
    return lower, [f"severity {lower} (one below {severity}): not an agent's credential"]


@rule(STALE)
def agent_stale(ctx: FindingContext, meta: RuleMeta, params: Mapping[str, Any]) -> Iterator[Finding]:
    for node in ctx.subjects(include_possible(params)):
        if not ctx.is_stale(node.id):
            continue
        risk = risk_of(ctx, node, params)
        severity, why = meta.severity, []
        raised = []
        if risk.unowned:
            raised.append(risk.owner_status)
        if risk.sensitive:
            raised.append(f"reaches {len(risk.sensitive)} sensitive system(s)")
        if raised:
            severity = shift(meta.severity, len(raised))
            why.append(f"severity raised from {meta.severity} to {severity}: stale and {' and '.join(raised)}")
        severity, demoted = possible_demotion(ctx, node.id, severity)
        lines = [ln for ln in stale_lines(ctx, node.id, {"unused", "never_used", "identity_unused"})]
        yield ctx.finding(meta, node, severity, [
            *lines, agent_line(ctx, node.id), owner_line(ctx, node.id),
            *sensitive_summary(risk.sensitive), *why, *demoted,
        ], path=risk.sensitive[0]["path"] if risk.sensitive else ())


def _lifecycle_subjects(ctx: FindingContext, params: Mapping[str, Any]) -> list[Node]:
    only_agents = bool(params.get("agents_only", False))
    return sorted((n for n in ctx.view.nodes.values()
                   if isinstance(n, (Credential, System)) and n.id in ctx.stale
                   and (not only_agents or ctx.is_agent(n.id, include_possible(params)))), key=lambda n: n.id)


@rule(LONG_LIVED)
def secret_long_lived(ctx: FindingContext, meta: RuleMeta, params: Mapping[str, Any]) -> Iterator[Finding]:
    codes = set(params.get("codes") or ("lifetime_too_long", "no_expiry", "never_rotated", "rotation_overdue"))
    for node in _lifecycle_subjects(ctx, params):
        lines = stale_lines(ctx, node.id, codes)
        if not lines:
            continue
        severity, scope = _scope(ctx, node, meta.severity)
        yield ctx.finding(meta, node, severity, [*lines, *scope, owner_line(ctx, node.id)])


@rule(TWO_KEYS)
def two_active_keys(ctx: FindingContext, meta: RuleMeta, params: Mapping[str, Any]) -> Iterator[Finding]:
    """One finding per identity holding the keys (its subject), naming each key."""
    holders: dict[str, list[Node]] = defaultdict(list)
    for node in _lifecycle_subjects(ctx, params):
        if "two_active_keys" in ctx.stale_codes(node.id):
            ids = ctx.view.identities_of(node.id)
            holders[ids[0] if ids else f"{node.account}:{node.attrs.get('user') or node.id}"].append(node)
    for holder, keys in sorted(holders.items()):
        ident = ctx.view.nodes.get(holder)
        judged = ident if isinstance(ident, Identity) else keys[0]
        severity, scope = _scope(ctx, judged, meta.severity)
        lines = []
        for k in sorted(keys, key=lambda k: (k.created is None, k.created or 0, k.id)):  # oldest first: rotate it
            used = getattr(k, "last_used", None)
            lines.append(f"active key {k.name}, created {k.created.date() if k.created else 'unknown'}, "
                         f"last used {used.date() if used else 'never'}")
        yield ctx.finding(meta, ident if isinstance(ident, Identity) else keys[0], severity,
                          [f"{len(keys)} active access keys on {ctx.name(holder)}", *lines, *scope,
                           owner_line(ctx, judged.id)])


@rule(EXPIRY)
def credential_expiry(ctx: FindingContext, meta: RuleMeta, params: Mapping[str, Any]) -> Iterator[Finding]:
    for node in _lifecycle_subjects(ctx, params):
        lines = stale_lines(ctx, node.id, {"expired", "expiring"})
        if not lines:
            continue
        severity, scope = _scope(ctx, node, meta.severity)
        in_use = node.attrs.get("in_use_by") or node.attrs.get("in_use")
        use = [f"in use by {', '.join(map(str, in_use)) if isinstance(in_use, (list, tuple)) else in_use}"] \
            if in_use else []
        yield ctx.finding(meta, node, severity, [*lines, *use, *scope, owner_line(ctx, node.id)])
