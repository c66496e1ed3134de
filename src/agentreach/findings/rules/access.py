"""What agents can reach: admin or permissions-management reach (and escalations to admin,
which are their own ``can_escalate`` edges, never folded into the access), and reach to the
*data* of sensitive systems, both from the graph (agentreach.graph.query) with the path as
evidence."""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from ...order import shift
from ..base import Finding, FindingContext, RuleMeta, agent_line, owner_line, possible_demotion, reach_line, rule
from ..params import AdminReach, SensitiveReach
from ._common import include_possible, primary_subjects, risk_of, sensitive_summary

OVERPRIVILEGED = RuleMeta(
    id="AR-AGENT-OVERPRIVILEGED",
    title="Agent with administrative or permissions-management reach",
    severity="high",
    rationale="An agent that can change permissions (IAM, bucket or key policies) or holds admin can grant "
              "itself anything: a prompt injection or a stolen credential becomes account takeover.",
    remediation="Replace the broad grant with only the actions the agent's tools need, on the resources they "
                "need, and take away its ability to change permissions.",
    owasp_nhi="NHI5:2025 Overprivileged NHI",
    nist_csf="PR.AA-05",
    params=AdminReach,
    remediation_by={
        "aws": "Replace the broad grant with the actions the agent's tools need (IAM Access Analyzer policy "
                 "generation), add a permissions boundary, and remove sts:AssumeRole to admin roles.",
        "azure": "Replace Owner, Contributor or User Access Administrator with a role scoped to the resources "
                 "the agent uses (a custom role with only the actions and dataActions its tools call); remove "
                 "Graph permissions such as RoleManagement.ReadWrite.Directory and privileged directory roles "
                 "from it.",
        "gcp": "Replace roles/owner, roles/editor or a *Admin role with predefined or custom roles holding "
                 "only the permissions its tools call (IAM Recommender's role recommendations), granted on the "
                 "resource, not the project or folder; remove setIamPolicy permissions.",
    },
)

SENSITIVE = RuleMeta(
    id="AR-AGENT-SENSITIVE-REACH",
    title="Agent credential reaches a sensitive system",
    severity="high",
    rationale="An agent that can read or change a sensitive system (customer data, secrets, keys) turns any "
              "compromise of the agent into a compromise of that system.",
    remediation="Scope the agent's policy to the resources its task needs, or put a condition on the grant; "
                "check that the path shown is intended.",
    owasp_nhi="NHI5:2025 Overprivileged NHI",
    nist_csf="PR.AA-05",
    params=SensitiveReach,
    remediation_by={
        "aws": "Scope the agent's policy to the resources its task needs (or put a condition such as "
                 "aws:ResourceTag on the grant); check that the path shown is intended.",
        "azure": "Assign the agent's role at the scope of the resources it needs (a container or a vault, not "
                 "the subscription), add an ABAC condition where the role supports it; check that the path "
                 "shown is intended.",
        "gcp": "Grant the agent's role on the bucket, dataset or secret it needs instead of the project, or "
                 "add an IAM condition; check that the path shown is intended.",
    },
)


def _escalations_to_admin(ctx: FindingContext, node_id: str) -> list[dict[str, Any]]:
    """Escalations open to the subject (or an identity it becomes) that end in admin."""
    from ...graph.query import escalations_of

    n = ctx.graph.node(node_id)
    return [e for e in escalations_of(ctx.graph, n) if e.get("gains") == "admin"] if n is not None else []


def _escalation_line(e: Mapping[str, Any]) -> str:
    names = ", ".join(t.get("technique") or "" for t in e.get("techniques") or []) or str(e.get("technique"))
    who = e["from_name"]
    target = "itself" if e.get("self") else e["to_name"]
    return (f"can escalate to admin: {who} can take over {target} through {names}"
            f"{' (conditional)' if e.get('conditional') else ''}")


@rule(OVERPRIVILEGED)
def agent_overprivileged(ctx: FindingContext, meta: RuleMeta, params: Mapping[str, Any]) -> Iterator[Finding]:
    levels = set(params.get("levels") or ("permissions-management",))
    for node in primary_subjects(ctx, include_possible(params)):
        hits = [r for r in ctx.reach_of(node.id) if r.get("admin") or r.get("access") in levels]
        escalations = _escalations_to_admin(ctx, node.id)
        if not hits and escalations:
            severity, demoted = possible_demotion(ctx, node.id, meta.severity)
            yield ctx.finding(meta, node, severity, [
                *[_escalation_line(e) for e in escalations[:3]], agent_line(ctx, node.id), owner_line(ctx, node.id),
                *demoted,
            ], path=escalations[0]["path"])
            continue
        if not hits:
            continue
        admin = [r for r in hits if r.get("admin") and not r.get("conditional")]
        hits.sort(key=lambda r: (not (r.get("admin") and not r.get("conditional")), r["conditional"],
                                 len(r["path"]), r["name"]))
        severity, why = meta.severity, []
        if admin:
            severity = shift(meta.severity, +1)
            why.append(f"severity raised from {meta.severity} to {severity}: unconditional admin "
                       f"(holds everything or can manage IAM) on {len(admin)} system(s)")
        elif all(r["conditional"] for r in hits):
            severity = shift(meta.severity, -1)
            why.append(f"severity lowered to {severity}: every such path is conditional")
        severity, demoted = possible_demotion(ctx, node.id, severity)
        names = ", ".join(r["name"] for r in hits[:6]) + ("…" if len(hits) > 6 else "")
        yield ctx.finding(meta, node, severity, [
            f"{len(hits)} system(s) with admin or permissions-management access: {names}",
            reach_line(hits[0]), *[_escalation_line(e) for e in escalations[:2]], agent_line(ctx, node.id),
            owner_line(ctx, node.id), *why, *demoted,
        ], path=hits[0]["path"])


@rule(SENSITIVE)
def agent_sensitive_reach(ctx: FindingContext, meta: RuleMeta, params: Mapping[str, Any]) -> Iterator[Finding]:
    for node in primary_subjects(ctx, include_possible(params)):
        risk = risk_of(ctx, node, params)
        if not risk.sensitive:
            continue
        severity, why = meta.severity, []
        unmanaged = [s for s in ([risk.owner_status] if risk.unowned else []) + (["stale"] if risk.stale else [])]
        if unmanaged:
            severity = shift(meta.severity, +1)
            why.append(f"severity raised from {meta.severity} to {severity}: the agent credential is "
                       f"{' and '.join(unmanaged)}")
        elif all(r["conditional"] for r in risk.sensitive):
            severity = shift(meta.severity, -1)
            why.append(f"severity lowered to {severity}: every path to a sensitive system is conditional")
        severity, demoted = possible_demotion(ctx, node.id, severity)
        yield ctx.finding(meta, node, severity, [
            *sensitive_summary(risk.sensitive), agent_line(ctx, node.id), owner_line(ctx, node.id),
            *risk.stale[:2], *why, *demoted,
        ], path=risk.sensitive[0]["path"])
