"""Google groups named in IAM bindings, and who is in them (Cloud Identity Groups API, read-only).

A binding to ``group:data-readers@example.com`` reaches every member of the group, people
included: a responder asking who can read a bucket needs them. ``get`` looks each group up
(``groups:lookup``) and lists its transitive members (``memberships:searchTransitiveMemberships``,
nested groups flattened); where the directory is not readable (a denied call, a group of
another customer) the gap is recorded and the group stays, marked ``members_readable: false``.
``transform`` makes the group (``gcp_group``) and each member person (``gcp_user``) an
identity, every member ``member_of`` the group; a member service account is the account's
own node.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator, Mapping

from agentreach.model import Edge, EdgeKind, Identity, Record, node_id

from .calls import GcpCalls
from .ids import PROVIDER, SOURCE, sa_id


def group_emails(policies: Iterable[Mapping[str, Any] | None]) -> list[str]:
    out: set[str] = set()
    for policy in policies:
        for binding in (policy or {}).get("bindings") or []:
            for member in binding.get("members") or []:
                kind, _, value = str(member).partition(":")
                if kind == "group" and value:
                    out.add(value.lower())
    return sorted(out)


def get(calls: GcpCalls, emails: Iterable[str]) -> dict[str, list[str] | None]:
    """Group email -> the emails of its transitive members (None: not readable)."""
    out: dict[str, list[str] | None] = {}
    for email in emails:
        found = calls.rest("cloudidentity", "/v1/groups:lookup", {"groupKey.id": email}, operation="groups.lookup",
                           project=None)
        name = (found or {}).get("name")
        if not name:
            out[email] = None
            continue
        members: list[str] = []
        ok = True
        token: str | None = None
        while True:
            params = {"pageSize": calls.cfg.page_size, **({"pageToken": token} if token else {})}
            body = calls.rest("cloudidentity", f"/v1/{name}/memberships:searchTransitiveMemberships", params,
                              operation="memberships.searchTransitiveMemberships", project=None)
            if body is None:
                ok = False
                break
            for m in body.get("memberships") or []:
                for key in m.get("preferredMemberKey") or []:
                    if key.get("id"):
                        members.append(str(key["id"]).lower())
            token = body.get("nextPageToken")
            if not token:
                break
        out[email] = sorted(set(members)) if ok else None
    return out


def transform(raw: Mapping[str, list[str] | None], known_emails: set[str]) -> Iterator[Record]:
    made: set[str] = set()
    for email, members in sorted(raw.items()):
        gid = node_id(PROVIDER, "group", email)
        yield Identity(id=gid, provider=PROVIDER, source=SOURCE, type="gcp_group", name=email, native_id=email,
                       account=email.rsplit("@", 1)[-1],
                       attrs={"members_readable": members is not None,
                              "member_count": len(members) if members is not None else None})
        for member in members or ():
            if member.endswith(".gserviceaccount.com"):
                src = sa_id(member)
            elif member in raw:
                src = node_id(PROVIDER, "group", member)  # a nested group (its members are listed too)
            else:
                src = node_id(PROVIDER, "user", member)
                if src not in made:
                    made.add(src)
                    yield Identity(id=src, provider=PROVIDER, source=SOURCE, type="gcp_user", name=member,
                                   native_id=member, account=member.rsplit("@", 1)[-1],
                                   attrs={"human": True, "seen_in": f"members of group {email}"})
            yield Edge(src=src, dst=gid, kind=EdgeKind.MEMBER_OF, source=SOURCE,
                       attrs={"via": "Cloud Identity searchTransitiveMemberships",
                              **({"member_not_scanned": True} if member.endswith(".gserviceaccount.com")
                                 and member not in known_emails else {})})
