"""The graph for other tools: GraphML (Gephi, yEd, networkx), node-link JSON, Cypher
statements for Neo4j, and BloodHound OpenGraph JSON. Attributes are flattened to what each
format can carry (OpenGraph and GraphML take scalars and lists of scalars only)."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import networkx as nx

from .core import Graph

OPENGRAPH_SOURCE_KIND = "AgentReach"
# Our node kinds and types become OpenGraph kinds like AR_Identity, AR_aws_iam_role.
_KIND = {"identity": "AR_Identity", "credential": "AR_Credential", "system": "AR_System", "workload": "AR_Workload",
         "policy": "AR_Policy", "owner": "AR_Owner", "location": "AR_Location", "unknown": "AR_Unknown"}


def _scalar(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(v, (str, int, float, bool)) for v in value):
        return list(value)
    return json.dumps(value, sort_keys=True, default=str)


def _node_props(graph: Graph, n: int) -> dict[str, Any]:
    props = {"objectid": graph.ids[n], "name": graph.names[n], "kind": graph.kinds[n]}
    props.update({k: _scalar(v) for k, v in graph.attrs[n].items() if v is not None})
    return props


def _edge_props(data: dict[str, Any]) -> dict[str, Any]:
    return {k: _scalar(v) for k, v in data.items() if v is not None}


def to_json(graph: Graph) -> str:
    nodes = [{"id": graph.ids[n], **_node_props(graph, n)} for n in range(len(graph))]
    edges = [{"source": graph.ids[a], "target": graph.ids[b], "kind": k, **_edge_props(d)}
             for a, b, k, d in graph.edges()]
    return json.dumps({"nodes": nodes, "edges": edges}, indent=1, default=str) + "\n"


def to_graphml(graph: Graph) -> str:
    out = nx.MultiDiGraph()
    for n in range(len(graph)):
        out.add_node(graph.ids[n], **{k: _flat(v) for k, v in _node_props(graph, n).items()})
    for a, b, k, d in graph.edges():
        out.add_edge(graph.ids[a], graph.ids[b], key=k, kind=k, **{x: _flat(v) for x, v in _edge_props(d).items()})
    buf = io.BytesIO()
    nx.write_graphml(out, buf)
    return buf.getvalue().decode()


def _flat(value: Any) -> Any:
    """GraphML has no lists: they become JSON text."""
    return json.dumps(value) if isinstance(value, list) else value


def _cypher_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_cypher_literal(v) for v in value) + "]"
    text = str(value).replace("\\", "\\\\").replace("'", "\\'")
    return f"'{text}'"


def _label(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", text)


def to_cypher(graph: Graph) -> str:
    """MERGE statements: idempotent, loadable with cypher-shell or the Neo4j browser."""
    lines = ["CREATE CONSTRAINT agentreach_id IF NOT EXISTS FOR (n:AgentReach) REQUIRE n.objectid IS UNIQUE;"]
    for n in range(len(graph)):
        props = _node_props(graph, n)
        label = _label(_KIND.get(graph.kinds[n], "AR_Unknown"))
        sets = ", ".join(f"n.{_label(k)} = {_cypher_literal(v)}" for k, v in props.items() if k != "objectid")
        lines.append(f"MERGE (n:AgentReach {{objectid: {_cypher_literal(graph.ids[n])}}}) SET n:{label}"
                     + (f", {sets}" if sets else "") + ";")
    for a, b, k, d in graph.edges():
        props = _edge_props(d)
        sets = ", ".join(f"r.{_label(x)} = {_cypher_literal(v)}" for x, v in props.items())
        lines.append(f"MATCH (a:AgentReach {{objectid: {_cypher_literal(graph.ids[a])}}}), "
                     f"(b:AgentReach {{objectid: {_cypher_literal(graph.ids[b])}}}) "
                     f"MERGE (a)-[r:{_label(k.upper())}]->(b)" + (f" SET {sets}" if sets else "") + ";")
    return "\n".join(lines) + "\n"


def to_opengraph(graph: Graph) -> str:
    """BloodHound OpenGraph: ``{"metadata": {"source_kind"}, "graph": {"nodes", "edges"}}``;
    edges point at node ids (``match_by: id``); property values are scalars or lists."""
    nodes = []
    for n in range(len(graph)):
        kinds = [_KIND.get(graph.kinds[n], "AR_Unknown"), _label(f"AR_{graph.attrs[n].get('type') or 'unknown'}"),
                 OPENGRAPH_SOURCE_KIND]
        nodes.append({"id": graph.ids[n], "kinds": kinds,
                      "properties": {"displayname": graph.names[n], **_node_props(graph, n)}})
    edges = [{"start": {"value": graph.ids[a], "match_by": "id"}, "end": {"value": graph.ids[b], "match_by": "id"},
              "kind": f"AR_{_label(k)}", "properties": _edge_props(d)}
             for a, b, k, d in graph.edges()]
    return json.dumps({"metadata": {"source_kind": OPENGRAPH_SOURCE_KIND}, "graph": {"nodes": nodes, "edges": edges}},
                      indent=1, default=str) + "\n"


EXPORTERS = {"graphml": to_graphml, "json": to_json, "cypher": to_cypher, "opengraph": to_opengraph}
