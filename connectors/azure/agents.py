"""Entra Agent ID: which objects are agent identity blueprints, blueprint principals,
agent identities and agent users, and who sponsors them (pure).

The classifier and owner resolution read these through ordinary record fields
(``attrs.odata_type``, ``attrs.agent_identity_blueprint_id``, ``attrs.sponsors``), so
nothing downstream special-cases Agent ID. The one relation only Agent ID has, "a blueprint
principal obtains tokens for the agent identities made from it", becomes a ``can_assume``
edge, because a leaked blueprint secret reaches everything its agent identities reach.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping

from agentreach.model import Edge, EdgeKind

from .ids import SOURCE, sp_id

AGENT_IDENTITY = "#microsoft.graph.agentIdentity"
BLUEPRINT = "#microsoft.graph.agentIdentityBlueprint"
BLUEPRINT_PRINCIPAL = "#microsoft.graph.agentIdentityBlueprintPrincipal"
AGENT_USER = "#microsoft.graph.agentUser"


@dataclass
class AgentIndex:
    """Agent ID facts by object id, from the beta casts (which say the type even where the
    v1.0 listing does not)."""

    types: dict[str, str] = field(default_factory=dict)  # object id -> @odata.type
    blueprint_of: dict[str, str] = field(default_factory=dict)  # agent identity id -> blueprint appId
    sponsors: dict[str, list[Mapping[str, Any]]] = field(default_factory=dict)  # object id -> directory objects
    blueprint_app_ids: set[str] = field(default_factory=set)

    @classmethod
    def build(cls, blueprints: Iterable[Mapping[str, Any]], principals: Iterable[Mapping[str, Any]],
              identities: Iterable[Mapping[str, Any]], agent_users: Iterable[Mapping[str, Any]]) -> "AgentIndex":
        idx = cls()
        for kind, items in ((BLUEPRINT, blueprints), (BLUEPRINT_PRINCIPAL, principals),
                            (AGENT_IDENTITY, identities), (AGENT_USER, agent_users)):
            for item in items:
                oid = str(item.get("id") or "")
                if not oid:
                    continue
                idx.types[oid] = kind
                if item.get("sponsors") is not None:
                    idx.sponsors[oid] = list(item.get("sponsors") or [])
                if kind == BLUEPRINT and item.get("appId"):
                    idx.blueprint_app_ids.add(str(item["appId"]).lower())
                if kind == AGENT_IDENTITY and item.get("agentIdentityBlueprintId"):
                    idx.blueprint_of[oid] = str(item["agentIdentityBlueprintId"]).lower()
        return idx

    def odata_type(self, obj: Mapping[str, Any], default: str) -> str:
        return self.types.get(str(obj.get("id") or "")) or str(obj.get("@odata.type") or default)


def sponsor_list(links: Iterable[Mapping[str, Any]], users: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """``[{name, email, active}]``: ``active`` is the user's accountEnabled (None for a group
    or a user we could not read), which is how a sponsor who left is told apart."""
    out = []
    for link in links:
        oid = str(link.get("id") or "")
        user = users.get(oid) or {}
        is_user = str(link.get("@odata.type") or "").endswith(".user")
        active = user.get("accountEnabled") if is_user and "accountEnabled" in user else None
        out.append({"name": user.get("displayName") or link.get("displayName") or oid,
                    "email": user.get("mail") or user.get("userPrincipalName") or link.get("mail")
                    or link.get("userPrincipalName"),
                    "active": active, "object_id": oid,
                    "kind": "person" if is_user else "team" if "group" in str(link.get("@odata.type")) else "other"})
    return out


def blueprint_edges(idx: AgentIndex, sp_by_app: Mapping[str, Mapping[str, Any]]) -> Iterator[Edge]:
    """blueprint principal -can_assume-> each agent identity made from its blueprint."""
    for agent_oid, blueprint_app in sorted(idx.blueprint_of.items()):
        principal = sp_by_app.get(blueprint_app)
        if principal is None:
            continue
        yield Edge(src=sp_id(str(principal["id"])), dst=sp_id(agent_oid), kind=EdgeKind.CAN_ASSUME, source=SOURCE,
                   attrs={"reason": "the agent identity blueprint principal obtains tokens for the agent identities "
                                    "made from its blueprint",
                          "grants": [f"agentIdentityBlueprintId {blueprint_app}"]})
