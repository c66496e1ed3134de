"""The application: everything agentreach does, as functions over a store and explicit options.

The command line (:mod:`agentreach.cli`) and the demo only parse, call these and present the
result; nothing here prints. Each function takes what it needs as arguments (no shared
mutable context) and raises :class:`AppError` with a one-line message and the documented
exit code when it cannot do its job, so every front end fails the same way.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from . import exitcodes
from .config import ConfigError
from .connector import Connector, ProgressReporter, ScanContext
from .plugins import CliOption, Plugin
from .registry import registry
from .scan import ScanResult, prepare, run_scan
from .settings import load_settings
from .store import SnapshotInfo, Store, StoreError, StoreMissing


class AppError(Exception):
    """Why a command cannot do its job, in one line, with the exit code it ends with."""

    def __init__(self, message: str, code: int = exitcodes.USAGE) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Session:
    """The options every command shares (``--db``, ``--config``, ``-q``, ``-v``). Immutable:
    a command that needs another store or config makes a new Session, it never edits one."""

    db: str | None = None
    config_path: str | None = None
    quiet: bool = False
    verbose: int = 0

    def config(self, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Defaults, the config file, ``overrides`` (flags) over both: checked as a whole."""
        try:
            return load_settings(self.config_path, overrides)
        except ConfigError as exc:
            raise AppError(str(exc)) from None

    def store(self, config: Mapping[str, Any] | None = None, *, create: bool = False) -> Store:
        """The store named by ``--db`` / ``$AGENTREACH_DB``, else the config's ``store.path``,
        else the default file in the user's data directory."""
        target = self.db
        if target is None:
            target = ((config if config is not None else self.config()).get("store") or {}).get("path")
        return open_store(target, create=create)


def open_store(target: str | Path | None, *, create: bool = False) -> Store:
    try:
        return Store(target, create=create)
    except StoreMissing as exc:
        raise AppError(str(exc), exitcodes.NOT_FOUND) from None
    except StoreError as exc:
        raise AppError(str(exc), exitcodes.FAILED) from None


def pick_snapshot(store: Store, snapshot: int | None) -> SnapshotInfo:
    """The snapshot asked for, else the latest completed one."""
    if snapshot is not None:
        info = store.snapshot(snapshot)
        if info is None:
            raise AppError(f"no snapshot {snapshot} (see 'agentreach snapshots')", exitcodes.NOT_FOUND)
        return info
    info = store.latest_snapshot()
    if info is None:
        raise AppError("the store holds no completed snapshot yet: run 'agentreach scan' first", exitcodes.NOT_FOUND)
    return info


# -- scanning ----------------------------------------------------------------------------------

def scan_options() -> list[tuple[Plugin, CliOption]]:
    """The ``scan`` options every installed connector declares."""
    return registry().cli_options()


def scan_overrides(given: Mapping[str, Any]) -> dict[str, Any]:
    """Config overrides from the values of :func:`scan_options` (by ``CliOption.dest``);
    options left unset change nothing."""
    connectors: dict[str, dict[str, Any]] = {}
    for plugin, opt in registry().cli_option_targets():
        value = given.get(opt.dest)
        if opt.kind == "csv" and isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        elif opt.kind == "path":
            value = list(value or ())
        if value in (None, False, "", [], ()):
            continue
        connectors.setdefault(plugin.section(opt), {})[opt.key] = value
    return {"connectors": connectors} if connectors else {}


@dataclass(frozen=True)
class ScanPlan:
    """The connectors a scan will run, built and checked (config, signals, owners, rules)
    before any store is opened or any source is called."""

    connectors: Sequence[Connector]
    only: Sequence[str] = ()


def plan_scan(config: Mapping[str, Any], only: Sequence[str] | None = None) -> ScanPlan:
    """``only``, else ``scan.connectors``; a typo fails here, in a second, naming the key."""
    try:
        return ScanPlan(prepare(config, only), tuple(only or ()))
    except ConfigError as exc:
        raise AppError(str(exc)) from None


def scan(store: Store, config: Mapping[str, Any], plan: ScanPlan | Sequence[str] | None = None, *,
         progress: ProgressReporter | None = None, options: Mapping[str, Any] | None = None) -> ScanResult:
    """Run the planned connectors (or plan them from ``only`` names) into a new snapshot:
    collection, reach, verdicts, owners, lifecycle and findings, all stored with it."""
    if not isinstance(plan, ScanPlan):
        plan = plan_scan(config, plan)
    ctx = ScanContext(progress=progress) if progress is not None else ScanContext()
    try:
        return run_scan(store, config, plan.connectors, ctx, options={"only": list(plan.only), **(options or {})})
    except KeyboardInterrupt:
        raise AppError("scan cancelled; the previous snapshot is untouched", exitcodes.FAILED) from None


# -- findings ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class FindingsFilter:
    severities: frozenset[str] = frozenset()
    rules: frozenset[str] = frozenset()
    provider: str | None = None
    account: str | None = None
    agents_only: bool = False

    def keep(self, finding: Mapping[str, Any], verdicts: Mapping[str, Any]) -> bool:
        return ((not self.severities or finding["severity"] in self.severities)
                and (not self.rules or finding["rule"] in self.rules)
                and (not self.provider or finding["subject"].split(":", 1)[0] == self.provider)
                and (not self.account or finding.get("account") == self.account)
                and (not self.agents_only
                     or (verdicts.get(finding["subject"]) or {}).get("verdict") in ("agent", "possible")))


EMPTY_REPORT: Mapping[str, Any] = {"findings": [], "rules": [], "summary": {}}


def findings(store: Store, info: SnapshotInfo, config: Mapping[str, Any], *, recompute: bool = False,
             only: FindingsFilter | None = None) -> dict[str, Any]:
    """The snapshot's report body ``{summary, findings, rules}``: the findings kept with it
    (``recompute``: re-evaluated under today's rules and config, and kept), filtered."""
    from .findings.snapshot import snapshot_report

    try:
        body = snapshot_report(store, info, config, recompute=recompute)
    except ConfigError as exc:
        raise AppError(str(exc)) from None
    if only is not None and only != FindingsFilter():
        verdicts = store.annotations(info.id, "agent") if only.agents_only else {}
        body = {**body, "findings": [f for f in body["findings"] if only.keep(f, verdicts)]}
    return body


def report(store: Store, info: SnapshotInfo, config: Mapping[str, Any], fmt: str) -> str:
    from .report import render

    return render(fmt, findings(store, info, config))


def diff(store: Store, a: int | None, b: int | None, config: Mapping[str, Any]) -> Any:
    """What changed between snapshots A and B (default: the last two completed)."""
    from .diff import diff_snapshots

    complete = [s for s in store.snapshots() if s.status == "complete"]
    if a is None and b is None:
        if len(complete) < 2:
            raise AppError("diff needs two completed snapshots (run 'agentreach scan' again)", exitcodes.NOT_FOUND)
        a, b = complete[-2].id, complete[-1].id
    elif b is None:
        b = complete[-1].id if complete else None
    info_a, info_b = pick_snapshot(store, a), pick_snapshot(store, b)
    return diff_snapshots(store, info_a.id, info_b.id, findings(store, info_a, config)["findings"],
                          findings(store, info_b, config)["findings"])


# -- the CI gate and the pre-commit hook ---------------------------------------------------------

@dataclass
class GateOutcome:
    """A gate decision with what it was made on; ``code`` is the exit code."""

    info: SnapshotInfo
    body: Mapping[str, Any]
    decision: Any = None  # gate.GateResult, None when the baseline was updated instead
    recorded: int = 0  # findings written with --update-baseline
    where: Mapping[str, str] = field(default_factory=dict)  # finding subject -> file location
    scanned_files: int = 0

    @property
    def code(self) -> int:
        from .gate import BLOCKED, PASS

        if self.decision is None:
            return exitcodes.OK
        return {PASS: exitcodes.OK, BLOCKED: exitcodes.GATE_BLOCKED}.get(self.decision.status, exitcodes.USAGE)


def _baseline(path: str | Path) -> Any:
    from .gate import load_baseline

    try:
        return load_baseline(path)
    except ConfigError as exc:
        raise AppError(str(exc)) from None


def gate(store: Store, info: SnapshotInfo | None, config: Mapping[str, Any], baseline_path: str | Path, *,
         update_baseline: bool = False, today: dt.date | None = None, policy: Any = None) -> GateOutcome:
    """Decide a snapshot against the baseline and the gate policy (``gate:`` in config), or
    record its findings as the new baseline, with the secret-id scheme the snapshot's file
    secrets were named with. ``info`` None: there is no snapshot to gate."""
    from .gate import GatePolicy, decide, save_baseline, snapshot_scheme

    baseline = _baseline(baseline_path)
    if info is None:
        raise AppError("no snapshot to gate: run 'agentreach scan' first", exitcodes.USAGE)
    body = findings(store, info, config) if info.status == "complete" else dict(EMPTY_REPORT)
    policy = policy or GatePolicy.from_config(config)
    untriaged = _untriaged(store, info) if policy.block_untriaged_possible and info.status == "complete" else []
    scheme = snapshot_scheme(info.options, store.salt)
    if update_baseline:
        save_baseline(baseline_path, [*body["findings"], *untriaged], keep=baseline, scheme=scheme,
                      params=(config.get("gate") or {}).get("fingerprint_kdf"))
        return GateOutcome(info, body, recorded=len(body["findings"]) + len(untriaged))
    decision = decide(body["findings"], baseline, policy, snapshot_status=info.status, gap_count=info.gap_count,
                      today=today or dt.datetime.now(dt.timezone.utc).date(), untriaged=untriaged, scheme=scheme)
    return GateOutcome(info, body, decision)


def _untriaged(store: Store, info: SnapshotInfo) -> list[dict[str, Any]]:
    """The snapshot's credentials whose agent verdict is still ``possible``, as gate items."""
    from .gate import untriaged_possible

    verdicts = store.annotations(info.id, "agent")
    credentials = {n.node.id: n.node.name for n in store.nodes(info.id, kinds=["credential"])}
    return untriaged_possible(verdicts, credentials)


def latest_any(store: Store) -> SnapshotInfo | None:
    """The newest snapshot whatever its status: the gate must see a failed scan, not skip it."""
    return (store.snapshots() or [None])[-1]


def precommit(session: Session, files: Iterable[str], baseline_path: str, *, all_files: bool = False,
              update_baseline: bool = False, cwd: Path | None = None) -> GateOutcome:
    """Scan exactly what a commit adds with the files connector and gate it.

    ``files`` are what pre-commit passes; none: the staged blobs of the index. The baseline
    carries the repository's secret-id scheme (agentreach.fingerprints), so the found secrets
    are named as on every clone; the hook's own store, and its salt, die with the run. Only
    the secrets rules (and criticals) block: a commit adds files, not identities."""
    from .gate import GatePolicy
    from .precommit import HookError, copy_for_scan, repo_root, staged_files, tracked_files
    from .results import found_locations

    try:
        root = repo_root(cwd or Path.cwd())
    except HookError as exc:
        raise AppError(str(exc)) from None
    base_file = Path(baseline_path) if Path(baseline_path).is_absolute() else root / baseline_path
    _baseline(base_file)  # a malformed baseline fails before anything is copied
    with tempfile.TemporaryDirectory(prefix="agentreach-hook-") as tmp:
        tree = Path(tmp) / root.name
        tree.mkdir()
        try:
            if all_files:
                copied = copy_for_scan(root, tracked_files(root), tree, from_index=True)
            elif files:
                rels = [os.path.relpath(Path(f).resolve(), root) for f in files]
                copied = copy_for_scan(root, rels, tree, from_index=False)
            else:
                copied = copy_for_scan(root, staged_files(root), tree, from_index=True)
        except HookError as exc:
            raise AppError(str(exc)) from None
        db = Path(tmp) / "hook.db"
        store = Store(db)
        hook = Session(db=str(db), config_path=session.config_path, quiet=True, verbose=session.verbose)
        config = hook.config({"scan": {"connectors": ["files"]}, "store": {"path": str(db)},
                              "gate": {"baseline": str(base_file)},
                              "connectors": {"files": {"paths": [str(tree)], "all_files": True,
                                                       "git_history": False}}})
        info = scan(store, config, ["files"]).snapshot
        policy = GatePolicy.from_config(config)
        policy = dataclasses.replace(policy, block_rules=frozenset(r for r in policy.block_rules
                                                                   if r.startswith("AR-SECRET-")))
        outcome = gate(store, info, config, base_file, update_baseline=update_baseline, policy=policy)
        # where each secret is, relative to the repository (the copy's root is not shown)
        outcome.where = {cid: places[0] for cid, places in found_locations(store, info.id, with_root=False).items()}
        outcome.scanned_files = len(copied)
        store.close()
        return outcome


# -- inventory and the responder's questions ----------------------------------------------------

def inventory(store: Store, info: SnapshotInfo, *, kinds: Sequence[str] | None, types: Sequence[str] = (),
              provider: str | None = None, account: str | None = None, verdicts: Iterable[str] = (),
              with_reach: bool = False) -> list[dict[str, Any]]:
    """The public JSON of the snapshot's objects (agents first when filtering by verdict),
    each with what it reaches when ``with_reach``."""
    from . import render
    from .results import file_locations

    auth = store.authenticates(info.id)
    notes = {aspect: store.annotations(info.id, aspect) for aspect in render.ASPECTS}
    places = file_locations(store, info.id)
    keep = set(verdicts)
    rows = [render.node_json(n, auth, notes, places)
            for n in store.nodes(info.id, kinds=kinds, provider=provider, account=account, types=types or None)
            if not keep or (notes["agent"].get(n.node.id) or {}).get("verdict") in keep]
    if keep:
        rows.sort(key=lambda r: -(r.get("agent") or {}).get("score", 0))
    if with_reach:
        from .graph import load_graph
        from .graph.query import reach_summary

        graph = load_graph(store, info.id)
        for row in rows:
            row["reach"] = reach_summary(graph, row["id"])
    return rows


MAX_STDIN_SECRET = 64 * 1024  # a pasted PEM key or service-account JSON fits; more is not one secret


def pasted_secret_values(text: str) -> list[str]:
    """The values a pasted text may stand for, most specific first: what each plugin's secret
    scanner finds in it (the value exactly as a connector fingerprinted it: a PEM key's body, a
    service-account JSON's private key, a token after its ``KEY=``), then the whole text, then
    each line. Nothing here is kept or printed."""
    from .registry import registry

    values: list[str] = []
    for scan in registry().secret_scanners():
        values += [str(value) for _detector, value in scan(text) or () if value]
    values.append(text.strip())
    values += [line.strip() for line in text.splitlines() if line.strip()]
    return list(dict.fromkeys(v for v in values if v))


def read_pasted(stdin: Any) -> str:
    """All of stdin, bounded: a secret is at most a few KiB, and a larger paste is refused."""
    data = stdin.read(MAX_STDIN_SECRET + 1) if stdin is not None else ""
    if len(data) > MAX_STDIN_SECRET:
        raise AppError(f"REF '-' reads one secret from stdin, at most {MAX_STDIN_SECRET // 1024} KiB; "
                       "this is more")
    return data


def resolve(store: Store, info: SnapshotInfo, ref: str, *, stdin: Any = None) -> dict[str, Any]:
    """The one object REF names, as public JSON. REF ``-`` reads a leaked secret from ``stdin``
    (all of it: a PEM key or a service-account JSON spans lines) and looks it up by its
    salted fingerprint; the value is never printed or kept."""
    from . import render
    from .graph.resolve import find

    if ref == "-":
        text = read_pasted(stdin)
        if not text.strip():
            raise AppError("REF '-' reads a secret value from stdin, and stdin was empty")
        matches = []
        for value in pasted_secret_values(text):
            matches = find(store, info.id, store.fingerprint(value))
            if matches:
                break
        del text
        if not matches:
            raise AppError(f"nothing in snapshot {info.id} matches the secret read from stdin", exitcodes.NOT_FOUND)
    else:
        matches = find(store, info.id, ref)
    if not matches:
        raise AppError(f"nothing in snapshot {info.id} matches {ref!r}", exitcodes.NOT_FOUND)
    if len(matches) > 1:
        listing = "; ".join(f"{m.node.id}" for m in matches[:10])
        raise AppError(f"{ref!r} matches {len(matches)} objects, give one id: {listing}")
    from .results import file_locations

    node_id = matches[0].node.id
    notes = {aspect: store.annotations(info.id, aspect, [node_id]) for aspect in render.ASPECTS}
    return render.node_json(matches[0], store.authenticates(info.id), notes, file_locations(store, info.id, [node_id]))


def edges_of(store: Store, info: SnapshotInfo, node_id: str) -> list[dict[str, Any]]:
    """Every edge touching the object, in public JSON with the names of the other ends."""
    from . import render

    raw = store.edges(info.id, touching=node_id)
    # A secret found in a file that is a live one (a key by its public id, a cloud secret by its
    # value's identity): the link's edge into the file names the live object from this side too.
    locations = [e["dst"] for e in raw if e["kind"] == "found_in" and e["src"] == node_id]
    if locations and node_id.startswith("files:"):
        raw = raw + [e for e in store.edges(info.id, kinds=["found_in"], dst_in=locations)
                     if (e.get("attrs") or {}).get("file_credential") == node_id and e["src"] != node_id]
    ends = {e["src"] for e in raw} | {e["dst"] for e in raw}
    names = {n.node.id: n.node.name for n in store.nodes(info.id, ids=ends)}
    return [render.edge_json(e, names) for e in raw]
