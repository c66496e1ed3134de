"""What changed between two snapshots: objects that appeared, disappeared or changed (and
which of their fields), reach that was gained, lost or changed, and findings that are new or
gone. Pure over what the store holds; the CLI renders it as a table, JSON or Markdown for a chat
message or a ticket.

Reach is compared edge by edge: every ``can_access``, ``can_assume`` and ``can_escalate`` edge
of each snapshot, keyed by (source, kind, target). A newly attached policy or a new assumable
role changes no object's fields but adds an edge, and that is what a reviewer must see: who can
now reach what, at which access level, granted by what."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from .order import access_rank, strongest_access
from .report.md import code
from .store import Store
from .textsafe import escape

DIFF_KINDS = ("identity", "credential", "workload", "system")
REACH_KINDS = ("can_access", "can_assume", "can_escalate")
# Fields whose change is noise between two scans of the same estate.
_VOLATILE = frozenset({"last_seen"})


@dataclass
class Change:
    id: str
    kind: str
    type: str
    name: str
    account: str | None
    fields: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Reach:
    """What one reach edge grants: its level, whether a condition stands in the way, and the
    grant lines behind it (policy statements, role assignments, bindings, techniques)."""

    level: str | None
    conditional: bool
    grants: tuple[str, ...]
    admin: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"level": self.level, "admin": self.admin, "conditional": self.conditional,
                "grants": list(self.grants)}


@dataclass
class AccessChange:
    """One reach edge that is new, removed or changed between the snapshots. ``before`` is the
    edge in A (changed and removed), ``after`` in B (new and changed)."""

    src: str
    src_name: str
    kind: str
    dst: str
    dst_name: str
    before: Reach | None = None
    after: Reach | None = None

    @property
    def now(self) -> Reach:
        reach = self.after or self.before
        assert reach is not None
        return reach

    def changes(self) -> list[str]:
        """What changed, in words: ``level read -> write``, ``+grant``, ``-grant``, ``now unconditional``."""
        if self.before is None or self.after is None:
            return []
        out = []
        if self.before.level != self.after.level:
            out.append(f"level {self.before.level or '-'} -> {self.after.level or '-'}")
        if self.before.admin != self.after.admin:
            out.append("now admin" if self.after.admin else "no longer admin")
        if self.before.conditional != self.after.conditional:
            out.append("now conditional" if self.after.conditional else "now unconditional")
        out += [f"+{g}" for g in self.after.grants if g not in self.before.grants]
        out += [f"-{g}" for g in self.before.grants if g not in self.after.grants]
        return out

    def to_dict(self) -> dict[str, Any]:
        now = self.now
        out: dict[str, Any] = {"src": self.src, "src_name": self.src_name, "kind": self.kind, "dst": self.dst,
                               "dst_name": self.dst_name, **now.to_dict()}
        if self.before is not None and self.after is not None:
            out["before"] = self.before.to_dict()
            out["changes"] = self.changes()
        return out


@dataclass
class SnapshotDiff:
    a: int
    b: int
    added: list[Change]
    removed: list[Change]
    changed: list[Change]
    new_findings: list[Mapping[str, Any]]
    resolved_findings: list[Mapping[str, Any]]
    new_access: list[AccessChange] = field(default_factory=list)
    removed_access: list[AccessChange] = field(default_factory=list)
    changed_access: list[AccessChange] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"from": self.a, "to": self.b,
                "added": [c.to_dict() for c in self.added], "removed": [c.to_dict() for c in self.removed],
                "changed": [c.to_dict() for c in self.changed],
                "new_findings": list(self.new_findings), "resolved_findings": list(self.resolved_findings),
                "new_access": [c.to_dict() for c in self.new_access],
                "removed_access": [c.to_dict() for c in self.removed_access],
                "changed_access": [c.to_dict() for c in self.changed_access]}


def changed_fields(old: Mapping[str, Any], new: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Dotted names of the fields that differ, one level into attrs, tags and rotation."""
    out = []
    for key in sorted(set(old) | set(new)):
        if key in _VOLATILE:
            continue
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if isinstance(a, Mapping) and isinstance(b, Mapping) and key in ("attrs", "tags", "rotation") and not prefix:
            out += changed_fields(a, b, prefix=f"{key}.")
        else:
            out.append(prefix + key)
    return out


def _grant_lines(attrs: Mapping[str, Any]) -> tuple[str, ...]:
    """The grant lines of an edge: its ``grants``, else what an escalation or a stated edge names."""
    for key in ("grants", "statements", "via", "grant", "technique"):
        value = attrs.get(key)
        if value:
            items = value if isinstance(value, (list, tuple)) else [value]
            return tuple(str(v) if not isinstance(v, Mapping) else json.dumps(v, sort_keys=True, default=str)
                         for v in items)
    return ()


def reach_edges(store: Store, snapshot_id: int,
                kinds: Iterable[str] = REACH_KINDS) -> dict[tuple[str, str, str], Reach]:
    """(src, kind, dst) -> what it grants, for the snapshot's reach edges. Two records of one
    key (two grants, e.g. a stated trust and a derived one) read as one: the stronger level,
    admin if either is, conditional only if both are, the grants of both."""
    out: dict[tuple[str, str, str], Reach] = {}
    for edge in store.edges(snapshot_id, kinds=list(kinds)):
        attrs = edge.get("attrs") or {}
        key = (edge["src"], edge["kind"], edge["dst"])
        reach = Reach(attrs.get("level"), bool(attrs.get("conditional")), _grant_lines(attrs), bool(attrs.get("admin")))
        old = out.get(key)
        if old is not None:
            reach = Reach(strongest_access((old.level, reach.level)), old.conditional and reach.conditional,
                          tuple(dict.fromkeys((*old.grants, *reach.grants))), old.admin or reach.admin)
        out[key] = reach
    return out


def diff_reach(store: Store, a: int, b: int, kinds: Iterable[str] = REACH_KINDS) -> tuple[
        list[AccessChange], list[AccessChange], list[AccessChange]]:
    """(new, removed, changed) reach edges from A to B, strongest access first."""
    kinds = list(kinds)
    old, new = reach_edges(store, a, kinds), reach_edges(store, b, kinds)
    ids = {x for key in (*old, *new) for x in (key[0], key[2])}
    names = {n.node.id: n.node.name for n in store.nodes(b, ids=ids)}
    names.update({n.node.id: n.node.name for n in store.nodes(a, ids=ids - set(names))})

    def change(key: tuple[str, str, str], before: Reach | None, after: Reach | None) -> AccessChange:
        src, kind, dst = key
        return AccessChange(src, names.get(src, src), kind, dst, names.get(dst, dst), before, after)

    def order(c: AccessChange) -> tuple[Any, ...]:
        return (-access_rank(c.now.level), not c.now.admin, c.now.conditional, c.kind, c.src_name, c.dst_name)

    added = sorted((change(k, None, new[k]) for k in new.keys() - old.keys()), key=order)
    gone = sorted((change(k, old[k], None) for k in old.keys() - new.keys()), key=order)
    changed = sorted((change(k, old[k], new[k]) for k in old.keys() & new.keys() if old[k] != new[k]), key=order)
    return added, gone, changed


def diff_snapshots(store: Store, a: int, b: int, findings_a: Iterable[Mapping[str, Any]] = (),
                   findings_b: Iterable[Mapping[str, Any]] = (), kinds: Iterable[str] = DIFF_KINDS) -> SnapshotDiff:
    kinds = list(kinds)
    old = {n.node.id: n.node for n in store.nodes(a, kinds=kinds)}
    new = {n.node.id: n.node for n in store.nodes(b, kinds=kinds)}

    def change(node: Any, fields: list[str] | None = None) -> Change:
        return Change(node.id, node.kind.value, node.type, node.name, node.account, fields or [])

    changed = []
    for nid in sorted(set(old) & set(new)):
        if old[nid] != new[nid]:
            fields = changed_fields(json.loads(json.dumps(old[nid].to_dict(), default=str)),
                                    json.loads(json.dumps(new[nid].to_dict(), default=str)))
            if fields:
                changed.append(change(new[nid], fields))
    fa = {f["fingerprint"]: f for f in findings_a}
    fb = {f["fingerprint"]: f for f in findings_b}
    new_access, removed_access, changed_access = diff_reach(store, a, b)
    return SnapshotDiff(
        a, b,
        added=[change(new[i]) for i in sorted(set(new) - set(old))],
        removed=[change(old[i]) for i in sorted(set(old) - set(new))],
        changed=changed,
        new_findings=[fb[k] for k in fb if k not in fa],
        resolved_findings=[fa[k] for k in fa if k not in fb],
        new_access=new_access, removed_access=removed_access, changed_access=changed_access,
    )


def _access_line(c: AccessChange) -> str:
    """``- `alice` -can_access-> `bucket` (write, conditional): grant; grant``, with names in code spans."""
    reach = c.now
    detail = ", ".join(x for x in (reach.level or "", "admin" if reach.admin else "",
                                   "conditional" if reach.conditional else "") if x)
    line = f"- {code(escape(c.src_name))} -{c.kind}-> {code(escape(c.dst_name))}" + (f" ({detail})" if detail else "")
    if c.before is not None and c.after is not None:
        return line + ": " + "; ".join(code(escape(x)) if x[:1] in "+-" else escape(x) for x in c.changes())
    return line + (": " + "; ".join(code(escape(g)) for g in reach.grants) if reach.grants else "")


def diff_markdown(d: SnapshotDiff) -> str:
    """The diff for people and PR comments; every name, type and field from the estate is
    escaped (textsafe), so a newline in a role's name cannot add a line ("gate: PASS")."""
    e = escape
    lines = [f"## agentreach: snapshot {d.a} -> {d.b}", "",
             f"{len(d.added)} new, {len(d.removed)} removed, {len(d.changed)} changed objects; "
             f"{len(d.new_access)} new, {len(d.removed_access)} removed, {len(d.changed_access)} changed access; "
             f"{len(d.new_findings)} new findings, {len(d.resolved_findings)} resolved", ""]
    for title, access in (("New access", d.new_access), ("Changed access", d.changed_access),
                          ("Removed access", d.removed_access)):
        if access:
            lines += [f"### {title}", ""] + [_access_line(c) for c in access] + [""]
    for title, items in (("New", d.added), ("Removed", d.removed)):
        if items:
            lines += [f"### {title}", ""] + [f"- `{e(c.type)}` **{e(c.name)}** ({e(c.account or '-')})"
                                             for c in items] + [""]
    if d.changed:
        lines += ["### Changed", ""] + [f"- `{e(c.type)}` **{e(c.name)}**: {e(', '.join(c.fields))}"
                                         for c in d.changed] + [""]
    for title, found in (("New findings", d.new_findings), ("Resolved findings", d.resolved_findings)):
        if found:
            lines += [f"### {title}", ""] + [
                f"- **{f['severity']}** {e(f['title'])}: {e(f.get('subject_name') or f['subject'])} (`{f['rule']}`)"
                for f in found] + [""]
    return "\n".join(lines)
