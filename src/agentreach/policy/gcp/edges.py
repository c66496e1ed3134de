"""Derived GCP edges: who can access which resource and who can become which service
account, from the IAM policies, roles and deny policies a snapshot holds.

The GCP reach deriver: one checker per edge kind (:class:`agentreach.graph.derive.EdgeChecker`),
each pure over the snapshot index of :mod:`.iam`, which does the evaluation.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Iterator

from ...graph.derive import Derived, EdgeChecker, run_checkers
from ...graph.grant import AccessGrant
from ...model import Edge, EdgeKind, System
from ...order import strongest_access
from ...view import SnapshotView
from .iam import ADMIN_ROLES, IMPERSONATE, RESOURCE_SERVICES, Acc, Index, effective, perm_level

SOURCE = "policy:gcp"


def grant_of(acc: Acc, perms: set[str], **extra: Any) -> AccessGrant:
    """``perms`` of what ``acc`` holds as a grant: conditional when none of them is held
    without a condition; the conditions are named whenever any permission needs one."""
    conditional = not (acc.perms & perms)
    return AccessGrant(
        level=strongest_access(perm_level(p) for p in perms),
        admin=bool(acc.roles & ADMIN_ROLES) or any(p.endswith(".setIamPolicy") for p in perms),
        conditional=conditional,
        condition_keys=tuple(acc.conditions) if conditional or acc.cond_perms else (),
        actions=frozenset(perms), grants=tuple(dict.fromkeys(acc.grants)), extra=extra)


# -- the checkers --------------------------------------------------------------------------------

class AccessChecker(EdgeChecker[Index]):
    finds = "identity -can_access-> organization, folder, project, bucket, secret, dataset"

    def return_edges(self, ix: Index) -> Iterator[Edge]:
        for node in ix.targets:
            for ident_id, acc in sorted(effective(ix, node, RESOURCE_SERVICES.get(node.type)).items()):
                perms = acc.perms | acc.cond_perms
                if perms:
                    yield grant_of(acc, perms).edge(ident_id, node.id, SOURCE)


class ImpersonationChecker(EdgeChecker[Index]):
    finds = "identity -can_assume-> service account, for whoever can mint its tokens or keys"

    def return_edges(self, ix: Index) -> Iterator[Edge]:
        for sa in sorted((i for i in ix.identities.values() if i.type == "gcp_sa"), key=lambda n: n.id):
            project = sa.attrs.get("project") or sa.account
            shadow = System(id=sa.id, provider="gcp", source=SOURCE, type="gcp_sa",
                            name=sa.name, native_id=str(sa.attrs.get("resource_name") or
                                                        f"projects/{project}/serviceAccounts/{sa.native_id}"),
                            resource_policy=sa.attrs.get("resource_policy") or {},
                            attrs={"parent": f"projects/{project}" if project else None})
            for ident_id, acc in sorted(effective(ix, shadow).items()):
                if ident_id == sa.id:
                    continue
                perms = (acc.perms | acc.cond_perms) & IMPERSONATE
                if not perms:
                    continue
                grants = tuple(dict.fromkeys(acc.grants))
                grant = grant_of(acc, perms, permissions=sorted(perms), via="; ".join(grants))
                yield dataclasses.replace(grant, level="write").edge(ident_id, sa.id, SOURCE, EdgeKind.CAN_ASSUME)


CHECKERS: tuple[EdgeChecker[Index], ...] = (AccessChecker(), ImpersonationChecker())


def derive(view: SnapshotView) -> Derived:
    ix = Index.of(view)
    if not ix.identities:
        return Derived()
    return run_checkers(CHECKERS, ix)
