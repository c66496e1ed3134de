"""The user agents seen in a snapshot's activity, put where the classifier reads them.

The signal ``any.telemetry.framework-user-agent`` reads ``attrs.user_agents`` of an identity
or credential. Connectors emit identities before they read logs (and the logs of one account
may name principals another account's scan emits), so the user agents are joined here, once,
after collection and before the classifier: each identity and credential that made a call
gets the distinct user agents of its calls (bounded) in ``attrs.user_agents``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from .activity import MAX_VALUES

MAX_PER_SUBJECT = MAX_VALUES * 2


def collect_user_agents(rows: Any, limit: int = MAX_PER_SUBJECT) -> dict[str, list[str]]:
    """Subject id -> distinct user agents, from (identity, credential, user agents) rows."""
    out: dict[str, list[str]] = {}
    for identity, credential, uas in rows:
        for subject in (identity, credential):
            if not subject:
                continue
            have = out.setdefault(subject, [])
            for ua in uas:
                if ua not in have and len(have) < limit:
                    have.append(ua)
    return out


def enrich_user_agents(store: Any, snapshot_id: int) -> int:
    """Write ``attrs.user_agents`` on the snapshot's identities and credentials that the
    activity names; returns how many nodes changed. Nodes the snapshot does not hold (a
    caller from outside the scanned accounts) are left alone: their activity stays queryable."""
    found = collect_user_agents(store.activity_user_agents(snapshot_id))
    if not found:
        return 0
    changed = []
    for stored in store.nodes(snapshot_id, kinds=["identity", "credential"], ids=list(found)):
        node = stored.node
        have = list(node.attrs.get("user_agents") or [])
        merged = have + [ua for ua in found[node.id] if ua not in have]
        if merged != have:
            changed.append(dataclasses.replace(node, attrs={**node.attrs, "user_agents": merged[:MAX_PER_SUBJECT]}))
    store.add_nodes(snapshot_id, changed)
    return len(changed)
