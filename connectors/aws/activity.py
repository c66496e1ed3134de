"""Activity collection for one account (the AWS connector's ``activity`` option): what its
principals and access keys were seen doing since the window start. Read-only.

Three sources, in this order:

1. **CloudTrail log files** in each trail's S3 bucket (``cloudtrail:DescribeTrails`` finds
   the trails, shadow and organization trails included). Keys are listed per account and
   region prefix starting after the window's first day (``StartAfter``), so older days are
   never listed; the listing is consumed page by page and each file is fetched, parsed and
   folded into the aggregator before the next one is fetched. Nothing but one file is ever
   held whole. A bucket read once in a scan is not read again for another account.
2. **LookupEvents** (management events, the last 90 days) per region, for an account none
   of whose trails' buckets could be read.
3. **IAM last-accessed data** (``GenerateServiceLastAccessedDetails`` at ``ACTION_LEVEL``,
   then ``GetServiceLastAccessedDetails``) for each user and role, every job started before
   any is polled (AWS runs them side by side): the last time each
   service (and, for the services IAM tracks actions of, each action) was used. It gives no
   count and no resource: its aggregates have ``count`` 0 and resource ``""``.

A denied or failing call is a coverage gap (through :class:`AwsCalls`), never the end of
the account's scan; a file that is not a CloudTrail log is a gap naming its key.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from agentreach.activity import ActivityAggregate, ActivityEvent, Aggregator, iter_chunks

from . import cloudtrail
from .calls import AwsCalls

SOURCES = ("cloudtrail", "lookup_events", "last_accessed")
LOOKUP_BATCH = 50  # records folded at a time from LookupEvents (a page holds at most 50)
JOB_POLL_S = 1.0  # between GetServiceLastAccessedDetails polls while the job is IN_PROGRESS


@dataclass
class ActivityOptions:
    since: dt.datetime
    now: dt.datetime
    sources: tuple[str, ...] = SOURCES
    max_keys: int = 200_000
    job_timeout: float = 60.0
    regions: tuple[str, ...] = ()


@dataclass
class SharedState:
    """What every account's collection shares in one scan: the (bucket, prefix, account)
    log folders already read, so an organization trail is read once, and counts for the
    scan summary."""

    read: set[tuple[str, str, str]] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    files: int = 0
    events: int = 0

    def claim(self, folder: tuple[str, str, str]) -> bool:
        with self.lock:
            if folder in self.read:
                return False
            self.read.add(folder)
            return True


def _day(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).strftime("%Y/%m/%d")


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def collect(calls: AwsCalls, account: str, opts: ActivityOptions, shared: SharedState,
            principals: Iterable[str] = (), sleep: Callable[[float], None] = time.sleep
            ) -> Iterator[ActivityAggregate]:
    """Every activity aggregate of ``account`` in the window, yielded in drained batches
    (the aggregator never holds more than ``opts.max_keys``). ``principals``: the ARNs of
    the account's users and roles, for last-accessed data."""
    agg = Aggregator(opts.max_keys)
    readable = False
    if "cloudtrail" in opts.sources:
        for part in _from_trails(calls, account, opts, shared, agg):
            if part is True:
                readable = True
            elif part:
                yield from part
    if not readable and "lookup_events" in opts.sources:
        for region in opts.regions or (calls.cfg.default_region,):
            yield from _from_lookup(calls, region, opts, agg, shared)
    if "last_accessed" in opts.sources:
        # Every job is started first and polled after: AWS runs them side by side, so the wait
        # is the slowest job's, not the sum of all of them.
        jobs = [(arn, job) for arn in principals if (job := _start_job(calls, arn)) is not None]
        for arn, job in jobs:
            _from_last_accessed(calls, arn, job, opts, agg, sleep)
            if agg.full:
                yield from agg.drain()
    yield from agg.drain()


def _from_trails(calls: AwsCalls, account: str, opts: ActivityOptions, shared: SharedState,
                 agg: Aggregator) -> Iterator[Any]:
    """Yields True once a trail bucket of the account could be listed, and lists of
    aggregates whenever the aggregator filled up."""
    resp = calls.call("cloudtrail", "DescribeTrails", includeShadowTrails=True)
    if resp is None:
        return
    seen: set[tuple[str, str]] = set()
    for trail in calls.keep(resp.get("trailList") or [], ("S3BucketName",), "cloudtrail", "DescribeTrails"):
        prefix = trail.get("S3KeyPrefix") or ""
        folder = (trail["S3BucketName"], prefix + "/" if prefix and not prefix.endswith("/") else prefix)
        if folder in seen:
            continue
        seen.add(folder)
        for part in _read_bucket(calls, folder[0], folder[1], account, opts, shared, agg):
            yield part


def _account_prefixes(calls: AwsCalls, bucket: str, prefix: str, account: str) -> list[str] | None:
    """The ``AWSLogs/[o-org/]ACCOUNT/CloudTrail/`` folders of ``account`` in the bucket
    (an organization trail puts each member under the organization id), or None when the
    bucket cannot be listed."""
    top = calls.call("s3", "ListObjectsV2", Bucket=bucket, Prefix=f"{prefix}AWSLogs/", Delimiter="/")
    if top is None:
        return None
    out = []
    for p in top.get("CommonPrefixes") or []:
        name = p.get("Prefix", "").removeprefix(f"{prefix}AWSLogs/").rstrip("/")
        if name == account:
            out.append(f"{prefix}AWSLogs/{account}/CloudTrail/")
        elif name.startswith("o-"):
            out.append(f"{prefix}AWSLogs/{name}/{account}/CloudTrail/")
    return out


def _read_bucket(calls: AwsCalls, bucket: str, prefix: str, account: str, opts: ActivityOptions,
                 shared: SharedState, agg: Aggregator) -> Iterator[Any]:
    folders = _account_prefixes(calls, bucket, prefix, account)
    if folders is None:
        return
    yield True
    since_day, since_iso = _day(opts.since), _iso(opts.since)
    for folder in folders:
        if not shared.claim((bucket, folder, account)):
            continue
        regions = [p.get("Prefix", "") for p in calls.paginate(
            "s3", "ListObjectsV2", "CommonPrefixes", Bucket=bucket, Prefix=folder, Delimiter="/")]
        for region_prefix in regions:
            if opts.regions and region_prefix.rstrip("/").rsplit("/", 1)[-1] not in opts.regions:
                continue
            # Keys sort by day under the region: start after the day before the window.
            start_after = f"{region_prefix}{since_day}/"
            for obj in calls.paginate("s3", "ListObjectsV2", "Contents", Bucket=bucket, Prefix=region_prefix,
                                      StartAfter=start_after[:-1]):
                key = obj.get("Key") or ""
                date = cloudtrail.key_date(key)
                if date is None or date < since_day:
                    continue
                _read_file(calls, bucket, key, since_iso, agg, shared)
                if agg.full:
                    yield agg.drain()


def _read_file(calls: AwsCalls, bucket: str, key: str, since_iso: str, agg: Aggregator,
               shared: SharedState) -> None:
    resp = calls.call("s3", "GetObject", Bucket=bucket, Key=key)
    if resp is None:
        return
    try:
        data = resp["Body"].read()
    except Exception as exc:  # noqa: BLE001 - a body cut on the way is a gap for this file
        calls.gap("GetObject", type(exc).__name__, f"s3://{bucket}/{key}: {exc}"[:500], account=calls.account,
                  service="s3")
        return
    try:
        records = cloudtrail.records_of(data)
    except cloudtrail.LogFileError as exc:
        calls.gap("GetObject", "LogFileMalformed", f"s3://{bucket}/{key}: {exc}"[:500], account=calls.account,
                  service="s3")
        return
    folded = cloudtrail.fold(records, agg, since_iso)
    with shared.lock:
        shared.files += 1
        shared.events += folded


def _from_lookup(calls: AwsCalls, region: str, opts: ActivityOptions, agg: Aggregator,
                 shared: SharedState) -> Iterator[ActivityAggregate]:
    """Management events of one region through LookupEvents (it keeps 90 days)."""
    start = max(opts.since, opts.now - dt.timedelta(days=90))
    events = calls.paginate("cloudtrail", "LookupEvents", "Events", region=region, StartTime=start,
                            EndTime=opts.now)
    folded = 0
    for batch in iter_chunks(cloudtrail.lookup_records(events), LOOKUP_BATCH):
        folded += cloudtrail.fold(batch, agg, _iso(start), source="lookup_events")
        if agg.full:
            yield from agg.drain()
    with shared.lock:
        shared.events += folded


def _start_job(calls: AwsCalls, arn: str) -> str | None:
    """Start one principal's last-accessed report at action level; its job id, or None."""
    if _identity_of(arn) is None:
        return None
    job = calls.call("iam", "GenerateServiceLastAccessedDetails", Arn=arn, Granularity="ACTION_LEVEL",
                     need=("JobId",))
    return str(job["JobId"]) if job is not None else None


def _from_last_accessed(calls: AwsCalls, arn: str, job_id: str, opts: ActivityOptions, agg: Aggregator,
                        sleep: Callable[[float], None]) -> None:
    """One principal's last-accessed data at action level, folded in as count-0 events."""
    deadline = time.monotonic() + opts.job_timeout
    marker: str | None = None
    identity = _identity_of(arn)
    assert identity is not None  # _start_job started no job for anything else
    while True:
        params: dict[str, Any] = {"JobId": job_id}
        if marker:
            params["Marker"] = marker
        page = calls.call("iam", "GetServiceLastAccessedDetails", need=("JobStatus",), **params)
        if page is None:
            return
        status = page["JobStatus"]
        if status == "IN_PROGRESS":
            if time.monotonic() > deadline:
                calls.gap("GetServiceLastAccessedDetails", "Timeout",
                          f"last-accessed job for {arn} still in progress after {opts.job_timeout:.0f}s",
                          account=calls.account, service="iam")
                return
            sleep(JOB_POLL_S)
            continue
        if status == "FAILED":
            err = page.get("Error") or {}
            calls.gap("GetServiceLastAccessedDetails", str(err.get("Code") or "FAILED"),
                      f"last-accessed job for {arn}: {err.get('Message') or 'failed'}", account=calls.account,
                      service="iam")
            return
        for event in last_accessed_events(page.get("ServicesLastAccessed") or [], identity, arn, opts.since,
                                          calls.account):
            agg.add(event)
        if not page.get("IsTruncated") or not page.get("Marker"):
            return
        marker = page["Marker"]


def _identity_of(arn: str) -> str | None:
    if ":role/" in arn:
        return f"aws:iam_role:{arn}"
    if ":user/" in arn:
        return f"aws:iam_user:{arn}"
    return None


def last_accessed_events(services: Iterable[dict[str, Any]], identity: str, arn: str, since: dt.datetime,
                         account: str | None) -> Iterator[ActivityEvent]:
    """Pure: ``ServicesLastAccessed`` entries as events, one per tracked action used in the
    window (``ns:Action``), else one per service used (``ns:*``)."""
    for svc in services:
        ns = svc.get("ServiceNamespace")
        if not ns:
            continue
        actions = [a for a in svc.get("TrackedActionsLastAccessed") or [] if a.get("LastAccessedTime")]
        if actions:
            for a in actions:
                when = _as_time(a["LastAccessedTime"])
                if when and when >= since and a.get("ActionName"):
                    yield ActivityEvent(identity=identity, principal=arn, action=f"{ns}:{a['ActionName']}",
                                        resource="", time=_iso(when), source="last_accessed", account=account)
        elif svc.get("LastAuthenticated"):
            when = _as_time(svc["LastAuthenticated"])
            if when and when >= since:
                yield ActivityEvent(identity=identity, principal=arn, action=f"{ns}:*", resource="",
                                    time=_iso(when), source="last_accessed", account=account)


def _as_time(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    if isinstance(value, str):
        try:
            from agentreach.activity import parse_time

            return parse_time(value)
        except ValueError:
            return None
    return None
