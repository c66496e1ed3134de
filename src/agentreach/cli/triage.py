"""``triage``: a person's decision about an agent verdict, written to the reviewed file.

    agentreach triage AKIAIOSFODNN7EXAMPLE --agent --reason "the support bot's key" --owner support
    agentreach triage etl-runner --not-agent --reason "batch ETL, calls no model"

The decision names who made it (``$AGENTREACH_REVIEWER``, else git's ``user.email``, else
the login name) and when; every later scan (and ``agentreach classify``) reads it and lets
it decide the verdict. ``inventory --agents --review`` lists what is waiting for one.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import subprocess
import sys

import click

from .. import app
from ..config import ConfigError
from ..review import load_reviewed, reviewed_path, save_reviewed, with_decision
from .base import Fail, session_command
from .main import main


def reviewer() -> str:
    """Who is deciding: ``$AGENTREACH_REVIEWER``, git's ``user.email``, or the login name."""
    named = os.environ.get("AGENTREACH_REVIEWER", "").strip()
    if named:
        return named
    try:
        email = subprocess.run(["git", "config", "user.email"], capture_output=True, text=True, timeout=5,
                               check=False).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        email = ""
    return email or getpass.getuser()


@main.command()
@click.argument("ref")
@click.option("--agent", "decision", flag_value="agent", help="It is used by an AI agent.")
@click.option("--not-agent", "decision", flag_value="not-agent", help="It is not used by an AI agent.")
@click.option("--reason", required=True, help="Why (a ticket, what it is): kept with the decision.")
@click.option("--owner", help="Who answers for it (a person or team).")
@click.option("--reviewed", "reviewed_file", type=click.Path(dir_okay=False),
              help="The reviewed file (default: review.file, .agentreach-reviewed.yaml here).")
@click.option("--snapshot", type=int, help="Snapshot REF is looked up in (default: the latest completed).")
@session_command
def triage(session: app.Session, ref: str, decision: str | None, reason: str, owner: str | None,
           reviewed_file: str | None, snapshot: int | None) -> None:
    """Record a person's decision that REF (an id, ARN, key id, name ...) is or is not an AI
    agent's identity or credential. The classifier treats it as the strongest evidence."""
    if decision is None:
        raise Fail("say which: --agent or --not-agent")
    store = session.store()
    info = app.pick_snapshot(store, snapshot)
    obj = app.resolve(store, info, ref, stdin=sys.stdin)
    if obj["kind"] not in ("identity", "credential"):
        raise Fail(f"{obj['id']} is a {obj['kind']}: only identities and credentials have agent verdicts")
    path = reviewed_path(session.config(), reviewed_file)
    try:
        reviewed = with_decision(load_reviewed(path), obj["id"], decision=decision, reason=reason, by=reviewer(),
                                 at=dt.datetime.now(dt.timezone.utc).replace(microsecond=0), name=obj.get("name"),
                                 native_id=obj.get("native_id"), owner=owner)
        save_reviewed(path, reviewed)
    except ConfigError as exc:
        raise Fail(str(exc)) from None
    except OSError as exc:
        raise Fail(f"reviewed file {path}: {exc.strerror}") from None
    before = (obj.get("agent") or {}).get("verdict", "none")
    click.echo(f"{obj['name']} ({obj['id']}): triaged {decision} (was {before}) in {path}; "
               "it decides the verdict from the next scan (or 'agentreach classify').")
