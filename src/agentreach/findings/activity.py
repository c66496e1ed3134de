"""What the run-time findings read: activity aggregates, one per (credential or identity,
action, resource), with when it was first and last seen and how often.

This is the whole interface between activity collection (CloudTrail, Entra sign-ins, GCP
audit logs: whatever stores them per snapshot) and the run-time rules
(:mod:`agentreach.findings.rules.runtime`). A collector's rows become aggregates with
:func:`aggregates`, and the findings context takes them as ``activity``::

    ctx = FindingContext.from_store(store, sid, activity=aggregates(rows))

The rules then run (they need the ``activity`` capability, which a context has exactly when
it was given activity, even an empty list: "nothing was seen" is an answer, "nobody
looked" is not). Request and response bodies never get here: an aggregate is names, times
and a count.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from ..config import ConfigError

ACTIVITY_CAPABILITY = "activity"


@dataclass(frozen=True)
class ActivityAggregate:
    """What one principal did with one action on one resource over the window.

    ``principal``: the agentreach id of the credential the log names (an access key id, a
    key id) or, where the log names no credential, of the identity. ``identity``: the
    identity it acted as, where known (a credential's owner, the role a session assumed).
    ``action``: in the cloud's own vocabulary (``s3:GetObject``,
    ``Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read``,
    ``storage.objects.get``). ``resource``: the agentreach id of the system where the
    resource is one the snapshot holds, else its native name (ARN, resource id), or "" for
    calls on no resource."""

    principal: str
    action: str
    resource: str
    first_seen: dt.datetime
    last_seen: dt.datetime
    count: int
    identity: str | None = None

    @property
    def provider(self) -> str:
        return self.principal.split(":", 1)[0]


def _time(value: Any, what: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        t = value
    elif isinstance(value, str):
        try:
            t = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ConfigError(f"activity aggregate: {what} {value!r} is not an ISO time") from None
    else:
        raise ConfigError(f"activity aggregate: {what} is missing")
    return t if t.tzinfo else t.replace(tzinfo=dt.timezone.utc)


def aggregate(row: Mapping[str, Any]) -> ActivityAggregate:
    """One stored row (``principal`` or ``credential`` / ``identity``, ``action``,
    ``resource``, ``first_seen``, ``last_seen``, ``count``) as an aggregate; a row that
    lacks one names what it lacks."""
    principal = row.get("principal") or row.get("credential") or row.get("identity")
    if not principal or not row.get("action"):
        raise ConfigError(f"activity aggregate: needs a principal and an action, got {sorted(row)}")
    count = row.get("count", 1)
    if not isinstance(count, int) or count < 1:
        raise ConfigError(f"activity aggregate of {principal}: count {count!r} is not a positive integer")
    return ActivityAggregate(principal=str(principal), action=str(row["action"]),
                             resource=str(row.get("resource") or ""),
                             first_seen=_time(row.get("first_seen"), "first_seen"),
                             last_seen=_time(row.get("last_seen"), "last_seen"), count=count,
                             identity=row.get("identity") if row.get("identity") != principal else None)


def aggregates(rows: Iterable[Mapping[str, Any] | ActivityAggregate]) -> tuple[ActivityAggregate, ...]:
    """Rows (dicts or aggregates) as aggregates, in a stable order."""
    out = [r if isinstance(r, ActivityAggregate) else aggregate(r) for r in rows]
    return tuple(sorted(out, key=lambda a: (a.principal, a.action, a.resource, a.first_seen)))


def by_principal(activity: Iterable[ActivityAggregate]) -> dict[str, list[ActivityAggregate]]:
    out: dict[str, list[ActivityAggregate]] = {}
    for a in activity:
        out.setdefault(a.principal, []).append(a)
        if a.identity:
            out.setdefault(a.identity, []).append(a)
    return out
