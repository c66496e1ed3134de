"""Reach on the seeded demo estate, end to end: scan (with policy evaluation) and the
responder's commands."""

from __future__ import annotations

import io
import json
from typing import Any

import networkx as nx
from click.testing import CliRunner

from agentreach.cli import main


def cli(db: str, *args: str) -> Any:
    res = CliRunner().invoke(main, ["--db", db, *args])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout) if "--format" in args and "json" in args else res.stdout


def test_a_key_reaches_pii_through_a_role_chain(db: str, seeded_estate: Any) -> None:
    main_acct = seeded_estate.expected["accounts"][seeded_estate.expected["main_account"]]
    key = main_acct["users"]["etl-scheduler"]["access_keys"][0]["id"]
    out = cli(db, "reach", key, "--format", "json")
    hits = {s["name"]: s for s in out["systems"]}
    pii = hits["acme-customer-pii"]
    assert [h["to_name"] for h in pii["path"]] == ["etl-scheduler", "etl-orchestrator", "pii-export-reader",
                                                   "acme-customer-pii"]
    assert [h["edge"] for h in pii["path"]] == ["authenticates", "can_assume", "can_assume", "can_access"]
    assert pii["access"] == "read" and not pii["conditional"]
    assert any("read-pii" in g for g in pii["path"][-1]["grant"])
    assert pii["sensitivity"] == "high"
    sensitive = cli(db, "reach", key, "--sensitive-only", "--format", "json")["systems"]
    assert sensitive and all(s["sensitivity"] for s in sensitive)


def test_who_can_reach_the_crown_jewel(db: str) -> None:
    out = cli(db, "who-can-reach", "acme-customer-pii", "--format", "json")
    names = {s["name"] for s in out["subjects"]}
    assert {"support-agent-exec", "pii-export-reader", "etl-scheduler", "etl-orchestrator"} <= names
    agents = cli(db, "who-can-reach", "acme-customer-pii", "--agents-only", "--format", "json")["subjects"]
    assert agents and all(s["agent"]["verdict"] in ("agent", "possible") for s in agents)
    assert "etl-orchestrator" not in {s["name"] for s in agents}


def test_an_ownerless_agent_with_admin(db: str) -> None:
    out = cli(db, "reach", "ops-autopilot-agent", "--format", "json")
    wide = [s for s in out["systems"] if s["type"] == "aws_account_service"]
    assert any(s["admin"] for s in wide)
    assert out["from"]["agent"]["verdict"] == "agent"


def test_inventory_of_agents_says_what_each_reaches(db: str) -> None:
    rows = {r["name"]: r for r in cli(db, "inventory", "--agents", "--format", "json")["objects"]}
    ops = rows["ops-autopilot-agent"]["reach"]
    assert ops["admin"] and ops["sensitive"] >= 1 and ops["top"]["sensitivity"] == "high"
    every = cli(db, "reach", "ops-autopilot-agent", "--format", "json")["systems"]
    data = cli(db, "reach", "ops-autopilot-agent", "--access", "data", "--format", "json")["systems"]
    assert ops["systems"] == len(data) and ops["systems"] + ops["without_data"] == len(every)
    assert all(s["data_access"] for s in data)
    table = cli(db, "inventory", "--agents")
    assert "reach" in table and "sensitive)" in table
    plain = cli(db, "inventory", "--agents", "--no-reach", "--format", "json")["objects"]
    assert all("reach" not in r for r in plain)
    assert all("reach" not in r for r in cli(db, "inventory", "--format", "json")["objects"])


def test_path_and_export(db: str, tmp_path: Any) -> None:
    out = cli(db, "path", "etl-scheduler", "acme-customer-pii", "--format", "json")
    assert out["paths"] and len(out["paths"][0]) == 3
    graphml = tmp_path / "g.graphml"
    CliRunner().invoke(main, ["--db", db, "graph", "export", "--format", "graphml", "-o", str(graphml)])
    g = nx.read_graphml(io.StringIO(graphml.read_text()))
    assert g.number_of_edges() > 50
    og = json.loads(CliRunner().invoke(main, ["--db", db, "graph", "export", "--format", "opengraph"]).stdout)
    assert og["graph"]["nodes"] and og["graph"]["edges"]


def test_candidate_prefilter_changes_no_answer() -> None:
    """The prefilter only skips pairs the evaluator would refuse: checked against asking
    the evaluator about every pair of a generated account."""
    import random
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from agentreach.model import Identity, System
    from agentreach.policy.aws import AwsEvaluator, Resource, edges as aws_edges
    from bench.policy import estate

    view = estate(60, 30, random.Random(5))
    derived = {(e.src, e.kind.value, e.dst) for e in aws_edges.derive(view).edges}
    ev = AwsEvaluator()
    principals = {n.id: aws_edges.principal_of(n, view) for n in view.nodes.values() if isinstance(n, Identity)}
    brute = set()
    for node in view.nodes.values():
        if isinstance(node, Identity):
            trust = Resource(arn=node.native_id, account=node.account, policy=node.attrs["trust_policy"])
            brute |= {(pid, "can_assume", node.id) for pid, p in principals.items()
                      if pid != node.id and ev.can_assume(p, trust)}
        elif isinstance(node, System):
            target = aws_edges.resource_of(node)
            objects = Resource(arn=f"{target.arn}/*", account=target.account, policy=target.policy)
            for pid, p in principals.items():
                hit = ev.access(p, target) or (node.type == "aws_s3_bucket" and ev.access(p, objects))
                if hit:
                    brute.add((pid, "can_access", node.id))
    assert brute and {d for d in derived if not d[2].startswith("aws:account_service:")} == brute


def test_dot_output_parses(db: str) -> None:
    import pydot

    for args in (["reach", "etl-scheduler"], ["who-can-reach", "acme-customer-pii"],
                 ["path", "etl-scheduler", "acme-customer-pii"]):
        res = CliRunner().invoke(main, ["--db", db, *args, "--format", "dot"])
        assert res.exit_code == 0, res.output
        (graph,) = pydot.graph_from_dot_data(res.stdout)
        assert graph.get_edges() and graph.get_nodes()
    text = CliRunner().invoke(main, ["--db", db, "path", "etl-scheduler", "acme-customer-pii", "--format", "dot"]).stdout
    assert "can_assume" in text and "read-pii" in text


def test_graph_interface_neighbours() -> None:
    from agentreach.graph import Graph

    g = Graph()
    for n in "abcd":
        g.add_node(n, "identity", n)
    g.add_edge("a", "b", "can_assume")
    g.add_edge("b", "c", "can_assume")
    g.add_edge("d", "c", "can_access")
    kinds = frozenset({"can_assume", "can_access"})
    assert g.successors(g.index["a"]) == [g.index["b"]]
    assert g.predecessors(g.index["c"]) == sorted([g.index["b"], g.index["d"]])
    assert g.ancestors(g.index["c"], kinds) == {g.index[x] for x in "abd"}
    assert g.ancestors(g.index["c"], frozenset({"can_assume"}), depth=1) == {g.index["b"]}


# -- issue 14: access classes, --action, --context, escalations, one answer per secret ------------

def test_who_can_read_the_data_lists_only_readers_with_their_actions(db: str) -> None:
    every = cli(db, "who-can-reach", "acme-customer-pii", "--format", "json")["subjects"]
    readers = cli(db, "who-can-reach", "acme-customer-pii", "--access", "read-data", "--format", "json")["subjects"]
    assert readers and len(readers) <= len(every)
    for s in readers:
        assert "read-data" in s["classes"] and s["matching_actions"]
        assert all(a.startswith("s3:Get") for a in s["matching_actions"])
    by_action = cli(db, "who-can-reach", "acme-customer-pii", "--action", "s3:GetObject", "--format", "json")
    assert {s["subject"] for s in by_action["subjects"]} == {s["subject"] for s in readers
                                                              if "s3:GetObject" in s["matching_actions"]}
    assert all(s["matching_actions"] == ["s3:GetObject"] for s in by_action["subjects"])


def test_reach_keeps_classes_and_lists_escalations_apart(db: str) -> None:
    out = cli(db, "reach", "etl-scheduler", "--format", "json")
    pii = next(s for s in out["systems"] if s["name"] == "acme-customer-pii")
    assert "read-data" in pii["classes"] and pii["data_access"] is True
    assert pii["path"][-1]["classes"] == pii["classes"]
    assert isinstance(out["escalations"], list)
    assert all(not s.get("via_escalation") for s in out["systems"])


def test_a_stated_context_is_refused_in_one_line_when_malformed_and_said_when_used(db: str) -> None:
    res = CliRunner().invoke(main, ["--db", db, "reach", "etl-scheduler", "--context", "aws:SecureTransport"])
    assert res.exit_code == 2 and "KEY=VALUE" in res.output and "Traceback" not in res.output
    out = cli(db, "reach", "etl-scheduler", "--context", "aws:MultiFactorAuthPresent=false", "--format", "json")
    assert out["context"].startswith("context aws:multifactorauthpresent=false")
    base = {s["system"] for s in cli(db, "reach", "etl-scheduler", "--format", "json")["systems"]}
    assert {s["system"] for s in out["systems"]} <= base  # stating a key never adds a grant the default had decided
    plain_http = cli(db, "reach", "etl-scheduler", "--context", "aws:SecureTransport=false", "--format", "json")
    assert "every AWS principal" in plain_http["context"]


def test_path_table_shows_each_hop_s_grant(db: str) -> None:
    text = cli(db, "path", "etl-scheduler", "acme-customer-pii")
    assert "grant" in text and "read-pii" in text and "can_assume" in text


def test_a_pasted_secret_reaches_what_its_file_line_reaches(demo_db: str) -> None:
    from agentreach_testing.demo.leaked_repo import _chars

    secret = "DEMOCANARY" + _chars("support-bot/aws", 30)
    res = CliRunner().invoke(main, ["--db", demo_db, "show", "-", "--format", "json"], input=secret + "\n")
    assert res.exit_code == 0, res.output
    where = json.loads(res.stdout)["object"]["locations"][0]
    pasted = CliRunner().invoke(main, ["--db", demo_db, "reach", "-", "--format", "json"], input=secret + "\n")
    assert pasted.exit_code == 0, pasted.output
    by_line = cli(demo_db, "reach", f"support-bot/{where['path'].rsplit('/', 1)[-1]}:{where['line']}", "--format",
                  "json")
    got = {s["system"] for s in json.loads(pasted.stdout)["systems"]}
    assert got and got == {s["system"] for s in by_line["systems"]}
    assert secret not in pasted.stdout
