"""Snapshot diffs: new, removed and changed objects with the fields that changed, and
new and resolved findings."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from agentreach.diff import diff_markdown, diff_snapshots
from agentreach.store import Store

from .test_model_store import key, scan, user


def test_new_removed_and_changed(tmp_path: Path) -> None:
    store = Store(tmp_path / "d.db")
    alice, bob = user("alice"), user("bob")
    k1, e1 = key("AKIA1", alice)
    a = scan(store, [alice, bob, k1], [e1])
    k1_disabled = dataclasses.replace(k1, status=type(k1.status)("disabled"), tags={"Owner": "alice"})
    carol = user("carol")
    b = scan(store, [alice, carol, k1_disabled], [e1])
    d = diff_snapshots(store, a, b, [{"fingerprint": "f1", "rule": "R", "severity": "high", "title": "t", "subject": "x"}],
                       [{"fingerprint": "f2", "rule": "R2", "severity": "low", "title": "t2", "subject": "y"}])
    assert [c.name for c in d.added] == ["carol"] and [c.name for c in d.removed] == ["bob"]
    assert [(c.name, c.fields) for c in d.changed] == [("AKIA1", ["status", "tags.Owner"])]
    assert [f["fingerprint"] for f in d.new_findings] == ["f2"] and [f["fingerprint"] for f in d.resolved_findings] == ["f1"]
    md = diff_markdown(d)
    assert "### New" in md and "carol" in md and "status, tags.Owner" in md and "### Resolved findings" in md
