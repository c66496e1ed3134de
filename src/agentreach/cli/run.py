"""Sharded runs on the command line: ``agentreach run start|status|list``, ``agentreach
finalize NAME``, and ``scan --run NAME --shard DIMENSION=VALUES`` (the worker's side, called
from the ``scan`` command). Parsing and presentation only; :mod:`agentreach.runs` does it."""

from __future__ import annotations

import sys
from typing import Any, Mapping

import click

from .. import app, exitcodes, render, runs
from ..present import console_for, print_scan, progress_reporter, scan_summary, write
from ..store import Store
from .base import Fail, session_command
from .main import main

FORMATS = click.Choice(["table", "json"])


@main.group("run")
def run_group() -> None:
    """Sharded runs: many workers, one snapshot (PostgreSQL store for concurrent workers)."""


@run_group.command("start")
@click.argument("name")
@click.option("--shard", "shards", multiple=True, metavar="DIMENSION=V1,V2",
              help="Announce a shard (repeatable): accounts=…, subscriptions=…, projects=…, paths=….")
@click.option("--expect", type=click.IntRange(min=1), metavar="N",
              help="The run has N shards (at least the announced ones; the others name themselves).")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@session_command
def run_start(session: app.Session, name: str, shards: tuple[str, ...], expect: int | None, fmt: str) -> None:
    """Open run NAME and announce its shards; workers then run 'scan --run NAME --shard …'."""
    parsed = [runs.parse_shard(s) for s in shards]
    config = session.config()
    store = session.store(config, create=True)
    info = runs.start(store, name, parsed, config, expect=expect)
    if fmt == "json":
        write(render.to_json({"run": info.to_dict(), "shards": [s.to_dict() for s in store.run_shards(name)]}),
              None, quiet=session.quiet)
    else:
        click.echo(f"run {name}: snapshot {info.snapshot_id}, waiting for {info.expected} shard(s)")
        for s in parsed:
            click.echo(f"  {s.key} ({s.connector})")


@run_group.command("status")
@click.argument("name")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@session_command
def run_status(session: app.Session, name: str, fmt: str) -> None:
    """Each shard of run NAME: announced, running, complete or failed, with its gaps."""
    store = session.store()
    info = store.run(name)
    if info is None:
        raise Fail(f"no run {name!r} (see 'agentreach run list')", exitcodes.NOT_FOUND)
    shards = store.run_shards(name)
    waiting = runs.outstanding(info, shards) if info.status == "running" else []
    if fmt == "json":
        write(render.to_json({"run": info.to_dict(), "shards": [s.to_dict() for s in shards],
                              "waiting_for": waiting}), None, quiet=session.quiet)
        return
    _print_run(info, shards, waiting)


@run_group.command("list")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@session_command
def run_list(session: app.Session, fmt: str) -> None:
    """Every run in the store, oldest first."""
    store = session.store()
    found = store.runs()
    if fmt == "json":
        write(render.to_json({"runs": [r.to_dict() for r in found]}), None, quiet=session.quiet)
        return
    for r in found:
        click.echo(f"{r.name}: snapshot {r.snapshot_id}, {r.status}, {r.expected} shard(s)")


@main.command("finalize")
@click.argument("name")
@click.option("--take-over", is_flag=True, help="Finalize a run whose finalizer died half-way.")
@click.option("--if-running", is_flag=True,
              help="A run already finalized (by its last shard) is not an error: report its snapshot's outcome.")
@click.option("--format", "fmt", type=FORMATS, default="table", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the result here instead of stdout.")
@session_command
def finalize(session: app.Session, name: str, take_over: bool, if_running: bool, fmt: str,
             output: str | None) -> None:
    """Complete run NAME now: reach, verdicts and findings over every shard's records; a
    shard that failed or never reported is a coverage gap naming it.

    Exit 0 when clean, 3 with coverage gaps (missing shards among them), 4 when no shard
    saw anything."""
    config = session.config()
    store = session.store(config)
    info = store.run(name)
    if if_running and info is not None and info.status in runs.DONE:
        snap = store.snapshot(info.snapshot_id)
        assert snap is not None
        code = exitcodes.FAILED if snap.status != "complete" else exitcodes.GAPS if snap.gap_count else exitcodes.OK
        if fmt == "json":
            write(render.to_json({"run": info.to_dict(), "snapshot": snap.to_dict(), "exit_code": code}), output,
                  quiet=session.quiet)
        else:
            click.echo(f"run {name} was already finalized by {info.finalized_by}: snapshot {snap.id} {snap.status}, "
                       f"{snap.gap_count} coverage gaps")
        click.get_current_context().exit(code)
    result = runs.finalize(store, config, name, take_over=take_over)
    assert result is not None  # not auto: a run another caller holds is an error above
    _print_result(store, result, fmt, output, session.quiet)
    click.get_current_context().exit(result.exit_code)


def scan_shard(session: app.Session, run_name: str | None, shard_text: str | None, expect: int | None,
               only: str | None, fmt: str, output: str | None, overrides: Mapping[str, Any]) -> None:
    """``scan --run NAME --shard DIMENSION=VALUES [--expect N]``: one worker's shard."""
    if not run_name or not shard_text:
        raise Fail("--run NAME and --shard DIMENSION=VALUES go together (--expect N with them)")
    if only:
        raise Fail("--only does not go with --shard: the shard's dimension picks its connector")
    shard = runs.parse_shard(shard_text)
    config = session.config(runs.shard_config_overrides(shard, overrides))
    store = session.store(config, create=True)
    with progress_reporter(not session.quiet and sys.stderr.isatty()) as progress:
        outcome = runs.run_shard(store, config, run_name, shard, expect=expect, progress=progress)
    if fmt == "json":
        body = outcome.to_dict()
        if outcome.finalized is not None:
            body["finalized"] = scan_summary(outcome.finalized, store)
        write(render.to_json(body), output, quiet=session.quiet)
    else:
        s = outcome.shard
        with console_for(output) as console:
            console.print(f"run {run_name}: shard {s.shard} ({s.connector}) {s.status}: {s.nodes} objects, "
                          f"{s.edges} edges, {len(s.gaps)} coverage gaps, {sum(s.api_calls.values())} API calls")
            if outcome.finalized is not None:
                console.print(f"run {run_name}: every shard reported; finalized by this worker")
                print_scan(console, outcome.finalized, store)
            elif outcome.waiting_for:
                console.print(f"run {run_name}: waiting for {', '.join(outcome.waiting_for)}")
    click.get_current_context().exit(outcome.exit_code)


def _print_run(info: Any, shards: list[Any], waiting: list[str]) -> None:
    click.echo(f"run {info.name}: snapshot {info.snapshot_id}, {info.status}, {len(shards)} of {info.expected} "
               "shard(s) known" + (f", finalized by {info.finalized_by}" if info.finalized_by else ""))
    for s in shards:
        where = f" on {s.worker}" if s.worker else ""
        click.echo(f"  {s.shard} ({s.connector}): {s.status}{where}, {s.nodes} objects, {s.edges} edges, "
                   f"{len(s.gaps)} gaps" + (f": {s.error}" if s.error else ""))
    if waiting:
        click.echo(f"  waiting for: {', '.join(waiting)}")


def _print_result(store: Store, result: Any, fmt: str, output: str | None, quiet: bool) -> None:
    if fmt == "json":
        write(render.to_json(scan_summary(result, store)), output, quiet=quiet)
        return
    with console_for(output) as console:
        print_scan(console, result, store)
