"""``agentreach graph push``: the snapshot's graph into a Cypher database, through the same
statements the Cypher export file holds (:func:`agentreach.graph.export.cypher_statements`).

Two kinds of server, one statement builder:

- Neo4j (and BloodHound's Neo4j) over Bolt: ``bolt://``, ``neo4j://`` (``+s`` / ``+ssc``
  for TLS) through the official ``neo4j`` driver;
- FalkorDB (OpenCypher on Redis): ``redis://``, ``rediss://``, ``falkor://``, ``falkors://``,
  ``falkordb://`` or ``unix://`` through the ``falkordb`` client.

Each statement MERGEs a batch of rows by stable id, so a push is idempotent and a push of a
newer snapshot updates in place; ``prune`` then deletes what other snapshots left. Drivers
are imported only here (the ``graph`` extra). A refused connection, a wrong password or a
statement the server rejects is one line naming the server, never the password.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from typing import Any, Mapping, Protocol

from .core import Graph
from .export import CYPHER_BATCH, CYPHER_LABEL, SCHEMA, cypher_statements, prune_statements

NEO4J_SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")
FALKOR_SCHEMES = ("redis", "rediss", "falkor", "falkors", "falkordb", "unix")
EXTRA_HINT = "pip install 'agentreach[graph]'"


class PushError(RuntimeError):
    """The graph could not be pushed; one line, no password."""


class UnknownServer(PushError):
    """The URI names no kind of server ``graph push`` speaks to (a usage error)."""


class Target(Protocol):
    dialect: str

    def run(self, text: str, params: Mapping[str, Any]) -> None: ...
    def schema(self) -> None: ...
    def close(self) -> None: ...


@dataclass(frozen=True)
class PushResult:
    server: str
    snapshot: int
    nodes: int
    edges: int
    statements: int
    pruned: bool

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def describe(uri: str) -> str:
    """The server as a message names it: scheme, host and port (or socket), never a password."""
    parts = urllib.parse.urlsplit(uri)
    if parts.scheme == "unix":
        return f"unix://{parts.path}"
    host = parts.hostname or "localhost"
    return f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else "")


def open_target(uri: str, *, user: str | None = None, password: str | None = None, database: str | None = None,
                graph_name: str = "agentreach") -> Target:
    """A connection to the server ``uri`` names, checked with one round trip."""
    scheme = urllib.parse.urlsplit(uri).scheme.lower()
    if scheme in NEO4J_SCHEMES:
        return _Neo4j(uri, user, password, database)
    if scheme in FALKOR_SCHEMES:
        return _Falkor(uri, graph_name)
    raise UnknownServer(f"--uri {describe(uri) if scheme else uri!r}: expected bolt:// or neo4j:// (Neo4j) or "
                    "redis:// or falkor:// (FalkorDB)")


def push(graph: Graph, snapshot: int, target: Target, *, batch: int = CYPHER_BATCH, prune: bool = False,
         server: str = "") -> PushResult:
    """Send the schema statement, then every node and edge statement; then, with ``prune``,
    delete the nodes and edges other snapshots wrote."""
    target.schema()
    count = 0
    for st in cypher_statements(graph, snapshot, batch=batch):
        target.run(st.text, {"rows": [dict(r) for r in st.rows]})
        count += 1
    if prune:
        for text in prune_statements():
            target.run(text, {"snapshot": snapshot})
            count += 1
    return PushResult(server, snapshot, len(graph), graph.edge_count(), count, prune)


class _Neo4j:
    dialect = "neo4j"

    def __init__(self, uri: str, user: str | None, password: str | None, database: str | None) -> None:
        try:
            import neo4j
        except ImportError:
            raise PushError(f"graph push to Neo4j needs the neo4j driver: {EXTRA_HINT}") from None
        self._errors = (neo4j.exceptions.Neo4jError, neo4j.exceptions.DriverError, OSError)
        self.where = describe(uri)
        self.database = database
        auth = (user or "neo4j", password) if password is not None else None
        try:
            self.driver = neo4j.GraphDatabase.driver(uri, auth=auth)
            self.driver.verify_connectivity()
        except self._errors as exc:
            raise PushError(f"cannot reach {self.where}: {_first_line(exc)}") from None

    def run(self, text: str, params: Mapping[str, Any]) -> None:
        try:
            self.driver.execute_query(text, parameters_=dict(params), database_=self.database)
        except self._errors as exc:
            raise PushError(f"{self.where} refused a statement ({text[:60]}…): {_first_line(exc)}") from None

    def schema(self) -> None:
        for text in SCHEMA[self.dialect]:
            self.run(text, {})

    def close(self) -> None:
        self.driver.close()


class _Falkor:
    dialect = "falkordb"

    def __init__(self, uri: str, graph_name: str) -> None:
        try:
            import redis
            from falkordb import FalkorDB
        except ImportError:
            raise PushError(f"graph push to FalkorDB needs the falkordb client: {EXTRA_HINT}") from None
        self._errors = (redis.exceptions.RedisError, OSError)
        self.where = describe(uri)
        if uri.startswith("falkordb://"):
            uri = "falkor://" + uri.removeprefix("falkordb://")
        try:
            self.db = FalkorDB.from_url(uri)
            self.graph = self.db.select_graph(graph_name)
            self.graph.query("RETURN 1")
        except self._errors as exc:
            raise PushError(f"cannot reach {self.where}: {_first_line(exc)}") from None

    def run(self, text: str, params: Mapping[str, Any]) -> None:
        try:
            self.graph.query(text, dict(params))
        except self._errors as exc:
            raise PushError(f"{self.where} refused a statement ({text[:60]}…): {_first_line(exc)}") from None

    def schema(self) -> None:
        """The index MERGE looks ids up by, and the uniqueness Neo4j's constraint gives (FalkorDB
        takes neither as Neo4j 5 spells them; each exists after the first push)."""
        import redis

        for text in SCHEMA[self.dialect]:
            try:
                self.graph.query(text)
            except redis.exceptions.ResponseError as exc:
                if "already indexed" not in str(exc):
                    raise PushError(f"{self.where} refused {text!r}: {_first_line(exc)}") from None
        try:
            self.graph.create_node_unique_constraint(CYPHER_LABEL, "objectid")
        except redis.exceptions.ResponseError as exc:
            if "already exists" not in str(exc).lower():
                raise PushError(f"{self.where} refused the unique constraint on objectid: {_first_line(exc)}") from None

    def close(self) -> None:
        self.db.close()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]
