"""``agentreach scan``: its own options, and those every installed connector declares."""

from __future__ import annotations

import sys
from typing import Any

import click

from .. import app, render
from ..plugins import CliOption
from ..present import console_for, print_scan, progress_reporter, scan_summary, write
from .base import csv_list, session_command
from .main import main


def _click_option(opt: CliOption) -> click.Option:
    kinds: dict[str, dict[str, Any]] = {
        "text": {"type": click.STRING},
        "csv": {"type": click.STRING},
        "int": {"type": click.INT},
        "flag": {"is_flag": True, "default": None},
        "path": {"multiple": True, "type": click.Path(exists=True, file_okay=False)},
    }
    return click.Option([opt.flag, opt.dest], help=opt.help, **kinds[opt.kind])


class ConnectorOptionsCommand(click.Command):
    """A command whose options also include every ``scan`` option the plugins declare, read
    from the registry when the command runs, so an installed connector's flags need no
    change here."""

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        params = super().get_params(ctx)
        extra = [_click_option(opt) for _plugin, opt in app.scan_options()]
        return params[:-1] + extra + params[-1:]  # keep --help last


@main.command(cls=ConnectorOptionsCommand)
@click.option("--only", help="Comma-separated connectors to run (default: scan.connectors from config).")
@click.option("--reviewed", "reviewed_file", type=click.Path(dir_okay=False),
              help="The reviewed agents file (triage decisions; default: review.file).")
@click.option("--baseline", "baseline_path", type=click.Path(dir_okay=False),
              help="The baseline whose secret-id scheme names found secrets, so that the gate on this "
                   "snapshot matches it (default: gate.baseline).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the result here instead of stdout.")
@click.option("--run", "run_name", metavar="NAME",
              help="Write into the sharded run NAME (one snapshot for every shard); needs --shard.")
@click.option("--shard", metavar="DIMENSION=V1,V2",
              help="This worker's shard of --run: accounts=…, subscriptions=…, projects=… or paths=…; "
                   "only that dimension's connector runs.")
@click.option("--expect", type=click.IntRange(min=1), metavar="N",
              help="With --run: the run has N shards (the first worker opens it; no 'run start' needed).")
@session_command
def scan(session: app.Session, only: str | None, reviewed_file: str | None, baseline_path: str | None, fmt: str,
         output: str | None,
         run_name: str | None, shard: str | None, expect: int | None, **connector_options: Any) -> None:
    """Run the connectors and store a snapshot.

    Exit 0 when clean, 3 when it completed with coverage gaps, 4 when it failed. With --run
    and --shard, scan one shard into a sharded run (see 'agentreach run --help')."""
    overrides = app.scan_overrides(connector_options)
    if reviewed_file:
        overrides["review"] = {"file": reviewed_file}
    if baseline_path:
        overrides["gate"] = {"baseline": baseline_path}
    if run_name is not None or shard is not None or expect is not None:
        from .run import scan_shard

        scan_shard(session, run_name, shard, expect, only, fmt, output, overrides)
        return
    config = session.config(overrides)
    plan = app.plan_scan(config, csv_list(only))
    store = session.store(config, create=True)
    with progress_reporter(not session.quiet and sys.stderr.isatty()) as progress:
        result = app.scan(store, config, plan, progress=progress)
    if fmt == "json":
        write(render.to_json(scan_summary(result, store)), output, quiet=session.quiet)
    else:
        with console_for(output) as console:
            print_scan(console, result, store)
    click.get_current_context().exit(result.exit_code)
