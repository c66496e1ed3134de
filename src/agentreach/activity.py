"""What each credential and identity was seen doing: activity events, their aggregates, and
the one query later layers use (``aggregates_for``).

A connector turns each log record it reads (a CloudTrail record, a sign-in, an audit-log
entry) into an :class:`ActivityEvent` and folds it into an :class:`Aggregator`, which keeps
one :class:`ActivityAggregate` per (identity, credential, action, resource, outcome, source)
with the first and last time, a count and a few source addresses and user agents. Only those
aggregates are stored (the ``activity`` table, per snapshot); an event itself, and any
request or response body, never is. Everything here is pure: no I/O, no SDK.

Memory is bounded twice: each aggregate keeps at most :data:`MAX_VALUES` addresses and user
agents (and says when it dropped some), and an aggregator holds at most ``max_keys``
aggregates before its owner drains it into the store, which merges the parts
(:func:`merge`): first seen is the earliest, last seen the latest, counts add up.

Times inside an event are ISO 8601 UTC strings as the logs write them
(``2026-01-02T03:04:05Z``): they compare in time order as strings, which keeps the hot
path of a five-million-event log free of datetime parsing; aggregates carry datetimes.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping, NamedTuple, Protocol, Sequence

# Distinct source addresses / user agents kept per aggregate (the rest are counted only).
MAX_VALUES = 8
# Aggregates an Aggregator holds before its owner should drain it (a few hundred bytes each).
DEFAULT_MAX_KEYS = 200_000
MAX_TEXT = 512  # a user agent or address longer than this is cut (logs carry what callers send)

OUTCOMES = ("success", "denied", "error")
# Sources that give a last time but no count (IAM last-accessed data): their aggregates count 0.
COUNTLESS_SOURCES = frozenset({"last_accessed"})


class ActivityEvent(NamedTuple):
    """One observed call. ``identity`` is the node id of the principal that made it (an IAM
    user or role, a service principal, a service account); ``credential`` the node id of the
    long-lived credential the log names (an access key id, a key id, an app credential),
    ``None`` for session credentials; ``action`` in the cloud's own vocabulary
    (``s3:GetObject``); ``resource`` the ARN or resource name of the system acted on, ``""``
    for calls on no particular resource; ``time`` ISO 8601 UTC. A named tuple: millions are
    made per log, and a tuple is the cheapest immutable record Python builds."""

    identity: str
    action: str
    resource: str
    time: str
    outcome: str = "success"
    credential: str | None = None
    principal: str | None = None  # the principal's native id (ARN, object id, email) for display
    source_ip: str | None = None
    user_agent: str | None = None
    provider: str = "aws"
    account: str | None = None
    source: str = "cloudtrail"  # which log: cloudtrail, lookup_events, last_accessed, signins, audit_logs
    error_code: str | None = None


Key = tuple[str, str, str, str, str, str]  # identity, credential or "", action, resource, outcome, source


#: The snapshot option naming the connectors its scan asked for activity (scan.scheme_options):
#: the run-time findings tell "nothing was seen" from "nobody looked" by it.
ACTIVITY_OPTION = "activity"


@dataclass(frozen=True, slots=True)
class ActivityAggregate:
    """Every event of one (identity, credential, action, resource, outcome, source) in the
    window: when first and last, how many (0 where the source gives only a last time, as
    IAM last-accessed data does), and up to :data:`MAX_VALUES` addresses and user agents
    (``truncated`` when there were more)."""

    identity: str
    credential: str | None
    action: str
    resource: str
    outcome: str
    source: str
    first_seen: dt.datetime
    last_seen: dt.datetime
    count: int
    provider: str = "aws"
    account: str | None = None
    principal: str | None = None
    source_ips: tuple[str, ...] = ()
    user_agents: tuple[str, ...] = ()
    error_codes: tuple[str, ...] = ()
    truncated: bool = False

    @property
    def key(self) -> Key:
        return (self.identity, self.credential or "", self.action, self.resource, self.outcome, self.source)

    @property
    def key_hash(self) -> str:
        return key_hash(self.key)

    @property
    def subject(self) -> str:
        """What the aggregate is about: the credential when the log named one, else the identity."""
        return self.credential or self.identity

    def to_dict(self) -> dict[str, Any]:
        return {
            "identity": self.identity, "credential": self.credential, "principal": self.principal,
            "action": self.action, "resource": self.resource, "outcome": self.outcome, "source": self.source,
            "first_seen": _iso(self.first_seen), "last_seen": _iso(self.last_seen), "count": self.count,
            "provider": self.provider, "account": self.account, "source_ips": list(self.source_ips),
            "user_agents": list(self.user_agents), "error_codes": list(self.error_codes),
            "truncated": self.truncated,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "ActivityAggregate":
        return cls(identity=d["identity"], credential=d.get("credential"), action=d["action"],
                   resource=d.get("resource") or "", outcome=d.get("outcome") or "success",
                   source=d.get("source") or "cloudtrail", first_seen=parse_time(d["first_seen"]),
                   last_seen=parse_time(d["last_seen"]), count=int(d.get("count") or 0),
                   provider=d.get("provider") or "aws", account=d.get("account"), principal=d.get("principal"),
                   source_ips=tuple(d.get("source_ips") or ()), user_agents=tuple(d.get("user_agents") or ()),
                   error_codes=tuple(d.get("error_codes") or ()), truncated=bool(d.get("truncated")))


def key_hash(key: Key) -> str:
    """The stored primary key of an aggregate: a digest of its key, one fixed-size column
    however long the ARNs in it are."""
    return hashlib.sha256("\x1f".join(key).encode()).hexdigest()[:32]


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")


def parse_time(value: str | dt.datetime) -> dt.datetime:
    """An ISO 8601 time (``Z`` or an offset; date-only means midnight) as aware UTC."""
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    text = value.strip().replace("Z", "+00:00")
    parsed = dt.datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def _bounded_add(values: list[str], value: str | None) -> bool:
    """Add ``value`` unless present; False when the list is full and it had to be dropped."""
    if not value:
        return True
    value = value[:MAX_TEXT]
    if value in values:
        return True
    if len(values) >= MAX_VALUES:
        return False
    values.append(value)
    return True


class _Acc:
    """The mutable accumulator behind one aggregate while events are folded in."""

    __slots__ = ("first", "last", "count", "ips", "uas", "codes", "truncated", "provider", "account", "principal")

    def __init__(self, time: str, provider: str, account: str | None, principal: str | None) -> None:
        self.first = self.last = time
        self.count = 0
        self.ips: list[str] = []
        self.uas: list[str] = []
        self.codes: list[str] = []
        self.truncated = False
        self.provider, self.account, self.principal = provider, account, principal


class Aggregator:
    """Folds events into aggregates in memory bounded by ``max_keys`` aggregates of bounded
    size. ``full`` says when the owner should :meth:`drain` (and store) what it holds;
    aggregates drained in parts merge back into the same totals (:func:`merge`)."""

    def __init__(self, max_keys: int = DEFAULT_MAX_KEYS) -> None:
        self.max_keys = max_keys
        self._accs: dict[Key, _Acc] = {}
        self.events = 0

    def __len__(self) -> int:
        return len(self._accs)

    @property
    def full(self) -> bool:
        return len(self._accs) >= self.max_keys

    def add(self, ev: ActivityEvent) -> None:
        self.add_parts(ev.identity, ev.credential or "", ev.action, ev.resource, ev.outcome, ev.source, ev.time,
                       ev.source_ip, ev.user_agent, ev.error_code, ev.provider, ev.account, ev.principal)

    def add_parts(self, identity: str, credential: str, action: str, resource: str, outcome: str, source: str,
                  time: str, source_ip: str | None = None, user_agent: str | None = None,
                  error_code: str | None = None, provider: str = "aws", account: str | None = None,
                  principal: str | None = None) -> None:
        """:meth:`add` without the event: what a parser folding millions of records calls
        (``credential`` ``""`` for none)."""
        key = (identity, credential, action, resource, outcome, source)
        acc = self._accs.get(key)
        if acc is None:
            acc = self._accs[key] = _Acc(time, provider, account, principal)
        elif time < acc.first:
            acc.first = time
        elif time > acc.last:
            acc.last = time
        if source not in COUNTLESS_SOURCES:
            acc.count += 1
        self.events += 1
        # The bounded sets, inlined: this is the hot path of a five-million-event log.
        if source_ip and source_ip not in acc.ips and not _bounded_add(acc.ips, source_ip):
            acc.truncated = True
        if user_agent and user_agent not in acc.uas and not _bounded_add(acc.uas, user_agent):
            acc.truncated = True
        if error_code and error_code not in acc.codes and not _bounded_add(acc.codes, error_code):
            acc.truncated = True

    def add_all(self, events: Iterable[ActivityEvent]) -> None:
        for ev in events:
            self.add(ev)

    def drain(self) -> list[ActivityAggregate]:
        """Everything held, as aggregates, in key order; the aggregator is empty afterwards."""
        out = [_aggregate(key, acc) for key, acc in sorted(self._accs.items(), key=lambda kv: kv[0])]
        self._accs.clear()
        return out


def _aggregate(key: Key, acc: _Acc) -> ActivityAggregate:
    identity, credential, action, resource, outcome, source = key
    return ActivityAggregate(
        identity=identity, credential=credential or None, action=action, resource=resource, outcome=outcome,
        source=source, first_seen=parse_time(acc.first), last_seen=parse_time(acc.last), count=acc.count,
        provider=acc.provider, account=acc.account, principal=acc.principal, source_ips=tuple(acc.ips),
        user_agents=tuple(acc.uas), error_codes=tuple(acc.codes), truncated=acc.truncated)


def _union(a: Sequence[str], b: Sequence[str]) -> tuple[tuple[str, ...], bool]:
    out = list(a)
    dropped = False
    for value in b:
        if not _bounded_add(out, value):
            dropped = True
    return tuple(out), dropped


def merge(a: ActivityAggregate, b: ActivityAggregate) -> ActivityAggregate:
    """Two parts of the same aggregate (same key) as one: earliest first, latest last, counts
    added, addresses and user agents unioned within the bound."""
    if a.key != b.key:
        raise ValueError("merge of aggregates with different keys")
    ips, d1 = _union(a.source_ips, b.source_ips)
    uas, d2 = _union(a.user_agents, b.user_agents)
    codes, d3 = _union(a.error_codes, b.error_codes)
    return ActivityAggregate(
        identity=a.identity, credential=a.credential, action=a.action, resource=a.resource, outcome=a.outcome,
        source=a.source, first_seen=min(a.first_seen, b.first_seen), last_seen=max(a.last_seen, b.last_seen),
        count=a.count + b.count, provider=a.provider, account=a.account or b.account,
        principal=a.principal or b.principal, source_ips=ips, user_agents=uas, error_codes=codes,
        truncated=a.truncated or b.truncated or d1 or d2 or d3)


def merge_all(parts: Iterable[ActivityAggregate]) -> list[ActivityAggregate]:
    """Parts of aggregates (from several workers or drains) merged per key, in key order."""
    out: dict[Key, ActivityAggregate] = {}
    for part in parts:
        have = out.get(part.key)
        out[part.key] = part if have is None else merge(have, part)
    return [out[k] for k in sorted(out)]


# -- the query ---------------------------------------------------------------------------------
class ActivitySource(Protocol):
    """What ``aggregates_for`` reads: a store (with a snapshot id) or anything holding a
    snapshot's aggregates (a SnapshotView-like object with ``store`` and ``snapshot_id``)."""


def aggregates_for(source: Any, subject_ids: Iterable[str] | None, since: dt.datetime | None = None, *,
                   snapshot_id: int | None = None, outcome: str | None = None,
                   resource_prefix: str | None = None) -> list[ActivityAggregate]:
    """The stored aggregates of a snapshot whose identity or credential is one of
    ``subject_ids`` (``None``: every subject), last seen at or after ``since``.

    ``source`` is an :class:`agentreach.store.Store` (``snapshot_id`` then names the
    snapshot; default its latest complete one) or a
    :class:`agentreach.view.SnapshotView` (its own store and snapshot). ``outcome``
    (success, denied, error) and ``resource_prefix`` narrow the answer. The result is in a
    stable order: subject, action, resource, outcome, source. This is the function drift
    rules use to compare what was used with what was granted or approved."""
    store = getattr(source, "store", None) or source
    sid = snapshot_id if snapshot_id is not None else getattr(source, "snapshot_id", None)
    if sid is None:
        info = store.latest_snapshot()
        if info is None:
            return []
        sid = info.id
    return store.activity(sid, subjects=None if subject_ids is None else list(subject_ids), since=since,
                          outcome=outcome, resource_prefix=resource_prefix)


def action_matches(action: str, patterns: Iterable[str]) -> bool:
    """Whether ``action`` (``s3:GetObject``) is one of ``patterns`` (IAM-style, ``*`` and
    ``?`` wildcards, case-insensitive as IAM compares actions)."""
    low = action.lower()
    return any(fnmatch.fnmatchcase(low, p.lower()) for p in patterns)


def resource_matches(resource: str, native_id: str | None) -> bool:
    """Whether an aggregate's resource is the system ``native_id`` (an ARN) or inside it
    (an object of a bucket, a secret whose ARN ends in AWS's random suffix)."""
    if not native_id or not resource:
        return False
    return resource == native_id or resource.startswith(native_id + "/") or resource.startswith(native_id + "-")


@dataclass(frozen=True)
class Exercised:
    """Evidence that a reach path was used in the window: the matching aggregates' total
    count, latest time, the actions seen and by whom."""

    count: int
    last_seen: dt.datetime
    first_seen: dt.datetime
    actions: tuple[str, ...]
    by: tuple[str, ...]
    sources: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {"count": self.count, "first_seen": _iso(self.first_seen), "last_seen": _iso(self.last_seen),
                "actions": list(self.actions), "by": list(self.by), "sources": list(self.sources)}


def exercised(aggregates: Iterable[ActivityAggregate], *, actors: Iterable[str], resource: str | None,
              granted: Iterable[str] | None) -> Exercised | None:
    """Whether ``actors`` (identity or credential ids) successfully used one of the
    ``granted`` actions (``None``: any) on the system whose native id is ``resource``; the
    evidence, or None."""
    who = set(actors)
    patterns = list(granted) if granted is not None else None
    hits = [a for a in aggregates
            if a.outcome == "success" and (a.identity in who or (a.credential or "") in who)
            and resource_matches(a.resource, resource)
            and (patterns is None or action_matches(a.action, patterns))]
    if not hits:
        return None
    return Exercised(count=sum(a.count for a in hits), last_seen=max(a.last_seen for a in hits),
                     first_seen=min(a.first_seen for a in hits),
                     actions=tuple(sorted({a.action for a in hits})),
                     by=tuple(sorted({a.subject for a in hits})), sources=tuple(sorted({a.source for a in hits})))


def user_agents_by_subject(aggregates: Iterable[ActivityAggregate], limit: int = MAX_VALUES * 2
                           ) -> dict[str, list[str]]:
    """Identity and credential id -> the distinct user agents their calls carried (at most
    ``limit`` each, in first-seen order): what ``attrs.user_agents`` holds for the classifier."""
    out: dict[str, list[str]] = {}
    for agg in aggregates:
        for subject in {agg.identity, agg.credential} - {None}:
            have = out.setdefault(subject, [])  # type: ignore[arg-type]
            for ua in agg.user_agents:
                if ua not in have and len(have) < limit:
                    have.append(ua)
    return {k: v for k, v in out.items() if v}


def window_start(now: dt.datetime, since: str | int | dt.timedelta | None, default_days: int = 90) -> dt.datetime:
    """The start of a ``--since`` window: ``90d``, ``12h``, ``2w``, a number of days, an ISO
    date or time, or the default. Raises ValueError naming what it could not read."""
    if since is None or since == "":
        return now - dt.timedelta(days=default_days)
    if isinstance(since, dt.timedelta):
        return now - since
    if isinstance(since, int):
        return now - dt.timedelta(days=since)
    text = str(since).strip()
    units = {"d": "days", "h": "hours", "w": "weeks", "m": "minutes"}
    if text[:-1].isdigit() and text[-1:] in units:
        return now - dt.timedelta(**{units[text[-1]]: int(text[:-1])})
    if text.isdigit():
        return now - dt.timedelta(days=int(text))
    try:
        return parse_time(text)
    except ValueError:
        raise ValueError(f"--since {text!r}: expected a duration such as 90d, 12h, 2w or an ISO date") from None


def checked_since(value: Any) -> str:
    """A config's ``activity_since`` as text, once it reads as a window (ValueError if not):
    each connector's config checks it the same way when it is loaded, not mid-scan."""
    text = str(value)
    window_start(dt.datetime.now(dt.timezone.utc), text)
    return text


def iter_chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def path_evidence(path: Sequence[Mapping[str, Any]], start_id: str, start_kind: str | None, system_native: str | None,
                  granted: Iterable[str] | None, aggregates: Sequence[ActivityAggregate]) -> Exercised | None:
    """Whether a reach path (hops as ``reach`` / ``who-can-reach`` print them) was used in
    the window: its last grant's holder (the hop's ``from``) successfully did one of the
    granted actions on the system. When the path is a credential straight to its identity's
    grant, only calls that named that credential count (a user's other key is not this one)."""
    if not path or path[-1].get("edge") not in ("can_access", "can_escalate"):
        return None
    holder = path[-1]["from"]
    if start_kind == "credential" and len(path) == 2 and path[0].get("edge") == "authenticates":
        scoped = [a for a in aggregates if a.credential == start_id]
        return exercised(scoped, actors=[start_id], resource=system_native, granted=granted)
    return exercised(aggregates, actors=[holder], resource=system_native, granted=granted)
