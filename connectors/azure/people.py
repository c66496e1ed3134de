"""People and groups that Azure role assignments name, as principals (the "transform" half;
pure). A responder asking who can read a vault needs every human too: a user with a role
assignment is an identity (``azure_person``), a group is one (``azure_group``) and each of its
transitive members ``member_of`` it, so what the group's assignments reach, its members reach.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator, Mapping

from agentreach.model import Edge, EdgeKind, Identity, Record

from .arm import SubscriptionRaw
from .graph import AssignedRaw
from .ids import PROVIDER, SOURCE, group_id, person_id, sp_id


def assigned(subs: Iterable[SubscriptionRaw]) -> tuple[list[str], list[str]]:
    """(user object ids, group object ids) that role assignments name."""
    users: set[str] = set()
    groups: set[str] = set()
    for sub in subs:
        for ra in sub["roleAssignments"]:
            props = ra.get("properties") or {}
            oid = str(props.get("principalId") or "").lower()
            kind = props.get("principalType")
            if oid and kind == "User":
                users.add(oid)
            elif oid and kind == "Group":
                groups.add(oid)
    return sorted(users), sorted(groups)


def principal_ids(raw: AssignedRaw) -> dict[str, str]:
    """Object id -> node id of the people and groups read."""
    out = {str(oid).lower(): person_id(str(oid)) for oid in raw.users}
    out.update({str(oid).lower(): group_id(str(oid)) for oid in raw.groups})
    return out


def _person(user: Mapping[str, Any], tenant: str | None, seen_in: str) -> Identity:
    oid = str(user["id"]).lower()
    return Identity(id=person_id(oid), provider=PROVIDER, source=SOURCE, type="azure_person",
                    name=user.get("displayName") or user.get("userPrincipalName") or oid, native_id=oid,
                    account=tenant, enabled=user.get("accountEnabled") is not False,
                    attrs={"upn": user.get("userPrincipalName"), "mail": user.get("mail"), "human": True,
                           "tenant_id": tenant, "seen_in": seen_in})


def transform(raw: AssignedRaw, tenant: str | None, principals: Mapping[str, str]) -> Iterator[Record]:
    """The people and groups, and a ``member_of`` edge from every transitive member of a group
    to it (users, service principals, managed identities, nested groups)."""
    made: set[str] = set()
    for user in raw.users.values():
        node = _person(user, tenant, "role assignments")
        made.add(node.id)
        yield node
    for group in raw.groups.values():
        gid = str(group["id"]).lower()
        members = raw.members.get(str(group["id"]), raw.members.get(gid))
        yield Identity(id=group_id(gid), provider=PROVIDER, source=SOURCE, type="azure_group",
                       name=group.get("displayName") or gid, native_id=gid, account=tenant,
                       attrs={"mail": group.get("mail"), "security_enabled": group.get("securityEnabled"),
                              "tenant_id": tenant, "members_readable": members is not None,
                              "member_count": len(members) if members is not None else None})
        for member in members or ():
            oid = str(member.get("id") or "").lower()
            kind = str(member.get("@odata.type") or "").rsplit(".", 1)[-1]
            if not oid:
                continue
            if kind == "user":
                src = person_id(oid)
                if src not in made:
                    made.add(src)
                    yield _person(member, tenant, f"members of group {group.get('displayName') or gid}")
            elif kind == "servicePrincipal":
                src = principals.get(oid, sp_id(oid))
            elif kind == "group":
                src = group_id(oid)
                if oid not in {str(g).lower() for g in raw.groups} and src not in made:
                    made.add(src)
                    yield Identity(id=src, provider=PROVIDER, source=SOURCE, type="azure_group",
                                   name=member.get("displayName") or oid, native_id=oid, account=tenant,
                                   attrs={"tenant_id": tenant, "nested_in": gid})
            else:
                continue  # devices and contacts hold no role
            yield Edge(src=src, dst=group_id(gid), kind=EdgeKind.MEMBER_OF, source=SOURCE,
                       attrs={"via": "Graph transitiveMembers", "member_type": kind})
