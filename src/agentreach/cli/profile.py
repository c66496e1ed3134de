"""``profile``: write an agent's approved access profile into the reviewed file.

    agentreach profile support-agent-exec --from-grants --owner ml-platform@example.com \\
        --purpose "answers customer tickets" --review-in 90d --lifetime 90d
    agentreach profile AKIAIOSFODNN7EXAMPLE --owner support --purpose "ticket bot" \\
        --system arn:aws:s3:::tickets --action s3:GetObject --review-by 2026-09-01

``--from-grants`` starts the allow-list from what the evaluator says the identity can do
today (its reach: systems by ARN or resource id, actions in the cloud's vocabulary): a
skeleton its owner narrows to what the task needs, after which AR-PROFILE-DRIFT reports
every grant beyond it. The entry's triage decision, if any, stays; the next scan reads it.
"""

from __future__ import annotations

import datetime as dt
import sys

import click
import yaml
from pydantic import ValidationError

from .. import app
from ..config import ConfigError
from ..config_schema import pydantic_problem
from ..review import Profile, load_reviewed, reviewed_path, save_reviewed, with_profile
from ..store import SnapshotInfo, Store
from .base import Fail, session_command
from .main import main


def _grants(store: Store, info: SnapshotInfo, node_id: str) -> tuple[list[str], list[str]]:
    """What ``node_id`` is granted today, as a profile's systems and actions."""
    from ..graph import load_graph, reach
    from ..profiles import skeleton

    graph = load_graph(store, info.id)
    n = graph.node(node_id)
    rows = reach(graph, n) if n is not None else []
    reached = {r["system"] for r in rows}
    nodes = {s.node.id: s.node for s in store.nodes(info.id, ids=reached)}
    grantees = {h.get("from") for r in rows for h in r.get("path", ())[-1:]}
    attrs = {(e["src"], e["dst"]): e.get("attrs") or {} for e in store.edges(info.id, kinds=["can_access"],
                                                                                dst_in=reached)
             if e["src"] in grantees}
    return skeleton(rows, nodes, attrs)


@main.command()
@click.argument("ref")
@click.option("--owner", required=True, help="Who answers for what the agent does (a person or team).")
@click.option("--purpose", required=True, help="What the agent is for, in a sentence.")
@click.option("--from-grants", is_flag=True,
              help="Start from what it is granted today (systems and actions of its reach), to narrow.")
@click.option("--system", "systems", multiple=True, metavar="ID|ARN|PATTERN",
              help="An approved system (repeatable; wildcards allowed).")
@click.option("--action", "actions", multiple=True, metavar="ACTION",
              help="An approved action in the cloud's vocabulary (repeatable; wildcards allowed).")
@click.option("--lifetime", help="Expected credential lifetime (12h, 90d, 1y): when a key of it is due to retire.")
@click.option("--review-by", "review_by", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="When the profile must be reviewed again (YYYY-MM-DD).")
@click.option("--review-in", "review_in", default="90d", show_default=True,
              help="Or: review this long from today (days: 30d, weeks: 12w, years: 1y).")
@click.option("--replace", is_flag=True, help="Replace a profile the entry already has.")
@click.option("--reviewed", "reviewed_file", type=click.Path(dir_okay=False),
              help="The reviewed file (default: review.file, .agentreach-reviewed.yaml here).")
@click.option("--snapshot", type=int, help="Snapshot REF is looked up in (default: the latest completed).")
@session_command
def profile(session: app.Session, ref: str, owner: str, purpose: str, from_grants: bool, systems: tuple[str, ...],
            actions: tuple[str, ...], lifetime: str | None, review_by: dt.datetime | None, review_in: str,
            replace: bool, reviewed_file: str | None, snapshot: int | None) -> None:
    """Write the approved access profile of REF (an id, ARN, key id, name ...): owner, purpose,
    approved systems and actions, credential lifetime, review date. Drift findings compare
    what it is granted, and later what it does, against it."""
    if not from_grants and not (systems and actions):
        raise Fail("say what is approved: --from-grants, or --system and --action (each repeatable)")
    store = session.store()
    info = app.pick_snapshot(store, snapshot)
    obj = app.resolve(store, info, ref, stdin=sys.stdin)
    if obj["kind"] not in ("identity", "credential"):
        raise Fail(f"{obj['id']} is a {obj['kind']}: only identities and credentials have access profiles")
    granted_systems, granted_actions = _grants(store, info, obj["id"]) if from_grants else ([], [])
    if from_grants and not granted_actions and not actions:
        raise Fail(f"{obj['name']} is granted nothing agentreach sees in snapshot {info.id}: give --system and "
                   "--action")
    when = review_by.date() if review_by else _from_today(review_in)
    path = reviewed_path(session.config(), reviewed_file)
    try:
        reviewed = load_reviewed(path)
        old = reviewed.entry(obj["id"])
        if old is not None and old.profile is not None and not replace:
            raise Fail(f"{obj['id']} already has a profile in {path} (review by {old.profile.review_by}); "
                       "--replace to write a new one")
        body = Profile.model_validate({
            "owner": owner, "purpose": purpose, "systems": sorted({*granted_systems, *systems}),
            "actions": sorted({*granted_actions, *actions}, key=str.lower), "credential_lifetime": lifetime,
            "review_by": when})
        reviewed = with_profile(reviewed, obj["id"], body, name=obj.get("name"), native_id=obj.get("native_id"))
        save_reviewed(path, reviewed)
    except ConfigError as exc:
        raise Fail(str(exc)) from None
    except ValidationError as exc:  # from the options given
        key, problem = pydantic_problem(exc)
        raise Fail(f"profile of {obj['id']}: {_OPTION.get(key, key)}: {problem}") from None
    except OSError as exc:
        raise Fail(f"reviewed file {path}: {exc.strerror}") from None
    shown = {**body.to_yaml(), "review_by": body.review_by}
    click.echo(yaml.safe_dump({"profile": shown}, sort_keys=False, width=100).rstrip())
    source = (f"from what it is granted in snapshot {info.id} ({len(body.systems)} system(s), {len(body.actions)} "
              "action(s)): narrow it to what the task needs" if from_grants else "as given")
    click.echo(f"{obj['name']} ({obj['id']}): profile written to {path}, {source}; drift findings read it "
               "from the next scan (or now: agentreach classify, then agentreach findings --recompute).")


_OPTION = {"owner": "--owner", "purpose": "--purpose", "systems": "--system", "actions": "--action",
           "credential_lifetime": "--lifetime", "review_by": "--review-by"}


def _from_today(text: str) -> dt.date:
    import re

    m = re.fullmatch(r"\s*(\d+)\s*([dwy])\s*", text or "", re.IGNORECASE)
    if not m:
        raise Fail(f"--review-in {text!r}: a number and d, w or y (30d, 12w, 1y)")
    days = int(m.group(1)) * {"d": 1, "w": 7, "y": 365}[m.group(2).lower()]
    return dt.date.today() + dt.timedelta(days=days)
