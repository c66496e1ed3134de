"""Presentation helpers every front end shares (the CLI, the demo, a plugin's command):
where output goes, a rich console that prints source names literally and never lets a
control character through, progress bars, and the human form of a scan's and a gate's
result. No computation happens here."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Mapping

import click
from rich.console import Console, ConsoleOptions, RenderResult
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.text import Text

from . import render
from .connector import NullProgress, ProgressReporter, ProgressTask
from .scan import ScanResult
from .store import SnapshotInfo, Store
from .textsafe import escape, escape_keeping_lines

# Names come from the sources (an Entra app's display name, a file path) and may hold
# "[...]" or ":secret:": rich must print them as they are, never as markup or emoji.
PLAIN: dict[str, Any] = {"markup": False, "emoji": False}


class SafeConsole(Console):
    """A console no control character gets through (textsafe: ``\x1b`` shown, not obeyed).

    Every string it renders passes through here: a string printed at the top level keeps
    its newlines (our own layout; each value in it was escaped when the line was composed),
    a string inside a renderable (a table cell, a title) has its newlines escaped too, so a
    name holding one cannot add a line. Text objects are the caller's to build from escaped
    values (:mod:`agentreach.render` does)."""

    def render_str(self, text: str, **kwargs: Any) -> Text:
        return super().render_str(escape_keeping_lines(text), **kwargs)

    def render(self, renderable: Any, options: ConsoleOptions | None = None) -> RenderResult:
        return super().render(escape(renderable) if isinstance(renderable, str) else renderable, options)


def write(text: str, output: str | None, *, quiet: bool = False) -> None:
    """``text`` to ``output`` (a file, byte for byte: each format escapes what it must) or
    stdout; on a terminal, control characters are shown escaped whatever the format, so a
    report printed there can never drive the terminal. A note on stderr says where it went."""
    if output:
        Path(output).write_text(text, encoding="utf-8")
        if not quiet:
            click.echo(f"wrote {output}", err=True)
    else:
        click.echo(escape_keeping_lines(text) if _is_terminal(sys.stdout) else text, nl=False)


def _is_terminal(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


@contextmanager
def console_for(output: str | None, width: int = 240) -> Iterator[Console]:
    """A rich console on stdout, or on the file given with --output (closed afterwards).
    A terminal gets its own width; a pipe or a file gets ``width`` so rows do not wrap."""
    if not output:
        yield SafeConsole(file=sys.stdout, width=None if sys.stdout.isatty() else width, **PLAIN)
        return
    with open(output, "w", encoding="utf-8") as fh:
        yield SafeConsole(file=fh, width=width, **PLAIN)


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


class _RichProgress:
    def __init__(self, progress: Progress) -> None:
        self._progress = progress

    def task(self, label: str, total: int | None = None) -> ProgressTask:
        return _RichTask(self._progress, escape(label), total)  # labels name accounts and folders


@contextmanager
def progress_reporter(enabled: bool) -> Iterator[ProgressReporter]:
    """Progress bars on stderr when ``enabled`` (a terminal, not --quiet); else nothing."""
    if not enabled:
        yield NullProgress()
        return
    with Progress(SpinnerColumn(), TextColumn("{task.description}", markup=False), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=SafeConsole(stderr=True, **PLAIN), transient=False) as progress:
        yield _RichProgress(progress)


def scan_summary(result: ScanResult, store: Store) -> dict[str, Any]:
    """The scan's JSON: the snapshot, each connector's run, the gaps, and the leaked keys that are live."""
    from .results import leaked_live

    live = leaked_live(store, result.snapshot.id) if result.snapshot.status == "complete" else []
    return {**result.summary(), "leaked_live": live}


def print_scan(console: Console, result: ScanResult, store: Store) -> None:
    snap = result.snapshot
    console.print(f"snapshot {snap.id}: {snap.status}, {snap.node_count} objects, {snap.edge_count} edges, "
                  f"{snap.gap_count} coverage gaps")
    for run in result.runs:
        calls = sum(run.api_calls.values())
        state = f"FAILED ({escape(run.error)})" if run.failed else "ok"
        console.print(f"  {escape(run.name)} {escape(run.version)}: {run.nodes} objects, {run.edges} edges, "
                      f"{calls} API calls, {state}")
        if run.summary_line:
            console.print(f"    {escape(run.summary_line)}")
    if snap.status == "complete":
        derived = store.edges(snap.id, kinds=["can_assume", "can_access"])
        console.print(f"  reach: {len(derived)} can_assume / can_access edges evaluated from the policies")
    if result.gaps:
        console.print(render.gaps_table([g.to_dict() for g in result.gaps]))
    for item in scan_summary(result, store)["leaked_live"]:  # the most serious thing we report: never let it scroll
        who = f" of {', '.join(map(escape, item['identities']))}" if item["identities"] else ""
        name = escape(item["name"])
        if item.get("kind") == "system":
            console.print(f"LEAKED AND LIVE: the current value of the {escape(item['type'])} {name} is written in "
                          f"{', '.join(map(escape, item['locations']))}. Rotate it now; 'agentreach who-can-reach "
                          f"{name}' shows who else holds it.", style="bold red")
            continue
        console.print(f"LEAKED AND LIVE: the active {escape(item['type'])} {name}{who} is written in "
                      f"{', '.join(map(escape, item['locations']))}. Deactivate it now; 'agentreach reach {name}' "
                      "shows what it unlocks.", style="bold red")


def print_gate(console: Console, decision: Any, info: SnapshotInfo, where: Mapping[str, str] | None = None) -> None:
    """A gate decision for people; ``where`` names the file location of a finding's subject."""
    # Names and paths come from the estate and the repository: one with a newline must not
    # add a line of its own (a forged "gate: PASS"), one with an escape must not drive the terminal.
    console.print(f"gate: {decision.status.upper()} (snapshot {info.id}): {escape(decision.reason)}")
    for f in decision.blocking:
        name = f.get("subject_name") or f["subject"]
        at = where.get(f["subject"]) if where else None
        at = f" at {escape(at)}" if at and at not in name else ""
        console.print(f"  BLOCK {escape(f['severity']):<8} {escape(f['rule']):<28} {escape(name)}{at}")
    for f, s in decision.expired:
        console.print(f"  suppression expired {s.expires}: {escape(f['rule'])} {escape(f.get('subject_name'))} "
                      f"({escape(s.reason)})")
    console.print(f"  {len(decision.new)} new, {len(decision.baselined)} in the baseline, "
                  f"{len(decision.suppressed)} suppressed")
