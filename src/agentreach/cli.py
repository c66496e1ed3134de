"""The ``agentreach`` command line. Presentation and argument handling only: every command
is a thin shell over the store, the scan runner or the demo."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import os
import sys
from collections import Counter
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from . import __version__, exitcodes, render
from .classify import Thresholds, classify_snapshot
from .cligroup import PluginGroup
from .config import ConfigError, load_config
from .connector import NullProgress, ProgressReporter, ProgressTask, ScanContext, discover_connectors
from .model import NodeKind
from .scan import ScanResult, prepare, run_scan
from .store import SnapshotInfo, Store, StoreError, StoreMissing

IDENTITY_AND_CREDENTIAL = ("identity", "credential")


class Fail(click.ClickException):
    """A one-line error with a chosen exit code; never a traceback."""

    def __init__(self, message: str, code: int = exitcodes.USAGE) -> None:
        super().__init__(message)
        self.exit_code = code

    def show(self, file: Any = None) -> None:
        click.echo(f"agentreach: error: {self.format_message()}", err=True)


class _RichTask:
    def __init__(self, progress: Progress, label: str, total: int | None) -> None:
        self._p, self._id = progress, progress.add_task(label, total=total)

    def advance(self, n: int = 1) -> None:
        self._p.advance(self._id, n)

    def set_total(self, total: int | None) -> None:
        self._p.update(self._id, total=total)

    def done(self) -> None:
        task = self._p.tasks[self._id]
        self._p.update(self._id, total=task.completed if task.total is None else task.total,
                       completed=task.total if task.total is not None else task.completed)


class RichProgress:
    def __init__(self, progress: Progress) -> None:
        self._progress = progress

    def task(self, label: str, total: int | None = None) -> ProgressTask:
        return _RichTask(self._progress, label, total)


@contextmanager
def progress_reporter(enabled: bool) -> Iterator[ProgressReporter]:
    if not enabled:
        yield NullProgress()
        return
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=Console(stderr=True, **PLAIN), transient=False) as progress:
        yield RichProgress(progress)


def emit(ctx: click.Context, text: str, output: str | None) -> None:
    if output:
        Path(output).write_text(text, encoding="utf-8")
        if not ctx.obj["quiet"]:
            click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text, nl=False)


# Names come from the sources (an Entra app's display name, a file path) and may hold
# "[...]" or ":secret:": rich must print them as they are, never as markup or emoji.
PLAIN: dict[str, Any] = {"markup": False, "emoji": False}


@contextmanager
def console_for(output: str | None, width: int = 240) -> Iterator[Console]:
    """A rich console on stdout, or on the file given with --output (closed afterwards).
    A terminal gets its own width; a pipe or a file gets ``width`` so rows do not wrap."""
    if not output:
        yield Console(file=sys.stdout, width=None if sys.stdout.isatty() else width, **PLAIN)
        return
    with open(output, "w", encoding="utf-8") as fh:
        yield Console(file=fh, width=width, **PLAIN)


def open_store(ctx: click.Context, *, create: bool = False) -> Store:
    try:
        return Store(ctx.obj["db"], create=create)
    except StoreMissing as exc:
        raise Fail(str(exc), exitcodes.NOT_FOUND) from None
    except StoreError as exc:
        raise Fail(str(exc), exitcodes.FAILED) from None


def pick_snapshot(store: Store, snapshot: int | None) -> SnapshotInfo:
    if snapshot is not None:
        info = store.snapshot(snapshot)
        if info is None:
            raise Fail(f"no snapshot {snapshot} (see 'agentreach snapshots')", exitcodes.NOT_FOUND)
        return info
    info = store.latest_snapshot()
    if info is None:
        raise Fail("the store holds no completed snapshot yet: run 'agentreach scan' first", exitcodes.NOT_FOUND)
    return info


def _config(ctx: click.Context, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    try:
        return load_config(ctx.obj["config_path"], overrides)
    except ConfigError as exc:
        raise Fail(str(exc)) from None


def snapshot_options(formats: list[str]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--snapshot, --format and --output, the same on every command that reads a snapshot."""
    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn = click.option("--output", "-o", type=click.Path(dir_okay=False),
                          help="Write the result here instead of stdout.")(fn)
        fn = click.option("--format", "fmt", type=click.Choice(formats), default=formats[0], show_default=True)(fn)
        return click.option("--snapshot", type=int, help="Snapshot id (default: the latest completed).")(fn)
    return decorate


@click.group(cls=PluginGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="agentreach")
@click.option("--db", "db", envvar="AGENTREACH_DB", type=click.Path(dir_okay=False),
              help="Store: a SQLite file or SQLAlchemy URL [env AGENTREACH_DB; default: user data dir].")
@click.option("--config", "config_path", envvar="AGENTREACH_CONFIG", type=click.Path(dir_okay=False),
              help="YAML config merged over the shipped defaults [env AGENTREACH_CONFIG].")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars or notes on stderr (for CI).")
@click.option("-v", "--verbose", count=True, help="More logging on stderr (-vv for debug).")
@click.pass_context
def main(ctx: click.Context, db: str | None, config_path: str | None, quiet: bool, verbose: int) -> None:
    """Find the credentials AI agents run on, who owns them, and what each one can reach."""
    level = logging.ERROR if quiet else (logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    for noisy in ("botocore", "urllib3", "werkzeug"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING) if verbose < 2 else logging.DEBUG)
    if not verbose:
        logging.getLogger("agentreach.gaps").setLevel(logging.ERROR)  # gaps are reported, not logged
    ctx.obj = {"db": db, "config_path": config_path, "quiet": quiet}


def _csv_list(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None


@main.command()
@click.option("--only", help="Comma-separated connectors to run (default: scan.connectors from config).")
@click.option("--regions", help="AWS: comma-separated regions (overrides connectors.aws.regions).")
@click.option("--accounts", help="AWS: comma-separated account ids to scan through the read-only role.")
@click.option("--organization", is_flag=True, default=None, help="AWS: every active account of the Organization.")
@click.option("--profile", help="AWS: named profile.")
@click.option("--endpoint-url", help="AWS: one endpoint for every service (testing, proxies).")
@click.option("--tenant", help="Azure: the Entra tenant id (overrides connectors.azure.tenant_id).")
@click.option("--subscriptions", help="Azure: comma-separated subscription ids (default: every one the caller sees).")
@click.option("--projects", help="GCP: comma-separated project ids (default: every project search returns).")
@click.option("--gcp-organization", help="GCP: organization id whose folders and policies are read.")
@click.option("--all-files", is_flag=True, default=None, help="Files: ignore .gitignore (scan every file).")
@click.option("--git-history", is_flag=True, default=None, help="Files: also the lines added by commits.")
@click.option("--since", help="Files: with --git-history, only commits after this ref.")
@click.option("--path", "paths", multiple=True, type=click.Path(exists=True, file_okay=False),
              help="Files: a directory to scan for secrets (repeatable; sets connectors.files.paths).")
@click.option("--verify", is_flag=True, default=False,
              help="Files: check each found key live against its provider's API (sends the key there; never in CI).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the result here instead of stdout.")
@click.pass_context
def scan(ctx: click.Context, only: str | None, regions: str | None, accounts: str | None,
         organization: bool | None, profile: str | None, endpoint_url: str | None, tenant: str | None,
         subscriptions: str | None, projects: str | None, gcp_organization: str | None, all_files: bool | None,
         git_history: bool | None, since: str | None, paths: tuple[str, ...],
         verify: bool, fmt: str, output: str | None) -> None:
    """Run the connectors and store a snapshot.

    Exit 0 when clean, 3 when it completed with coverage gaps, 4 when it failed."""
    aws: dict[str, Any] = {}
    if regions:
        aws["regions"] = _csv_list(regions)
    if accounts:
        aws["accounts"] = _csv_list(accounts)
    if organization:
        aws["organization"] = True
    if profile:
        aws["profile"] = profile
    if endpoint_url:
        aws["endpoint_url"] = endpoint_url
    overrides: dict[str, Any] = {"connectors": {}}
    if aws:
        overrides["connectors"]["aws"] = aws
    azure = {k: v for k, v in (("tenant_id", tenant), ("subscriptions", _csv_list(subscriptions))) if v}
    if azure:
        overrides["connectors"]["azure"] = azure
    gcp = {k: v for k, v in (("projects", _csv_list(projects)), ("organization_id", gcp_organization)) if v}
    if gcp:
        overrides["connectors"]["gcp"] = gcp
    files = {k: v for k, v in (("paths", list(paths)), ("all_files", all_files), ("git_history", git_history),
                               ("since", since), ("verify", verify)) if v}
    if files:
        overrides["connectors"]["files"] = files
    config = _config(ctx, overrides)
    result = do_scan(ctx, config, _csv_list(only))
    report_scan(ctx, result, fmt, output)
    ctx.exit(result.exit_code)


def do_scan(ctx: click.Context, config: dict[str, Any], only: Sequence[str] | None) -> ScanResult:
    try:
        connectors = prepare(config, only)
    except ConfigError as exc:
        raise Fail(str(exc)) from None
    if ctx.obj["db"] is None and (config.get("store") or {}).get("path"):
        ctx.obj["db"] = config["store"]["path"]
    store = open_store(ctx, create=True)
    with progress_reporter(not ctx.obj["quiet"] and sys.stderr.isatty()) as progress:
        scan_ctx = ScanContext(progress=progress)
        try:
            return run_scan(store, config, connectors, scan_ctx, options={"only": list(only or [])})
        except KeyboardInterrupt:
            raise Fail("scan cancelled; the previous snapshot is untouched", exitcodes.FAILED) from None


def report_scan(ctx: click.Context, result: ScanResult, fmt: str, output: str | None,
                console: Console | None = None) -> None:
    from .results import leaked_live

    summary = result.summary()
    live = leaked_live(open_store(ctx), result.snapshot.id) if result.snapshot.status == "complete" else []
    if fmt == "json":
        emit(ctx, render.to_json({**summary, "leaked_live": live}), output)
        return
    if console is None:
        with console_for(output) as own:
            report_scan(ctx, result, fmt, None, own)
        return
    snap = result.snapshot
    console.print(f"snapshot {snap.id}: {snap.status}, {snap.node_count} objects, {snap.edge_count} edges, "
                  f"{snap.gap_count} coverage gaps")
    for run in result.runs:
        calls = sum(run.api_calls.values())
        state = f"FAILED ({run.error})" if run.failed else "ok"
        console.print(f"  {run.name} {run.version}: {run.nodes} objects, {run.edges} edges, {calls} API calls, {state}")
    if snap.status == "complete":
        derived = open_store(ctx).edges(snap.id, kinds=["can_assume", "can_access"])
        console.print(f"  reach: {len(derived)} can_assume / can_access edges evaluated from the policies")
    if result.gaps:
        console.print(render.gaps_table([g.to_dict() for g in result.gaps]))
    for item in live:  # the most serious thing agentreach reports: never let it scroll past
        who = f" of {', '.join(item['identities'])}" if item["identities"] else ""
        console.print(f"LEAKED AND LIVE: the active {item['type']} {item['name']}{who} is written in "
                      f"{', '.join(item['locations'])}. Deactivate it now; 'agentreach reach {item['name']}' "
                      "shows what it unlocks.", style="bold red")


@main.command()
@click.option("--kind", "kinds", multiple=True,
              type=click.Choice([k.value for k in NodeKind] + ["all"]),
              help="Object kinds to list (repeatable). Default: identity and credential.")
@click.option("--type", "types", multiple=True, help="Object types, e.g. aws_access_key (repeatable).")
@click.option("--provider", help="aws, azure, gcp, files …")
@click.option("--account", help="Account, subscription or project id.")
@click.option("--agents", is_flag=True, help="Only objects whose agent verdict is agent or possible.")
@click.option("--verdict", "verdicts", multiple=True, type=click.Choice(["agent", "possible", "none"]),
              help="Only objects with this agent verdict (repeatable).")
@click.option("--reach/--no-reach", "with_reach", default=None,
              help="Add what each object reaches (default: on with --agents or --verdict).")
@snapshot_options(["table", "json", "csv"])
@click.pass_context
def inventory(ctx: click.Context, kinds: tuple[str, ...], types: tuple[str, ...], provider: str | None,
              account: str | None, agents: bool, verdicts: tuple[str, ...], with_reach: bool | None,
              snapshot: int | None, fmt: str, output: str | None) -> None:
    """Identities and credentials (or any kind) of a snapshot, with their agent verdicts,
    owners, age, last use, expiry and (for agents) what they reach."""
    store = open_store(ctx)
    info = pick_snapshot(store, snapshot)
    wanted = None if "all" in kinds else (kinds or IDENTITY_AND_CREDENTIAL)
    auth = store.authenticates(info.id)
    notes = {aspect: store.annotations(info.id, aspect) for aspect in render.ASPECTS}
    verdict_of = notes["agent"]
    keep = set(verdicts) | ({"agent", "possible"} if agents else set())
    rows = [render.node_json(n, auth, notes)
            for n in store.nodes(info.id, kinds=wanted, provider=provider, account=account, types=types or None)
            if not keep or (verdict_of.get(n.node.id) or {}).get("verdict") in keep]
    if agents or verdicts:
        rows.sort(key=lambda r: -(r.get("agent") or {}).get("score", 0))
    if with_reach if with_reach is not None else bool(agents or verdicts):
        from .graph import load_graph
        from .graph.query import reach_summary

        graph = load_graph(store, info.id)
        for row in rows:
            row["reach"] = reach_summary(graph, row["id"])
    if fmt == "json":
        emit(ctx, render.to_json({"snapshot": info.id, "objects": rows}), output)
    elif fmt == "csv":
        emit(ctx, render.inventory_csv(rows), output)
    else:
        with console_for(output) as console:
            console.print(render.inventory_table(rows, info.finished_at or info.started_at,
                                                 f"snapshot {info.id}: {len(rows)} objects"))


@main.command()
@click.argument("ref")
@snapshot_options(["table", "json"])
@click.pass_context
def show(ctx: click.Context, ref: str, snapshot: int | None, fmt: str, output: str | None) -> None:
    """One object with all its attributes and edges. REF is an id, ARN, access key id,
    key name, object id, email or name."""
    store = open_store(ctx)
    info = pick_snapshot(store, snapshot)
    obj = resolve(store, info, ref)
    raw_edges = store.edges(info.id, touching=obj["id"])
    other_ids = {e["src"] for e in raw_edges} | {e["dst"] for e in raw_edges}
    names = {n.node.id: n.node.name for n in store.nodes(info.id, ids=other_ids)}
    edges = [render.edge_json(e, names) for e in raw_edges]
    if fmt == "json":
        emit(ctx, render.to_json({"snapshot": info.id, "object": obj, "edges": edges}), output)
    else:
        with console_for(output) as console:
            render.show_text(console, obj, edges)


def resolve(store: Store, info: SnapshotInfo, ref: str) -> dict[str, Any]:
    """The one object REF names, as public JSON, or a one-line error. REF ``-`` reads a
    leaked secret's value from stdin and looks it up by its salted fingerprint; the value
    is never printed or kept."""
    if ref == "-":
        value = sys.stdin.readline().strip()
        if not value:
            raise Fail("REF '-' reads a secret value from stdin, and stdin was empty")
        ref = store.fingerprint(value)
        del value
    matches = store.find(info.id, ref)
    if not matches:
        raise Fail(f"nothing in snapshot {info.id} matches {ref!r}", exitcodes.NOT_FOUND)
    if len(matches) > 1:
        listing = "; ".join(f"{m.node.id}" for m in matches[:10])
        raise Fail(f"{ref!r} matches {len(matches)} objects, give one id: {listing}")
    node_id = matches[0].node.id
    notes = {aspect: store.annotations(info.id, aspect, [node_id]) for aspect in render.ASPECTS}
    return render.node_json(matches[0], store.authenticates(info.id), notes)


@main.command()
@click.argument("ref")
@snapshot_options(["table", "json"])
@click.pass_context
def explain(ctx: click.Context, ref: str, snapshot: int | None, fmt: str, output: str | None) -> None:
    """Why an identity or credential got its agent verdict: every signal for and against
    it, where it matched, and how the score adds up."""
    store = open_store(ctx)
    info = pick_snapshot(store, snapshot)
    obj = resolve(store, info, ref)
    if fmt == "json":
        keys = ("id", "kind", "type", "provider", "name", "native_id", "account", "agent")
        emit(ctx, render.to_json({"snapshot": info.id, **{k: obj.get(k) for k in keys}}), output)
        return
    thresholds = Thresholds.from_config(_config(ctx).get("classifier"))
    with console_for(output) as console:
        render.explain_text(console, obj, {"prior": thresholds.prior, "agent": thresholds.agent,
                                           "possible": thresholds.possible})


LEVEL_CHOICES = click.Choice(["list", "read", "tagging", "write", "permissions-management"])


def _graph_for(ctx: click.Context, snapshot: int | None) -> tuple[Store, SnapshotInfo, Any]:
    from .graph import load_graph

    store = open_store(ctx)
    info = pick_snapshot(store, snapshot)
    return store, info, load_graph(store, info.id)


@main.command()
@click.argument("ref")
@click.option("--depth", type=click.IntRange(1, 20), default=5, show_default=True, help="Most hops to follow.")
@click.option("--sensitive-only", is_flag=True, help="Only systems with a sensitivity (config/sensitive-systems.yaml).")
@click.option("--access", "min_access", type=LEVEL_CHOICES, help="Only access at this level or above.")
@snapshot_options(["table", "json", "dot"])
@click.pass_context
def reach(ctx: click.Context, ref: str, depth: int, sensitive_only: bool, min_access: str | None,
          snapshot: int | None, fmt: str, output: str | None) -> None:
    """What a credential, identity or workload can reach, hop by hop, with the grant behind
    each hop. REF is an ARN, access key id, name or id."""
    from .graph import reach as reach_query

    store, info, graph = _graph_for(ctx, snapshot)
    obj = resolve(store, info, ref)
    systems = reach_query(graph, graph.index[obj["id"]], depth=depth, min_level=min_access)
    if sensitive_only:
        systems = [s for s in systems if s.get("sensitivity")]
    if fmt == "json":
        emit(ctx, render.to_json({"snapshot": info.id, "from": {k: obj.get(k) for k in ("id", "kind", "type", "name",
                                  "native_id", "account", "agent")}, "systems": systems}), output)
        return
    if fmt == "dot":
        emit(ctx, render.paths_dot([s["path"] for s in systems], f"what {obj['name']} can reach"), output)
        return
    with console_for(output) as console:
        console.print(render.reach_table(obj, systems))


@main.command("who-can-reach")
@click.argument("system")
@click.option("--agents-only", is_flag=True, help="Only subjects whose agent verdict is agent or possible.")
@click.option("--depth", type=click.IntRange(1, 20), default=5, show_default=True)
@snapshot_options(["table", "json", "dot"])
@click.pass_context
def who_can_reach(ctx: click.Context, system: str, agents_only: bool, depth: int, snapshot: int | None, fmt: str,
                  output: str | None) -> None:
    """Every credential, identity and workload that can reach SYSTEM, with paths, owners
    and agent verdicts."""
    from .graph import who_can_reach as who_query

    store, info, graph = _graph_for(ctx, snapshot)
    obj = resolve(store, info, system)
    subjects = who_query(graph, graph.index[obj["id"]], depth=depth)
    verdicts = store.annotations(info.id, "agent")
    owners = store.annotations(info.id, "owner")
    for s in subjects:
        s["agent"] = verdicts.get(s["subject"])
        s["owner"] = owners.get(s["subject"])
    if agents_only:
        subjects = [s for s in subjects if (s.get("agent") or {}).get("verdict") in ("agent", "possible")]
    if fmt == "json":
        emit(ctx, render.to_json({"snapshot": info.id, "system": {k: obj.get(k) for k in ("id", "type", "name",
                                  "native_id", "account")}, "subjects": subjects}), output)
        return
    if fmt == "dot":
        emit(ctx, render.paths_dot([s["path"] for s in subjects], f"who can reach {obj['name']}"), output)
        return
    with console_for(output) as console:
        console.print(render.who_table(obj, subjects))


@main.command()
@click.argument("a")
@click.argument("b")
@click.option("--depth", type=click.IntRange(1, 12), default=6, show_default=True)
@click.option("--limit", type=click.IntRange(1, 100), default=10, show_default=True)
@snapshot_options(["table", "json", "dot"])
@click.pass_context
def path(ctx: click.Context, a: str, b: str, depth: int, limit: int, snapshot: int | None, fmt: str,
         output: str | None) -> None:
    """The paths from A to B (shortest first), each hop with its grant."""
    from .graph import paths_between

    store, info, graph = _graph_for(ctx, snapshot)
    src, dst = resolve(store, info, a), resolve(store, info, b)
    found = paths_between(graph, graph.index[src["id"]], graph.index[dst["id"]], depth=depth, limit=limit)
    if fmt == "json":
        emit(ctx, render.to_json({"snapshot": info.id, "from": src["id"], "to": dst["id"], "paths": found}), output)
        return
    if fmt == "dot":
        emit(ctx, render.paths_dot(found, f"paths from {src['name']} to {dst['name']}"), output)
        return
    with console_for(output) as console:
        if not found:
            console.print(f"no path from {src['name']} to {dst['name']} within {depth} hops")
        for i, hops in enumerate(found, 1):
            console.print(f"path {i}: " + render.hops_line(hops))


def _findings_for(ctx: click.Context, snapshot: int | None) -> tuple[Store, SnapshotInfo, dict[str, Any]]:
    from .results import snapshot_findings

    store = open_store(ctx)
    info = pick_snapshot(store, snapshot)
    return store, info, snapshot_findings(store, info, _config(ctx))


@main.command()
@click.option("--severity", "severities", multiple=True,
              type=click.Choice(["critical", "high", "medium", "low", "info"]), help="Only these severities.")
@click.option("--rule", "rules", multiple=True, help="Only these rule ids (repeatable).")
@click.option("--provider", help="Only findings on objects of this provider.")
@click.option("--account", help="Only findings in this account, subscription or project.")
@click.option("--agents-only", is_flag=True, help="Only findings whose subject is an agent or possible agent.")
@snapshot_options(["table", "json", "csv", "md", "sarif", "html"])
@click.pass_context
def findings(ctx: click.Context, severities: tuple[str, ...], rules: tuple[str, ...], provider: str | None,
             account: str | None, agents_only: bool, snapshot: int | None, fmt: str, output: str | None) -> None:
    """Findings of a snapshot: ownerless, orphaned and stale agent credentials, agents
    reaching crown jewels, risky trusts; each with evidence, path and framework mapping."""
    from .report import render

    store, info, report = _findings_for(ctx, snapshot)
    verdicts = store.annotations(info.id, "agent") if agents_only else {}
    kept = [f for f in report["findings"]
            if (not severities or f["severity"] in severities) and (not rules or f["rule"] in rules)
            and (not provider or f["subject"].split(":", 1)[0] == provider)
            and (not account or f.get("account") == account)
            and (not agents_only or (verdicts.get(f["subject"]) or {}).get("verdict") in ("agent", "possible"))]
    report = {**report, "findings": kept}
    if fmt == "table":
        with console_for(output) as console:
            console.print(render_findings_table(kept, info.id))
            skipped = [r for r in report["rules"] if r["status"] == "skipped"]
            for r in skipped:
                console.print(f"  skipped {r['rule']}: {r['note']}")
        return
    emit(ctx, render(fmt, report), output)


def render_findings_table(items: list[dict[str, Any]], snapshot_id: int) -> Any:
    from rich.table import Table

    table = Table(title=f"snapshot {snapshot_id}: {len(items)} findings", header_style="bold")
    for col in ("severity", "rule", "subject", "account", "why"):
        table.add_column(col, overflow="fold", no_wrap=col in ("severity", "rule"))
    for f in items:
        table.add_row(f["severity"], f["rule"], f.get("subject_name") or f["subject"], f.get("account") or "-",
                      (f.get("evidence") or [f["title"]])[0])
    return table


@main.command()
@click.option("--format", "fmt", type=click.Choice(["md", "html", "json", "csv", "sarif"]), default="md",
              show_default=True)
@click.option("--snapshot", type=int, help="Snapshot id (default: the latest completed).")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the report here instead of stdout.")
@click.pass_context
def report(ctx: click.Context, fmt: str, snapshot: int | None, output: str | None) -> None:
    """The report of a snapshot: summary, coverage gaps, findings by severity with evidence,
    remediation and reach paths. HTML is one self-contained file."""
    from .report import render

    _, _, body = _findings_for(ctx, snapshot)
    emit(ctx, render(fmt, body), output)


@main.command()
@click.argument("a", type=int, required=False)
@click.argument("b", type=int, required=False)
@click.option("--format", "fmt", type=click.Choice(["table", "json", "md"]), default="table", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False))
@click.pass_context
def diff(ctx: click.Context, a: int | None, b: int | None, fmt: str, output: str | None) -> None:
    """What changed between snapshots A and B (default: the last two completed): new,
    removed and changed objects, new and resolved findings."""
    from .diff import diff_markdown, diff_snapshots
    from .results import snapshot_findings

    store = open_store(ctx)
    complete = [s for s in store.snapshots() if s.status == "complete"]
    if a is None and b is None:
        if len(complete) < 2:
            raise Fail("diff needs two completed snapshots (run 'agentreach scan' again)", exitcodes.NOT_FOUND)
        a, b = complete[-2].id, complete[-1].id
    elif b is None:
        b = complete[-1].id if complete else None
    info_a, info_b = pick_snapshot(store, a), pick_snapshot(store, b)
    config = _config(ctx)
    result = diff_snapshots(store, info_a.id, info_b.id, snapshot_findings(store, info_a, config)["findings"],
                            snapshot_findings(store, info_b, config)["findings"])
    if fmt == "json":
        emit(ctx, render.to_json(result.to_dict()), output)
    elif fmt == "md":
        emit(ctx, diff_markdown(result) + "\n", output)
    else:
        with console_for(output) as console:
            console.print(diff_markdown(result))


@main.command()
@click.option("--baseline", "baseline_path", type=click.Path(dir_okay=False), default=".agentreach-baseline.json",
              show_default=True, help="Known findings and suppressions.")
@click.option("--update-baseline", is_flag=True, help="Write every current finding into the baseline and pass.")
@click.option("--scan", "fresh", is_flag=True, help="Run a scan first (with --config) instead of reading a snapshot.")
@snapshot_options(["table", "json", "sarif"])
@click.pass_context
def gate(ctx: click.Context, baseline_path: str, update_baseline: bool, fresh: bool, snapshot: int | None, fmt: str,
         output: str | None) -> None:
    """CI gate: exit 1 on new findings the gate policy blocks (config gate:), 0 when none,
    2 when the scan was incomplete or failed (never a silent pass)."""
    from .gate import GatePolicy, decide, load_baseline, save_baseline
    from .results import snapshot_findings

    config = _config(ctx)
    try:
        baseline = load_baseline(baseline_path)
    except ConfigError as exc:
        raise Fail(str(exc)) from None
    if fresh:
        result = do_scan(ctx, config, None)
        snapshot = result.snapshot.id
    store = open_store(ctx)
    info = pick_snapshot(store, snapshot) if snapshot is not None else (store.snapshots() or [None])[-1]
    if info is None:
        raise Fail("no snapshot to gate: run 'agentreach scan' first", exitcodes.USAGE)
    body = snapshot_findings(store, info, config) if info.status == "complete" else {"findings": [], "rules": [],
                                                                                     "summary": {}}
    if update_baseline:
        save_baseline(baseline_path, body["findings"], keep=baseline)
        click.echo(f"baseline {baseline_path}: {len(body['findings'])} findings recorded", err=True)
        ctx.exit(exitcodes.OK)
    decision = decide(body["findings"], baseline, GatePolicy.from_config(config), snapshot_status=info.status,
                      gap_count=info.gap_count, today=dt.datetime.now(dt.timezone.utc).date())
    ctx.exit(_emit_gate(ctx, decision, info, body, fmt, output))


def _emit_gate(ctx: click.Context, decision: Any, info: SnapshotInfo, body: Mapping[str, Any], fmt: str,
               output: str | None, where: Mapping[str, str] | None = None) -> int:
    """Print a gate decision; return its exit code. ``where`` names the file location of a
    finding's subject (the pre-commit hook shows where to look)."""
    from .gate import BLOCKED, PASS
    from .report import render as render_report

    code = {PASS: exitcodes.OK, BLOCKED: exitcodes.GATE_BLOCKED}.get(decision.status, exitcodes.USAGE)
    if fmt == "json":
        emit(ctx, render.to_json({"snapshot": info.id, **decision.to_dict()}), output)
    elif fmt == "sarif":
        emit(ctx, render_report("sarif", {**body, "findings": list(decision.blocking)}), output)
    else:
        with console_for(output) as console:
            console.print(f"gate: {decision.status.upper()} (snapshot {info.id}): {decision.reason}")
            for f in decision.blocking:
                name = f.get("subject_name") or f["subject"]
                at = where.get(f["subject"]) if where else None
                at = f" at {at}" if at and at not in name else ""
                console.print(f"  BLOCK {f['severity']:<8} {f['rule']:<28} {name}{at}")
            for f, s in decision.expired:
                console.print(f"  suppression expired {s.expires}: {f['rule']} {f.get('subject_name')} ({s.reason})")
            console.print(f"  {len(decision.new)} new, {len(decision.baselined)} in the baseline, "
                          f"{len(decision.suppressed)} suppressed")
    return code


@main.command()
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
@click.option("--baseline", "baseline_path", type=click.Path(dir_okay=False), default=".agentreach-baseline.json",
              show_default=True, help="Known findings, suppressions and the repository's fingerprint salt.")
@click.option("--update-baseline", is_flag=True, help="Record every current finding (and a salt) and pass.")
@click.option("--all-files", is_flag=True, help="Every tracked file, not only the staged ones (adopting the hook).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "sarif"]), default="table", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False))
@click.pass_context
def precommit(ctx: click.Context, files: tuple[str, ...], baseline_path: str, update_baseline: bool, all_files: bool,
              fmt: str, output: str | None) -> None:
    """Pre-commit hook: scan the files a commit adds with the files connector and gate them.

    FILES are what pre-commit passes; with none, the staged blobs of the index are read.
    The baseline carries a fingerprint salt, so its fingerprints match on every clone.
    Exit 0 pass, 1 blocked, 2 could not decide (unreadable file, not a repository)."""
    import secrets as _secrets
    import tempfile

    from .gate import GatePolicy, decide, load_baseline, save_baseline
    from .precommit import HookError, copy_for_scan, repo_root, staged_files, tracked_files
    from .results import found_locations, snapshot_findings

    try:
        root = repo_root(Path.cwd())
        baseline = load_baseline(root / baseline_path if not Path(baseline_path).is_absolute() else baseline_path)
    except (HookError, ConfigError) as exc:
        raise Fail(str(exc)) from None
    salt = baseline.salt or _secrets.token_hex(16)
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
            raise Fail(str(exc)) from None
        db = Path(tmp) / "hook.db"
        Store(db, salt=salt)
        ctx.obj["db"] = str(db)
        config = _config(ctx, {"scan": {"connectors": ["files"]}, "store": {"path": str(db)},
                               "connectors": {"files": {"paths": [str(tree)], "all_files": True,
                                                        "git_history": False}}})
        quiet = ctx.obj["quiet"]
        ctx.obj["quiet"] = True
        result = do_scan(ctx, config, ["files"])
        ctx.obj["quiet"] = quiet
        store = open_store(ctx)
        info = result.snapshot
        body = snapshot_findings(store, info, config) if info.status == "complete" else {
            "findings": [], "rules": [], "summary": {}}
        if update_baseline:
            save_baseline(root / baseline_path, body["findings"], keep=baseline, salt=salt)
            click.echo(f"baseline {baseline_path}: {len(body['findings'])} findings recorded from "
                       f"{len(copied)} files", err=True)
            ctx.exit(exitcodes.OK)
        # where each secret is, relative to the repository (the copy's root is not shown)
        where = {cid: places[0] for cid, places in found_locations(store, info.id, with_root=False).items()}
        # A commit adds files, not identities: of the gate's rules only the secrets rules
        # (and any critical) apply; a file secret's ownerless finding would only double them.
        policy = GatePolicy.from_config(config)
        policy = dataclasses.replace(policy, block_rules=frozenset(r for r in policy.block_rules
                                                                   if r.startswith("AR-SECRET-")))
        decision = decide(body["findings"], baseline, policy, snapshot_status=info.status,
                          gap_count=info.gap_count, today=dt.datetime.now(dt.timezone.utc).date())
        if not quiet and fmt == "table":
            click.echo(f"agentreach: {len(copied)} staged file(s) scanned", err=True)
        ctx.exit(_emit_gate(ctx, decision, info, body, fmt, output, where))


@main.group()
def graph() -> None:
    """The reach graph for other tools."""


@graph.command("export")
@click.option("--format", "fmt", type=click.Choice(["graphml", "json", "cypher", "opengraph"]), required=True)
@click.option("--snapshot", type=int, help="Snapshot id (default: the latest completed).")
@click.option("--output", "-o", type=click.Path(dir_okay=False))
@click.pass_context
def graph_export(ctx: click.Context, fmt: str, snapshot: int | None, output: str | None) -> None:
    """Export the snapshot's graph: GraphML (Gephi, yEd), node-link JSON, Cypher for Neo4j,
    or BloodHound OpenGraph JSON."""
    from .graph.export import EXPORTERS

    _, _, loaded = _graph_for(ctx, snapshot)
    emit(ctx, EXPORTERS[fmt](loaded), output)


@main.command()
@click.option("--snapshot", type=int, help="Snapshot id (default: the latest completed).")
@click.option("--signals", "signals_file", type=click.Path(dir_okay=False),
              help="A YAML file of extra signals (overrides classifier.signals_file).")
@click.pass_context
def classify(ctx: click.Context, snapshot: int | None, signals_file: str | None) -> None:
    """Re-run the agent classifier on a stored snapshot (after changing signals or thresholds)."""
    config = _config(ctx, {"classifier": {"signals_file": signals_file}} if signals_file else None)
    store = open_store(ctx)
    info = pick_snapshot(store, snapshot)
    try:
        verdicts = classify_snapshot(store, info.id, config)
    except ConfigError as exc:
        raise Fail(str(exc)) from None
    counts = Counter(v.verdict for v in verdicts.values())
    click.echo(f"snapshot {info.id}: {counts['agent']} agent, {counts['possible']} possible, "
               f"{counts['none']} none")


@main.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False))
@click.pass_context
def snapshots(ctx: click.Context, fmt: str, output: str | None) -> None:
    """List the stored snapshots, oldest first."""
    store = open_store(ctx)
    infos = store.snapshots()
    if fmt == "json":
        emit(ctx, render.to_json({"snapshots": [s.to_dict() for s in infos]}), output)
    else:
        with console_for(output) as console:
            console.print(render.snapshots_table(infos))


@main.command()
@click.pass_context
def connectors(ctx: click.Context) -> None:
    """List installed connectors (entry-point group agentreach.connectors)."""
    for name, ep in sorted(discover_connectors().items()):
        click.echo(f"{name}\t{ep.value}")


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


if __name__ == "__main__":  # pragma: no cover
    main()
