"""Running a scan: connectors in, one snapshot out.

Everything that can be checked before touching a source (connector installed, config
valid) is checked first, so a typo fails in a second with a one-line error instead of
after an hour of API calls. Then each connector streams records into a ``running``
snapshot in batches; the snapshot becomes the latest only when every connector is done.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from . import exitcodes
from .activity import ACTIVITY_OPTION, ActivityAggregate
from .classify import classify_snapshot, signals_for
from .config import ConfigError, digest
from .connector import (
    Connector,
    ConnectorConfigError,
    ConnectorUnavailable,
    ScanCancelled,
    ScanContext,
    load_connector,
)
from .fingerprints import IdScheme
from .model import CoverageGap, Credential, Edge, Node, node_id
from .registry import registry
from .scrub import scrub
from .store import SnapshotInfo, Store
from .view import SnapshotView

DEFAULT_BATCH = 1000  # records per store transaction; scan.batch_size overrides


@dataclass
class ConnectorRun:
    name: str
    version: str
    nodes: int = 0
    edges: int = 0
    error: str | None = None
    api_calls: dict[str, int] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)  # the connector's own (files scanned, skipped …)
    summary_line: str = ""
    activity: int = 0  # activity aggregates (agentreach.activity) the connector reported
    # Records read from the source: every record but the scope nodes a connector emits for
    # the accounts it was asked to look into (those say where it looked, not what it saw).
    collected: int = 0

    @property
    def failed(self) -> bool:
        return self.error is not None


@dataclass
class ScanResult:
    """What a scan did. Its exit code follows one rule (README, "Exit codes"): nothing
    collected is a failure (4: every connector saw nothing and said why in a gap, e.g. its
    first call was denied or throttled past its retries; the snapshot is kept as ``failed``
    and never becomes the latest), something collected with gaps is 3, everything is 0."""

    snapshot: SnapshotInfo
    runs: list[ConnectorRun]
    gaps: list[CoverageGap]

    @property
    def exit_code(self) -> int:
        if self.snapshot.status != "complete":
            return exitcodes.FAILED
        return exitcodes.GAPS if self.gaps else exitcodes.OK

    def summary(self) -> dict[str, Any]:
        return {
            "snapshot": self.snapshot.to_dict(),
            "connectors": [{"name": r.name, "version": r.version, "nodes": r.nodes, "edges": r.edges,
                            "collected": r.collected, "activity": r.activity, "error": r.error,
                            "api_calls": r.api_calls,
                            "summary": r.summary} for r in self.runs],
            "coverage_gaps": [g.to_dict() for g in self.gaps],
            "exit_code": self.exit_code,
        }


def prepare(config: Mapping[str, Any], only: Sequence[str] | None = None) -> list[Connector]:
    """Instantiate the connectors to run; raise ConfigError naming what is wrong."""
    names = list(only) if only else list((config.get("scan") or {}).get("connectors") or [])
    if not names:
        raise ConfigError("no connectors to run: set scan.connectors in the config or pass --only")
    sections = config.get("connectors") or {}
    connectors: list[Connector] = []
    for name in names:
        section = dict(sections.get(name) or {})
        if section.get("enabled") is False and not only:
            continue
        try:
            connectors.append(load_connector(name)(section))
        except (ConnectorUnavailable, ConnectorConfigError) as exc:
            raise ConfigError(str(exc)) from None
    if not connectors:
        raise ConfigError("every configured connector is disabled")
    # A broken signal, owner directory, threshold or baseline fails now, not after the scan.
    from .findings import findings_config
    from .gate import scan_scheme
    from .lifecycle import load_lifecycle_config
    from .ownership import load_inputs, load_owner_config

    scan_scheme(config, "0" * 32)
    signals_for(config)
    load_inputs(load_owner_config(config))
    load_lifecycle_config(config)
    findings_config(config)
    return connectors


def run_scan(store: Store, config: Mapping[str, Any], connectors: Sequence[Connector],
             ctx: ScanContext | None = None, *, options: Mapping[str, Any] | None = None) -> ScanResult:
    ctx = ctx or ScanContext()
    snapshot_id = store.begin_snapshot(
        config_digest=digest(config), connectors={c.name: c.version for c in connectors},
        options={**(options or {}), **scheme_options(store, config)}, started_at=ctx.clock(),
    )
    try:
        runs = collect(store, snapshot_id, config, connectors, ctx)
    except (KeyboardInterrupt, ScanCancelled):
        store.add_gaps(snapshot_id, ctx.gaps.gaps)
        store.finish_snapshot(snapshot_id, status="aborted", error="cancelled")
        raise
    except BaseException as exc:
        store.add_gaps(snapshot_id, ctx.gaps.gaps)
        store.finish_snapshot(snapshot_id, status="failed", error=f"{type(exc).__name__}: {exc}")
        raise
    info = complete(store, snapshot_id, config, ctx, saw_nothing=all(r.failed for r in runs),
                    error="; ".join(f"{r.name}: {r.error}" for r in runs if r.error) or None)
    return ScanResult(info, runs, ctx.gaps.gaps)


def scheme_options(store: Store, config: Mapping[str, Any]) -> dict[str, Any]:
    """What a snapshot records of how it was taken: how its file secrets are named (the gate
    compares it with the baseline's; every worker of a sharded run names them alike, from the
    same config), and which connectors were asked for activity (``activity``), so the run-time
    findings know "nothing was seen" from "nobody looked"."""
    from .gate import SCHEME_OPTION, scan_scheme, scheme_record

    options: dict[str, Any] = {SCHEME_OPTION: scheme_record(scan_scheme(config, store.salt), store.salt)}
    asked = sorted(name for name, cfg in (config.get("connectors") or {}).items()
                   if isinstance(cfg, Mapping) and cfg.get("activity") is True)
    if asked:
        options[ACTIVITY_OPTION] = asked
    return options


def remembered_ids(store: Store, scheme: IdScheme) -> Callable[[str], str]:
    """``scheme.identity``, but for a value the store already named under the same scheme: a
    scheduled rescan of a repository finds mostly the secrets it found last time, and each
    costs one scrypt (~0.15 s, on purpose). The newest complete snapshot whose file secrets
    were named under ``scheme`` holds, for each, its fingerprint (the store's own keyed hash)
    beside its shared id, so a value whose fingerprint is there takes that id. The store
    learns nothing new: both names were in it already."""
    from .gate import snapshot_scheme

    known: dict[str, str] = {}
    lock, loaded = threading.Lock(), threading.Event()

    def load() -> None:  # on the first name asked for: a scan that finds no secret reads nothing
        prefix = node_id("files", "secret", "")
        for snap in reversed(store.snapshots()):
            if snap.status != "complete" or "files" not in (snap.connectors or {}):
                continue
            if snapshot_scheme(snap.options, store.salt) == scheme:
                for stored in store.nodes(snap.id, types=("file_secret",)):
                    node = stored.node
                    if isinstance(node, Credential) and node.fingerprint and node.id.startswith(prefix):
                        known[node.fingerprint] = node.id[len(prefix):]
            break  # the newest files scan only: an older one's names may be of a scheme since replaced

    def identity(value: str) -> str:
        if not loaded.is_set():
            with lock:  # the files connector names values on several threads at once
                if not loaded.is_set():
                    load()
                    loaded.set()
        return known.get(store.fingerprint(value)) or scheme.identity(value)

    return identity


def collect(store: Store, snapshot_id: int, config: Mapping[str, Any], connectors: Sequence[Connector],
            ctx: ScanContext) -> list[ConnectorRun]:
    """Stream every connector's records into a ``running`` snapshot; a connector that fails
    is a gap and an error on its run, never the end of the others. Nothing after collection
    happens here: a sharded run (:mod:`agentreach.runs`) collects many times into one
    snapshot and completes it once."""
    from .gate import scan_scheme

    ctx.fingerprint = store.fingerprint
    ctx.secret_id = remembered_ids(store, scan_scheme(config, store.salt))  # the scheme scheme_options records
    runs = [ConnectorRun(c.name, c.version) for c in connectors]
    batch = int((config.get("scan") or {}).get("batch_size") or DEFAULT_BATCH)
    for connector, run in zip(connectors, runs, strict=True):
        _run_one(store, snapshot_id, connector, run, ctx, batch)
    return runs


def complete(store: Store, snapshot_id: int, config: Mapping[str, Any], ctx: ScanContext, *,
             saw_nothing: bool, error: str | None = None) -> SnapshotInfo:
    """The steps after collection (reach, classifier, owners, lifecycle, findings) over
    everything the snapshot holds, its gaps stored, and the snapshot closed.

    A snapshot in which no source saw anything (``saw_nothing``) would make the whole
    estate look deleted; it is kept for the record but never becomes the latest."""
    if not saw_nothing:
        _after_collection(store, snapshot_id, config, ctx)
    store.add_gaps(snapshot_id, ctx.gaps.gaps)
    return store.finish_snapshot(snapshot_id, status="failed" if saw_nothing else "complete", error=error,
                                 finished_at=dt.datetime.now(dt.timezone.utc))


def _after_collection(store: Store, snapshot_id: int, config: Mapping[str, Any], ctx: ScanContext) -> None:
    """Reach, the classifier, owners and lifecycle, then the findings, kept with the
    snapshot. A failure in any step keeps the inventory and becomes a gap: what was gathered
    is never lost to a later step."""
    from .graph.snapshot import derive_reach

    try:
        from .activity_enrich import enrich_user_agents

        enrich_user_agents(store, snapshot_id)
    except Exception as exc:  # noqa: BLE001
        ctx.log.exception("user agents from activity failed")
        ctx.gaps.record(CoverageGap(connector="activity", operation="user_agents", error_code=type(exc).__name__,
                                    message=str(exc)[:500]))
    try:
        for gap in derive_reach(store, snapshot_id, config):
            ctx.gaps.record(gap)
    except Exception as exc:  # noqa: BLE001
        ctx.log.exception("reach failed")
        ctx.gaps.record(CoverageGap(connector="reach", operation="derive", error_code=type(exc).__name__,
                                    message=str(exc)[:500]))
    # One view of the snapshot, reach edges included, for the steps that only read it.
    view = SnapshotView.of_snapshot(store, snapshot_id)
    from .findings.snapshot import store_findings

    for step, run in (("classifier", lambda: classify_snapshot(store, snapshot_id, config, view=view)),
                      ("ownership", lambda: annotate_owners_and_lifecycle(store, snapshot_id, config, ctx.clock(),
                                                                          view)),
                      ("findings", lambda: store_findings(store, snapshot_id, config, now=ctx.clock(), view=view))):
        try:
            run()
        except Exception as exc:  # noqa: BLE001
            ctx.log.exception("%s failed", step)
            ctx.gaps.record(CoverageGap(connector=step, operation=step, error_code=type(exc).__name__,
                                        message=str(exc)[:500]))


def annotate_owners_and_lifecycle(store: Store, snapshot_id: int, config: Mapping[str, Any],
                                  now: dt.datetime, view: Any = None) -> None:
    """Owner verdicts and lifecycle facts for every identity and credential, stored with
    the snapshot as the ``owner`` and ``stale`` annotations."""
    from .lifecycle import lifecycle_facts, load_lifecycle_config
    from .ownership import load_inputs, load_owner_config, resolve_owners

    view = view or SnapshotView.of_snapshot(store, snapshot_id)
    owner_cfg = load_owner_config(config)
    directory, mapping = load_inputs(owner_cfg)
    owners = resolve_owners(view, owner_cfg, directory, mapping)
    store.put_annotations(snapshot_id, "owner", {k: v.to_dict() for k, v in owners.items()})
    facts = lifecycle_facts(view, now, load_lifecycle_config(config))
    store.put_annotations(snapshot_id, "stale", {k: v.to_dict() for k, v in facts.items()})


def _run_one(store: Store, snapshot_id: int, connector: Connector, run: ConnectorRun, ctx: ScanContext,
             batch: int) -> None:
    nodes: list[Node] = []
    edges: list[Edge] = []
    activity: list[ActivityAggregate] = []
    gaps_before = len(ctx.gaps.gaps)
    # A secret in a tag or a description is redacted before it is stored (files are the
    # files connector's own business: its records hold no value).
    scanners = registry().metadata_scanners() if connector.name != "files" else []
    scope_types = registry().scope_types()
    task = ctx.progress.task(f"{connector.name}: records")

    def flush() -> None:
        store.add_nodes(snapshot_id, nodes)
        store.add_edges(snapshot_id, edges)
        store.add_activity(snapshot_id, activity)
        task.advance(len(nodes) + len(edges))
        nodes.clear()
        edges.clear()
        activity.clear()

    try:
        for record in connector.scan(ctx):
            if isinstance(record, Edge):
                edges.append(record)
                run.edges += 1
                run.collected += 1
            elif isinstance(record, ActivityAggregate):
                activity.append(record)  # what was done, not an object: counted apart
                run.activity += 1
            else:
                nodes.append(scrub(record, scanners, ctx.fingerprint) if scanners else record)
                run.nodes += 1
                run.collected += record.type not in scope_types
            if len(nodes) + len(edges) + len(activity) >= batch:
                flush()
        flush()
    except ScanCancelled:
        raise
    except Exception as exc:
        flush()
        ctx.log.exception("connector %s failed", connector.name)
        ctx.gaps.record(CoverageGap(connector=connector.name, operation="scan",
                                    error_code=type(exc).__name__, message=str(exc)[:500]))
    finally:
        task.done()
        run.api_calls = dict(connector.api_calls)
        try:
            run.summary, run.summary_line = dict(connector.summary()), connector.summary_line()
        except Exception:  # noqa: BLE001 - a connector's own summary never costs its records
            ctx.log.debug("connector %s: no summary", connector.name, exc_info=True)
    if run.collected == 0 and len(ctx.gaps.gaps) > gaps_before:
        newest = ctx.gaps.gaps[-1]
        run.error = f"saw nothing ({newest.operation}: {newest.error_code})"
