"""Agent identities and credentials nobody answers for (OWASP NHI1 Improper Offboarding)."""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from ...model import Identity
from ...order import shift
from ..base import Finding, FindingContext, RuleMeta, agent_line, owner_line, possible_demotion, rule
from ..params import SensitiveReach
from ._common import include_possible, primary_subjects, risk_of, sensitive_summary

NHI1 = "NHI1:2025 Improper Offboarding"

OWNERLESS = RuleMeta(
    id="AR-AGENT-OWNERLESS",
    title="Agent credential with no owner",
    severity="high",
    rationale="An agent identity or credential that no person or team answers for is never reviewed, "
              "rotated or retired; when the agent is gone it stays behind as a backdoor.",
    remediation="Tag the identity with an owner (Owner / Team tag, Entra owner or sponsor), or retire it "
                "if nobody claims it.",
    owasp_nhi=NHI1,
    nist_csf="PR.AA-01",
    params=SensitiveReach,
    remediation_by={
        "aws": "Tag the role or user with an owner (Owner or Team tag), or retire it if nobody claims it.",
        "azure": "Add an owner to the application and service principal (or a sponsor to the Agent ID), or "
                 "retire it if nobody claims it.",
        "gcp": "Label the service account with an owner (owner or team label, or owner= in its description), "
                 "or retire it if nobody claims it.",
    },
)

ORPHANED = RuleMeta(
    id="AR-AGENT-ORPHANED",
    title="Agent credential whose owner has left",
    severity="high",
    rationale="The named owner is inactive or unknown to the directory: the credential outlived the person "
              "accountable for it.",
    remediation="Reassign the identity to an active owner or team, review what it can reach, and retire it "
                "if no one takes it over.",
    owasp_nhi=NHI1,
    nist_csf="PR.AA-01",
    params=SensitiveReach,
)


def _owner_rule(ctx: FindingContext, meta: RuleMeta, params: Mapping[str, Any], status: str) -> Iterator[Finding]:
    for node in primary_subjects(ctx, include_possible(params)):
        if ctx.owner_status(node.id) != status:
            continue
        risk = risk_of(ctx, node, params)
        severity, why = meta.severity, []
        if risk.stale and risk.sensitive:
            severity = shift(meta.severity, +1)
            why.append(f"severity raised from {meta.severity} to {severity}: {status}, stale and reaches "
                       f"{len(risk.sensitive)} sensitive system(s)")
        severity, demoted = possible_demotion(ctx, node.id, severity)
        extra = []
        if isinstance(node, Identity):
            same = [c.name for c in _credentials_with(ctx, node.id, status)]
            if same:
                extra.append(f"its credential(s) {', '.join(same)} have no owner of their own either")
        yield ctx.finding(meta, node, severity, [
            owner_line(ctx, node.id), agent_line(ctx, node.id), *extra, *risk.stale,
            *sensitive_summary(risk.sensitive), *why, *demoted,
        ], path=risk.sensitive[0]["path"] if risk.sensitive else ())


def _credentials_with(ctx: FindingContext, identity_id: str, status: str) -> list[Any]:
    from ._common import active_credentials

    return [c for c in active_credentials(ctx, identity_id) if ctx.owner_status(c.id) == status]


@rule(OWNERLESS)
def agent_ownerless(ctx: FindingContext, meta: RuleMeta, params: Mapping[str, Any]) -> Iterator[Finding]:
    yield from _owner_rule(ctx, meta, params, "ownerless")


@rule(ORPHANED)
def agent_orphaned(ctx: FindingContext, meta: RuleMeta, params: Mapping[str, Any]) -> Iterator[Finding]:
    yield from _owner_rule(ctx, meta, params, "orphaned")
