"""Approved access profiles (the reviewed file's ``profile:`` blocks) against the snapshot:
an agent granted beyond its profile (static drift, with the right-sized grant), an agent
with no profile, a profile past its review date, a credential past its planned retirement.

Each needs the ``profiles`` capability (the reviewed file declares at least one profile):
before a team writes any, "no agent has a profile" would be every agent, which says
nothing the team does not know. Matching is :mod:`agentreach.profiles`'."""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterator, Mapping

from ...model import Credential, CredentialStatus, Identity, Node
from ...order import access_rank, shift
from ...profiles import SystemDrift, drift, planned_retirement, review_overdue, right_sized
from ...review import Profile
from ..base import (
    PROFILES,
    Finding,
    FindingContext,
    RuleMeta,
    agent_line,
    owner_line,
    possible_demotion,
    rule,
)
from ..params import AgentsScope, ProfileDrift, Retirement, ReviewGrace
from ._common import CONTROL_CLASSES, include_possible, primary_subjects

DRIFT = RuleMeta(
    id="AR-PROFILE-DRIFT",
    title="Agent granted beyond its approved access profile",
    severity="medium",
    rationale="The approved profile says what the agent's task needs; every grant beyond it is access nobody "
              "approved, which a prompt injection or a stolen credential can use. Static drift is what the "
              "evaluator says the agent can do today that its profile does not list.",
    remediation="Replace the agent's grants with the right-sized grant in this finding (its approved profile "
                "intersected with what it is granted), or widen the profile through review if the task changed.",
    owasp_nhi="NHI5:2025 Overprivileged NHI",
    nist_csf="PR.AA-05",
    requires=(PROFILES,),
    params=ProfileDrift,
    remediation_by={
        "aws": "Replace the identity's policies with the generated IAM policy in this finding (approved actions "
               "on approved resources, as IAM Access Analyzer's policy generation proposes), or set it as a "
               "permissions boundary first; widen the profile through review if the task changed.",
        "azure": "Replace the role assignments with the generated custom role (its Actions and DataActions) "
                 "assigned at the approved scopes; widen the profile through review if the task changed.",
        "gcp": "Replace the roles with a custom role holding the generated includedPermissions, granted on the "
               "approved resources (not the project or folder); widen the profile through review if the task "
               "changed.",
    },
)

NO_PROFILE = RuleMeta(
    id="AR-AGENT-NO-PROFILE",
    title="Agent without an approved access profile",
    severity="low",
    rationale="An agent's credential needs an approved profile (owner, purpose, systems and actions, credential "
              "lifetime, review date) so that what it may do is decided once and checked on every scan; without "
              "one, nothing tells intended access from drift.",
    remediation="Write the agent's profile in the reviewed file (agentreach profile ID writes a skeleton from "
                "what it is granted today) and have its owner approve it.",
    owasp_nhi="NHI5:2025 Overprivileged NHI",
    nist_csf="GV.RR-04, PR.AA-05",
    requires=(PROFILES,),
    params=AgentsScope,
)

REVIEW = RuleMeta(
    id="AR-PROFILE-REVIEW-OVERDUE",
    title="Approved access profile past its review date",
    severity="medium",
    rationale="A profile is an approval with a date: past it, nobody has confirmed that the agent still needs "
              "what it was approved for, or that its owner still answers for it.",
    remediation="Have the profile's owner review it (owner, purpose, systems, actions, lifetime) and set a new "
                "review_by date, or retire the agent.",
    owasp_nhi="NHI1:2025 Improper Offboarding",
    nist_csf="GV.RR-04, PR.AA-01",
    requires=(PROFILES,),
    params=ReviewGrace,
)

RETIREMENT = RuleMeta(
    id="AR-CREDENTIAL-PAST-RETIREMENT",
    title="Agent credential older than its profile's expected lifetime",
    severity="medium",
    rationale="The profile planned when the agent's credential retires (credential_lifetime); a credential past "
              "it is one the rotation or offboarding the profile promised never happened to.",
    remediation="Rotate the credential (issue a new one, move the agent to it, delete the old one), or move the "
                "agent to short-lived credentials; change the profile's lifetime only through review.",
    owasp_nhi="NHI7:2025 Long-Lived Secrets",
    nist_csf="PR.AA-05, PR.AA-01",
    requires=(PROFILES,),
    params=Retirement,
    remediation_by={
        "aws": "Create a new access key, move the agent to it, deactivate and delete the old one; better, have "
               "the agent assume a role (IAM Roles Anywhere, an execution role) instead of holding a key.",
        "azure": "Add a new client secret or certificate, move the agent to it and remove the old one; better, "
                 "use a managed identity or federated credentials.",
        "gcp": "Create a new key, move the agent to it and delete the old one; better, use workload identity "
               "federation or an attached service account instead of keys.",
    },
)


def profile_line(p: Profile, declared_on: str, ctx: FindingContext) -> str:
    life = f", credential lifetime {p.credential_lifetime}" if p.credential_lifetime else ""
    where = "" if declared_on in ("", None) else f" (declared on {ctx.name(declared_on)})"
    return (f"approved profile{where}: owner {p.owner}, purpose {p.purpose!r}, {len(p.actions)} action pattern(s) "
            f"on {len(p.systems)} system pattern(s){life}, review by {p.review_by.isoformat()}")


def profiled_subjects(ctx: FindingContext) -> list[Node]:
    """The identities and credentials the reviewed file gives a profile, in the snapshot."""
    return sorted((n for nid in ctx.profiles if isinstance(n := ctx.view.nodes.get(nid), (Identity, Credential))),
                  key=lambda n: n.id)


def _listed(actions: tuple[str, ...], limit: int) -> str:
    shown = ", ".join(actions[:limit])
    return shown + (f" and {len(actions) - limit} more" if len(actions) > limit else "")


def _drift_line(d: SystemDrift, ctx: FindingContext, limit: int) -> str:
    sens = (ctx.sensitivity.get(d.system.id) or {}).get("level")
    what = f"{d.system.type} {d.system.name}" + (f" ({sens} sensitivity)" if sens else "")
    grant = d.path[-1].get("grant") if d.path else None
    grant = "; ".join(grant) if isinstance(grant, list) else grant
    by = f", granted by {grant}" if grant else ""
    if d.approved_system is None:
        return (f"granted beyond the profile: {what} is not an approved system; {d.access} access with "
                f"{len(d.beyond)} action(s): {_listed(d.beyond, limit)}{by}")
    if d.partial:
        return (f"granted beyond the profile: all of {what}, approved only on {', '.join(d.resources)}; "
                f"{len(d.beyond)} action(s): {_listed(d.beyond, limit)}{by}")
    return (f"granted beyond the profile on {what} (approved as {d.approved_system}): {len(d.beyond)} action(s) "
            f"not in the allow-list: {_listed(d.beyond, limit)}{by}")


def _edge_attrs(ctx: FindingContext) -> dict[tuple[str, str], Mapping[str, Any]]:
    cache = ctx.__dict__.get("_access_edges")
    if cache is None:
        cache = {(e["src"], e["dst"]): e.get("attrs") or {} for edges in ctx.view.out_edges.values()
                 for e in edges if e["kind"] == "can_access"}
        ctx.__dict__["_access_edges"] = cache
    return cache


def profile_drift(ctx: FindingContext, node: Node, profile: Profile) -> list[SystemDrift]:
    return drift(profile, ctx.reach_of(node.id), ctx.view.nodes, _edge_attrs(ctx))


@rule(DRIFT)
def granted_beyond_profile(ctx: FindingContext, meta: RuleMeta, params: Mapping[str, Any]) -> Iterator[Finding]:
    levels = set(params.get("sensitive_levels") or ("high", "critical"))
    limit = int(params.get("max_listed") or 8)
    for node in profiled_subjects(ctx):
        profile = ctx.declared_profile(node.id)
        drifts = profile_drift(ctx, node, profile)
        beyond = [d for d in drifts if d.beyond]
        if not beyond:
            continue
        severity, why = meta.severity, []
        control = [d for d in beyond if d.path and (d.attrs.get("admin") or access_rank(d.access) >= access_rank(
            "permissions-management") or CONTROL_CLASSES.intersection(d.attrs.get("classes") or ()))]
        sensitive = [d for d in beyond if (ctx.sensitivity.get(d.system.id) or {}).get("level") in levels]
        if control or sensitive:
            severity = shift(meta.severity, +1)
            reasons = ([f"admin or permissions-management beyond the profile on {len(control)} system(s)"]
                       if control else []) + ([f"{len(sensitive)} sensitive system(s) beyond the profile"]
                                              if sensitive else [])
            why.append(f"severity raised from {meta.severity} to {severity}: {' and '.join(reasons)}")
        proposal = right_sized(node.provider, drifts, {n.id: n.name for n in ctx.view.nodes.values()})
        kept = sum(len(d.within) for d in drifts if d.within)
        summary = (f"right-sized grant (approved profile ∩ granted): {kept} action grant(s) on "
                   f"{sum(1 for d in drifts if d.within)} system(s) in {len(proposal['grants'])} identity grant(s) "
                   "(the finding's right_sized field)" if proposal["grants"] else
                   "right-sized grant: nothing granted today is in the approved profile (the agent needs none of "
                   "its current grants, or the profile names other systems)")
        ordered = sorted(beyond, key=lambda d: (d not in control, d not in sensitive, d.system.name))
        lines = [_drift_line(d, ctx, limit) for d in ordered[:5]]
        if len(ordered) > 5:
            lines.append(f"and {len(ordered) - 5} more system(s) beyond the profile: "
                         + ", ".join(d.system.name for d in ordered[5:10]) + ("…" if len(ordered) > 10 else ""))
        yield ctx.finding(meta, node, severity, [
            f"{sum(len(d.beyond) for d in beyond)} granted action(s) on {len(beyond)} system(s) are beyond the "
            "approved profile", *lines, profile_line(profile, "", ctx), summary, owner_line(ctx, node.id), *why,
        ], path=ordered[0].path, right_sized=proposal)


@rule(NO_PROFILE)
def agent_without_profile(ctx: FindingContext, meta: RuleMeta, params: Mapping[str, Any]) -> Iterator[Finding]:
    for node in primary_subjects(ctx, include_possible(params)):
        # A secret found in files and matched to no cloud credential has no action vocabulary
        # a profile could state (its own service's scopes are the detector's business).
        if node.provider == "files" or ctx.profile_of(node.id) is not None:
            continue
        severity, demoted = possible_demotion(ctx, node.id, meta.severity)
        creds = "" if isinstance(node, Identity) else " or the identity it authenticates as"
        yield ctx.finding(meta, node, severity, [
            f"no approved profile: the reviewed file has no profile: block for {node.name}{creds} "
            f"({len(ctx.profiles)} profile(s) declared)",
            agent_line(ctx, node.id), owner_line(ctx, node.id), *demoted,
        ])


@rule(REVIEW)
def profile_review_overdue(ctx: FindingContext, meta: RuleMeta, params: Mapping[str, Any]) -> Iterator[Finding]:
    grace = int(params.get("grace_days") or 0)
    for node in profiled_subjects(ctx):
        profile = ctx.declared_profile(node.id)
        late = review_overdue(profile, ctx.now)
        if late <= grace:
            continue
        yield ctx.finding(meta, node, meta.severity, [
            f"review date {profile.review_by.isoformat()} passed {late} day(s) ago"
            + (f" (grace {grace} day(s))" if grace else ""),
            profile_line(profile, "", ctx), owner_line(ctx, node.id),
        ])


def _day(t: dt.datetime) -> str:
    return t.date().isoformat()


@rule(RETIREMENT)
def credential_past_retirement(ctx: FindingContext, meta: RuleMeta, params: Mapping[str, Any]) -> Iterator[Finding]:
    grace = dt.timedelta(days=int(params.get("grace_days") or 0))
    for node in sorted(ctx.view.nodes.values(), key=lambda n: n.id):
        if not isinstance(node, Credential) or node.status != CredentialStatus.ACTIVE:
            continue
        found = ctx.profile_of(node.id)
        if found is None:
            continue
        profile, declared_on = found
        due = planned_retirement(profile, node.created)
        if due is None or ctx.now <= due + grace:
            continue
        assert node.created is not None
        severity, why = meta.severity, []
        if node.last_used is not None and node.last_used > due:
            severity = shift(meta.severity, +1)
            why.append(f"severity raised from {meta.severity} to {severity}: used on {_day(node.last_used)}, after "
                       "its planned retirement")
        idents = sorted(ctx.name(i) for i in ctx.view.identities_of(node.id))
        yield ctx.finding(meta, node, severity, [
            f"created {_day(node.created)}, planned retirement {_day(due)} (credential_lifetime "
            f"{profile.credential_lifetime}): {(ctx.now - due).days} day(s) past it, still active",
            f"last used {_day(node.last_used)}" if node.last_used else "no recorded use",
            *([f"a credential of {', '.join(idents)}"] if idents else []),
            profile_line(profile, declared_on, ctx), owner_line(ctx, declared_on), *why,
        ])
