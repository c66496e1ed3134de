"""What a snapshot holds: ``inventory``, ``show``, ``explain``, ``snapshots``, ``connectors``,
and ``classify`` to re-run the agent classifier on a stored snapshot."""

from __future__ import annotations

import sys
from collections import Counter
from typing import Any

import click

from .. import app, render
from ..config import ConfigError
from ..connector import discover_connectors
from ..model import NodeKind
from ..present import console_for, write
from .base import Fail, session_command, snapshot_options
from .main import main

IDENTITY_AND_CREDENTIAL = ("identity", "credential")


@main.command()
@click.option("--kind", "kinds", multiple=True,
              type=click.Choice([k.value for k in NodeKind] + ["all"]),
              help="Object kinds to list (repeatable). Default: identity and credential.")
@click.option("--type", "types", multiple=True, help="Object types, e.g. aws_access_key (repeatable).")
@click.option("--provider", help="aws, azure, gcp, files …")
@click.option("--account", help="Account, subscription or project id.")
@click.option("--agents", is_flag=True, help="Only objects whose agent verdict is agent or possible.")
@click.option("--review", is_flag=True,
              help="Only possible verdicts, strongest first: what waits for a person's triage (agentreach triage).")
@click.option("--verdict", "verdicts", multiple=True, type=click.Choice(["agent", "possible", "none"]),
              help="Only objects with this agent verdict (repeatable).")
@click.option("--reach/--no-reach", "with_reach", default=None,
              help="Add what each object reaches (default: on with --agents or --verdict).")
@snapshot_options(["table", "json", "csv"])
@session_command
def inventory(session: app.Session, kinds: tuple[str, ...], types: tuple[str, ...], provider: str | None,
              account: str | None, agents: bool, review: bool, verdicts: tuple[str, ...], with_reach: bool | None,
              snapshot: int | None, fmt: str, output: str | None) -> None:
    """Identities and credentials (or any kind) of a snapshot, with their agent verdicts,
    owners, age, last use, expiry and (for agents) what they reach."""
    store = session.store()
    info = app.pick_snapshot(store, snapshot)
    wanted = None if "all" in kinds else (kinds or IDENTITY_AND_CREDENTIAL)
    keep = {"possible"} if review else set(verdicts) | ({"agent", "possible"} if agents else set())
    rows = app.inventory(store, info, kinds=wanted, types=types, provider=provider, account=account, verdicts=keep,
                         with_reach=with_reach if with_reach is not None else bool(keep))
    if fmt == "json":
        write(render.to_json({"snapshot": info.id, "objects": rows}), output, quiet=session.quiet)
    elif fmt == "csv":
        write(render.inventory_csv(rows), output, quiet=session.quiet)
    else:
        title = (f"snapshot {info.id}: {len(rows)} possible agent verdicts to triage, strongest first "
                 "(agentreach triage ID --agent|--not-agent --reason TEXT)") if review else \
            f"snapshot {info.id}: {len(rows)} objects"
        with console_for(output) as console:
            console.print(render.inventory_table(rows, info.finished_at or info.started_at, title))


@main.command()
@click.argument("ref")
@snapshot_options(["table", "json"])
@session_command
def show(session: app.Session, ref: str, snapshot: int | None, fmt: str, output: str | None) -> None:
    """One object with all its attributes and edges. REF is an id, ARN, access key id,
    key name, object id, email or name."""
    store = session.store()
    info = app.pick_snapshot(store, snapshot)
    obj = app.resolve(store, info, ref, stdin=sys.stdin)
    edges = app.edges_of(store, info, obj["id"])
    if fmt == "json":
        write(render.to_json({"snapshot": info.id, "object": obj, "edges": edges}), output, quiet=session.quiet)
    else:
        with console_for(output) as console:
            render.show_text(console, obj, edges)


@main.command()
@click.argument("ref")
@snapshot_options(["table", "json"])
@session_command
def explain(session: app.Session, ref: str, snapshot: int | None, fmt: str, output: str | None) -> None:
    """Why an identity or credential got its agent verdict: every signal for and against
    it, where it matched, and how the score adds up."""
    from ..classify import Thresholds

    store = session.store()
    info = app.pick_snapshot(store, snapshot)
    obj = app.resolve(store, info, ref, stdin=sys.stdin)
    if fmt == "json":
        keys = ("id", "kind", "type", "provider", "name", "native_id", "account", "agent")
        write(render.to_json({"snapshot": info.id, **{k: obj.get(k) for k in keys}}), output, quiet=session.quiet)
        return
    thresholds = Thresholds.from_config(session.config().get("classifier"))
    with console_for(output) as console:
        render.explain_text(console, obj, {"prior": thresholds.prior, "agent": thresholds.agent,
                                           "possible": thresholds.possible})


@main.command()
@click.option("--snapshot", type=int, help="Snapshot id (default: the latest completed).")
@click.option("--signals", "signals_file", type=click.Path(dir_okay=False),
              help="A YAML file of extra signals (overrides classifier.signals_file).")
@click.option("--reviewed", "reviewed_file", type=click.Path(dir_okay=False),
              help="The reviewed agents file (triage decisions, profiles; default: review.file).")
@session_command
def classify(session: app.Session, snapshot: int | None, signals_file: str | None, reviewed_file: str | None) -> None:
    """Re-run the agent classifier on a stored snapshot (after changing signals, thresholds or
    triage decisions), and store the reviewed file's approved profiles with it (then
    ``findings --recompute`` judges the snapshot against them)."""
    from ..classify import classify_snapshot

    overrides: dict[str, Any] = {}
    if signals_file:
        overrides["classifier"] = {"signals_file": signals_file}
    if reviewed_file:
        overrides["review"] = {"file": reviewed_file}
    config = session.config(overrides or None)
    store = session.store()
    info = app.pick_snapshot(store, snapshot)
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
@session_command
def snapshots(session: app.Session, fmt: str, output: str | None) -> None:
    """List the stored snapshots, oldest first."""
    infos = session.store().snapshots()
    if fmt == "json":
        write(render.to_json({"snapshots": [s.to_dict() for s in infos]}), output, quiet=session.quiet)
    else:
        with console_for(output) as console:
            console.print(render.snapshots_table(infos))


@main.command()
@session_command
def connectors(session: app.Session) -> None:
    """List installed connectors (entry-point group agentreach.connectors)."""
    for name, ep in sorted(discover_connectors().items()):
        click.echo(f"{name}\t{ep.value}")
