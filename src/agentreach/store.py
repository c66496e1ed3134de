"""The inventory: every scan a snapshot, every object with its first and last sighting.

SQLAlchemy Core, one code path for SQLite (the default: one file) and PostgreSQL (a
``postgresql://`` URL, through psycopg 3: the ``postgres`` extra). Layout:

- ``snapshots``: one row per scan (times, status, config digest, connector versions).
- ``blobs``: node and edge bodies by content hash, stored once however many snapshots
  hold them unchanged (most objects do not change between scans).
- ``snapshot_nodes`` / ``snapshot_edges``: which bodies a snapshot holds.
- ``objects``: first_seen / last_seen per node id, updated only when a snapshot completes.
- ``annotations``: what later layers derive about a node, per snapshot.
- ``gaps``: coverage gaps per snapshot.
- ``findings`` / ``rule_results``: what the findings rules said about a snapshot, stored when
  its scan finished, so that an old report reads back exactly as it was, whatever the rules
  of the agentreach that reads it (``findings --recompute`` re-evaluates on purpose).
- ``runs`` / ``run_shards``: sharded scans (:mod:`agentreach.runs`): one snapshot that many
  workers write, the shards it waits for and what each reported.
- ``activity``: what each credential and identity was seen doing in the window a scan read
  (:mod:`agentreach.activity`), one row per (identity, credential, action, resource, outcome,
  log) with first / last seen and a count; never an event or a request body.
- ``meta``: the store's fingerprint salt and schema version.

A scan writes its rows as it goes under status ``running``; readers only ever look at
``complete`` snapshots, and ``objects`` is updated in the same transaction that marks a
snapshot complete. A scan that dies half-way therefore leaves the previous snapshot, and
every first/last-seen date, exactly as they were. On PostgreSQL several scans may write
at once (one snapshot each, e.g. one per account shard); SQLite takes one writer at a time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .model import CoverageGap, Edge, Node, canonical_json, node_from_dict

# 2: string columns as TEXT (a migration for PostgreSQL), findings and rule_results (new
# tables, created on open).
SCHEMA_VERSION = 2
ENV_DB = "AGENTREACH_DB"
# Rows per executemany call. Each row is its own statement (SQLAlchemy runs an INSERT without
# RETURNING through the driver's executemany), so this is far from PostgreSQL's 65,535 bind
# parameters a statement; it only bounds the memory of one call.
UPSERT_BATCH = 5000
DRIVER_HINT = 'PostgreSQL needs the driver: pip install "agentreach[postgres]"'
CONNECT_TIMEOUT_S = 10  # libpq waits forever by default; a wrong host should fail, not hang

# -- schema ---------------------------------------------------------------------------------
# Every string is TEXT (COLLATE "C" on PostgreSQL): ids, names, native ids and accounts come from the sources, whose
# lengths we do not control (a role ARN with a long path is 500+ characters), and a VARCHAR
# limit is enforced by PostgreSQL but ignored by SQLite, so the engines would disagree. JSON
# columns are SQLAlchemy JSON (json on PostgreSQL); times are timezone-aware on both engines.
# A new table needs no migration (create_all adds it to an existing store); a changed column
# does: add a step to MIGRATIONS below and bump SCHEMA_VERSION.
metadata = sa.MetaData()


# Byte order on PostgreSQL, as SQLite's BINARY: a server's default collation (often ICU or
# en_US) would sort names and compare lower() differently, and listings would change order.
TEXT = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def _text(name: str, *args: Any, **kw: Any) -> sa.Column:
    return sa.Column(name, TEXT, *args, **kw)


def _snapshot_ref(primary_key: bool = False, **kw: Any) -> sa.Column:
    return sa.Column("snapshot_id", sa.Integer, sa.ForeignKey("snapshots.id"), primary_key=primary_key, **kw)


meta_table = sa.Table(
    "meta", metadata,
    _text("key", primary_key=True),
    _text("value", nullable=False),
)
snapshots = sa.Table(
    "snapshots", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    _text("status", nullable=False),  # running|complete|failed|aborted
    _text("config_digest", nullable=False),
    sa.Column("connectors", sa.JSON, nullable=False),  # name -> version
    sa.Column("options", sa.JSON, nullable=False),  # --only, accounts, regions …
    sa.Column("node_count", sa.Integer, nullable=False, default=0),
    sa.Column("edge_count", sa.Integer, nullable=False, default=0),
    sa.Column("gap_count", sa.Integer, nullable=False, default=0),
    _text("error"),
)
blobs = sa.Table(
    "blobs", metadata,
    _text("hash", primary_key=True),
    _text("body", nullable=False),  # canonical JSON text: the hash is of these exact bytes
)
snapshot_nodes = sa.Table(
    "snapshot_nodes", metadata,
    _snapshot_ref(primary_key=True),
    _text("node_id", primary_key=True),
    _text("kind", nullable=False),
    _text("provider", nullable=False),
    _text("type", nullable=False),
    _text("name", nullable=False),
    _text("native_id"),
    _text("account"),
    _text("blob", sa.ForeignKey("blobs.hash"), nullable=False),
    sa.Index("ix_snapshot_nodes_native", "snapshot_id", "native_id"),
    sa.Index("ix_snapshot_nodes_name", "snapshot_id", "name"),
)
snapshot_edges = sa.Table(
    "snapshot_edges", metadata,
    _snapshot_ref(primary_key=True),
    _text("edge_id", primary_key=True),
    _text("src", nullable=False),
    _text("dst", nullable=False),
    _text("kind", nullable=False),
    _text("blob", sa.ForeignKey("blobs.hash"), nullable=False),
    sa.Index("ix_snapshot_edges_src", "snapshot_id", "src"),
    sa.Index("ix_snapshot_edges_dst", "snapshot_id", "dst"),
)
objects = sa.Table(
    "objects", metadata,
    _text("node_id", primary_key=True),
    sa.Column("first_seen_snapshot", sa.Integer, nullable=False),
    sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_seen_snapshot", sa.Integer, nullable=False),
    sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
)
annotations = sa.Table(
    # What later layers derive about a node (agent verdict, owner, stale flags), per snapshot.
    "annotations", metadata,
    _snapshot_ref(primary_key=True),
    _text("node_id", primary_key=True),
    _text("aspect", primary_key=True),
    _text("body", nullable=False),
)
gaps_table = sa.Table(
    "gaps", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    _snapshot_ref(nullable=False, index=True),
    _text("connector", nullable=False),
    _text("account"),
    _text("region"),
    _text("service"),
    _text("operation", nullable=False),
    _text("error_code", nullable=False),
    _text("message", nullable=False),
)
findings_table = sa.Table(
    # One row per finding of a snapshot: its public JSON (rule, severity, subject, evidence,
    # path, frameworks, fingerprint), as the rules of the scan's agentreach produced it.
    "findings", metadata,
    _snapshot_ref(primary_key=True),
    _text("fingerprint", primary_key=True),
    _text("rule", nullable=False),
    _text("severity", nullable=False),
    _text("subject", nullable=False),
    _text("body", nullable=False),
)
rule_results_table = sa.Table(
    # Every rule evaluated (or skipped, and why) for a snapshot, with the version that did it.
    "rule_results", metadata,
    _snapshot_ref(primary_key=True),
    _text("rule", primary_key=True),
    _text("body", nullable=False),
)
activity_table = sa.Table(
    # Activity aggregates per snapshot (agentreach.activity.ActivityAggregate): the key's
    # digest is the primary key, its parts are columns for the queries (by subject, by
    # resource); addresses and user agents are bounded JSON lists.
    "activity", metadata,
    _snapshot_ref(primary_key=True),
    _text("key", primary_key=True),
    _text("identity", nullable=False),
    _text("credential", nullable=False),  # "" when the log named no long-lived credential
    _text("action", nullable=False),
    _text("resource", nullable=False),
    _text("outcome", nullable=False),
    _text("source", nullable=False),
    _text("provider", nullable=False),
    _text("account"),
    _text("principal"),
    sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("source_ips", sa.JSON, nullable=False),
    sa.Column("user_agents", sa.JSON, nullable=False),
    sa.Column("error_codes", sa.JSON, nullable=False),
    sa.Column("truncated", sa.Boolean, nullable=False, default=False),
    sa.Index("ix_activity_identity", "snapshot_id", "identity"),
    sa.Index("ix_activity_credential", "snapshot_id", "credential"),
    sa.Index("ix_activity_resource", "snapshot_id", "resource"),
)
runs_table = sa.Table(
    # A sharded scan: many workers (one per account, subscription, project or path shard)
    # write one snapshot; the run names it and says how many shards it waits for.
    "runs", metadata,
    _text("name", primary_key=True),
    _snapshot_ref(nullable=False, unique=True),
    sa.Column("expected", sa.Integer, nullable=False),  # shards the run waits for
    _text("status", nullable=False),  # running|finalizing|complete|failed
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finalized_at", sa.DateTime(timezone=True)),
    _text("finalized_by"),  # the worker (host:pid) that finalized or is finalizing it
)
run_shards_table = sa.Table(
    # Each shard of a run: announced, running, complete or failed, with its own gaps (written
    # to the snapshot's gaps only when the run is finalized, so a retried shard replaces them).
    "run_shards", metadata,
    _text("run", sa.ForeignKey("runs.name"), primary_key=True),
    _text("shard", primary_key=True),  # "accounts=111122223333,444455556666"
    _text("connector", nullable=False),
    _text("connector_version"),
    _text("status", nullable=False),  # announced|running|complete|failed
    _text("worker"),
    sa.Column("started_at", sa.DateTime(timezone=True)),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("nodes", sa.Integer, nullable=False, default=0),
    sa.Column("edges", sa.Integer, nullable=False, default=0),
    sa.Column("gaps", sa.JSON, nullable=False),  # [CoverageGap.to_dict()]
    sa.Column("api_calls", sa.JSON, nullable=False),  # operation -> calls
    _text("error"),
)


# -- migrations -----------------------------------------------------------------------------
def _strings_to_text(conn: sa.Connection) -> None:
    """1 -> 2: every string column becomes TEXT (schema 1 had VARCHAR(n) limits), in byte
    order on PostgreSQL.

    SQLite stores need nothing: a declared VARCHAR(n) only gives the column TEXT affinity and
    SQLite never enforces the length, so a schema-1 file already takes any id (and compares
    bytes). PostgreSQL enforces it, so each such column is altered to TEXT COLLATE "C"; the
    new collation makes PostgreSQL rebuild the indexes on those columns, once."""
    if conn.dialect.name != "postgresql":
        return
    rows = conn.execute(sa.text(
        "select table_name, column_name from information_schema.columns "
        "where table_schema = current_schema() and data_type in ('character varying', 'text') "
        "and collation_name is distinct from 'C'")).all()
    for table, column in rows:
        if table in metadata.tables and isinstance(metadata.tables[table].c[column].type, sa.Text):
            conn.exec_driver_sql(f'ALTER TABLE "{table}" ALTER COLUMN "{column}" TYPE TEXT COLLATE "C"')


# version -> the step that brings a store from version - 1 to it, run in order on open.
MIGRATIONS: dict[int, Callable[[sa.Connection], None]] = {2: _strings_to_text}


# -- errors ---------------------------------------------------------------------------------
class StoreError(RuntimeError):
    """The store cannot be opened or used; the message is one line and never holds a password."""


class StoreMissing(StoreError):
    """No store exists yet at the path a reader was given."""


class StoreUnreachable(StoreError):
    """The database server refused or lost the connection (down, wrong password, no such database)."""


# -- where a store is -----------------------------------------------------------------------
def default_db_path() -> Path:
    """``$AGENTREACH_DB``, else ``agentreach.db`` under the user's data directory."""
    if os.environ.get(ENV_DB):
        return Path(os.environ[ENV_DB]).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("agentreach", appauthor=False)) / "agentreach.db"


def is_url(target: str | Path) -> bool:
    """Whether a ``--db`` value is a database URL rather than a file path. A ``Path`` never
    is: ``Path("postgresql://h/db")`` has already folded the URL into a folder name."""
    return not isinstance(target, Path) and "://" in str(target)


def store_url(target: str | Path | None = None) -> sa.URL:
    """The SQLAlchemy URL a ``--db`` value means: a URL as given (``postgresql://`` and
    ``postgres://`` run on psycopg 3), anything else a SQLite file path. ``str()`` of the
    result hides the password."""
    if target is None:
        target = default_db_path()
    if not is_url(target):
        return sa.URL.create("sqlite", database=str(Path(target).expanduser()))
    try:
        url = sa.make_url(str(target))
    except (sa.exc.ArgumentError, ValueError):
        scheme = str(target).split("://", 1)[0]
        raise StoreError(f"cannot read the store URL ({scheme}://…): expected scheme://user@host:port/database"
                         ) from None
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url


def _sqlite_file(url: sa.URL) -> Path | None:
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def create_private(path: Path) -> None:
    """Make a new SQLite store readable by its owner only: its directory 0700 when this
    creates it (the levels above it as the umask says), the file itself 0600 before SQLite
    writes a byte (SQLite gives the -wal, -shm and -journal files beside it the database
    file's mode). The store holds the fingerprint salt, the fingerprints and the whole
    inventory. An existing file or directory keeps its mode: someone chose it."""
    directory = path.parent
    if not directory.exists():
        directory.parent.mkdir(parents=True, exist_ok=True)
        try:
            directory.mkdir(mode=PRIVATE_DIR)
            if os.name == "posix":
                os.chmod(directory, PRIVATE_DIR)  # mkdir's mode passes through the umask; this is exact
        except FileExistsError:
            pass  # another process made it first: its mode is theirs
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE)
    except FileExistsError:
        return
    try:
        if os.name == "posix":
            os.fchmod(fd, PRIVATE_FILE)
    finally:
        os.close(fd)


def describe(url: sa.URL) -> str:
    """The store as a message names it: the file, or host, port and database, never the password."""
    path = _sqlite_file(url)
    if path is not None:
        return str(path)
    if url.get_backend_name() == "postgresql":
        host = url.host or url.query.get("host") or "the default socket"
        port = f":{url.port}" if url.port else ""
        return f'the PostgreSQL store at {host}{port}, database "{url.database or "(default)"}"'
    return url.render_as_string(hide_password=True)


_LIBPQ_PREFIX = re.compile(r'^(connection failed: )?(connection to server (at|on socket) "[^"]*"(, port \d+)? '
                           r'failed: )?(FATAL: +|ERROR: +)?')


def _reason(orig: BaseException, password: str | None) -> str:
    """The driver's message cut to its first line, libpq's preamble dropped, the password
    (libpq never echoes it, but a URL typo could put it elsewhere) blanked."""
    text = str(orig).strip() or type(orig).__name__
    line = _LIBPQ_PREFIX.sub("", text.splitlines()[0].strip())
    if line == "Connection refused":
        line = "connection refused (is the server running and accepting TCP/IP connections?)"
    return line.replace(password, "***") if password else line


def _engine_options(url: sa.URL) -> dict[str, Any]:
    if url.get_backend_name() == "postgresql" and "connect_timeout" not in url.query:
        return {"connect_args": {"connect_timeout": CONNECT_TIMEOUT_S, "application_name": "agentreach"}}
    return {}


def _create_engine(url: sa.URL) -> Engine:
    """An engine for the URL, or a StoreError that says which driver to install."""
    try:
        engine = sa.create_engine(url, future=True, **_engine_options(url))
    except ImportError as exc:
        if url.get_backend_name() == "postgresql":
            raise StoreError(DRIVER_HINT) from None
        raise StoreError(f"the store URL needs a driver that is not installed ({exc.name or exc})") from None
    except sa.exc.NoSuchModuleError:
        raise StoreError(f"no database engine for the store URL scheme {url.drivername}://") from None
    where = describe(url)

    def to_store_error(ctx: sa.engine.ExceptionContext) -> StoreError | None:
        # Every driver error leaves the store as a one-line StoreError (the CLI turns it into
        # exit 4) naming the store; the driver's exception stays chained for -vv.
        orig = ctx.original_exception
        if not isinstance(orig, Exception) or isinstance(orig, StoreError):
            return None
        reason = _reason(orig, url.password)
        if engine.dialect.name != "sqlite" and (ctx.connection is None or ctx.is_disconnect):
            return StoreUnreachable(f"cannot connect to {where}: {reason}")
        return StoreError(f"{where}: {reason}")

    sa.event.listen(engine, "handle_error", to_store_error)
    if engine.dialect.name == "sqlite":
        sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


@dataclass(frozen=True)
class SnapshotInfo:
    id: int
    started_at: dt.datetime
    finished_at: dt.datetime | None
    status: str
    config_digest: str
    connectors: dict[str, str]
    options: dict[str, Any]
    node_count: int
    edge_count: int
    gap_count: int
    error: str | None

    def to_dict(self) -> dict[str, Any]:
        return _with_iso_times(self.__dict__)


@dataclass(frozen=True)
class StoredNode:
    """A node as a snapshot holds it, with when agentreach first and last saw it."""

    node: Node
    first_seen: dt.datetime | None
    last_seen: dt.datetime | None


@dataclass(frozen=True)
class RunInfo:
    """A sharded run: its name, the snapshot its shards write into, how many shards it
    waits for, and its status (running until finalized)."""

    name: str
    snapshot_id: int
    expected: int
    status: str
    created_at: dt.datetime
    finalized_at: dt.datetime | None
    finalized_by: str | None

    def to_dict(self) -> dict[str, Any]:
        return _with_iso_times(self.__dict__)


@dataclass(frozen=True)
class ShardInfo:
    """One shard of a run, as its worker last reported it."""

    run: str
    shard: str
    connector: str
    connector_version: str | None
    status: str
    worker: str | None
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    nodes: int
    edges: int
    gaps: list[dict[str, Any]]
    api_calls: dict[str, int]
    error: str | None

    def to_dict(self) -> dict[str, Any]:
        return _with_iso_times(self.__dict__)


def _with_iso_times(fields: Mapping[str, Any]) -> dict[str, Any]:
    """A record's fields as JSON takes them: every time as ISO 8601 UTC."""
    return {k: _iso(v) if isinstance(v, dt.datetime) else v for k, v in fields.items()}


def _iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return _aware(value).isoformat().replace("+00:00", "Z")


def _aware(value: dt.datetime) -> dt.datetime:
    """UTC, whichever engine it came from: SQLite hands datetimes back naive (everything we
    store is UTC), PostgreSQL aware in the session's time zone."""
    return value.astimezone(dt.timezone.utc) if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class Store:
    """One inventory database. Thread-safe; on SQLite one writer (the scan) and many readers,
    on PostgreSQL many writers as well, one snapshot each."""

    def __init__(self, target: str | Path | None = None, *, create: bool = True, salt: str | None = None) -> None:
        """``target`` is a SQLite file path or a database URL (see :func:`store_url`).
        ``salt`` seeds a *new* store's fingerprint salt (the pre-commit hook shares one
        through the repository's baseline so that fingerprints match on every clone); an
        existing store keeps its own."""
        self.url = store_url(target)
        self.where = describe(self.url)
        path = _sqlite_file(self.url)
        if path is not None:
            if not path.exists() and not create:
                raise StoreMissing(f"no agentreach store at {path} (run 'agentreach scan' first)")
            create_private(path)
        self._salt: str | None = None
        self.engine: Engine = _create_engine(self.url)
        try:
            if path is None and not create and not sa.inspect(self.engine).has_table(meta_table.name):
                raise StoreMissing(f"no agentreach store in {self.where} (run 'agentreach scan' first)")
            metadata.create_all(self.engine)
            self._init_meta(salt)
        except (StoreMissing, StoreUnreachable):
            self.engine.dispose()
            raise
        except StoreError as exc:
            self.engine.dispose()
            if exc.__cause__ is None:  # ours (a newer schema), not the driver's: already says it all
                raise
            reason = str(exc).removeprefix(f"{self.where}: ")
            raise StoreError(f"{self.where} is not a usable agentreach store: {reason}") from exc.__cause__

    # -- meta -------------------------------------------------------------------------------
    def _init_meta(self, salt: str | None = None) -> None:
        with self.engine.begin() as conn:
            rows = dict(conn.execute(sa.select(meta_table.c.key, meta_table.c.value)).all())
            if "schema_version" not in rows:
                conn.execute(meta_table.insert(), [
                    {"key": "schema_version", "value": str(SCHEMA_VERSION)},
                    {"key": "fingerprint_salt", "value": salt or secrets.token_hex(16)},
                ])
            elif int(rows["schema_version"]) > SCHEMA_VERSION:
                raise StoreError(
                    f"store schema {rows['schema_version']} is newer than this agentreach ({SCHEMA_VERSION})"
                )
            elif int(rows["schema_version"]) < SCHEMA_VERSION:
                for version in range(int(rows["schema_version"]) + 1, SCHEMA_VERSION + 1):
                    MIGRATIONS[version](conn)
                conn.execute(meta_table.update().where(meta_table.c.key == "schema_version")
                             .values(value=str(SCHEMA_VERSION)))
            # A scan that was killed leaves 'running' rows behind; they are aborted, not live.
            conn.execute(
                snapshots.update().where(snapshots.c.status == "running")
                .where(snapshots.c.started_at < dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=1))
                .values(status="aborted", error="scan never finished")
            )

    def fingerprint(self, value: str) -> str:
        """Salted SHA-256 of a secret value: the only form in which a value may be kept.
        The salt is per store, so fingerprints match across this store's scans only."""
        if self._salt is None:
            with self.engine.connect() as conn:
                self._salt = conn.execute(
                    sa.select(meta_table.c.value).where(meta_table.c.key == "fingerprint_salt")
                ).scalar_one()
        return "sha256:" + _sha(self._salt + value)

    @property
    def salt(self) -> str:
        """The fingerprint salt (not a secret: it keeps fingerprints from being compared
        across stores or against precomputed hashes)."""
        self.fingerprint("")
        assert self._salt is not None
        return self._salt

    # -- writing a snapshot ------------------------------------------------------------------
    def begin_snapshot(
        self, *, config_digest: str, connectors: Mapping[str, str], options: Mapping[str, Any],
        started_at: dt.datetime | None = None,
    ) -> int:
        with self.engine.begin() as conn:
            return self._insert_snapshot(conn, config_digest=config_digest, connectors=connectors, options=options,
                                         started_at=started_at)

    def _insert_snapshot(self, conn: sa.Connection, *, config_digest: str, connectors: Mapping[str, str],
                         options: Mapping[str, Any], started_at: dt.datetime | None) -> int:
        result = conn.execute(snapshots.insert().values(
            started_at=_aware(started_at or dt.datetime.now(dt.timezone.utc)), status="running",
            config_digest=config_digest, connectors=dict(connectors), options=dict(options),
            node_count=0, edge_count=0, gap_count=0,
        ))
        return int(result.inserted_primary_key[0])

    def add_nodes(self, snapshot_id: int, nodes: Sequence[Node]) -> None:
        """Add (or replace, by id) nodes of a running snapshot."""
        self._add_bodies(snapshot_id, snapshot_nodes, ["snapshot_id", "node_id"], [
            (node.to_dict(), {"node_id": node.id, "kind": node.kind.value, "provider": node.provider,
                              "type": node.type, "name": node.name, "native_id": node.native_id,
                              "account": node.account})
            for node in nodes])

    def add_edges(self, snapshot_id: int, edges: Sequence[Edge]) -> None:
        self._add_bodies(snapshot_id, snapshot_edges, ["snapshot_id", "edge_id"], [
            (edge.to_dict(), {"edge_id": edge.id, "src": edge.src, "dst": edge.dst, "kind": edge.kind.value})
            for edge in edges])

    def _add_bodies(self, snapshot_id: int, table: sa.Table, keys: list[str],
                    items: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
        """Store each body once by content hash and point the snapshot's row at it."""
        if not items:
            return
        bodies: dict[str, str] = {}
        rows = []
        for body, columns in items:
            text = canonical_json(body)
            digest = _sha(text)
            bodies[digest] = text
            rows.append({"snapshot_id": snapshot_id, **columns, "blob": digest})
        with self.engine.begin() as conn:
            self._put_blobs(conn, bodies)
            self._upsert(conn, table, rows, keys)

    def add_gaps(self, snapshot_id: int, gaps: Iterable[CoverageGap]) -> None:
        rows = [{"snapshot_id": snapshot_id, **g.to_dict()} for g in gaps]
        if rows:
            with self.engine.begin() as conn:
                conn.execute(gaps_table.insert(), rows)

    def finish_snapshot(self, snapshot_id: int, *, status: str, error: str | None = None,
                        finished_at: dt.datetime | None = None) -> SnapshotInfo:
        """Close a snapshot. Only ``complete`` ones move first/last-seen dates."""
        finished_at = _aware(finished_at or dt.datetime.now(dt.timezone.utc))
        with self.engine.begin() as conn:
            counts = {
                "node_count": conn.execute(sa.select(sa.func.count()).select_from(snapshot_nodes)
                                           .where(snapshot_nodes.c.snapshot_id == snapshot_id)).scalar_one(),
                "edge_count": conn.execute(sa.select(sa.func.count()).select_from(snapshot_edges)
                                           .where(snapshot_edges.c.snapshot_id == snapshot_id)).scalar_one(),
                "gap_count": conn.execute(sa.select(sa.func.count()).select_from(gaps_table)
                                          .where(gaps_table.c.snapshot_id == snapshot_id)).scalar_one(),
            }
            if status == "complete":
                self._touch_objects(conn, snapshot_id, finished_at)
            conn.execute(snapshots.update().where(snapshots.c.id == snapshot_id).values(
                status=status, finished_at=finished_at, error=error, **counts))
        info = self.snapshot(snapshot_id)
        assert info is not None
        return info

    def _touch_objects(self, conn: sa.Connection, snapshot_id: int, when: dt.datetime) -> None:
        """First/last seen of every node of the snapshot. By time, not by commit order: two
        scans finishing at once (PostgreSQL) may commit in either order, and the one that
        finished earlier must neither pull last_seen back nor keep first_seen late."""
        ids = conn.execute(sa.select(snapshot_nodes.c.node_id)
                           .where(snapshot_nodes.c.snapshot_id == snapshot_id)
                           .order_by(snapshot_nodes.c.node_id)).scalars().all()
        insert = self._insert(objects)
        new = insert.excluded
        earlier = new.first_seen_at < objects.c.first_seen_at
        later = new.last_seen_at >= objects.c.last_seen_at
        set_ = {
            "first_seen_snapshot": sa.case((earlier, new.first_seen_snapshot), else_=objects.c.first_seen_snapshot),
            "first_seen_at": sa.case((earlier, new.first_seen_at), else_=objects.c.first_seen_at),
            "last_seen_snapshot": sa.case((later, new.last_seen_snapshot), else_=objects.c.last_seen_snapshot),
            "last_seen_at": sa.case((later, new.last_seen_at), else_=objects.c.last_seen_at),
        }
        rows = [{"node_id": i, "first_seen_snapshot": snapshot_id, "first_seen_at": when,
                 "last_seen_snapshot": snapshot_id, "last_seen_at": when} for i in ids]
        stmt = insert.on_conflict_do_update(index_elements=["node_id"], set_=set_)
        for start in range(0, len(rows), UPSERT_BATCH):
            conn.execute(stmt, rows[start:start + UPSERT_BATCH])

    def _put_blobs(self, conn: sa.Connection, bodies: Mapping[str, str]) -> None:
        rows = [{"hash": h, "body": b} for h, b in bodies.items()]
        self._upsert(conn, blobs, rows, ["hash"], update=[])

    def _insert(self, table: sa.Table) -> Any:
        """The dialect's INSERT, which has ON CONFLICT on SQLite and PostgreSQL alike."""
        if self.engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        return insert(table)

    def _upsert(self, conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]],
                keys: list[str], update: list[str] | None = None) -> None:
        """INSERT … ON CONFLICT, in key order: two transactions that upsert overlapping keys
        (two scans sharing unchanged blobs, on PostgreSQL) then lock them in the same order
        and wait for each other instead of deadlocking."""
        if not rows:
            return
        rows = sorted(rows, key=lambda r: tuple(r[k] for k in keys))
        cols = update if update is not None else [c for c in rows[0] if c not in keys]
        for start in range(0, len(rows), UPSERT_BATCH):
            stmt = self._insert(table)
            stmt = (stmt.on_conflict_do_update(index_elements=keys,
                                               set_={c: stmt.excluded[c] for c in cols})
                    if cols else stmt.on_conflict_do_nothing(index_elements=keys))
            conn.execute(stmt, rows[start:start + UPSERT_BATCH])

    def _any_of(self, column: sa.ColumnElement[Any], values: Iterable[str]) -> sa.ColumnElement[bool]:
        """``column IN values`` as ONE bind parameter however many values: an expanded IN
        takes one parameter per value, and PostgreSQL allows 65,535 per statement (SQLite
        32,766 in many builds), fewer than the ids of a large snapshot."""
        values = list(values)
        if self.engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import ARRAY

            return column == sa.any_(sa.bindparam(None, values, type_=ARRAY(sa.Text)))
        if self.engine.dialect.name == "sqlite":
            each = sa.func.json_each(sa.bindparam(None, json.dumps(values), type_=sa.Text)).table_valued("value")
            return column.in_(sa.select(each.c.value))
        return column.in_(values)

    # -- reading -----------------------------------------------------------------------------
    def snapshots(self) -> list[SnapshotInfo]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(snapshots).order_by(snapshots.c.id)).mappings().all()
        return [_snapshot_info(r) for r in rows]

    def snapshot(self, snapshot_id: int) -> SnapshotInfo | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(snapshots).where(snapshots.c.id == snapshot_id)).mappings().first()
        return _snapshot_info(row) if row else None

    def latest_snapshot(self) -> SnapshotInfo | None:
        """The newest snapshot that completed; running, failed and aborted ones never count."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(snapshots).where(snapshots.c.status == "complete")
                .order_by(snapshots.c.id.desc()).limit(1)
            ).mappings().first()
        return _snapshot_info(row) if row else None

    def nodes(self, snapshot_id: int, *, kinds: Iterable[str] | None = None,
              provider: str | None = None, account: str | None = None,
              types: Iterable[str] | None = None, ids: Iterable[str] | None = None) -> Iterator[StoredNode]:
        q = (sa.select(blobs.c.body, objects.c.first_seen_at, objects.c.last_seen_at)
             .select_from(snapshot_nodes.join(blobs, blobs.c.hash == snapshot_nodes.c.blob)
                          .outerjoin(objects, objects.c.node_id == snapshot_nodes.c.node_id))
             .where(snapshot_nodes.c.snapshot_id == snapshot_id)
             .order_by(snapshot_nodes.c.kind, snapshot_nodes.c.provider, snapshot_nodes.c.account.nulls_first(),
                       snapshot_nodes.c.type, snapshot_nodes.c.name, snapshot_nodes.c.node_id))
        if kinds:
            q = q.where(snapshot_nodes.c.kind.in_(list(kinds)))
        if types:
            q = q.where(snapshot_nodes.c.type.in_(list(types)))
        if provider:
            q = q.where(snapshot_nodes.c.provider == provider)
        if account:
            q = q.where(snapshot_nodes.c.account == account)
        if ids is not None:
            q = q.where(self._any_of(snapshot_nodes.c.node_id, ids))
        with self.engine.connect() as conn:
            for body, first, last in conn.execute(q):
                yield StoredNode(node_from_dict(json.loads(body)),
                                 _aware(first) if first else None, _aware(last) if last else None)

    def edges(self, snapshot_id: int, *, touching: str | None = None, kinds: Iterable[str] | None = None,
              dst_in: Iterable[str] | None = None) -> list[dict[str, Any]]:
        q = (sa.select(blobs.c.body).select_from(snapshot_edges.join(blobs, blobs.c.hash == snapshot_edges.c.blob))
             .where(snapshot_edges.c.snapshot_id == snapshot_id))
        if touching:
            q = q.where(sa.or_(snapshot_edges.c.src == touching, snapshot_edges.c.dst == touching))
        if dst_in is not None:
            q = q.where(self._any_of(snapshot_edges.c.dst, dst_in))
        if kinds:
            q = q.where(snapshot_edges.c.kind.in_(list(kinds)))
        with self.engine.connect() as conn:
            return [json.loads(b) for (b,) in conn.execute(q.order_by(
                snapshot_edges.c.kind, snapshot_edges.c.src, snapshot_edges.c.dst, snapshot_edges.c.edge_id))]

    def authenticates(self, snapshot_id: int) -> dict[str, list[dict[str, str]]]:
        """credential id -> [{id, name}] of the identities it authenticates as, in one query:
        a listing of keys is useless to a responder without whose keys they are."""
        ident = snapshot_nodes.alias("ident")
        q = (sa.select(snapshot_edges.c.src, snapshot_edges.c.dst, ident.c.name)
             .select_from(snapshot_edges.outerjoin(ident, sa.and_(ident.c.snapshot_id == snapshot_edges.c.snapshot_id,
                                                                  ident.c.node_id == snapshot_edges.c.dst)))
             .where(snapshot_edges.c.snapshot_id == snapshot_id, snapshot_edges.c.kind == "authenticates")
             .order_by(snapshot_edges.c.src, snapshot_edges.c.dst))
        out: dict[str, list[dict[str, str]]] = {}
        with self.engine.connect() as conn:
            for src, dst, name in conn.execute(q):
                out.setdefault(src, []).append({"id": dst, "name": name or dst})
        return out

    def match_nodes(self, snapshot_id: int, column: str, value: str, *, how: str = "eq",
                    kinds: Iterable[str] | None = None) -> list[tuple[str, str]]:
        """(node id, kind) of the snapshot's nodes whose indexed ``column`` (node_id, native_id
        or name) equals ``value`` (``how`` "eq"), ends with it ("suffix") or equals it
        case-insensitively ("casefold"). The resolver's primitive (agentreach.graph.resolve)."""
        col = {"node_id": snapshot_nodes.c.node_id, "native_id": snapshot_nodes.c.native_id,
               "name": snapshot_nodes.c.name}[column]
        condition = {"eq": lambda: col == value, "suffix": lambda: col.like(f"%{_like_escape(value)}", escape="\\"),
                     "casefold": lambda: sa.func.lower(col) == value.lower()}[how]()
        q = sa.select(snapshot_nodes.c.node_id, snapshot_nodes.c.kind).where(
            snapshot_nodes.c.snapshot_id == snapshot_id, condition).order_by(snapshot_nodes.c.node_id)
        if kinds:
            q = q.where(snapshot_nodes.c.kind.in_(list(kinds)))
        with self.engine.connect() as conn:
            return [(i, k) for i, k in conn.execute(q)]

    def put_annotations(self, snapshot_id: int, aspect: str, bodies: Mapping[str, Any]) -> None:
        """Replace one aspect's annotations of a snapshot (a re-classification overwrites)."""
        rows = [{"snapshot_id": snapshot_id, "node_id": nid, "aspect": aspect, "body": canonical_json(body)}
                for nid, body in bodies.items()]
        with self.engine.begin() as conn:
            conn.execute(annotations.delete().where(annotations.c.snapshot_id == snapshot_id,
                                                    annotations.c.aspect == aspect))
            for start in range(0, len(rows), UPSERT_BATCH):
                conn.execute(annotations.insert(), rows[start:start + UPSERT_BATCH])

    def annotations(self, snapshot_id: int, aspect: str, ids: Iterable[str] | None = None) -> dict[str, Any]:
        q = sa.select(annotations.c.node_id, annotations.c.body).where(
            annotations.c.snapshot_id == snapshot_id, annotations.c.aspect == aspect).order_by(annotations.c.node_id)
        if ids is not None:
            q = q.where(self._any_of(annotations.c.node_id, ids))
        with self.engine.connect() as conn:
            return {nid: json.loads(body) for nid, body in conn.execute(q)}

    def put_findings(self, snapshot_id: int, findings: Sequence[Mapping[str, Any]],
                     rules: Sequence[Mapping[str, Any]]) -> None:
        """Replace a snapshot's findings and rule results (each a public JSON dict)."""
        rows = [{"snapshot_id": snapshot_id, "fingerprint": f["fingerprint"], "rule": f["rule"],
                 "severity": f["severity"], "subject": f["subject"], "body": canonical_json(f)} for f in findings]
        results = [{"snapshot_id": snapshot_id, "rule": r["rule"], "body": canonical_json(r)} for r in rules]
        with self.engine.begin() as conn:
            for table in (findings_table, rule_results_table):
                conn.execute(table.delete().where(table.c.snapshot_id == snapshot_id))
            for table, batch in ((findings_table, rows), (rule_results_table, results)):
                for start in range(0, len(batch), UPSERT_BATCH):
                    conn.execute(table.insert(), batch[start:start + UPSERT_BATCH])

    def stored_findings(self, snapshot_id: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]] | None:
        """(findings, rule results) as stored for the snapshot, or None when none were
        stored (a snapshot made before agentreach kept findings)."""
        with self.engine.connect() as conn:
            results = [json.loads(b) for (b,) in conn.execute(
                sa.select(rule_results_table.c.body).where(rule_results_table.c.snapshot_id == snapshot_id)
                .order_by(rule_results_table.c.rule))]
            if not results:
                return None
            found = [json.loads(b) for (b,) in conn.execute(
                sa.select(findings_table.c.body).where(findings_table.c.snapshot_id == snapshot_id)
                .order_by(findings_table.c.fingerprint))]
        return found, results

    def gaps(self, snapshot_id: int) -> list[CoverageGap]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(gaps_table).where(gaps_table.c.snapshot_id == snapshot_id)
                                .order_by(gaps_table.c.id)).mappings().all()
        return [CoverageGap(**{k: r[k] for k in ("connector", "operation", "error_code", "message",
                                                  "account", "region", "service")}) for r in rows]

    # -- activity ------------------------------------------------------------------------------
    def add_activity(self, snapshot_id: int, aggregates: Sequence[Any]) -> None:
        """Add activity aggregates (agentreach.activity.ActivityAggregate) to a snapshot,
        merged with the parts of the same key already stored (an aggregator drained in parts,
        several accounts' trails, shards of a run): earliest first, latest last, counts added."""
        from .activity import merge, merge_all

        parts = merge_all(aggregates)
        for start in range(0, len(parts), UPSERT_BATCH):
            chunk = parts[start:start + UPSERT_BATCH]
            by_key = {a.key_hash: a for a in chunk}
            with self.engine.begin() as conn:
                rows = conn.execute(sa.select(activity_table).where(
                    activity_table.c.snapshot_id == snapshot_id,
                    self._any_of(activity_table.c.key, list(by_key)))).mappings().all()
                for row in rows:
                    by_key[row["key"]] = merge(_aggregate_of(row), by_key[row["key"]])
                self._upsert(conn, activity_table, [
                    {"snapshot_id": snapshot_id, "key": h, "identity": a.identity, "credential": a.credential or "",
                     "action": a.action, "resource": a.resource, "outcome": a.outcome, "source": a.source,
                     "provider": a.provider, "account": a.account, "principal": a.principal,
                     "first_seen": _aware(a.first_seen), "last_seen": _aware(a.last_seen), "count": a.count,
                     "source_ips": list(a.source_ips), "user_agents": list(a.user_agents),
                     "error_codes": list(a.error_codes), "truncated": a.truncated}
                    for h, a in by_key.items()], ["snapshot_id", "key"])

    def activity(self, snapshot_id: int, *, subjects: Iterable[str] | None = None,
                 since: dt.datetime | None = None, outcome: str | None = None,
                 resource_prefix: str | None = None) -> list[Any]:
        """The snapshot's activity aggregates (of ``subjects``, identity or credential ids;
        last seen at or after ``since``), ordered by subject, action, resource, outcome, source."""
        t = activity_table
        q = sa.select(t).where(t.c.snapshot_id == snapshot_id)
        if subjects is not None:
            subjects = list(subjects)
            q = q.where(sa.or_(self._any_of(t.c.identity, subjects), self._any_of(t.c.credential, subjects)))
        if since is not None:
            q = q.where(t.c.last_seen >= _aware(since))
        if outcome:
            q = q.where(t.c.outcome == outcome)
        if resource_prefix:
            q = q.where(t.c.resource.like(f"{_like_escape(resource_prefix)}%", escape="\\"))
        q = q.order_by(t.c.identity, t.c.credential, t.c.action, t.c.resource, t.c.outcome, t.c.source)
        with self.engine.connect() as conn:
            return [_aggregate_of(r) for r in conn.execute(q).mappings()]

    def activity_user_agents(self, snapshot_id: int) -> Iterator[tuple[str, str, list[str]]]:
        """(identity, credential or "", user agents) of every aggregate of the snapshot, streamed."""
        t = activity_table
        q = (sa.select(t.c.identity, t.c.credential, t.c.user_agents).where(t.c.snapshot_id == snapshot_id)
             .order_by(t.c.identity, t.c.credential, t.c.first_seen, t.c.key))
        with self.engine.connect() as conn:
            for identity, credential, uas in conn.execution_options(stream_results=True).execute(q):
                if uas:
                    yield identity, credential, list(uas)

    def has_activity(self, snapshot_id: int) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(activity_table.c.key).where(
                activity_table.c.snapshot_id == snapshot_id).limit(1)).first() is not None

    # -- sharded runs ------------------------------------------------------------------------
    def open_run(self, name: str, *, expected: int, config_digest: str, connectors: Mapping[str, str],
                 options: Mapping[str, Any], announce: Sequence[tuple[str, str]] = (),
                 started_at: dt.datetime | None = None) -> tuple[RunInfo, bool]:
        """The run ``name``, created with its ``running`` snapshot and its announced shards
        ((shard, connector) pairs) unless it exists; True when this call created it.

        Workers may race to create the same run: the snapshot and the run are inserted in
        one transaction, and the one whose run insert finds the name taken rolls back (its
        snapshot row with it) and reads the winner's."""
        now = _aware(started_at or dt.datetime.now(dt.timezone.utc))
        with self.engine.connect() as conn:
            with conn.begin() as trans:
                snapshot_id = self._insert_snapshot(conn, config_digest=config_digest, connectors=connectors,
                                                    options=options, started_at=now)
                made = conn.execute(self._insert(runs_table).values(
                    name=name, snapshot_id=snapshot_id, expected=expected, status="running", created_at=now)
                    .on_conflict_do_nothing(index_elements=["name"]).returning(runs_table.c.name)).first() is not None
                if not made:
                    trans.rollback()
                else:
                    self._upsert(conn, run_shards_table, [
                        {"run": name, "shard": shard, "connector": connector, "status": "announced", "gaps": [],
                         "api_calls": {}, "nodes": 0, "edges": 0} for shard, connector in announce],
                        ["run", "shard"], update=[])
        info = self.run(name)
        assert info is not None
        return info, made

    def run(self, name: str) -> RunInfo | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(runs_table).where(runs_table.c.name == name)).mappings().first()
        return _run_info(row) if row else None

    def runs(self) -> list[RunInfo]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(runs_table).order_by(runs_table.c.created_at, runs_table.c.name)
                                ).mappings().all()
        return [_run_info(r) for r in rows]

    def run_shards(self, name: str) -> list[ShardInfo]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(run_shards_table).where(run_shards_table.c.run == name)
                                .order_by(run_shards_table.c.shard)).mappings().all()
        return [_shard_info(r) for r in rows]

    def put_shard(self, name: str, shard: str, *, connector: str, status: str, connector_version: str | None = None,
                  worker: str | None = None, started_at: dt.datetime | None = None,
                  finished_at: dt.datetime | None = None, nodes: int = 0, edges: int = 0,
                  gaps: Sequence[Mapping[str, Any]] = (), api_calls: Mapping[str, int] | None = None,
                  error: str | None = None) -> None:
        """Record a shard's state as its worker reports it (replacing what a failed earlier
        attempt of the same shard reported)."""
        row = {"run": name, "shard": shard, "connector": connector, "connector_version": connector_version,
               "status": status, "worker": worker, "started_at": _aware(started_at) if started_at else None,
               "finished_at": _aware(finished_at) if finished_at else None, "nodes": nodes, "edges": edges,
               "gaps": [dict(g) for g in gaps], "api_calls": dict(api_calls or {}), "error": error}
        with self.engine.begin() as conn:
            self._upsert(conn, run_shards_table, [row], ["run", "shard"])

    def claim_run(self, name: str, worker: str, *, take_over: bool = False) -> bool:
        """Move a running run to ``finalizing`` for ``worker``; True for exactly one caller
        however many ask at once (a conditional UPDATE). ``take_over`` also takes a run
        left ``finalizing`` by a finalizer that died."""
        states = ["running", "finalizing"] if take_over else ["running"]
        with self.engine.begin() as conn:
            return conn.execute(runs_table.update().where(runs_table.c.name == name,
                                                          runs_table.c.status.in_(states))
                                .values(status="finalizing", finalized_by=worker)).rowcount == 1

    def close_run(self, name: str, *, status: str) -> None:
        """Mark a finalized run ``complete`` or ``failed``."""
        with self.engine.begin() as conn:
            conn.execute(runs_table.update().where(runs_table.c.name == name).values(
                status=status, finalized_at=dt.datetime.now(dt.timezone.utc)))

    def set_snapshot_connectors(self, snapshot_id: int, connectors: Mapping[str, str]) -> None:
        """What a run's snapshot was collected by (name -> version of every shard's connector),
        known only when its shards have reported; the findings rules read it to know what ran."""
        with self.engine.begin() as conn:
            conn.execute(snapshots.update().where(snapshots.c.id == snapshot_id).values(connectors=dict(connectors)))

    def close(self) -> None:
        self.engine.dispose()


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _aggregate_of(row: Mapping[str, Any]) -> Any:
    from .activity import ActivityAggregate

    return ActivityAggregate(
        identity=row["identity"], credential=row["credential"] or None, action=row["action"],
        resource=row["resource"], outcome=row["outcome"], source=row["source"],
        first_seen=_aware(row["first_seen"]), last_seen=_aware(row["last_seen"]), count=row["count"],
        provider=row["provider"], account=row["account"], principal=row["principal"],
        source_ips=tuple(row["source_ips"] or ()), user_agents=tuple(row["user_agents"] or ()),
        error_codes=tuple(row["error_codes"] or ()), truncated=bool(row["truncated"]))


def _snapshot_info(row: Mapping[str, Any]) -> SnapshotInfo:
    return SnapshotInfo(
        id=row["id"], started_at=_aware(row["started_at"]),
        finished_at=_aware(row["finished_at"]) if row["finished_at"] else None,
        status=row["status"], config_digest=row["config_digest"], connectors=row["connectors"],
        options=row["options"], node_count=row["node_count"], edge_count=row["edge_count"],
        gap_count=row["gap_count"], error=row["error"],
    )


def _run_info(row: Mapping[str, Any]) -> RunInfo:
    return RunInfo(name=row["name"], snapshot_id=row["snapshot_id"], expected=row["expected"], status=row["status"],
                   created_at=_aware(row["created_at"]),
                   finalized_at=_aware(row["finalized_at"]) if row["finalized_at"] else None,
                   finalized_by=row["finalized_by"])


def _shard_info(row: Mapping[str, Any]) -> ShardInfo:
    return ShardInfo(run=row["run"], shard=row["shard"], connector=row["connector"],
                     connector_version=row["connector_version"], status=row["status"], worker=row["worker"],
                     started_at=_aware(row["started_at"]) if row["started_at"] else None,
                     finished_at=_aware(row["finished_at"]) if row["finished_at"] else None,
                     nodes=row["nodes"], edges=row["edges"], gaps=list(row["gaps"] or []),
                     api_calls=dict(row["api_calls"] or {}), error=row["error"])


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets the CLI read while a scan writes; a short busy timeout rides out the overlap.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()
