"""A read-only view of one snapshot: nodes by id and edges by endpoint.

It answers the few structural questions signals ask (which workloads run as this
identity, which policies apply to it, where was this credential found) and nothing else;
reach questions belong to the graph layer.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from .model import Node, Policy, Workload


@dataclass
class SnapshotView:
    nodes: dict[str, Node]
    out_edges: dict[str, list[Mapping[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    in_edges: dict[str, list[Mapping[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    # When the snapshot was taken: the time its time-bound conditions are decided at, so
    # deriving again later (findings --recompute, a stated context) gives the scan's answer.
    at: dt.datetime | None = None

    @classmethod
    def of_snapshot(cls, store: Any, snapshot_id: int) -> "SnapshotView":
        """Every node and edge a stored snapshot holds (``store``: an agentreach Store)."""
        info = store.snapshot(snapshot_id)
        return cls.build((n.node for n in store.nodes(snapshot_id)), store.edges(snapshot_id),
                         at=info.started_at if info is not None else None)

    @classmethod
    def build(cls, nodes: Iterable[Node], edges: Iterable[Mapping[str, Any]],
              at: dt.datetime | None = None) -> "SnapshotView":
        view = cls({n.id: n for n in nodes}, at=at)
        for edge in edges:
            view.out_edges[edge["src"]].append(edge)
            view.in_edges[edge["dst"]].append(edge)
        return view

    def time(self) -> dt.datetime:
        """The snapshot's time, or now for a view of no stored snapshot."""
        return self.at or dt.datetime.now(dt.timezone.utc)

    def name(self, node_id: str) -> str:
        node = self.nodes.get(node_id)
        return node.name if node else node_id

    def workloads_running_as(self, identity_id: str) -> list[Workload]:
        out = []
        for edge in self.in_edges.get(identity_id, ()):
            node = self.nodes.get(edge["src"])
            if edge["kind"] == "runs_as" and isinstance(node, Workload):
                out.append(node)
        return out

    def identities_of(self, credential_id: str) -> list[str]:
        return [e["dst"] for e in self.out_edges.get(credential_id, ()) if e["kind"] == "authenticates"]

    def live_copies_of(self, file_credential_id: str) -> list[str]:
        """The live cloud credentials a secret found in a file was matched to (the link the
        files deriver records on the live credential's ``found_in`` edge): the same secret."""
        out: list[str] = []
        for e in self.out_edges.get(file_credential_id, ()):
            if e["kind"] != "found_in":
                continue
            for back in self.in_edges.get(e["dst"], ()):
                linked = (back.get("attrs") or {}).get("file_credential") == file_credential_id
                if back["kind"] == "found_in" and linked and back["src"] not in out:
                    out.append(back["src"])
        return out

    def credentials_of(self, identity_id: str) -> list[str]:
        return [e["src"] for e in self.in_edges.get(identity_id, ()) if e["kind"] == "authenticates"]

    def applications_of(self, sp_id: str) -> list[Node]:
        """The Entra application registrations whose credentials sign in as this service
        principal (its home tenant's): one agent, two directory objects, owners often on only one."""
        sp = self.nodes.get(sp_id)
        if sp is None or sp.type != "azure_sp":
            return []
        out = []
        for e in self.in_edges.get(sp_id, ()):
            app = self.nodes.get(e["src"])
            if e["kind"] == "can_assume" and app is not None and app.type == "azure_app" \
                    and str(app.attrs.get("service_principal_id") or "").lower() == str(sp.native_id or "").lower():
                out.append(app)
        return sorted(out, key=lambda n: n.id)

    def locations_of(self, credential_id: str) -> list[Node]:
        return [self.nodes[e["dst"]] for e in self.out_edges.get(credential_id, ())
                if e["kind"] == "found_in" and e["dst"] in self.nodes]

    def managed_policies(self, identity_id: str) -> list[tuple[Policy | None, str, str]]:
        """(policy node or None, name, attachment) for the identity and the groups it is in.
        Boundaries are left out: they limit, they never grant."""
        out: list[tuple[Policy | None, str, str]] = []
        for holder, via in self._holders(identity_id):
            for edge in self.out_edges.get(holder, ()):
                if edge["kind"] != "has_policy" or edge.get("attrs", {}).get("attachment") == "boundary":
                    continue
                node = self.nodes.get(edge["dst"])
                arn = edge.get("attrs", {}).get("policy_arn") or edge["dst"]
                name = node.name if node else arn.rsplit("/", 1)[-1]
                out.append((node if isinstance(node, Policy) else None, name, via))
        return out

    def policy_documents(self, identity_id: str) -> list[tuple[str, Mapping[str, Any]]]:
        """(where, document) for every inline and managed policy that may grant to the identity."""
        docs: list[tuple[str, Mapping[str, Any]]] = []
        for holder, via in self._holders(identity_id):
            node = self.nodes.get(holder)
            for inline in (node.attrs.get("inline_policies") or []) if node else []:
                docs.append((f"inline policy {inline.get('name')}{via}", inline.get("document") or {}))
        for policy, name, via in self.managed_policies(identity_id):
            if policy is not None:
                docs.append((f"managed policy {name}{via}", policy.document))
        return docs

    def _holders(self, identity_id: str) -> list[tuple[str, str]]:
        holders = [(identity_id, "")]
        for edge in self.out_edges.get(identity_id, ()):
            if edge["kind"] == "member_of":
                holders.append((edge["dst"], f" (through group {self.name(edge['dst'])})"))
        return holders
