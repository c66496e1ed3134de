"""The graph for other tools: GraphML (Gephi, yEd, networkx), node-link JSON, Cypher
statements for Neo4j (and any OpenCypher engine: ``graph push`` sends the same statements
through a driver), and BloodHound OpenGraph JSON. Attributes are flattened to what each
format can carry (OpenGraph and GraphML take scalars and lists of scalars only).

Names, paths and attributes come from the estate, so no export holds a raw control
character: JSON escapes them itself (exact values), Cypher writes them as its own string
escapes (``\n``, ``\u001b``: the database gets the exact value, the file no raw byte), and
GraphML, whose XML 1.0 cannot carry most of them at all, shows them as visible escapes
(:mod:`agentreach.textsafe`), newlines included, so no value adds a line of its own."""

from __future__ import annotations

import io
import json
import logging
import math
import re
from dataclasses import dataclass
from typing import Any, Iterator, Mapping

import networkx as nx

from ..textsafe import CONTROLS, escape
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
        out.add_node(escape(graph.ids[n]), **{escape(k): _flat(v) for k, v in _node_props(graph, n).items()})
    for a, b, k, d in graph.edges():
        out.add_edge(escape(graph.ids[a]), escape(graph.ids[b]), key=escape(k), kind=escape(k),
                     **{escape(x): _flat(v) for x, v in _edge_props(d).items()})
    buf = io.BytesIO()
    nx.write_graphml(out, buf)
    return buf.getvalue().decode()


def _flat(value: Any) -> Any:
    """GraphML has no lists: they become JSON text (which escapes its own controls); text
    has its control characters shown escaped."""
    if isinstance(value, list):
        return json.dumps(value)
    return escape(value) if isinstance(value, str) else value


def _cypher_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_cypher_literal(v) for v in value) + "]"
    return "'" + str(value).translate(_CYPHER_ESCAPES) + "'"


# Cypher string-literal escapes: the backslash and the quote, and every control character
# (textsafe's set) as \n, \t, ... or \uXXXX, so the file holds none and the value loads exact.
_CYPHER_NAMED = {"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}
_CYPHER_ESCAPES = str.maketrans({**{cp: f"\\u{cp:04x}" for cp in CONTROLS},
                                 **{ord(k): v for k, v in _CYPHER_NAMED.items()}})


def _label(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", text)


# -- Cypher: one statement builder for the export file and for ``graph push`` -----------------
# Every node is MERGEd by its stable id on the label AgentReach and carries one label for its
# kind (AR_Identity) and one for its type (AR_aws_iam_role); labels cannot be parameters in
# Cypher, so rows are grouped by (kind, type) for nodes and by kind for edges, and each group
# is sent in batches through UNWIND. A node's and an edge's properties are *replaced* (SET n =
# row): pushing the same snapshot twice changes nothing, and ``snapshot`` on both says which
# snapshot wrote them, so what an older one left behind can be pruned.
CYPHER_LABEL = "AgentReach"
CYPHER_BATCH = 1000
# Where Neo4j 5 and FalkorDB differ, the export file keeps Neo4j 5's form (cypher-shell, the
# browser, BloodHound's Neo4j); ``graph push`` sends each engine its own.
SCHEMA = {
    "neo4j": [f"CREATE CONSTRAINT agentreach_objectid IF NOT EXISTS FOR (n:{CYPHER_LABEL}) "
              "REQUIRE n.objectid IS UNIQUE"],
    "falkordb": [f"CREATE INDEX FOR (n:{CYPHER_LABEL}) ON (n.objectid)"],
}


@dataclass(frozen=True)
class Statement:
    """One Cypher statement over ``$rows``: sent with its rows as a parameter by ``graph
    push``, written with the rows inlined as a literal in the export file."""

    text: str
    rows: tuple[Mapping[str, Any], ...]

    def inline(self) -> str:
        return self.text.replace("$rows", _cypher_value(list(self.rows)), 1)


def _kind_labels(graph: Graph, n: int) -> tuple[str, str]:
    """A node's labels (Cypher) and kinds (OpenGraph): its kind and its type, AR_ prefixed."""
    return _KIND.get(graph.kinds[n], "AR_Unknown"), _label(f"AR_{graph.attrs[n].get('type') or 'unknown'}")


def _key(name: str) -> str:
    """A property name both engines take unquoted: lower-case letters, digits, underscores."""
    key = re.sub(r"[^a-z0-9_]", "_", str(name).lower())
    return key if key and not key[0].isdigit() else f"p_{key}"


def _property(value: Any) -> Any:
    """A value a property may hold in Neo4j and FalkorDB alike: a string, a number, a boolean
    or a list of one of those (never null, never mixed); anything else becomes JSON text."""
    if value is None:
        return None
    if isinstance(value, bool) or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, (list, tuple)) and all(type(v) in (str, int, bool) or
                                                (type(v) is float and math.isfinite(v)) for v in value):
        kinds = {type(v) for v in value}
        if len(kinds) <= 1 or kinds == {int, float}:
            return [float(v) for v in value] if kinds == {int, float} else list(value)
    return json.dumps(value, sort_keys=True, default=str)


def _properties(items: Mapping[str, Any], snapshot: int | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in items.items():
        value = _property(v)
        if value is not None:
            out.setdefault(_key(k), value)
    if snapshot is not None:
        out["snapshot"] = snapshot
    return out


def _cypher_value(value: Any) -> str:
    """A literal for an inlined row: maps (keys from :func:`_key`) of literals."""
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_key(k)}: {_cypher_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list) and any(isinstance(v, Mapping) for v in value):
        return "[" + ", ".join(_cypher_value(v) for v in value) + "]"
    return _cypher_literal(value)


def _batches(rows: list[dict[str, Any]], size: int) -> Iterator[tuple[dict[str, Any], ...]]:
    for start in range(0, len(rows), size):
        yield tuple(rows[start:start + size])


def cypher_statements(graph: Graph, snapshot: int | None = None, *, batch: int = CYPHER_BATCH) -> Iterator[Statement]:
    """The statements that MERGE the graph: nodes first (by kind and type), then edges (by kind)."""
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for n in range(len(graph)):
        groups.setdefault(_kind_labels(graph, n), []).append(_properties(_node_props(graph, n), snapshot))
    for (kind, type_), rows in sorted(groups.items()):
        for chunk in _batches(rows, batch):
            yield Statement(f"UNWIND $rows AS row MERGE (n:{CYPHER_LABEL} {{objectid: row.objectid}}) "
                            f"SET n = row SET n:{kind}:{type_}", chunk)
    edges: dict[str, list[dict[str, Any]]] = {}
    for a, b, k, d in graph.edges():
        edges.setdefault(_label(k.upper()), []).append(
            {"src": graph.ids[a], "dst": graph.ids[b], "props": _properties(_edge_props(d), snapshot)})
    for kind, rows in sorted(edges.items()):
        for chunk in _batches(rows, batch):
            yield Statement(f"UNWIND $rows AS row MATCH (a:{CYPHER_LABEL} {{objectid: row.src}}) "
                            f"MATCH (b:{CYPHER_LABEL} {{objectid: row.dst}}) MERGE (a)-[r:{kind}]->(b) "
                            "SET r = row.props", chunk)


def prune_statements() -> list[str]:
    """Delete what a snapshot other than ``$snapshot`` wrote (after pushing ``$snapshot``)."""
    return [f"MATCH (a:{CYPHER_LABEL})-[r]->(b:{CYPHER_LABEL}) WHERE r.snapshot <> $snapshot DELETE r",
            f"MATCH (n:{CYPHER_LABEL}) WHERE n.snapshot <> $snapshot DETACH DELETE n"]


def to_cypher(graph: Graph, snapshot: int | None = None, *, batch: int = CYPHER_BATCH) -> str:
    """The statements ``graph push`` sends, with their rows inlined: idempotent, loadable with
    cypher-shell or the Neo4j browser (Neo4j 5's constraint first)."""
    lines = [f"{s};" for s in SCHEMA["neo4j"]]
    lines += [f"{st.inline()};" for st in cypher_statements(graph, snapshot, batch=batch)]
    return "\n".join(lines) + "\n"


# -- BloodHound OpenGraph ---------------------------------------------------------------------
# Node ids as BloodHound's own collectors write them, so that an upload merges with the graph
# AzureHound and the AWS collector made instead of duplicating it: AzureHound upper-cases
# Entra object ids, the tenant id and ARM resource ids (an application is its appId), as
# BloodHound's ingest does (SpecterOps/BloodHound packages/go/ein/azure.go); AWSHound's nodes
# are their ARNs. Anything else keeps its agentreach id, credentials among them (no collector
# has a node for a key or a secret).
_AZURE_UPPER = frozenset({"azure_sp", "azure_managed_identity", "azure_app", "azure_user", "entra_user", "entra_group",
                          "azure_directory"})
# Containers, by provider: each object is AR_Contains'ed by the container of its account, as
# AzureHound's AZContains ties objects to their tenant and subscription; first match wins.
_CONTAINERS = {"aws": ("aws_account",), "azure": ("azure_subscription", "azure_directory"),
               "gcp": ("gcp_project", "gcp_organization")}
log = logging.getLogger("agentreach.graph.export")


def bloodhound_id(graph: Graph, n: int) -> str:
    """The id BloodHound's collectors give this object (see above), else ours."""
    attrs = graph.attrs[n]
    native, provider, type_ = attrs.get("native_id"), attrs.get("provider"), attrs.get("type")
    if provider == "azure" and native:
        if type_ in _AZURE_UPPER or (graph.kinds[n] != "policy" and str(native).lower().startswith("/subscriptions/")):
            return str(native).upper()
    # A credential is not an AWSHound node, and may carry its owner's ARN (a console password).
    if provider == "aws" and native and str(native).startswith("arn:") and graph.kinds[n] != "credential":
        return str(native)
    node = graph.ids[n]
    if graph.kinds[n] == "unknown" and node.startswith("aws:"):  # aws:<type>:<arn> of an object not scanned
        rest = node.split(":", 2)[-1]
        if rest.startswith("arn:"):
            return rest
    return node


def _containments(graph: Graph) -> list[tuple[int, int]]:
    scopes: dict[tuple[str, str], int] = {}
    for provider, types in _CONTAINERS.items():
        for type_ in reversed(types):  # the first type listed wins an account both claim
            for n in range(len(graph)):
                if graph.attrs[n].get("type") == type_ and graph.attrs[n].get("account"):
                    scopes[(provider, str(graph.attrs[n]["account"]))] = n
    out = []
    for n in range(len(graph)):
        account = graph.attrs[n].get("account")
        scope = scopes.get((str(graph.attrs[n].get("provider")), str(account))) if account else None
        if scope is not None and scope != n:
            out.append((scope, n))
    return out


def to_opengraph(graph: Graph) -> str:
    """BloodHound OpenGraph: ``{"metadata": {"source_kind"}, "graph": {"nodes", "edges"}}``;
    edges point at node ids (``match_by: id``); property values are scalars or lists. Every
    object is contained by its account, tenant, subscription or project (``AR_Contains``);
    one with no edge even then (a predefined GCP role definition: bindings become can_access
    edges, none points at the role) is left out, said on
    the log, as BloodHound keeps no use for an isolated node."""
    ids = [bloodhound_id(graph, n) for n in range(len(graph))]
    edges = [(a, b, f"AR_{_label(k)}", _edge_props(d)) for a, b, k, d in graph.edges()]
    edges += [(a, b, "AR_Contains", {}) for a, b in _containments(graph)]
    linked = {x for a, b, _k, _d in edges for x in (a, b) if ids[a] != ids[b]}
    nodes, seen = [], set()
    for n in range(len(graph)):
        if n not in linked or ids[n] in seen:
            continue
        seen.add(ids[n])
        kinds = [*_kind_labels(graph, n), OPENGRAPH_SOURCE_KIND]
        props = {k: v for k, v in _node_props(graph, n).items() if k != "objectid"}  # objectid is BloodHound's
        nodes.append({"id": ids[n], "kinds": kinds,
                      "properties": {"displayname": graph.names[n], "agentreach_id": graph.ids[n], **props}})
    left = len(graph) - len(seen)
    if left:
        log.warning("opengraph: %d object(s) with no edge left out (BloodHound ignores isolated nodes)", left)
    out_edges, drawn = [], set()
    for a, b, kind, props in edges:
        key = (ids[a], kind, ids[b])
        if ids[a] == ids[b] or key in drawn:
            continue
        drawn.add(key)
        out_edges.append({"start": {"value": ids[a], "match_by": "id"}, "end": {"value": ids[b], "match_by": "id"},
                          "kind": kind, "properties": props})
    return json.dumps({"metadata": {"source_kind": OPENGRAPH_SOURCE_KIND},
                       "graph": {"nodes": nodes, "edges": out_edges}}, indent=1, default=str) + "\n"


EXPORTERS = {"graphml": to_graphml, "json": to_json, "cypher": to_cypher, "opengraph": to_opengraph}
