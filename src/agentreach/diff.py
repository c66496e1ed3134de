"""What changed between two snapshots: objects that appeared, disappeared or changed (and
which of their fields), and findings that are new or gone. Pure over what the store holds;
the CLI renders it as a table, JSON or Markdown for a chat message or a ticket."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from .store import Store

DIFF_KINDS = ("identity", "credential", "workload", "system")
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


@dataclass
class SnapshotDiff:
    a: int
    b: int
    added: list[Change]
    removed: list[Change]
    changed: list[Change]
    new_findings: list[Mapping[str, Any]]
    resolved_findings: list[Mapping[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return {"from": self.a, "to": self.b,
                "added": [c.to_dict() for c in self.added], "removed": [c.to_dict() for c in self.removed],
                "changed": [c.to_dict() for c in self.changed],
                "new_findings": list(self.new_findings), "resolved_findings": list(self.resolved_findings)}


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
    return SnapshotDiff(
        a, b,
        added=[change(new[i]) for i in sorted(set(new) - set(old))],
        removed=[change(old[i]) for i in sorted(set(old) - set(new))],
        changed=changed,
        new_findings=[fb[k] for k in fb if k not in fa],
        resolved_findings=[fa[k] for k in fa if k not in fb],
    )


def diff_markdown(d: SnapshotDiff) -> str:
    lines = [f"## agentreach: snapshot {d.a} -> {d.b}", "",
             f"{len(d.added)} new, {len(d.removed)} removed, {len(d.changed)} changed objects; "
             f"{len(d.new_findings)} new findings, {len(d.resolved_findings)} resolved", ""]
    for title, items in (("New", d.added), ("Removed", d.removed)):
        if items:
            lines += [f"### {title}", ""] + [f"- `{c.type}` **{c.name}** ({c.account or '-'})" for c in items] + [""]
    if d.changed:
        lines += ["### Changed", ""] + [f"- `{c.type}` **{c.name}**: {', '.join(c.fields)}" for c in d.changed] + [""]
    for title, found in (("New findings", d.new_findings), ("Resolved findings", d.resolved_findings)):
        if found:
            lines += [f"### {title}", ""] + [
                f"- **{f['severity']}** {f['title']}: {f.get('subject_name') or f['subject']} (`{f['rule']}`)"
                for f in found] + [""]
    return "\n".join(lines)
