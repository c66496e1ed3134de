"""Derived GCP edges: who can access which resource, who can become which service account,
and who can escalate (create a key, act as an account on compute it creates, rewrite an IAM
policy), from the IAM policies, roles and deny policies a snapshot holds. People, groups
and domains named in bindings become identities (derived nodes) with their own edges.

The GCP reach deriver: one checker per edge kind (:class:`agentreach.graph.derive.EdgeChecker`),
each pure over the snapshot index of :mod:`.iam`, which does the evaluation.
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache
from typing import Any, Iterator

import yaml

from ...config import ConfigError, shipped
from ...graph.derive import Derived, EdgeChecker, run_checkers
from ...graph.grant import AccessGrant, Escalation, Technique
from ...model import Edge, EdgeKind, Identity, System
from ...order import strongest_access
from ...view import SnapshotView
from ..classes import classify_gcp
from ..context import RequestContext
from .iam import (
    ACT_AS,
    ADMIN_ROLES,
    HIERARCHY_TYPES,
    IMPERSONATE,
    KEY_CREATE,
    RESOURCE_SERVICES,
    Acc,
    Index,
    effective,
    people_nodes,
    perm_level,
)

SOURCE = "policy:gcp"


def grant_of(acc: Acc, perms: set[str], system_type: str | None = None, classify: bool = True,
             **extra: Any) -> AccessGrant:
    """``perms`` of what ``acc`` holds as a grant: conditional when none of them is held
    without a condition; the conditions are named whenever any permission needs one; the
    access classes of the permissions on a system of ``system_type``."""
    conditional = not (acc.perms & perms)
    cond_perms = perms - acc.perms
    cls = classify_gcp(system_type, perms, cond_perms) if classify else None
    return AccessGrant(
        level=strongest_access(perm_level(p) for p in perms),
        admin=bool(acc.roles & ADMIN_ROLES) or any(p.endswith(".setIamPolicy") for p in perms),
        conditional=conditional,
        condition_keys=tuple(acc.conditions) if conditional or acc.cond_perms else (),
        actions=frozenset(perms), grants=tuple(dict.fromkeys(acc.grants)), extra=extra,
        classes=cls.classes if cls else frozenset(), conditional_classes=cls.conditional if cls else frozenset(),
        class_actions=cls.actions if cls else {}, conditional_actions=frozenset(cond_perms))


def _technique(acc: Acc, perms: set[str], name: str, via: str) -> Technique:
    conditional = not (acc.perms & perms)
    return Technique(technique=name, grants=tuple(dict.fromkeys(acc.grants)), via=via, conditional=conditional,
                     condition_keys=tuple(acc.conditions) if conditional else ())


# -- the checkers --------------------------------------------------------------------------------

class AccessChecker(EdgeChecker[Index]):
    finds = "identity -can_access-> organization, folder, project, bucket, secret, dataset"

    def return_edges(self, ix: Index) -> Iterator[Edge]:
        for node in ix.targets:
            for ident_id, acc in sorted(effective(ix, node, RESOURCE_SERVICES.get(node.type)).items()):
                perms = acc.perms | acc.cond_perms
                if perms:
                    yield grant_of(acc, perms, node.type).edge(ident_id, node.id, SOURCE)


def _shadow(sa: Identity) -> System:
    """A service account as the resource its own IAM policy is on."""
    project = sa.attrs.get("project") or sa.account
    return System(id=sa.id, provider="gcp", source=SOURCE, type="gcp_sa", name=sa.name,
                  native_id=str(sa.attrs.get("resource_name") or f"projects/{project}/serviceAccounts/{sa.native_id}"),
                  resource_policy=sa.attrs.get("resource_policy") or {},
                  attrs={"parent": f"projects/{project}" if project else None})


def _accounts(ix: Index) -> list[Identity]:
    return sorted((i for i in ix.identities.values() if i.type == "gcp_sa"), key=lambda n: n.id)


class ImpersonationChecker(EdgeChecker[Index]):
    finds = "identity -can_assume-> service account, for whoever can mint its tokens or signatures"

    def return_edges(self, ix: Index) -> Iterator[Edge]:
        for sa in _accounts(ix):
            for ident_id, acc in sorted(effective(ix, _shadow(sa)).items()):
                if ident_id == sa.id:
                    continue
                perms = (acc.perms | acc.cond_perms) & IMPERSONATE
                if not perms:
                    continue
                grants = tuple(dict.fromkeys(acc.grants))
                grant = grant_of(acc, perms, classify=False, permissions=sorted(perms), via="; ".join(grants))
                yield dataclasses.replace(grant, level="write").edge(ident_id, sa.id, SOURCE, EdgeKind.CAN_ASSUME)


class EscalationChecker(EdgeChecker[Index]):
    """keys.create on a service account, actAs on it with a way to run compute in its project
    (config/escalation-techniques.yaml), setIamPolicy on a resource or service account."""

    finds = "identity -can_escalate-> service account (a key, actAs on compute) or the resource whose policy it sets"

    def return_edges(self, ix: Index) -> Iterator[Edge]:
        compute = actas_compute()
        on_project: dict[str, dict[str, Acc]] = {}
        for sa in _accounts(ix):
            project = str(sa.attrs.get("project") or sa.account or "")
            if project not in on_project:
                node = ix.by_name.get(f"projects/{project}")
                on_project[project] = effective(ix, node) if node is not None else {}
            for ident_id, acc in sorted(effective(ix, _shadow(sa)).items()):
                if ident_id == sa.id:
                    continue
                held = acc.perms | acc.cond_perms
                techniques = []
                if KEY_CREATE in held:
                    techniques.append(_technique(acc, {KEY_CREATE}, KEY_CREATE, f"a new key for {sa.name}"))
                if "iam.serviceAccounts.setIamPolicy" in held:
                    techniques.append(_technique(acc, {"iam.serviceAccounts.setIamPolicy"},
                                                 "iam.serviceAccounts.setIamPolicy",
                                                 f"a binding of its own on {sa.name} (token creator)"))
                if ACT_AS in held:
                    there = on_project[project].get(ident_id)
                    for tech_id, sets in compute:
                        perms = next((set(p) for p in sets if there and set(p) <= (there.perms | there.cond_perms)),
                                     None)
                        if perms is None:
                            continue
                        both = Acc(perms=(acc.perms & {ACT_AS}) | (there.perms & perms),
                                   cond_perms=(acc.cond_perms & {ACT_AS}) | (there.cond_perms & perms),
                                   conditions=[*acc.conditions, *there.conditions],
                                   grants=[*acc.grants, *there.grants])
                        conditional = not ({ACT_AS} <= both.perms and perms <= both.perms)
                        techniques.append(Technique(
                            technique="+".join((ACT_AS, *sorted(perms))), grants=tuple(dict.fromkeys(both.grants)),
                            via=f"{tech_id} in {project} running as {sa.name}", conditional=conditional,
                            condition_keys=tuple(both.conditions) if conditional else ()))
                        break
                if techniques:
                    yield Escalation(techniques=tuple(techniques)).edge(ident_id, sa.id, SOURCE)
        for node in ix.targets:
            for ident_id, acc in sorted(effective(ix, node, RESOURCE_SERVICES.get(node.type)).items()):
                sets = {p for p in acc.perms | acc.cond_perms if p.endswith(".setIamPolicy")}
                if sets:
                    yield Escalation(techniques=(_technique(acc, sets, "+".join(sorted(sets)),
                                                            f"any role on {node.native_id}"),),
                                     gains="admin" if node.type in HIERARCHY_TYPES else "any access to the target"
                                     ).edge(ident_id, node.id, SOURCE)


@lru_cache(maxsize=1)
def actas_compute() -> tuple[tuple[str, tuple[tuple[str, ...], ...]], ...]:
    """config/escalation-techniques.yaml's gcp.actas_compute: (id, permission sets)."""
    data = yaml.safe_load(shipped("escalation-techniques.yaml")) or {}
    out = []
    for i, item in enumerate((data.get("gcp") or {}).get("actas_compute") or []):
        try:
            out.append((str(item["id"]), tuple(tuple(str(p) for p in s) for s in item["any_of"])))
        except (KeyError, TypeError) as exc:
            raise ConfigError(f"config/escalation-techniques.yaml: gcp.actas_compute entry {i + 1}: missing {exc}") \
                from None
    return tuple(out)


class PeopleChecker(EdgeChecker[Index]):
    finds = "the people, groups and domains named in IAM bindings, as identities"

    def __init__(self, people: list[Identity]) -> None:
        self.people = people

    def return_edges(self, ix: Index) -> Iterator[Identity]:
        yield from self.people


def derive(view: SnapshotView, context: RequestContext | None = None) -> Derived:
    """The GCP edges of a snapshot; ``request.time`` conditions decided at the context's time
    (default: the snapshot's time)."""
    now = context.now if context is not None and context.now is not None else view.time()
    ix = Index.of(view, now)
    if not ix.identities:
        return Derived()
    people = people_nodes(view)
    for person in people:
        ix.identities[person.id] = person
        ix.by_uri[f"{person.type.removeprefix('gcp_')}:{person.native_id}"] = person.id
    checkers = (AccessChecker(), ImpersonationChecker(), EscalationChecker(), PeopleChecker(people))
    return run_checkers(checkers, ix)
