"""Who uses an agent identity: several agents sharing one (NHI9 NHI Reuse), or a person
signing in as it (NHI10 Human Use of NHI)."""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from ...model import Credential, CredentialStatus, Identity
from ..base import Finding, FindingContext, RuleMeta, agent_line, owner_line, possible_demotion, rule
from ..params import AgentsScope, Reuse
from ._common import include_possible

REUSE = RuleMeta(
    id="AR-AGENT-IDENTITY-REUSE",
    title="One identity used by several agents",
    severity="high",
    rationale="When several agents or workloads run as one identity, each gets the union of everyone's "
              "permissions, and the audit trail cannot tell which agent acted.",
    remediation="Give each agent its own identity (its own execution role or service account) scoped to its "
                "task; rotate and split a credential that is used in several places.",
    owasp_nhi="NHI9:2025 NHI Reuse",
    nist_csf="PR.AA-05",
    params=Reuse,
    remediation_by={
        "aws": "Give each agent its own execution role scoped to its task; split an access key used in "
                 "several places.",
        "azure": "Give each agent its own managed identity or app registration scoped to its task.",
        "gcp": "Give each agent its own service account scoped to its task; do not share keys between "
                 "workloads.",
    },
)

HUMAN_USE = RuleMeta(
    id="AR-AGENT-HUMAN-USE",
    title="A person signs in as an agent identity",
    severity="medium",
    rationale="A console password or an MFA device on an agent's identity means a human uses it: their "
              "actions are attributed to the machine, and the agent's access is a person's too.",
    remediation="Remove the console password and MFA device from the agent identity; give the people who "
                "need access their own identities.",
    owasp_nhi="NHI10:2025 Human Use of NHI",
    nist_csf="PR.AA-02, DE.CM-03",
    params=AgentsScope,
)


def _users(ctx: FindingContext, identity: Identity) -> list[str]:
    """Distinct agents using ``identity``: workloads running as it, agent identities that
    may assume it without condition, places its credentials were found."""
    users = [f"workload {w.type} {w.name}" for w in ctx.view.workloads_running_as(identity.id)]
    n = ctx.graph.node(identity.id)
    if n is not None:
        for hop in ctx.graph.in_hops(n, frozenset({"can_assume"})):
            src = ctx.graph.ids[hop.src]
            if src != identity.id and ctx.is_agent(src) and not hop.attrs.get("conditional"):
                users.append(f"agent identity {ctx.graph.names[hop.src]} (may assume it)")
    for cid in ctx.view.credentials_of(identity.id):
        places = {getattr(loc, "path", "") or loc.name for loc in ctx.view.locations_of(cid)}
        if len(places) > 1:
            users.append(f"credential {ctx.name(cid)} found in {len(places)} places: {', '.join(sorted(places)[:4])}")
    return sorted(set(users))


@rule(REUSE)
def identity_reuse(ctx: FindingContext, meta: RuleMeta, params: Mapping[str, Any]) -> Iterator[Finding]:
    minimum = int(params.get("min_agents", 2))
    for node in ctx.subjects(include_possible(params), kinds=(Identity,)):
        users = _users(ctx, node)
        workloads_and_agents = [u for u in users if not u.startswith("credential ")]
        if len(workloads_and_agents) < minimum and len(users) == len(workloads_and_agents):
            continue
        severity, demoted = possible_demotion(ctx, node.id, meta.severity)
        yield ctx.finding(meta, node, severity, [
            f"{len(workloads_and_agents)} agent(s) or workload(s) use this identity (threshold {minimum})",
            *[f"used by {u}" for u in users], agent_line(ctx, node.id), owner_line(ctx, node.id), *demoted,
        ])


def _console(ctx: FindingContext, identity: Identity) -> list[Credential]:
    out = []
    for node in ctx.view.nodes.values():
        if isinstance(node, Credential) and node.type.endswith("console_password") \
                and node.status == CredentialStatus.ACTIVE \
                and (identity.id in ctx.view.identities_of(node.id) or node.native_id == identity.native_id):
            out.append(node)
    return out


@rule(HUMAN_USE)
def human_use(ctx: FindingContext, meta: RuleMeta, params: Mapping[str, Any]) -> Iterator[Finding]:
    for node in ctx.subjects(include_possible(params), kinds=(Identity,)):
        signs = []
        for pw in _console(ctx, node):
            used = f"last console sign-in {pw.last_used.date()}" if pw.last_used else "never used to sign in"
            signs.append(f"console password {pw.name} is active ({used})")
        if not signs and node.attrs.get("password_enabled"):
            signs.append("console password enabled (credential report password_enabled=true)")
        if node.attrs.get("mfa_active"):
            signs.append("an MFA device is registered on it (mfa_active=true): a person signs in as it")
        if str(node.attrs.get("sign_in_agent_type") or "").lower() == "notagentic":
            signs.append("sign-in logs record interactive, non-agentic sign-ins (agentType notAgentic)")
        if not signs:
            continue
        severity, demoted = possible_demotion(ctx, node.id, meta.severity)
        yield ctx.finding(meta, node, severity, [*signs, agent_line(ctx, node.id), owner_line(ctx, node.id),
                                                 *demoted])
