"""The graph interface and the reach queries on hand-built graphs: best access per system,
conditional paths, cycles, depth limits, reverse reach and path listing."""

from __future__ import annotations

from agentreach.graph import Graph, paths_between, reach, who_can_reach


def build() -> Graph:
    g = Graph()
    for nid, kind in [("key", "credential"), ("user", "identity"), ("roleA", "identity"), ("roleB", "identity"),
                      ("agent", "workload"), ("bucket", "system"), ("secret", "system"), ("table", "system")]:
        g.add_node(nid, kind, nid, type=kind)
    g.add_edge("key", "user", "authenticates")
    g.add_edge("user", "roleA", "can_assume", {"grants": ["trust policy of roleA #0"], "level": "write"})
    g.add_edge("roleA", "roleB", "can_assume", {"grants": ["trust policy of roleB #0"]})
    g.add_edge("roleB", "roleA", "can_assume", {"grants": ["trust policy of roleA #1"]})  # a cycle
    g.add_edge("user", "bucket", "can_access", {"level": "read", "grants": ["inline p #0"]})
    g.add_edge("roleB", "bucket", "can_access", {"level": "write", "grants": ["managed w #0"]})
    g.add_edge("roleA", "secret", "can_access", {"level": "read", "conditional": True, "condition_keys": ["aws:SourceIp"]})
    g.add_edge("agent", "roleB", "runs_as", {"via": "agentResourceRoleArn"})
    g.add_edge("roleB", "table", "can_access", {"level": "read"})
    return g


def test_reach_keeps_the_best_access_per_system_and_every_grant() -> None:
    g = build()
    found = {r["name"]: r for r in reach(g, g.index["key"], depth=5)}
    assert set(found) == {"bucket", "secret", "table"}
    bucket = found["bucket"]
    assert bucket["access"] == "write"  # through roleB, not the user's direct read
    assert [h["edge"] for h in bucket["path"]] == ["authenticates", "can_assume", "can_assume", "can_access"]
    assert bucket["path"][-1]["grant"] == ["managed w #0"]
    assert found["secret"]["conditional"] and found["secret"]["path"][-1]["condition_keys"] == ["aws:SourceIp"]


def test_depth_limits_reach() -> None:
    g = build()
    assert {r["name"] for r in reach(g, g.index["key"], depth=2)} == {"bucket"}
    assert reach(g, g.index["key"], depth=2)[0]["access"] == "read"


def test_min_level_filters() -> None:
    g = build()
    assert {r["name"] for r in reach(g, g.index["key"], min_level="write")} == {"bucket"}


def test_who_can_reach_walks_backwards_through_workloads_and_credentials() -> None:
    g = build()
    subjects = {s["name"]: s for s in who_can_reach(g, g.index["table"])}
    assert set(subjects) == {"roleB", "roleA", "user", "key", "agent"}
    assert [h["edge"] for h in subjects["agent"]["path"]] == ["runs_as", "can_access"]
    assert [h["from_name"] for h in subjects["key"]["path"]] == ["key", "user", "roleA", "roleB"]


def test_paths_between_lists_simple_paths_shortest_first() -> None:
    g = build()
    found = paths_between(g, g.index["key"], g.index["bucket"])
    assert [len(p) for p in found] == [2, 4]
    assert all(len({h["to"] for h in p}) == len(p) for p in found)  # simple: no node twice


def test_unknown_start_has_no_reach() -> None:
    g = build()
    assert reach(g, g.index["table"]) == []
    assert who_can_reach(g, g.index["key"]) == []


def test_exports_are_read_back_by_their_readers() -> None:
    import io
    import json

    import networkx as nx

    from agentreach.graph.export import to_cypher, to_graphml, to_json, to_opengraph

    g = build()
    back = nx.read_graphml(io.StringIO(to_graphml(g)))
    assert back.number_of_nodes() == len(g) and back.number_of_edges() == g.edge_count()
    assert back.nodes["bucket"]["kind"] == "system"
    assert json.loads([d for _, _, d in back.edges(data=True) if d.get("kind") == "can_access"
                       and d.get("condition_keys")][0]["condition_keys"]) == ["aws:SourceIp"]
    node_link = json.loads(to_json(g))
    assert {e["kind"] for e in node_link["edges"]} == {"authenticates", "can_assume", "can_access", "runs_as"}
    og = json.loads(to_opengraph(g))
    assert og["metadata"]["source_kind"] == "AgentReach"
    ids = {n["id"] for n in og["graph"]["nodes"]}
    for edge in og["graph"]["edges"]:
        assert edge["start"]["match_by"] == "id" and edge["start"]["value"] in ids and edge["end"]["value"] in ids
        assert all(isinstance(v, (str, int, float, bool, list)) for v in edge["properties"].values())
    for node in og["graph"]["nodes"]:
        assert node["kinds"][-1] == "AgentReach"
        assert all(not isinstance(v, dict) for v in node["properties"].values())
    cypher = to_cypher(g)
    kinds = {(g.kinds[n], g.attrs[n]["type"]) for n in range(len(g))}
    assert cypher.count("MERGE (n:AgentReach {objectid: row.objectid})") == len(kinds)  # one batch per label pair
    assert sum(line.count("objectid: '") for line in cypher.splitlines()[1:]) == len(g)
    assert cypher.count("]->(b)") == len({k for _a, _b, k, _d in g.edges()})


def test_opengraph_validates_against_the_documented_schema() -> None:
    """The node and edge JSON schemas of BloodHound's OpenGraph documentation, as the
    bhopengraph package ships them."""
    import json

    import jsonschema
    from bhopengraph.Edge import EDGE_SCHEMA
    from bhopengraph.Node import NODE_SCHEMA

    from agentreach.graph.export import to_opengraph

    og = json.loads(to_opengraph(build()))
    for node in og["graph"]["nodes"]:
        jsonschema.validate(node, NODE_SCHEMA)
    for edge in og["graph"]["edges"]:
        jsonschema.validate(edge, EDGE_SCHEMA)
