"""Sharded runs: many workers scan one estate into ONE snapshot, and the steps after
collection run once over all of it.

A run is a name and a ``running`` snapshot. It is opened by ``agentreach run start NAME
--shard ...`` (which announces its shards) or by the first worker given ``--expect N``. Each
worker runs one shard (``accounts=A,B``, ``subscriptions=…``, ``projects=…``, ``paths=…``):
only the connector whose plugin declares that dimension, limited to those values, writing its
records into the run's snapshot and its own status and gaps into ``run_shards``. When the
last expected shard reports, the worker that sees it finalizes the run (a conditional UPDATE
lets exactly one do it): reach, verdicts, owners, lifecycle and findings are computed once
over every shard's records, each shard's gaps are stored with the snapshot, a shard that
failed becomes a ``ShardFailed`` gap naming it and a shard that never reported a
``ShardMissing`` gap, and the snapshot completes. ``agentreach finalize NAME`` does the same
on demand (a worker died; a CronJob's deadline passed): missing is a gap, never an omission.

PostgreSQL takes many writers at once. SQLite takes one writer at a time, so shards there
must run one after another (the same commands work; a second concurrent writer waits on the
file lock and may time out).
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from . import exitcodes
from .app import AppError, plan_scan
from .config import digest, merge
from .connector import ProgressReporter, ScanCancelled, ScanContext, load_connector
from .model import CoverageGap
from .plugins import Plugin, ShardDimension
from .registry import registry
from .scan import ConnectorRun, ScanResult, collect, complete, scheme_options
from .store import RunInfo, ShardInfo, Store

DONE = ("complete", "failed")


@dataclass(frozen=True)
class Shard:
    """One shard: a dimension declared by a plugin and its values. ``key`` is how the run
    knows it (``accounts=111122223333,444455556666``: values sorted, duplicates dropped)."""

    dimension: str
    values: tuple[str, ...]
    plugin: Plugin
    spec: ShardDimension

    @property
    def connector(self) -> str:
        return self.plugin.name

    @property
    def key(self) -> str:
        return f"{self.dimension}={','.join(self.values)}"

    def overrides(self) -> dict[str, Any]:
        """The config this shard's worker runs with: its connector only, limited to its values."""
        section = {**dict(self.spec.also), self.spec.key: list(self.values)}
        return {"scan": {"connectors": [self.connector]}, "connectors": {self.connector: section}}


def dimensions() -> dict[str, tuple[Plugin, ShardDimension]]:
    """Every shard dimension the installed plugins declare (the first plugin wins a name)."""
    out: dict[str, tuple[Plugin, ShardDimension]] = {}
    for plugin in registry().plugins:
        for name, spec in plugin.shards.items():
            out.setdefault(name, (plugin, spec))
    return out


def parse_shard(text: str) -> Shard:
    """``DIMENSION=V1,V2`` to a :class:`Shard`, or a one-line error naming what is wrong."""
    known = dimensions()
    name, sep, raw = text.partition("=")
    name = name.strip()
    values = tuple(sorted({v.strip() for v in raw.split(",") if v.strip()}))
    if not sep or not values:
        raise AppError(f"--shard {text!r}: expected DIMENSION=VALUE[,VALUE...] "
                       f"(dimensions: {', '.join(sorted(known)) or 'none'})")
    if name not in known:
        raise AppError(f"--shard {text!r}: unknown dimension {name!r} (dimensions: {', '.join(sorted(known))})")
    plugin, spec = known[name]
    return Shard(name, values, plugin, spec)


def shard_config_overrides(shard: Shard, given: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Config overrides for a shard's worker: ``given`` (other scan flags) under the shard's own."""
    return merge(dict(given or {}), shard.overrides())


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


# -- opening a run -----------------------------------------------------------------------------

def start(store: Store, name: str, shards: Sequence[Shard], config: Mapping[str, Any], *,
          expect: int | None = None) -> RunInfo:
    """Open run ``name`` and announce its shards (``run start``). The run waits for the
    announced shards, or for ``expect`` if that is more (workers name themselves then)."""
    _check_name(name)
    keys = [s.key for s in shards]
    if len(set(keys)) != len(keys):
        raise AppError(f"run {name}: a shard is announced twice ({', '.join(sorted(keys))})")
    expected = max(len(shards), expect or 0)
    if expected < 1:
        raise AppError(f"run {name}: announce its shards (--shard DIMENSION=VALUES, repeatable) or --expect N")
    info, made = store.open_run(
        name, expected=expected, config_digest=digest(config), connectors=_versions({s.connector for s in shards}),
        options={"run": name, "shards": keys, "expected": expected, **scheme_options(store, config)},
        announce=[(s.key, s.connector) for s in shards])
    if not made:
        raise AppError(f"run {name} already exists (snapshot {info.snapshot_id}, {info.status}): "
                       "give each run its own name", exitcodes.USAGE)
    return info


def _check_name(name: str) -> None:
    if not name or not name.strip() or len(name) > 200 or any(c in name for c in "\n\r\t"):
        raise AppError(f"run name {name!r}: a non-empty name of at most 200 characters on one line")


def _versions(connectors: set[str]) -> dict[str, str]:
    out = {}
    for name in sorted(connectors):
        try:
            out[name] = load_connector(name).version
        except Exception:  # noqa: BLE001  (the plan that runs it says why, in one line)
            out[name] = "?"
    return out


def _join(store: Store, name: str, shard: Shard, config: Mapping[str, Any], expect: int | None) -> RunInfo:
    """The run this worker's shard belongs to, opened by it when ``expect`` is given and the
    run does not exist yet; refused when the shard has no place in the run."""
    _check_name(name)
    info = store.run(name)
    if info is None:
        if expect is None:
            raise AppError(f"no run {name!r}: open it with 'agentreach run start {name} --shard ...' "
                           "or give every worker --expect N", exitcodes.NOT_FOUND)
        info, _made = store.open_run(
            name, expected=expect, config_digest=digest(config), connectors=_versions({shard.connector}),
            options={"run": name, "expected": expect, **scheme_options(store, config)})
    if info.status != "running":
        raise AppError(f"run {name} is {info.status} (snapshot {info.snapshot_id}): start a new run for a new scan")
    if expect is not None and expect != info.expected:
        raise AppError(f"run {name} waits for {info.expected} shards; this worker was given --expect {expect}")
    shards = {s.shard: s for s in store.run_shards(name)}
    mine = shards.get(shard.key)
    if mine is None:
        announced = sorted(s.shard for s in shards.values() if s.status == "announced")
        if len(shards) >= info.expected:
            listing = f" (announced: {', '.join(announced)})" if announced else ""
            raise AppError(f"shard {shard.key} is not one of the {info.expected} shards of run {name}{listing}")
    elif mine.status == "complete":
        raise AppError(f"shard {shard.key} of run {name} already reported complete (worker {mine.worker}); "
                       "a run is one snapshot: scan again under a new run name")
    return info


# -- one worker's shard ------------------------------------------------------------------------

@dataclass
class ShardOutcome:
    """What a worker did: its shard as stored, the run after it, and the run's scan result
    when this worker was the one that finalized it."""

    run: RunInfo
    shard: ShardInfo
    shards: list[ShardInfo]
    finalized: ScanResult | None = None
    waiting_for: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if self.finalized is not None:
            return self.finalized.exit_code
        if self.shard.status == "failed":
            return exitcodes.FAILED
        return exitcodes.GAPS if self.shard.gaps else exitcodes.OK

    def to_dict(self) -> dict[str, Any]:
        return {"run": self.run.to_dict(), "shard": self.shard.to_dict(),
                "shards": [s.to_dict() for s in self.shards], "waiting_for": list(self.waiting_for),
                "finalized": self.finalized.summary() if self.finalized is not None else None,
                "exit_code": self.exit_code}


def run_shard(store: Store, config: Mapping[str, Any], name: str, shard: Shard, *, expect: int | None = None,
              progress: ProgressReporter | None = None, worker: str | None = None) -> ShardOutcome:
    """Scan one shard into run ``name`` (``config`` already carries the shard's overrides),
    record what it saw and missed, and finalize the run when it was the last shard."""
    plan = plan_scan(config, [shard.connector])
    info = _join(store, name, shard, config, expect)
    worker = worker or worker_name()
    connector = plan.connectors[0]
    started = dt.datetime.now(dt.timezone.utc)
    store.put_shard(name, shard.key, connector=shard.connector, connector_version=connector.version,
                    status="running", worker=worker, started_at=started)
    ctx = ScanContext(progress=progress) if progress is not None else ScanContext()
    try:
        runs = collect(store, info.snapshot_id, config, plan.connectors, ctx)
    except (KeyboardInterrupt, ScanCancelled):
        _report(store, name, shard, connector.version, worker, started, [], ctx, "cancelled")
        raise AppError(f"shard {shard.key} of run {name} cancelled; it stays a gap until it runs again",
                       exitcodes.FAILED) from None
    except Exception as exc:
        _report(store, name, shard, connector.version, worker, started, [], ctx, f"{type(exc).__name__}: {exc}")
        raise
    error = "; ".join(f"{r.name}: {r.error}" for r in runs if r.error) or None
    _report(store, name, shard, connector.version, worker, started, runs, ctx,
            error if all(r.failed for r in runs) else None, note=error)
    shards = store.run_shards(name)
    mine = next(s for s in shards if s.shard == shard.key)
    waiting = outstanding(store.run(name) or info, shards)
    finalized = None
    if not waiting:
        finalized = finalize(store, config, name, worker=worker, auto=True)
    return ShardOutcome(store.run(name) or info, mine, store.run_shards(name), finalized, waiting)


def _report(store: Store, name: str, shard: Shard, version: str, worker: str, started: dt.datetime,
            runs: Sequence[ConnectorRun], ctx: ScanContext, failed: str | None, note: str | None = None) -> None:
    store.put_shard(name, shard.key, connector=shard.connector, connector_version=version,
                    status="failed" if failed else "complete", worker=worker, started_at=started,
                    finished_at=dt.datetime.now(dt.timezone.utc), nodes=sum(r.nodes for r in runs),
                    edges=sum(r.edges for r in runs), gaps=[g.to_dict() for g in ctx.gaps.gaps],
                    api_calls={k: v for r in runs for k, v in r.api_calls.items()}, error=failed or note)


def outstanding(info: RunInfo, shards: Sequence[ShardInfo]) -> list[str]:
    """What the run still waits for: shards announced or running, and unnamed ones when
    fewer than ``expected`` have shown up."""
    waiting = [s.shard for s in shards if s.status not in DONE]
    missing = info.expected - len(shards)
    if missing > 0:
        waiting.append(f"{missing} more shard{'s' if missing > 1 else ''} not started yet")
    return waiting


# -- finalizing --------------------------------------------------------------------------------

def finalize(store: Store, config: Mapping[str, Any], name: str, *, worker: str | None = None,
             take_over: bool = False, auto: bool = False) -> ScanResult | None:
    """Run the steps after collection once over the run's snapshot and complete it; shards
    that failed or never reported become gaps naming them. Exactly one caller finalizes a run:
    another that asks at the same time gets None (``auto``, the last shards racing) or a
    one-line error. ``take_over`` finalizes a run whose finalizer died half-way."""
    worker = worker or worker_name()
    info = store.run(name)
    if info is None:
        raise AppError(f"no run {name!r} (see 'agentreach run list')", exitcodes.NOT_FOUND)
    snapshot = store.snapshot(info.snapshot_id)
    if snapshot is not None and snapshot.status != "running" and info.status in ("running", "finalizing"):
        raise AppError(f"run {name}: its snapshot {info.snapshot_id} is {snapshot.status} (a run must be finalized "
                       "within a day of starting); start a new run")
    if not store.claim_run(name, worker, take_over=take_over):
        if auto:
            return None
        current = store.run(name) or info
        if current.status == "finalizing":
            raise AppError(f"run {name} is being finalized by {current.finalized_by}; if that worker died, "
                           "finalize it with --take-over")
        raise AppError(f"run {name} is already {current.status} (snapshot {current.snapshot_id})")
    shards = store.run_shards(name)
    ctx = ScanContext()
    for gap in shard_gaps(info, shards):
        ctx.gaps.record(gap)
    done = [s for s in shards if s.status == "complete"]
    failed = [s for s in shards if s.status != "complete"]
    error = "; ".join(f"{s.shard}: {s.error or s.status}" for s in failed) or None
    # The rules skip what needs a connector that did not run: they must see every shard's.
    store.set_snapshot_connectors(info.snapshot_id, {s.connector: s.connector_version or "?" for s in done})
    result = complete(store, info.snapshot_id, config, ctx, saw_nothing=not done, error=error)
    store.close_run(name, status=result.status)
    runs = [ConnectorRun(f"{s.connector} {s.shard}", s.connector_version or "?", s.nodes, s.edges,
                         None if s.status == "complete" else (s.error or s.status), dict(s.api_calls)) for s in shards]
    return ScanResult(result, runs, ctx.gaps.gaps)


def shard_gaps(info: RunInfo, shards: Sequence[ShardInfo]) -> list[CoverageGap]:
    """Every shard's own gaps, and one gap per shard that failed or never reported."""
    known = dimensions()
    gaps: list[CoverageGap] = []
    for s in shards:
        gaps += [CoverageGap(**g) for g in s.gaps]
        dimension, _, values = s.shard.partition("=")
        spec = known.get(dimension, (None, None))[1]
        account = values if spec is not None and spec.accounts and "," not in values else None
        if s.status == "failed":
            gaps.append(CoverageGap(connector=s.connector, operation="shard", error_code="ShardFailed",
                                    account=account, message=f"shard {s.shard} of run {info.name} failed on "
                                                             f"{s.worker}: {s.error or 'no reason given'}"[:500]))
        elif s.status == "running":
            gaps.append(CoverageGap(connector=s.connector, operation="shard", error_code="ShardMissing",
                                    account=account, message=f"shard {s.shard} of run {info.name} started on "
                                                             f"{s.worker} and never reported"[:500]))
        elif s.status == "announced":
            gaps.append(CoverageGap(connector=s.connector, operation="shard", error_code="ShardMissing",
                                    account=account, message=f"shard {s.shard} of run {info.name} was announced "
                                                             "and never ran"[:500]))
    unseen = info.expected - len(shards)
    if unseen > 0:
        gaps.append(CoverageGap(connector="run", operation="shard", error_code="ShardMissing",
                                message=f"run {info.name} expected {info.expected} shards and {len(shards)} "
                                        f"reported: {unseen} never started, so what they cover is not known"))
    return gaps
