"""Who may become an agent's identity: a service trust with no confused-deputy condition
(NHI6), and trust to an account outside the scanned set (NHI3). Read from the trust
policy the source states (``attrs.trust_policy``), statement by statement."""

from __future__ import annotations

import re
from typing import Any, Iterator, Mapping

from ...model import Identity
from ...order import shift
from ..base import Finding, FindingContext, RuleMeta, agent_line, owner_line, possible_demotion, rule
from ..params import ConfusedDeputy, UnknownAccount
from ._common import trust_statements

CONFUSED_DEPUTY = RuleMeta(
    id="AR-TRUST-CONFUSED-DEPUTY",
    title="Service trust without confused-deputy conditions",
    severity="high",
    rationale="A role that trusts an AWS service principal with no aws:SourceAccount / aws:SourceArn "
              "condition can be assumed by that service on behalf of any account's resource: another "
              "tenant's agent or function can act as this role.",
    remediation="Add a Condition with aws:SourceAccount (and aws:SourceArn for the agent, runtime or function) "
                "to the trust policy statement.",
    owasp_nhi="NHI6:2025 Insecure Cloud Deployment Configurations",
    nist_csf="PR.AA-05",
    params=ConfusedDeputy,
)

CROSS_ACCOUNT = RuleMeta(
    id="AR-TRUST-UNKNOWN-ACCOUNT",
    title="Trust to an account outside the scanned estate",
    severity="high",
    rationale="A trust policy that lets a principal of an account agentreach did not scan assume the "
              "identity hands its access to someone whose controls nobody here can see.",
    remediation="Confirm the external account is a known partner; list it in findings.rules."
                "AR-TRUST-UNKNOWN-ACCOUNT.known_accounts, require sts:ExternalId (third parties) or "
                "aws:PrincipalOrgID, or remove the statement.",
    owasp_nhi="NHI3:2025 Vulnerable Third-Party NHI",
    nist_csf="PR.AA-05",
    params=UnknownAccount,
)

_ACCOUNT = re.compile(r"^(?:arn:aws[\w-]*:(?:iam|sts)::)?(\d{12})(?::|$)")


def _listed(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, (list, tuple)) else [str(value)]


def _condition_keys(stmt: Mapping[str, Any]) -> set[str]:
    cond = stmt.get("Condition")
    if not isinstance(cond, Mapping):
        return set()
    return {str(k).lower() for ops in cond.values() if isinstance(ops, Mapping) for k in ops}


def _principals(stmt: Mapping[str, Any], kind: str) -> list[str]:
    p = stmt.get("Principal")
    if p == "*":
        return ["*"]
    return _listed(p.get(kind)) if isinstance(p, Mapping) else []


def _roles(ctx: FindingContext, params: Mapping[str, Any], agents_only: bool) -> list[Identity]:
    possible = bool(params.get("include_possible", True))
    return sorted((n for n in ctx.view.nodes.values() if isinstance(n, Identity) and n.attrs.get("trust_policy")
                   and (not agents_only or ctx.is_agent(n.id, possible))), key=lambda n: n.id)


def _scoped(ctx: FindingContext, node: Identity, severity: str) -> tuple[str, list[str]]:
    if ctx.verdict(node.id) in ("agent", "possible"):
        return possible_demotion(ctx, node.id, severity)
    lower = shift(severity, -1)
    return lower, [f"severity {lower} (one below {severity}): not an agent identity"]


@rule(CONFUSED_DEPUTY)
def service_trust_confused_deputy(ctx: FindingContext, meta: RuleMeta,
                                  params: Mapping[str, Any]) -> Iterator[Finding]:
    services = {s.lower() for s in params.get("services") or ()}
    guards = {k.lower() for k in params.get("condition_keys") or ("aws:SourceAccount", "aws:SourceArn")}
    for node in _roles(ctx, params, bool(params.get("agents_only", True))):
        lines = []
        for i, stmt in trust_statements(node):
            hit = [s for s in _principals(stmt, "Service") if s.lower() in services or (not services and s != "*")]
            if hit and not (_condition_keys(stmt) & guards):
                lines.append(f"trust policy statement #{i} lets {', '.join(hit)} assume it with no "
                             f"{' / '.join(sorted(params.get('condition_keys') or guards))} condition")
        if not lines:
            continue
        severity, why = _scoped(ctx, node, meta.severity)
        yield ctx.finding(meta, node, severity, [*lines, agent_line(ctx, node.id), owner_line(ctx, node.id), *why])


@rule(CROSS_ACCOUNT)
def trust_unknown_account(ctx: FindingContext, meta: RuleMeta, params: Mapping[str, Any]) -> Iterator[Finding]:
    known = set(ctx.scanned_accounts) | {str(a) for a in params.get("known_accounts") or ()}
    mitigating = {k.lower() for k in params.get("mitigating_condition_keys") or ()}
    for node in _roles(ctx, params, bool(params.get("agents_only", False))):
        lines, worst, mitigated_all = [], 0, True
        for i, stmt in trust_statements(node):
            keys = _condition_keys(stmt)
            for principal in _principals(stmt, "AWS"):
                m = _ACCOUNT.match(principal)
                if principal == "*":
                    what, bump = "any AWS principal (*)", (1 if not keys else 0)
                elif m and m.group(1) not in known:
                    what, bump = f"{principal} (account {m.group(1)}, not scanned)", 0
                else:
                    continue
                guard = sorted(keys & mitigating)
                mitigated_all &= bool(guard)
                worst = max(worst, bump)
                lines.append(f"trust policy statement #{i} lets {what} assume it"
                             + (f", conditioned on {', '.join(guard)}" if guard else " with no ExternalId, "
                                "MFA or organization condition"))
        if not lines:
            continue
        severity, why = _scoped(ctx, node, meta.severity)
        if worst:
            severity = shift(severity, +worst)
            why.append(f"severity raised to {severity}: any principal of any account may assume it, unconditioned")
        elif mitigated_all:
            severity = shift(severity, -1)
            why.append(f"severity lowered to {severity}: every such statement carries a mitigating condition")
        yield ctx.finding(meta, node, severity, [*lines, f"scanned accounts: {', '.join(sorted(known)) or 'none'}",
                                                 agent_line(ctx, node.id), owner_line(ctx, node.id), *why])
