"""Findings and what consumes them: ``findings``, ``report``, ``diff``, the CI ``gate`` and
the ``precommit`` hook."""

from __future__ import annotations

from typing import Any

import click
from rich.table import Table

from .. import app, render
from ..gate import DEFAULT_BASELINE
from ..order import SEVERITIES_DESC
from ..present import console_for, print_gate, write
from ..report import formats
from .base import session_command, snapshot_options
from .main import main


class FormatChoice(click.Choice):
    """The report formats of ``command`` (the core's and every plugin's), read when used."""

    def __init__(self, command: str, first: tuple[str, ...] = ()) -> None:
        self.command, self.first = command, first
        super().__init__([])

    @property  # type: ignore[override]
    def choices(self) -> tuple[str, ...]:
        return (*self.first, *(f for f in formats(self.command) if f not in self.first))

    @choices.setter
    def choices(self, _value: Any) -> None:
        pass


def findings_table(items: list[dict[str, Any]], snapshot_id: int) -> Table:
    table = Table(title=f"snapshot {snapshot_id}: {len(items)} findings", header_style="bold")
    for col in ("severity", "rule", "subject", "account", "why"):
        table.add_column(col, overflow="fold", no_wrap=col in ("severity", "rule"))
    for f in items:
        table.add_row(f["severity"], f["rule"], f.get("subject_name") or f["subject"], f.get("account") or "-",
                      (f.get("evidence") or [f["title"]])[0])
    return table


@main.command()
@click.option("--severity", "severities", multiple=True, type=click.Choice(list(SEVERITIES_DESC)),
              help="Only these severities.")
@click.option("--rule", "rules", multiple=True, help="Only these rule ids (repeatable).")
@click.option("--provider", help="Only findings on objects of this provider.")
@click.option("--account", help="Only findings in this account, subscription or project.")
@click.option("--agents-only", is_flag=True, help="Only findings whose subject is an agent or possible agent.")
@click.option("--recompute", is_flag=True,
              help="Re-evaluate the rules of today on this snapshot (after a rule or threshold changed) and keep "
                   "the result; without it, the findings kept when the snapshot was scanned.")
@click.option("--snapshot", type=int, help="Snapshot id (default: the latest completed).")
@click.option("--format", "fmt", type=FormatChoice("findings", ("table",)), default="table", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the result here instead of stdout.")
@session_command
def findings(session: app.Session, severities: tuple[str, ...], rules: tuple[str, ...], provider: str | None,
             account: str | None, agents_only: bool, recompute: bool, snapshot: int | None, fmt: str,
             output: str | None) -> None:
    """Findings of a snapshot: ownerless, orphaned and stale agent credentials, agents
    reaching crown jewels, risky trusts; each with evidence, path and framework mapping."""
    from ..report import render as render_report

    config = session.config()
    store = session.store(config)
    info = app.pick_snapshot(store, snapshot)
    only = app.FindingsFilter(frozenset(severities), frozenset(rules), provider, account, agents_only)
    body = app.findings(store, info, config, recompute=recompute, only=only)
    if fmt == "table":
        with console_for(output) as console:
            console.print(findings_table(body["findings"], info.id))
            for r in body["rules"]:
                if r["status"] == "skipped":
                    console.print(f"  skipped {r['rule']}: {r['note']}")
        return
    write(render_report(fmt, body), output, quiet=session.quiet)


@main.command()
@click.option("--format", "fmt", type=FormatChoice("report", ("md",)), default="md", show_default=True)
@click.option("--snapshot", type=int, help="Snapshot id (default: the latest completed).")
@click.option("--output", "-o", type=click.Path(dir_okay=False), help="Write the report here instead of stdout.")
@session_command
def report(session: app.Session, fmt: str, snapshot: int | None, output: str | None) -> None:
    """The report of a snapshot: summary, coverage gaps, findings by severity with evidence,
    remediation and reach paths. HTML is one self-contained file."""
    config = session.config()
    store = session.store(config)
    write(app.report(store, app.pick_snapshot(store, snapshot), config, fmt), output, quiet=session.quiet)


@main.command()
@click.argument("a", type=int, required=False)
@click.argument("b", type=int, required=False)
@click.option("--format", "fmt", type=click.Choice(["table", "json", "md"]), default="table", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False))
@session_command
def diff(session: app.Session, a: int | None, b: int | None, fmt: str, output: str | None) -> None:
    """What changed between snapshots A and B (default: the last two completed): new,
    removed and changed objects, new and resolved findings."""
    from ..diff import diff_markdown

    config = session.config()
    result = app.diff(session.store(config), a, b, config)
    if fmt == "json":
        write(render.to_json(result.to_dict()), output, quiet=session.quiet)
    elif fmt == "md":
        write(diff_markdown(result) + "\n", output, quiet=session.quiet)
    else:
        with console_for(output) as console:
            console.print(diff_markdown(result))


def _emit_gate(session: app.Session, outcome: app.GateOutcome, fmt: str, output: str | None) -> int:
    """Print a gate decision; return its exit code."""
    from ..report import render as render_report

    decision, info, body = outcome.decision, outcome.info, outcome.body
    if fmt == "json":
        write(render.to_json({"snapshot": info.id, **decision.to_dict()}), output, quiet=session.quiet)
    elif fmt == "sarif":
        write(render_report("sarif", {**body, "findings": list(decision.blocking)}), output, quiet=session.quiet)
    else:
        with console_for(output) as console:
            print_gate(console, decision, info, outcome.where)
    return outcome.code


@main.command()
@click.option("--baseline", "baseline_path", type=click.Path(dir_okay=False),
              help="Known findings and suppressions, and the secret-id scheme a --scan names secrets with "
                   "(default: gate.baseline, .agentreach-baseline.json).")
@click.option("--update-baseline", is_flag=True, help="Write every current finding into the baseline and pass.")
@click.option("--scan", "fresh", is_flag=True, help="Run a scan first (with --config) instead of reading a snapshot.")
@snapshot_options(["table", "json", "sarif"])
@session_command
def gate(session: app.Session, baseline_path: str | None, update_baseline: bool, fresh: bool, snapshot: int | None,
         fmt: str, output: str | None) -> None:
    """CI gate: exit 1 on new findings the gate policy blocks (config gate:), 0 when none,
    2 when the scan was incomplete or failed (never a silent pass).

    With --scan, the scan names secrets under the baseline's own scheme, so a fresh runner's
    store finds the committed secrets known."""
    config = session.config({"gate": {"baseline": baseline_path}} if baseline_path else None)
    baseline_path = str((config.get("gate") or {}).get("baseline") or DEFAULT_BASELINE)
    ctx = click.get_current_context()
    if fresh:
        plan = app.plan_scan(config)
        store = session.store(config, create=True)
        snapshot = app.scan(store, config, plan).snapshot.id
    store = session.store(config)
    info = app.pick_snapshot(store, snapshot) if snapshot is not None else app.latest_any(store)
    outcome = app.gate(store, info, config, baseline_path, update_baseline=update_baseline)
    if update_baseline:
        click.echo(f"baseline {baseline_path}: {outcome.recorded} findings recorded", err=True)
        ctx.exit(outcome.code)
    ctx.exit(_emit_gate(session, outcome, fmt, output))


@main.command()
@click.argument("files", nargs=-1, type=click.Path(dir_okay=False))
@click.option("--baseline", "baseline_path", type=click.Path(dir_okay=False), default=DEFAULT_BASELINE,
              show_default=True, help="Known findings, suppressions and the repository's secret-id scheme.")
@click.option("--update-baseline", is_flag=True, help="Record every current finding (and the scheme) and pass.")
@click.option("--all-files", is_flag=True, help="Every tracked file, not only the staged ones (adopting the hook).")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "sarif"]), default="table", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False))
@session_command
def precommit(session: app.Session, files: tuple[str, ...], baseline_path: str, update_baseline: bool,
              all_files: bool, fmt: str, output: str | None) -> None:
    """Pre-commit hook: scan the files a commit adds with the files connector and gate them.

    FILES are what pre-commit passes; with none, the staged blobs of the index are read.
    The baseline carries the secret-id scheme (scrypt salt and cost), so its fingerprints
    match on every clone and a guessed value costs one scrypt to confirm.
    Exit 0 pass, 1 blocked, 2 could not decide (unreadable file, not a repository)."""
    ctx = click.get_current_context()
    outcome = app.precommit(session, files, baseline_path, all_files=all_files, update_baseline=update_baseline)
    if update_baseline:
        click.echo(f"baseline {baseline_path}: {outcome.recorded} findings recorded from "
                   f"{outcome.scanned_files} files", err=True)
        ctx.exit(outcome.code)
    if not session.quiet and fmt == "table":
        click.echo(f"agentreach: {outcome.scanned_files} staged file(s) scanned", err=True)
    ctx.exit(_emit_gate(session, outcome, fmt, output))


