"""Approved access profiles against what is granted: matching a profile's allow-list the way
each cloud matches its own action names, the drift between a profile and an agent's reach,
and the right-sized grant (approved ∩ granted) a drift finding proposes.

A profile (:class:`agentreach.review.Profile`) names systems and actions in the cloud's own
vocabulary, wildcards allowed. Matching follows the cloud:

- AWS: an action is ``service:Action``; ``*`` and ``?`` wildcards; matched without regard to
  case (the IAM policy grammar: action names are case-insensitive). A system pattern that is
  an ARN is matched segment by segment as IAM matches a ``Resource`` (service segment
  case-insensitive, the rest case-sensitive).
- Azure: an operation is ``Namespace.Provider/resource/.../verb``; ``*`` stands for any
  characters, slashes included (``Microsoft.Storage/*``, ``*/read``); operation names and
  resource ids are case-insensitive.
- GCP: a permission is ``service.resource.verb``; names are matched exactly (GCP permission
  names are case-sensitive); ``*`` is allowed in a profile as a shorthand
  (``storage.objects.*``), as IAM deny policies allow it.

A granted action may itself be a pattern (an Azure role's ``*/read``): it is within the
profile only when an approved pattern covers every name the granted one does (pattern
subsumption, below), never because the two merely overlap.

Pure functions only: the findings rules (:mod:`agentreach.findings.rules.profiles`) read
the reach contract and call these.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Iterable, Mapping, Sequence

from .model import Node
from .policy.aws.matching import arn_match
from .review import Profile

CASE_INSENSITIVE_ACTIONS = {"aws": True, "azure": True, "gcp": False}
CASE_INSENSITIVE_SYSTEMS = {"azure": True}


@lru_cache(maxsize=16384)
def _subsumer(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """A regex that matches a name, or a pattern, that ``pattern`` covers entirely: ``*``
    runs over anything (a ``*`` of the other pattern included), ``?`` one character that is
    not itself a wildcard."""
    body = "".join(".*" if c == "*" else "[^*?]" if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def covers(pattern: str, name: str, *, ignore_case: bool = True) -> bool:
    """Whether every name ``name`` stands for (itself, or what its wildcards match) is matched
    by ``pattern``. ``s3:*`` covers ``s3:Get*``; ``s3:Get*`` does not cover ``s3:*``."""
    return pattern == "*" or _covers(pattern, name, ignore_case)


@lru_cache(maxsize=262144)
def _covers(pattern: str, name: str, ignore_case: bool) -> bool:
    # Agents share one vocabulary: the same (pattern, action) pairs come back for every agent.
    return _subsumer(pattern, ignore_case).fullmatch(name) is not None


def action_covered(approved: Iterable[str], action: str, provider: str) -> str | None:
    """The first approved pattern that covers ``action`` in ``provider``'s semantics, or None."""
    ic = CASE_INSENSITIVE_ACTIONS.get(provider, True)
    return next((p for p in approved if covers(p, action, ignore_case=ic)), None)


def action_intersection(approved: Iterable[str], granted: Iterable[str], provider: str,
                        whole_services: Iterable[str] = ()) -> list[str]:
    """The actions both granted and approved, as names a policy can state: a granted name an
    approved pattern covers; an approved pattern a granted one covers (or whose whole service
    is granted, ``whole_services``: an AWS grant of ``s3:*`` stored as its expansion) is kept
    as the pattern. Overlaps where neither covers the other are left out: the generated
    grant never exceeds either side."""
    ic = CASE_INSENSITIVE_ACTIONS.get(provider, True)
    granted, approved = list(granted), list(approved)
    whole = {s.lower() for s in whole_services}
    out: dict[str, str] = {}
    for a in approved:
        service = a.split(":", 1)[0].lower() if ":" in a else None
        if (service in whole and "*" not in service) or any(covers(g, a, ignore_case=ic) for g in granted):
            out.setdefault(a.lower() if ic else a, a)
    for g in granted:
        if any(covers(a, g, ignore_case=ic) for a in approved) and not any(
                covers(k, g, ignore_case=ic) for k in out.values() if k != g):
            out.setdefault(g.lower() if ic else g, g)
    return sorted(out.values(), key=str.lower)


def _system_names(system: Node) -> list[str]:
    """What a profile may call a system: its agentreach id, native id (ARN, resource id,
    resource name) and name; an AWS whole-service node (a grant on ``Resource: "*"``) also
    as the ARN pattern of everything of that service in its account."""
    names = [system.id, system.native_id or "", system.name]
    if system.type == "aws_account_service":
        service = system.id.rsplit(":", 1)[-1]
        names.append(f"arn:aws:{service}:*:{system.account or '*'}:*")
    return [n for n in names if n]


def system_approved(patterns: Iterable[str], system: Node) -> str | None:
    """The first approved system pattern that names ``system`` entirely, or None."""
    provider = system.provider
    ic = CASE_INSENSITIVE_SYSTEMS.get(provider, False)
    arn = system.native_id or ""
    for p in patterns:
        if p == "*":
            return p
        if provider == "aws" and p.startswith("arn:") and arn.startswith("arn:"):
            # A bucket is judged with its objects: ``arn:aws:s3:::b/*`` approves bucket b's data.
            if arn_match(p, arn) or (system.type == "aws_s3_bucket" and arn_match(p, f"{arn}/object")):
                return p
            continue
        if any(covers(p, n, ignore_case=ic) for n in _system_names(system)):
            return p
    return None


def system_part(patterns: Iterable[str], system: Node) -> list[str]:
    """For an AWS whole-service node no pattern names entirely, the approved ARN patterns of
    that service (and account) inside it: the part of it the profile approves."""
    if system.type != "aws_account_service":
        return []
    service = system.id.rsplit(":", 1)[-1].lower()
    out = []
    for p in patterns:
        parts = p.split(":", 5)
        if len(parts) == 6 and parts[0] == "arn" and covers(parts[2], service) and (
                covers(parts[4], system.account or "", ignore_case=False) or parts[4] == ""):
            out.append(p)
    return out


# -- drift ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class SystemDrift:
    """One reached system compared with the profile."""

    system: Node
    grantee: str  # the identity whose grant gives the access (the last hop's source)
    granted: tuple[str, ...]
    beyond: tuple[str, ...]  # granted actions no approved pattern covers (all of them when the system is not approved)
    approved_system: str | None  # the pattern that approves the system; None: not approved
    within: tuple[str, ...]  # approved ∩ granted, as a policy would state it
    resources: tuple[str, ...]  # where ``within`` applies (the system, or the approved part of it)
    access: str | None
    partial: bool = False  # an AWS whole-service grant the profile approves only part of (``resources``)
    path: tuple[Mapping[str, Any], ...] = ()
    attrs: Mapping[str, Any] = field(default_factory=dict)  # the grant edge's attributes (plane, actions_by_service)


def drift(profile: Profile, rows: Sequence[Mapping[str, Any]], nodes: Mapping[str, Node],
          edge_attrs: Mapping[tuple[str, str], Mapping[str, Any]]) -> list[SystemDrift]:
    """Every reached system of ``rows`` (the reach contract: system, actions, access, path)
    against ``profile``: what is granted beyond it, and what of it stays. ``edge_attrs``:
    (grantee, system) -> the ``can_access`` edge's attributes."""
    out = []
    for r in rows:
        system = nodes.get(r["system"])
        if system is None or not r.get("path"):
            continue
        grantee = r["path"][-1].get("from") or ""
        attrs = edge_attrs.get((grantee, system.id)) or {}
        granted = tuple(r.get("actions") or ())
        provider = system.provider
        approved = system_approved(profile.systems, system)
        part = [] if approved else system_part(profile.systems, system)
        whole = [s for s, v in (attrs.get("actions_by_service") or {}).items() if v == "*"]
        if approved or part:
            beyond = tuple(a for a in granted if action_covered(profile.actions, a, provider) is None)
            within = tuple(action_intersection(profile.actions, granted, provider, whole))
        else:
            beyond, within = granted, ()
        if part and within:
            beyond = granted  # granted on all of the service; approved only on part of it
        resources = tuple(part) if part else ((_resource(system),) if approved else ())
        out.append(SystemDrift(system=system, grantee=grantee, granted=granted, beyond=beyond,
                               approved_system=approved or (part[0] if part else None), within=within,
                               resources=resources, access=r.get("access"), partial=bool(part),
                               path=tuple(r.get("path") or ()),
                               attrs=attrs))
    return sorted(out, key=lambda d: (not d.beyond, d.system.name))


def _resource(system: Node) -> str:
    if system.type == "aws_account_service":
        return "*"
    return system.native_id or system.id


# -- the right-sized grant -----------------------------------------------------------------

def right_sized(provider: str, kept: Sequence[SystemDrift], names: Mapping[str, str]) -> dict[str, Any]:
    """What the drift finding proposes instead of today's grants: per granting identity, the
    approved actions it is granted, on the systems it is approved for. AWS: an IAM policy
    document (bucket statements cover the bucket and its objects); Azure: a custom role
    (``Actions`` and ``DataActions`` by the grant's plane, ``AssignableScopes`` the systems);
    GCP: a custom role's ``includedPermissions`` and the resources to grant it on."""
    by_grantee: dict[str, list[SystemDrift]] = {}
    for d in kept:
        if d.within:
            by_grantee.setdefault(d.grantee, []).append(d)
    grants = []
    for grantee in sorted(by_grantee):
        items = by_grantee[grantee]
        body: dict[str, Any] = {"identity": grantee, "identity_name": names.get(grantee, grantee)}
        if provider == "aws":
            body["policy"] = _aws_policy(items)
        elif provider == "azure":
            body["role"] = _azure_role(items, names.get(grantee, grantee))
        else:
            body["role"] = _gcp_role(items, names.get(grantee, grantee))
        grants.append(body)
    return {"provider": provider, "generated_from": "approved profile ∩ granted", "grants": grants}


def _aws_policy(items: Sequence[SystemDrift]) -> dict[str, Any]:
    by_actions: dict[tuple[str, ...], list[str]] = {}
    for d in items:
        resources = list(d.resources)
        if d.system.type == "aws_s3_bucket" and d.system.native_id:
            resources = [d.system.native_id, f"{d.system.native_id}/*"]
        by_actions.setdefault(tuple(d.within), []).extend(resources)
    statements = []
    for i, (actions, resources) in enumerate(sorted(by_actions.items(), key=lambda kv: kv[0])):
        res = sorted(set(resources))
        statements.append({"Sid": f"Approved{i + 1}", "Effect": "Allow", "Action": list(actions),
                           "Resource": "*" if "*" in res else res})
    return {"Version": "2012-10-17", "Statement": statements}


def _azure_role(items: Sequence[SystemDrift], name: str) -> dict[str, Any]:
    actions: set[str] = set()
    data: set[str] = set()
    for d in items:
        (data if d.attrs.get("plane") == "data" else actions).update(d.within)
    return {"Name": f"{name} (approved profile)", "IsCustom": True, "Actions": sorted(actions),
            "NotActions": [], "DataActions": sorted(data), "NotDataActions": [],
            "AssignableScopes": sorted({r for d in items for r in d.resources})}


def _gcp_role(items: Sequence[SystemDrift], name: str) -> dict[str, Any]:
    return {"title": f"{name} approved profile", "stage": "GA",
            "includedPermissions": sorted({a for d in items for a in d.within}),
            "grant_on": sorted({r for d in items for r in d.resources})}


# -- dates ---------------------------------------------------------------------------------

def planned_retirement(profile: Profile, created: dt.datetime | None) -> dt.datetime | None:
    """When a credential made at ``created`` is due to retire under ``profile``."""
    life = profile.lifetime
    if life is None or created is None:
        return None
    return created + life


def review_overdue(profile: Profile, now: dt.datetime) -> int:
    """Days past the profile's review date (0 or less: not yet due)."""
    return (now.date() - profile.review_by).days


# -- a skeleton from what is granted ---------------------------------------------------------

def skeleton(rows: Sequence[Mapping[str, Any]], nodes: Mapping[str, Node],
             edge_attrs: Mapping[tuple[str, str], Mapping[str, Any]]) -> tuple[list[str], list[str]]:
    """(systems, actions) an agent is granted today, in a profile's vocabulary: each reached
    system by its native id (ARN, resource id, resource name; the agentreach id where it has
    none, as for an AWS whole-service grant), and the granted actions, a service granted whole
    as ``service:*`` (AWS). Escalations are not grants and are left out. What a reviewer then
    narrows to what the task needs: the skeleton approves today's drift until they do."""
    systems: set[str] = set()
    actions: dict[str, str] = {}
    for r in rows:
        if r.get("via_escalation") or not r.get("path"):
            continue
        system = nodes.get(r["system"])
        if system is None:
            continue
        systems.add(system.native_id if system.native_id and system.type != "aws_account_service" else system.id)
        attrs = edge_attrs.get((r["path"][-1].get("from") or "", system.id)) or {}
        whole = {s for s, v in (attrs.get("actions_by_service") or {}).items() if v == "*"}
        for a in r.get("actions") or ():
            service = a.split(":", 1)[0] if ":" in a else None
            name = f"{service}:*" if service in whole else a
            actions.setdefault(name.lower(), name)
    return sorted(systems), sorted(actions.values(), key=str.lower)


_KEY_ORDER = ("Version", "Name", "IsCustom", "title", "stage", "Sid", "Effect", "Action", "Resource",
              "Actions", "NotActions", "DataActions", "NotDataActions", "AssignableScopes", "includedPermissions",
              "grant_on", "Statement")


def readable(doc: Any) -> Any:
    """A generated document with its keys in the order its cloud writes them (Version before
    Statement, Sid, Effect, Action, Resource): the stored copy is canonical JSON, sorted."""
    if isinstance(doc, Mapping):
        rank = {k: i for i, k in enumerate(_KEY_ORDER)}
        return {k: readable(doc[k]) for k in sorted(doc, key=lambda k: (rank.get(k, len(rank)), k))}
    if isinstance(doc, list):
        return [readable(x) for x in doc]
    return doc
