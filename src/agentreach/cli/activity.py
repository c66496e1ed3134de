"""``agentreach activity ID``: what a key, identity or agent was seen doing, from the stored
snapshot's activity aggregates (collected with ``scan --activity``).

The responder's question is "did the leaked key actually read the bucket?": each row is one
action on one resource with its outcome, how often, first and last seen, and from which
addresses and user agents. A credential answers for its own calls only; an identity for all
of its calls (whatever key or session made them); a workload (a Lambda function, a Bedrock
agent) for the identities it runs as. An access key id that the inventory does not hold (a
key of another account, a deleted key) is still looked up in the activity by its id.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from typing import Any, Sequence

import click
from rich.table import Table

from .. import app, render
from ..activity import ActivityAggregate, aggregates_for, resource_matches, window_start
from ..app import AppError
from ..present import console_for, write
from .base import Fail, session_command, snapshot_options
from .main import main

FROM_KEYS = ("id", "kind", "type", "name", "native_id", "account")
CSV_COLUMNS = ("subject", "identity", "credential", "action", "resource", "outcome", "count", "first_seen",
               "last_seen", "source", "source_ips", "user_agents", "error_codes")
_KEY_ID = re.compile(r"^(AKIA|ASIA)[A-Z0-9]{12,}$")


def _subjects(store: Any, info: Any, obj: dict[str, Any]) -> tuple[list[str], bool]:
    """The ids whose activity answers for ``obj``, and whether only calls that named the
    credential itself count."""
    if obj.get("kind") == "credential":
        return [obj["id"]], True
    if obj.get("kind") == "workload":
        runs_as = [e["dst"] for e in store.edges(info.id, touching=obj["id"], kinds=["runs_as"])
                   if e["src"] == obj["id"]]
        return runs_as, False
    return [obj["id"]], False


def _resolve(store: Any, info: Any, ref: str) -> dict[str, Any]:
    try:
        return app.resolve(store, info, ref, stdin=sys.stdin)
    except AppError:
        if _KEY_ID.match(ref.strip()):
            key = ref.strip()
            return {"id": f"aws:access_key:{key}", "kind": "credential", "type": "aws_access_key", "name": key,
                    "native_id": key, "account": None, "in_inventory": False}
        raise


def _system(store: Any, info: Any, system: str | None) -> tuple[str | None, dict[str, Any] | None]:
    """The native id (ARN) to filter resources by, and the system's JSON where it resolved."""
    if not system:
        return None, None
    try:
        obj = app.resolve(store, info, system, stdin=None)
    except AppError:
        if system.startswith("arn:") or "/" in system:
            return system, None  # a resource the inventory does not hold can still have been touched
        raise
    return obj.get("native_id") or obj["id"], obj


def rows_for(aggregates: Sequence[ActivityAggregate], subjects: Sequence[str], own_calls: bool,
             system: str | None) -> list[ActivityAggregate]:
    """Pure: the aggregates that answer for the subjects (a credential's own calls only),
    on the system when one is given, most recent first."""
    wanted = set(subjects)
    keep = [a for a in aggregates
            if ((a.credential in wanted) if own_calls else (a.identity in wanted or a.credential in wanted))
            and (system is None or resource_matches(a.resource, system))]
    return sorted(keep, key=lambda a: (-a.last_seen.timestamp(), a.action, a.resource, a.outcome, a.source))


def _csv(rows: Sequence[ActivityAggregate]) -> str:
    from ..report.csv import write_csv

    cells = []
    for a in rows:
        d = a.to_dict()
        cells.append({k: ";".join(d[k]) if isinstance(d.get(k), list) else ("" if d.get(k) is None else str(d[k]))
                      for k in CSV_COLUMNS if k != "subject"} | {"subject": a.subject})
    return write_csv(CSV_COLUMNS, cells)


def _md(obj: dict[str, Any], rows: Sequence[ActivityAggregate], since: dt.datetime, system: str | None) -> str:
    from ..report.md import code, text

    lines = [f"# Activity of {code(obj.get('name'))} since {since.date().isoformat()}", ""]
    if system:
        lines += [f"On {code(system)} only.", ""]
    if not rows:
        return "\n".join(lines + ["No activity recorded in the window.", ""])
    lines += ["| action | resource | outcome | count | first seen | last seen | by | source |",
              "| --- | --- | --- | ---: | --- | --- | --- | --- |"]
    for a in rows:
        lines.append(f"| {code(a.action)} | {code(a.resource or '(none)')} | {text(a.outcome)} | "
                     f"{a.count or '—'} | {render.iso(a.first_seen)} | {render.iso(a.last_seen)} | "
                     f"{code(a.subject)} | {text(a.source)} |")
    return "\n".join(lines) + "\n"


def _table(obj: dict[str, Any], rows: Sequence[ActivityAggregate], since: dt.datetime) -> Table:
    table = Table(title=f"what {obj.get('name')} did since {since.date().isoformat()} ({len(rows)} actions)",
                  header_style="bold")
    for col in ("action", "resource", "outcome", "count", "first seen", "last seen", "from", "user agent", "source"):
        table.add_column(col, overflow="fold")
    for a in rows:
        table.add_row(a.action, a.resource or "-", a.outcome, str(a.count) if a.count else "-",
                      render.iso(a.first_seen) or "", render.iso(a.last_seen) or "",
                      ", ".join(a.source_ips[:3]) + ("…" if len(a.source_ips) > 3 else ""),
                      a.user_agents[0] if a.user_agents else "", a.source)
    return table


@main.command()
@click.argument("ref")
@click.option("--since", "since_text", metavar="WHEN", default="90d", show_default=True,
              help="How far back: a duration (90d, 12h, 2w) or an ISO date.")
@click.option("--system", metavar="SYSTEM", help="Only activity on this system (ARN, name or id).")
@click.option("--outcome", type=click.Choice(["success", "denied", "error"]), help="Only calls with this outcome.")
@snapshot_options(["table", "json", "md", "csv"])
@session_command
def activity(session: app.Session, ref: str, since_text: str, system: str | None, outcome: str | None,
             snapshot: int | None, fmt: str, output: str | None) -> None:
    """What a credential, identity or agent did: each action and resource with its outcome,
    count, first and last seen, addresses and user agents (from scan --activity). REF is an
    access key id, ARN, name or id; --system narrows to one system ("did the leaked key read
    the bucket?")."""
    store = session.store()
    info = app.pick_snapshot(store, snapshot)
    try:
        since = window_start(dt.datetime.now(dt.timezone.utc), since_text)
    except ValueError as exc:
        raise Fail(str(exc)) from None
    obj = _resolve(store, info, ref)
    resource, system_obj = _system(store, info, system)
    subjects, own_calls = _subjects(store, info, obj)
    found = aggregates_for(store, subjects, since, snapshot_id=info.id, outcome=outcome) if subjects else []
    rows = rows_for(found, subjects, own_calls, resource)
    if not rows and not session.quiet and not store.has_activity(info.id):
        click.echo(f"snapshot {info.id} holds no activity (scan with --activity to collect it)", err=True)
    if fmt == "json":
        write(render.to_json({
            "snapshot": info.id, "subject": {k: obj.get(k) for k in FROM_KEYS} | (
                {"in_inventory": False} if obj.get("in_inventory") is False else {}),
            "since": render.iso(since), "system": resource, "activity": [a.to_dict() for a in rows],
            "summary": {"actions": len(rows), "calls": sum(a.count for a in rows),
                        "last_seen": render.iso(max((a.last_seen for a in rows), default=None))}}),
            output, quiet=session.quiet)
    elif fmt == "csv":
        write(_csv(rows), output, quiet=session.quiet)
    elif fmt == "md":
        write(_md(obj, rows, since, (system_obj or {}).get("name") or resource), output, quiet=session.quiet)
    else:
        with console_for(output) as console:
            console.print(_table(obj, rows, since))
