"""The command line as a user scripts it: formats, filters, lookups and exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from agentreach import exitcodes
from agentreach.cli import main


def run(db: str, *args: str) -> Any:
    return CliRunner().invoke(main, ["--db", db, *args])


CONTRACT = ("id", "kind", "provider", "name", "native_id", "created", "last_used", "expires", "status")


def test_inventory_json_carries_the_contract_fields(db: str) -> None:
    result = run(db, "inventory", "--format", "json")
    assert result.exit_code == 0
    objects = json.loads(result.stdout)["objects"]
    assert {o["kind"] for o in objects} == {"identity", "credential"}
    for obj in objects:
        assert all(k in obj for k in CONTRACT), obj["id"]
        assert obj["first_seen"] and obj["last_seen"]


def test_inventory_filters_and_formats(db: str, seeded_estate: Any) -> None:
    keys = json.loads(run(db, "inventory", "--type", "aws_access_key", "--format", "json").stdout)["objects"]
    assert keys and all(o["type"] == "aws_access_key" for o in keys)
    main_acct = seeded_estate.expected["accounts"][seeded_estate.expected["main_account"]]
    bot_keys = {k["id"] for k in main_acct["users"]["langchain-bot"]["access_keys"]}
    assert {o["native_id"] for o in keys if [i["name"] for i in o["authenticates"]] == ["langchain-bot"]} == bot_keys
    second = [a for a in seeded_estate.accounts if a != seeded_estate.expected["main_account"]][0]
    only_second = json.loads(run(db, "inventory", "--account", second, "--format", "json").stdout)["objects"]
    assert only_second and {o["account"] for o in only_second} == {second}
    workloads = json.loads(run(db, "inventory", "--kind", "workload", "--format", "json").stdout)["objects"]
    assert "aws_bedrock_agent" in {o["type"] for o in workloads}
    csv_out = run(db, "inventory", "--format", "csv").stdout.splitlines()
    assert csv_out[0].startswith("kind,type,name,identity,account")
    assert len(csv_out) == 1 + len(json.loads(run(db, "inventory", "--format", "json").stdout)["objects"])
    table = run(db, "inventory", "--kind", "all")
    assert table.exit_code == 0 and "acme-customer-pii" in table.stdout


def test_show_resolves_what_a_responder_has(db: str, seeded_estate: Any, tmp_path: Path) -> None:
    main_acct = seeded_estate.expected["accounts"][seeded_estate.expected["main_account"]]
    key_id = main_acct["users"]["support-agent-svc"]["access_keys"][0]["id"]
    by_key = json.loads(run(db, "show", key_id, "--format", "json").stdout)
    assert by_key["object"]["type"] == "aws_access_key"
    assert [e["dst_name"] for e in by_key["edges"] if e["kind"] == "authenticates"] == ["support-agent-svc"]
    role_arn = main_acct["roles"]["support-agent-exec"]["arn"]
    by_arn = json.loads(run(db, "show", role_arn, "--format", "json").stdout)
    assert by_arn["object"]["name"] == "support-agent-exec"
    assert "support-agent" in {e["src_name"] for e in by_arn["edges"] if e["kind"] == "runs_as"}
    by_name = run(db, "show", "support-agent-exec")
    assert by_name.exit_code == 0 and "runs_as" in by_name.stdout and "trust_policy" in by_name.stdout
    out = tmp_path / "role.json"
    assert run(db, "show", role_arn, "--format", "json", "--output", str(out)).exit_code == 0
    assert json.loads(out.read_text())["object"]["native_id"] == role_arn


def test_show_ambiguous_and_unknown(db: str) -> None:
    ambiguous = run(db, "show", "agentreach-readonly")  # the role exists in both accounts
    assert ambiguous.exit_code == exitcodes.USAGE
    assert "matches 2 objects" in ambiguous.stderr and "Traceback" not in ambiguous.output
    unknown = run(db, "show", "AKIANOTINTHEESTATE00")
    assert unknown.exit_code == exitcodes.NOT_FOUND
    assert unknown.stderr.startswith("agentreach: error: nothing in snapshot")


def test_snapshots_listing(db: str) -> None:
    snaps = json.loads(run(db, "snapshots", "--format", "json").stdout)["snapshots"]
    assert snaps[0]["status"] == "complete" and snaps[0]["connectors"] == {"aws": "0.1.0"}
    assert "complete" in run(db, "snapshots").stdout


def test_bad_inputs_are_one_line_errors(tmp_path: Path) -> None:
    empty = str(tmp_path / "empty.db")
    none_yet = run(empty, "inventory")
    assert none_yet.exit_code == exitcodes.NOT_FOUND and "run 'agentreach scan' first" in none_yet.stderr
    cfg = tmp_path / "c.yaml"
    cfg.write_text("connectors:\n  aws:\n    regions: [us-east-1\n")
    bad = CliRunner().invoke(main, ["--db", empty, "--config", str(cfg), "scan"])
    assert bad.exit_code == exitcodes.USAGE
    assert bad.stderr.count("\n") == 1 and "c.yaml" in bad.stderr and "Traceback" not in bad.output
    unknown = run(empty, "scan", "--only", "nosuch")
    assert unknown.exit_code == exitcodes.USAGE and "no connector named 'nosuch'" in unknown.stderr
    assert run(empty, "--version").stdout.startswith("agentreach, version ")


def test_connectors_lists_the_builtin_aws(tmp_path: Path) -> None:
    out = run(str(tmp_path / "x.db"), "connectors").stdout
    assert "aws\tagentreach_connectors.aws:AwsConnector" in out


def test_names_are_printed_as_they_are_never_as_markup_or_emoji(tmp_path: Path) -> None:
    """A source controls names ("[/]" would crash rich's markup, ":secret:" becomes an emoji)."""
    from agentreach.model import Identity, node_id
    from agentreach.store import Store

    db = tmp_path / "names.db"
    store = Store(db)
    sid = store.begin_snapshot(config_digest="x", connectors={"t": "1"}, options={})
    name = "[/] [bold]app[/bold] :secret: :smile:"
    store.add_nodes(sid, [Identity(id=node_id("t", "user", "u1"), provider="t", source="t", type="t_user",
                                   name=name, native_id="u1")])
    store.finish_snapshot(sid, status="complete")
    shown = run(str(db), "show", "u1")
    assert shown.exit_code == 0 and name in shown.output, shown.output
    listed = run(str(db), "inventory")
    assert listed.exit_code == 0, listed.output
    assert "[/]" in listed.output and "[bold]app[/bold]" in listed.output and ":secret:" in listed.output
    assert "\u3299" not in listed.output + shown.output  # the emoji rich would have made of :secret:
