"""Run-time findings: what agents' credentials were *seen* doing (activity aggregates,
:mod:`agentreach.findings.activity`) against their approved profile, their owner and the
sensitivity of what they touched.

Each needs the ``activity`` capability: a context given activity aggregates (a scan that
collected none has nothing to say here, and says so by skipping, never by passing). The
aggregates are (principal, action, resource, first seen, last seen, count); a principal is
a credential or an identity, and a credential's activity counts for the identity it
authenticates as.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable, Iterator, Mapping, Sequence

from ...model import Node
from ...order import access_rank, shift
from ...profiles import action_covered, planned_retirement, system_approved
from ..activity import ACTIVITY_CAPABILITY, ActivityAggregate
from ..base import PROFILES, Finding, FindingContext, RuleMeta, agent_line, owner_line, possible_demotion, rule
from ..params import OrphanedActivity, Retirement, SensitiveFirstUse, UnusedGrants
from ._common import include_possible, primary_subjects

RUNTIME_DRIFT = RuleMeta(
    id="AR-PROFILE-RUNTIME-DRIFT",
    title="Agent used access beyond its approved profile",
    severity="high",
    rationale="Agents choose their tools at run time: an agent seen calling actions or touching systems its "
              "approved profile does not list is doing what nobody approved, whether by prompt injection, a "
              "new tool or a stolen credential.",
    remediation="Find out why the agent made these calls (the first and last time, the resource); if the task "
                "changed, widen the profile through review; if not, remove the grant and treat the credential "
                "as possibly compromised.",
    owasp_nhi="NHI5:2025 Overprivileged NHI",
    nist_csf="DE.CM-03, PR.AA-05",
    requires=(ACTIVITY_CAPABILITY, PROFILES),
)

FIRST_SENSITIVE = RuleMeta(
    id="AR-AGENT-FIRST-SENSITIVE-USE",
    title="Agent touched a sensitive system for the first time",
    severity="medium",
    rationale="The first time an agent reads or changes a sensitive system is the moment a new tool, a prompt "
              "injection or a stolen credential shows; an old, steady use is the baseline.",
    remediation="Confirm with the agent's owner that the agent is meant to use this system; add it to the "
                "approved profile through review, or remove the grant.",
    owasp_nhi="NHI5:2025 Overprivileged NHI",
    nist_csf="DE.CM-03, DE.AE-02",
    requires=(ACTIVITY_CAPABILITY,),
    params=SensitiveFirstUse,
)

UNUSED_GRANTS = RuleMeta(
    id="AR-AGENT-UNUSED-GRANTS",
    title="Agent holds grants it did not use in the activity window",
    severity="medium",
    rationale="What an agent can do and what it does drift apart: every service it is granted and never calls "
              "is access a prompt injection or a stolen key can use and the task does not need (Repokid and IAM "
              "Access Analyzer's unused-access findings remove such grants).",
    remediation="Replace the grants with the generated policy of what was used (the finding's right_sized "
                "field), or narrow them to the services used; keep the window long enough to cover rare tasks.",
    remediation_by={
        "aws": "Replace the role's policies with the generated policy (Access Analyzer policy generation does the "
               "same from CloudTrail), or remove the services never used.",
        "azure": "Replace broad role assignments with a custom role of the actions used, on the scopes used.",
        "gcp": "Replace broad roles with a custom role of the permissions used (IAM Recommender's role "
               "recommendations do the same).",
    },
    owasp_nhi="NHI5:2025 Overprivileged NHI",
    nist_csf="PR.AA-05",
    requires=(ACTIVITY_CAPABILITY,),
    params=UnusedGrants,
)

ORPHANED_ACTIVITY = RuleMeta(
    id="AR-ORPHANED-CREDENTIAL-ACTIVITY",
    title="Activity on a credential of an orphaned identity",
    severity="high",
    rationale="An identity whose owner has left is nobody's to operate; activity on its credential is either a "
              "workload nobody answers for or someone using a credential that should have been offboarded.",
    remediation="Find who or what is using the credential (source address, user agent in the logs), assign an "
                "active owner or disable the credential.",
    owasp_nhi="NHI1:2025 Improper Offboarding",
    nist_csf="DE.CM-03, PR.AA-01",
    requires=(ACTIVITY_CAPABILITY,),
    params=OrphanedActivity,
)

USED_AFTER_RETIREMENT = RuleMeta(
    id="AR-CREDENTIAL-USED-AFTER-RETIREMENT",
    title="Agent credential used after its planned retirement",
    severity="high",
    rationale="The profile planned when the credential retires; activity after that date means the rotation "
              "never happened and the old credential is still what the agent (or someone) runs on.",
    remediation="Rotate the credential now and move the agent to the new one; find out what else holds the "
                "old one before deleting it.",
    owasp_nhi="NHI7:2025 Long-Lived Secrets",
    nist_csf="PR.AA-05, DE.CM-03",
    requires=(ACTIVITY_CAPABILITY, PROFILES),
    params=Retirement,
)


def _activity(ctx: FindingContext) -> tuple[ActivityAggregate, ...]:
    return tuple(ctx.activity or ())


def _resource_node(ctx: FindingContext, resource: str) -> Node | None:
    by_native = ctx.__dict__.get("_by_native")
    if by_native is None:
        by_native = {n.native_id: n for n in ctx.view.nodes.values() if n.native_id}
        ctx.__dict__["_by_native"] = by_native
    return ctx.view.nodes.get(resource) or by_native.get(resource)


def _subject_of(ctx: FindingContext, a: ActivityAggregate) -> str:
    """Whose finding an aggregate is: the identity it acted as where known, else the principal."""
    if a.identity:
        return a.identity
    ids = ctx.view.identities_of(a.principal)
    return sorted(ids)[0] if ids else a.principal


def _seen(ctx: FindingContext, a: ActivityAggregate, subject: str | None = None) -> str:
    """``5 call(s), first …, last …`` and, when a credential of the subject made them, which."""
    by = f" with {ctx.name(a.principal)}" if subject is not None and a.principal != subject else ""
    return f"{a.count} call(s), first {a.first_seen.date().isoformat()}, last {a.last_seen.date().isoformat()}{by}"


def _on(ctx: FindingContext, a: ActivityAggregate) -> str:
    n = _resource_node(ctx, a.resource) if a.resource else None
    return f" on {n.type} {n.name}" if n is not None else (f" on {a.resource}" if a.resource else "")


def _grouped(ctx: FindingContext, items: Iterable[ActivityAggregate]) -> dict[str, list[ActivityAggregate]]:
    out: dict[str, list[ActivityAggregate]] = {}
    for a in items:
        out.setdefault(_subject_of(ctx, a), []).append(a)
    return out


def service_of(action: str, provider: str) -> str:
    """The service an action belongs to, as each cloud names it: ``s3`` of ``s3:GetObject``,
    ``Microsoft.Storage`` of ``Microsoft.Storage/storageAccounts/read``, ``storage`` of
    ``storage.objects.get``; ``*`` for a grant of everything. Services compare case-insensitively
    where the cloud does (AWS, Azure)."""
    if action.strip() in ("*", "*:*", "*/*"):
        return "*"
    if provider == "aws":
        return action.split(":", 1)[0].lower()
    if provider == "azure":
        return action.split("/", 1)[0].lower()
    return action.split(".", 1)[0]


def generated_policy(provider: str, used: Sequence[ActivityAggregate], resource_name: Any,
                     identity: tuple[str, str]) -> dict[str, Any]:
    """What the agent did, as a grant: AWS an IAM policy (one statement per service, the
    actions used, on the resources the log named, else ``*``), Azure a custom role's actions,
    GCP a custom role's permissions. Generated from successful calls, so every action in it
    was granted (a denied call is no use)."""
    by_service: dict[str, tuple[set[str], set[str]]] = {}
    for a in used:
        acts, res = by_service.setdefault(service_of(a.action, provider), (set(), set()))
        acts.add(a.action)
        res.add(resource_name(a.resource) if a.resource else "*")
    if provider == "aws":
        statements = [{"Sid": f"Used{i}", "Effect": "Allow", "Action": sorted(acts),
                       "Resource": "*" if "*" in res else sorted(res)}
                      for i, (_, (acts, res)) in enumerate(sorted(by_service.items()), start=1)]
        body: dict[str, Any] = {"policy": {"Version": "2012-10-17", "Statement": statements}}
    elif provider == "azure":
        body = {"role": {"Actions": sorted(a for acts, _ in by_service.values() for a in acts),
                         "AssignableScopes": sorted({r for _, res in by_service.values() for r in res} - {"*"})}}
    else:
        body = {"role": {"includedPermissions": sorted(a for acts, _ in by_service.values() for a in acts),
                         "resources": sorted({r for _, res in by_service.values() for r in res} - {"*"})}}
    return {"provider": provider, "generated_from": "activity (successful calls in the window)",
            "grants": [{"identity": identity[0], "identity_name": identity[1], **body}]}


@rule(UNUSED_GRANTS)
def unused_grants(ctx: FindingContext, meta: RuleMeta, params: Mapping[str, Any]) -> Iterator[Finding]:
    """Service-level, as Repokid and Access Advisor judge: a granted service the agent never
    called is unused; an action-level verdict inside a used service would need every data
    event logged, which most trails do not."""
    min_days = int(params.get("min_days_observed") or 7)
    used_by = _grouped(ctx, _activity(ctx))
    for node in primary_subjects(ctx, include_possible(params)):
        if node.kind.value != "identity" or node.id not in used_by:
            continue  # an identity with no activity at all is the stale rules' to report
        used = used_by[node.id]
        first, last = min(a.first_seen for a in used), max(a.last_seen for a in used)
        observed = max((ctx.now - first).days, (last - first).days)
        if observed < min_days:
            continue
        services = {service_of(a.action, node.provider) for a in used}
        unused: dict[str, list[str]] = {}  # system name -> granted actions of services never used
        admin = []
        for row in ctx.reach_of(node.id):
            system = ctx.view.nodes.get(row.get("system"))
            if system is None or not row.get("path") or len(row["path"]) != 1:
                continue  # the identity's own grants; a role it may assume answers for its own
            idle = [g for g in row.get("actions") or () if service_of(g, node.provider) not in services
                    or service_of(g, node.provider) == "*"]
            if idle:
                unused[system.name] = idle
                if access_rank(row.get("access")) >= access_rank("permissions-management"):
                    admin.append(system.name)
        if not unused:
            continue
        severity = shift(meta.severity, +1) if admin else meta.severity
        why = ([f"severity raised from {meta.severity} to {severity}: admin or permissions-management on "
                f"{len(admin)} system(s) never exercised ({', '.join(sorted(admin)[:3])})"] if admin else [])
        names = sorted(unused)
        proposal = generated_policy(node.provider, used,
                                    lambda r: getattr(_resource_node(ctx, r), "native_id", None) or r,
                                    (node.id, node.name))
        grant = proposal["grants"][0]
        yield ctx.finding(meta, node, severity, [
            f"{sum(len(v) for v in unused.values())} granted action(s) on {len(unused)} system(s) belong to services "
            f"it never called between {first.date().isoformat()} and {last.date().isoformat()} (used: "
            f"{', '.join(sorted(services)) or 'none'})",
            *[f"unused on {n}: {', '.join(sorted(unused[n])[:6])}{' …' if len(unused[n]) > 6 else ''}"
              for n in names[:5]],
            *([f"and {len(names) - 5} more system(s)"] if len(names) > 5 else []),
            f"generated from use: {sum(len(s['Action']) for s in grant['policy']['Statement'])} action(s) in "
            f"{len(grant['policy']['Statement'])} statement(s) (the finding's right_sized field)"
            if "policy" in grant else "generated from use: the finding's right_sized field",
            "service-level, as IAM last-accessed data judges: data events (s3:GetObject …) count only where the "
            "trail logs them",
            agent_line(ctx, node.id), owner_line(ctx, node.id), *why,
        ], right_sized=proposal)


@rule(RUNTIME_DRIFT)
def used_beyond_profile(ctx: FindingContext, meta: RuleMeta, params: Mapping[str, Any]) -> Iterator[Finding]:
    beyond: list[tuple[ActivityAggregate, str, str]] = []  # (aggregate, subject with the profile, why)
    for a in _activity(ctx):
        found = ctx.profile_of(a.principal) or (ctx.profile_of(a.identity) if a.identity else None)
        if found is None:
            continue
        profile, declared_on = found
        provider = a.provider
        if action_covered(profile.actions, a.action, provider) is None:
            beyond.append((a, declared_on, "action not in the allow-list"))
            continue
        node = _resource_node(ctx, a.resource) if a.resource else None
        if node is not None and system_approved(profile.systems, node) is None:
            beyond.append((a, declared_on, "system not approved"))
    by_subject: dict[str, list[tuple[ActivityAggregate, str]]] = {}
    for a, subject, why in beyond:
        by_subject.setdefault(subject, []).append((a, why))
    for subject in sorted(by_subject):
        items = sorted(by_subject[subject], key=lambda x: (-x[0].count, x[0].action))
        profile = ctx.declared_profile(subject)
        yield ctx.finding(meta, subject, meta.severity, [
            f"{len(items)} action(s) used beyond the approved profile "
            f"({sum(a.count for a, _ in items)} call(s) in the window)",
            *[f"used {a.action}{_on(ctx, a)} ({why}): {_seen(ctx, a, subject)}" for a, why in items[:8]],
            *([f"and {len(items) - 8} more"] if len(items) > 8 else []),
            f"approved profile: owner {profile.owner}, purpose {profile.purpose!r}, review by "
            f"{profile.review_by.isoformat()}",
            owner_line(ctx, subject),
        ])


@rule(FIRST_SENSITIVE)
def first_sensitive_use(ctx: FindingContext, meta: RuleMeta, params: Mapping[str, Any]) -> Iterator[Finding]:
    levels = set(params.get("sensitive_levels") or ("high", "critical"))
    since = ctx.now - dt.timedelta(days=int(params.get("window_days") or 7))
    possible = include_possible(params)
    firsts: dict[tuple[str, str], ActivityAggregate] = {}
    for a in _activity(ctx):
        node = _resource_node(ctx, a.resource) if a.resource else None
        if node is None or (ctx.sensitivity.get(node.id) or {}).get("level") not in levels:
            continue
        subject = _subject_of(ctx, a)
        if not (ctx.is_agent(subject, possible) or ctx.is_agent(a.principal, possible)):
            continue
        key = (subject, node.id)
        if key not in firsts or a.first_seen < firsts[key].first_seen:
            firsts[key] = a
    new = [(k, a) for k, a in firsts.items() if a.first_seen >= since]
    by_subject: dict[str, list[ActivityAggregate]] = {}
    for (subject, _), a in sorted(new, key=lambda x: (x[0], x[1].first_seen)):
        by_subject.setdefault(subject, []).append(a)
    for subject, items in by_subject.items():
        severity, demoted = possible_demotion(ctx, subject, meta.severity)
        yield ctx.finding(meta, subject, severity, [
            *[f"first use of {(ctx.sensitivity.get(_resource_node(ctx, a.resource).id) or {}).get('level')}-"  # type: ignore[union-attr]
              f"sensitivity{_on(ctx, a)} on {a.first_seen.date().isoformat()} ({a.action}; {_seen(ctx, a, subject)})"
              for a in items[:5]],
            f"no earlier use in the activity window; reported when the first use is within "
            f"{int(params.get('window_days') or 7)} day(s)",
            agent_line(ctx, subject), owner_line(ctx, subject), *demoted,
        ])


@rule(ORPHANED_ACTIVITY)
def orphaned_credential_activity(ctx: FindingContext, meta: RuleMeta, params: Mapping[str, Any]) -> Iterator[Finding]:
    statuses = set(params.get("owner_statuses") or ("orphaned",))
    for subject, items in sorted(_grouped(ctx, _activity(ctx)).items()):
        status = ctx.owner_status(subject)
        if status not in statuses:
            continue
        items.sort(key=lambda a: a.last_seen, reverse=True)
        severity = meta.severity if ctx.is_agent(subject) else shift(meta.severity, -1)
        why = [] if ctx.is_agent(subject) else [f"severity {severity} (one below {meta.severity}): not an agent"]
        yield ctx.finding(meta, subject, severity, [
            f"owner {status}, yet {sum(a.count for a in items)} call(s) on its credentials in the window, the "
            f"last on {items[0].last_seen.date().isoformat()}",
            *[f"used {a.action}{_on(ctx, a)}: {_seen(ctx, a, subject)}" for a in items[:5]],
            owner_line(ctx, subject), agent_line(ctx, subject), *why,
        ])


@rule(USED_AFTER_RETIREMENT)
def used_after_retirement(ctx: FindingContext, meta: RuleMeta, params: Mapping[str, Any]) -> Iterator[Finding]:
    grace = dt.timedelta(days=int(params.get("grace_days") or 0))
    by_cred: dict[str, list[ActivityAggregate]] = {}
    for a in _activity(ctx):
        by_cred.setdefault(a.principal, []).append(a)
    for cid in sorted(by_cred):
        cred = ctx.view.nodes.get(cid)
        found = ctx.profile_of(cid) if cred is not None and cred.kind.value == "credential" else None
        if found is None:
            continue
        profile, declared_on = found
        due = planned_retirement(profile, cred.created)  # type: ignore[union-attr]
        if due is None:
            continue
        after = sorted((a for a in by_cred[cid] if a.last_seen > due + grace), key=lambda a: a.last_seen,
                       reverse=True)
        if not after:
            continue
        yield ctx.finding(meta, cid, meta.severity, [
            f"planned retirement {due.date().isoformat()} (credential_lifetime {profile.credential_lifetime}); "
            f"used after it: the last call on {after[0].last_seen.date().isoformat()}",
            *[f"used {a.action}{_on(ctx, a)}: {_seen(ctx, a)}" for a in after[:5]],
            f"approved profile declared on {ctx.name(declared_on)}, owner {profile.owner}",
            owner_line(ctx, declared_on),
        ])
