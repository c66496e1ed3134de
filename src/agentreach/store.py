"""The inventory: every scan a snapshot, every object with its first and last sighting.

SQLAlchemy Core, SQLite by default, so PostgreSQL can follow with the same code. Layout:

- ``snapshots``: one row per scan (times, status, config digest, connector versions).
- ``blobs``: node and edge bodies by content hash, stored once however many snapshots
  hold them unchanged (most objects do not change between scans).
- ``snapshot_nodes`` / ``snapshot_edges``: which bodies a snapshot holds.
- ``objects``: first_seen / last_seen per node id, updated only when a snapshot completes.
- ``gaps``: coverage gaps per snapshot.
- ``findings`` / ``rule_results``: what the findings rules said about a snapshot, stored when
  its scan finished, so that an old report reads back exactly as it was, whatever the rules
  of the agentreach that reads it (``findings --recompute`` re-evaluates on purpose).
- ``meta``: the store's fingerprint salt and schema version.

A scan writes its rows as it goes under status ``running``; readers only ever look at
``complete`` snapshots, and ``objects`` is updated in the same transaction that marks a
snapshot complete. A scan that dies half-way therefore leaves the previous snapshot, and
every first/last-seen date, exactly as they were.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping, Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .model import CoverageGap, Edge, Node, canonical_json, node_from_dict

SCHEMA_VERSION = 2  # 2: findings and rule_results (created on open; nothing to migrate)
ENV_DB = "AGENTREACH_DB"

metadata = sa.MetaData()

meta_table = sa.Table(
    "meta", metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
snapshots = sa.Table(
    "snapshots", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
    sa.Column("status", sa.String(16), nullable=False),  # running|complete|failed|aborted
    sa.Column("config_digest", sa.String(64), nullable=False),
    sa.Column("connectors", sa.JSON, nullable=False),  # name -> version
    sa.Column("options", sa.JSON, nullable=False),  # --only, accounts, regions …
    sa.Column("node_count", sa.Integer, nullable=False, default=0),
    sa.Column("edge_count", sa.Integer, nullable=False, default=0),
    sa.Column("gap_count", sa.Integer, nullable=False, default=0),
    sa.Column("error", sa.Text),
)
blobs = sa.Table(
    "blobs", metadata,
    sa.Column("hash", sa.String(64), primary_key=True),
    sa.Column("body", sa.Text, nullable=False),
)
snapshot_nodes = sa.Table(
    "snapshot_nodes", metadata,
    sa.Column("snapshot_id", sa.Integer, sa.ForeignKey("snapshots.id"), primary_key=True),
    sa.Column("node_id", sa.String(512), primary_key=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("provider", sa.String(16), nullable=False),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("name", sa.String(512), nullable=False),
    sa.Column("native_id", sa.String(1024)),
    sa.Column("account", sa.String(128)),
    sa.Column("blob", sa.String(64), sa.ForeignKey("blobs.hash"), nullable=False),
    sa.Index("ix_snapshot_nodes_native", "snapshot_id", "native_id"),
    sa.Index("ix_snapshot_nodes_name", "snapshot_id", "name"),
)
snapshot_edges = sa.Table(
    "snapshot_edges", metadata,
    sa.Column("snapshot_id", sa.Integer, sa.ForeignKey("snapshots.id"), primary_key=True),
    sa.Column("edge_id", sa.String(32), primary_key=True),
    sa.Column("src", sa.String(512), nullable=False),
    sa.Column("dst", sa.String(512), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("blob", sa.String(64), sa.ForeignKey("blobs.hash"), nullable=False),
    sa.Index("ix_snapshot_edges_src", "snapshot_id", "src"),
    sa.Index("ix_snapshot_edges_dst", "snapshot_id", "dst"),
)
objects = sa.Table(
    "objects", metadata,
    sa.Column("node_id", sa.String(512), primary_key=True),
    sa.Column("first_seen_snapshot", sa.Integer, nullable=False),
    sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_seen_snapshot", sa.Integer, nullable=False),
    sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
)
annotations = sa.Table(
    # What later layers derive about a node (agent verdict, owner, stale flags), per snapshot.
    "annotations", metadata,
    sa.Column("snapshot_id", sa.Integer, sa.ForeignKey("snapshots.id"), primary_key=True),
    sa.Column("node_id", sa.String(512), primary_key=True),
    sa.Column("aspect", sa.String(32), primary_key=True),
    sa.Column("body", sa.Text, nullable=False),
)
gaps_table = sa.Table(
    "gaps", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("snapshot_id", sa.Integer, sa.ForeignKey("snapshots.id"), nullable=False, index=True),
    sa.Column("connector", sa.String(64), nullable=False),
    sa.Column("account", sa.String(128)),
    sa.Column("region", sa.String(64)),
    sa.Column("service", sa.String(64)),
    sa.Column("operation", sa.String(128), nullable=False),
    sa.Column("error_code", sa.String(128), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
)
findings_table = sa.Table(
    # One row per finding of a snapshot: its public JSON (rule, severity, subject, evidence,
    # path, frameworks, fingerprint), as the rules of the scan's agentreach produced it.
    "findings", metadata,
    sa.Column("snapshot_id", sa.Integer, sa.ForeignKey("snapshots.id"), primary_key=True),
    sa.Column("fingerprint", sa.String(64), primary_key=True),
    sa.Column("rule", sa.String(64), nullable=False),
    sa.Column("severity", sa.String(16), nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("body", sa.Text, nullable=False),
)
rule_results_table = sa.Table(
    # Every rule evaluated (or skipped, and why) for a snapshot, with the version that did it.
    "rule_results", metadata,
    sa.Column("snapshot_id", sa.Integer, sa.ForeignKey("snapshots.id"), primary_key=True),
    sa.Column("rule", sa.String(64), primary_key=True),
    sa.Column("body", sa.Text, nullable=False),
)


class StoreError(RuntimeError):
    """The store cannot be opened or is not an agentreach store."""


class StoreMissing(StoreError):
    """No store exists yet at the path a reader was given."""


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
        out = dict(self.__dict__)
        for k in ("started_at", "finished_at"):
            out[k] = _iso(out[k])
        return out


@dataclass(frozen=True)
class StoredNode:
    """A node as a snapshot holds it, with when agentreach first and last saw it."""

    node: Node
    first_seen: dt.datetime | None
    last_seen: dt.datetime | None


def _iso(value: dt.datetime | None) -> str | None:
    if value is None:
        return None
    return _aware(value).isoformat().replace("+00:00", "Z")


def _aware(value: dt.datetime) -> dt.datetime:
    # SQLite hands datetimes back naive; everything we store is UTC.
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def default_db_path() -> Path:
    """``$AGENTREACH_DB``, else ``agentreach.db`` under the user's data directory."""
    if os.environ.get(ENV_DB):
        return Path(os.environ[ENV_DB]).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("agentreach", appauthor=False)) / "agentreach.db"


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class Store:
    """One inventory database. Thread-safe for one writer (the scan) and many readers."""

    def __init__(self, target: str | Path | None = None, *, create: bool = True, salt: str | None = None) -> None:
        """``salt`` seeds a *new* store's fingerprint salt (the pre-commit hook shares one
        through the repository's baseline so that fingerprints match on every clone); an
        existing store keeps its own."""
        if target is None:
            target = default_db_path()
        url = str(target)
        if "://" not in url:
            path = Path(url).expanduser()
            if not path.exists() and not create:
                raise StoreMissing(f"no agentreach store at {path} (run 'agentreach scan' first)")
            path.parent.mkdir(parents=True, exist_ok=True)
            url = f"sqlite:///{path}"
        self.url = url
        self._salt: str | None = None
        self.engine: Engine = sa.create_engine(url, future=True)
        if self.engine.dialect.name == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        try:
            metadata.create_all(self.engine)
            self._init_meta(salt)
        except sa.exc.DatabaseError as exc:
            raise StoreError(f"{target} is not a usable agentreach store: {exc.orig}") from None

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
                # Older stores only lack tables, which create_all has just added.
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
            result = conn.execute(snapshots.insert().values(
                started_at=started_at or dt.datetime.now(dt.timezone.utc), status="running",
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
        finished_at = finished_at or dt.datetime.now(dt.timezone.utc)
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
        ids = conn.execute(sa.select(snapshot_nodes.c.node_id)
                           .where(snapshot_nodes.c.snapshot_id == snapshot_id)).scalars().all()
        rows = [{"node_id": i, "first_seen_snapshot": snapshot_id, "first_seen_at": when,
                 "last_seen_snapshot": snapshot_id, "last_seen_at": when} for i in ids]
        self._upsert(conn, objects, rows, ["node_id"],
                     update=["last_seen_snapshot", "last_seen_at"])

    def _put_blobs(self, conn: sa.Connection, bodies: Mapping[str, str]) -> None:
        rows = [{"hash": h, "body": b} for h, b in bodies.items()]
        self._upsert(conn, blobs, rows, ["hash"], update=[])

    def _upsert(self, conn: sa.Connection, table: sa.Table, rows: list[dict[str, Any]],
                keys: list[str], update: list[str] | None = None) -> None:
        """INSERT … ON CONFLICT for SQLite and PostgreSQL alike (both dialects have it)."""
        if not rows:
            return
        if self.engine.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        cols = update if update is not None else [c for c in rows[0] if c not in keys]
        for start in range(0, len(rows), 5000):
            stmt = insert(table)
            stmt = (stmt.on_conflict_do_update(index_elements=keys,
                                               set_={c: stmt.excluded[c] for c in cols})
                    if cols else stmt.on_conflict_do_nothing(index_elements=keys))
            conn.execute(stmt, rows[start:start + 5000])

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
             .order_by(snapshot_nodes.c.kind, snapshot_nodes.c.provider, snapshot_nodes.c.account,
                       snapshot_nodes.c.type, snapshot_nodes.c.name))
        if kinds:
            q = q.where(snapshot_nodes.c.kind.in_(list(kinds)))
        if types:
            q = q.where(snapshot_nodes.c.type.in_(list(types)))
        if provider:
            q = q.where(snapshot_nodes.c.provider == provider)
        if account:
            q = q.where(snapshot_nodes.c.account == account)
        if ids is not None:
            q = q.where(snapshot_nodes.c.node_id.in_(list(ids)))
        with self.engine.connect() as conn:
            for body, first, last in conn.execute(q):
                yield StoredNode(node_from_dict(json.loads(body)),
                                 _aware(first) if first else None, _aware(last) if last else None)

    def edges(self, snapshot_id: int, *, touching: str | None = None,
              kinds: Iterable[str] | None = None) -> list[dict[str, Any]]:
        q = (sa.select(blobs.c.body).select_from(snapshot_edges.join(blobs, blobs.c.hash == snapshot_edges.c.blob))
             .where(snapshot_edges.c.snapshot_id == snapshot_id))
        if touching:
            q = q.where(sa.or_(snapshot_edges.c.src == touching, snapshot_edges.c.dst == touching))
        if kinds:
            q = q.where(snapshot_edges.c.kind.in_(list(kinds)))
        with self.engine.connect() as conn:
            return [json.loads(b) for (b,) in conn.execute(q.order_by(snapshot_edges.c.kind, snapshot_edges.c.src))]

    def authenticates(self, snapshot_id: int) -> dict[str, list[dict[str, str]]]:
        """credential id -> [{id, name}] of the identities it authenticates as, in one query:
        a listing of keys is useless to a responder without whose keys they are."""
        ident = snapshot_nodes.alias("ident")
        q = (sa.select(snapshot_edges.c.src, snapshot_edges.c.dst, ident.c.name)
             .select_from(snapshot_edges.outerjoin(ident, sa.and_(ident.c.snapshot_id == snapshot_edges.c.snapshot_id,
                                                                  ident.c.node_id == snapshot_edges.c.dst)))
             .where(snapshot_edges.c.snapshot_id == snapshot_id, snapshot_edges.c.kind == "authenticates"))
        out: dict[str, list[dict[str, str]]] = {}
        with self.engine.connect() as conn:
            for src, dst, name in conn.execute(q):
                out.setdefault(src, []).append({"id": dst, "name": name or dst})
        return out

    def find(self, snapshot_id: int, ref: str) -> list[StoredNode]:
        """Resolve what a responder has at hand (an id, ARN, key id, email, name, a file
        location) to nodes. Exact id first, then native id, then name; the first tier that
        matches wins. A file location (``path``, ``path:line``, relative to the scanned root
        or prefixed with the root's name, as in ``repo/app/.env:12``) resolves to the
        credentials found there, never to the location node itself: a responder asking about
        a line wants the secret on it. Where a cloud credential was matched to that line
        (``found_in`` from its public id), it stands for the file secret it is."""
        tiers = [snapshot_nodes.c.node_id == ref, snapshot_nodes.c.native_id == ref, snapshot_nodes.c.name == ref]
        if ref.startswith("sha256:"):
            # A leaked secret's fingerprint: the file secret whose id ends with it.
            tiers.append(snapshot_nodes.c.node_id.like(f"%:{ref}"))
        # What people paste that is not quite the native id: a GCP key's resource name
        # (projects/p/serviceAccounts/e/keys/K), an IAM member (serviceAccount:e), a GUID
        # or an email in another case than the source wrote it.
        if "/keys/" in ref:
            tiers.append(snapshot_nodes.c.native_id == ref.rsplit("/keys/", 1)[1])
        member, colon, rest = ref.partition(":")
        if colon and member in ("serviceAccount", "user", "group", "principal", "principalSet") and rest:
            tiers.append(snapshot_nodes.c.native_id == (ref if member.startswith("principal") else rest))
        tiers.append(sa.func.lower(snapshot_nodes.c.native_id) == ref.lower())

        def found_at(location_ids: list[str]) -> list[StoredNode]:
            """Credentials with found_in edges into the locations, cloud ones first per location."""
            if not location_ids:
                return []
            with self.engine.connect() as conn:
                rows = conn.execute(sa.select(snapshot_edges.c.src, snapshot_edges.c.dst).where(
                    snapshot_edges.c.snapshot_id == snapshot_id, snapshot_edges.c.kind == "found_in",
                    snapshot_edges.c.dst.in_(location_ids))).all()
            creds = {n.node.id: n for n in self.nodes(snapshot_id, ids={src for src, _ in rows})}
            keep: set[str] = set()
            for loc in set(location_ids):
                here = [creds[src] for src, dst in rows if dst == loc and src in creds]
                cloud = [n for n in here if n.node.provider != "files"]
                keep |= {n.node.id for n in (cloud or here)}
            return [creds[i] for i in sorted(keep)]

        def locations_named(text: str) -> list[str]:
            """Ids of location nodes at ``path`` or ``path:line`` (optionally ``root/path``)."""
            text = text.removeprefix("./")
            candidates = [(text, None)]
            head, sep, tail = text.rpartition(":")
            if sep and tail.isdigit() and head:
                candidates.append((head.removeprefix("./"), int(tail)))
            out: list[str] = []
            for path, line in candidates:
                base = path.rsplit("/", 1)[-1]
                if not base:
                    continue
                # native_id is the file's base name (indexed): a cheap first cut.
                q = (sa.select(snapshot_nodes.c.node_id, blobs.c.body)
                     .select_from(snapshot_nodes.join(blobs, blobs.c.hash == snapshot_nodes.c.blob))
                     .where(snapshot_nodes.c.snapshot_id == snapshot_id, snapshot_nodes.c.native_id == base,
                            snapshot_nodes.c.kind == "location"))
                with self.engine.connect() as conn:
                    for nid, body in conn.execute(q):
                        data = json.loads(body)
                        rel = str(data.get("path") or "")
                        root = str((data.get("attrs") or {}).get("root") or "")
                        if path in (rel, f"{root}/{rel}") and (line is None or data.get("line") == line):
                            out.append(nid)
            return out

        for condition in tiers:
            with self.engine.connect() as conn:
                rows = conn.execute(sa.select(snapshot_nodes.c.node_id, snapshot_nodes.c.kind).where(
                    snapshot_nodes.c.snapshot_id == snapshot_id, condition)).all()
            if rows:
                ids = [i for i, _ in rows]
                if condition is not tiers[0] and all(kind == "location" for _, kind in rows):
                    found = found_at(ids)  # a location's name or file name: what was found there
                    if found:
                        return found
                return list(self.nodes(snapshot_id, ids=ids))
        return found_at(locations_named(ref))

    def put_annotations(self, snapshot_id: int, aspect: str, bodies: Mapping[str, Any]) -> None:
        """Replace one aspect's annotations of a snapshot (a re-classification overwrites)."""
        rows = [{"snapshot_id": snapshot_id, "node_id": nid, "aspect": aspect, "body": canonical_json(body)}
                for nid, body in bodies.items()]
        with self.engine.begin() as conn:
            conn.execute(annotations.delete().where(annotations.c.snapshot_id == snapshot_id,
                                                    annotations.c.aspect == aspect))
            for start in range(0, len(rows), 5000):
                conn.execute(annotations.insert(), rows[start:start + 5000])

    def annotations(self, snapshot_id: int, aspect: str, ids: Iterable[str] | None = None) -> dict[str, Any]:
        q = sa.select(annotations.c.node_id, annotations.c.body).where(
            annotations.c.snapshot_id == snapshot_id, annotations.c.aspect == aspect)
        if ids is not None:
            q = q.where(annotations.c.node_id.in_(list(ids)))
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
                for start in range(0, len(batch), 5000):
                    conn.execute(table.insert(), batch[start:start + 5000])

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
                sa.select(findings_table.c.body).where(findings_table.c.snapshot_id == snapshot_id))]
        return found, results

    def gaps(self, snapshot_id: int) -> list[CoverageGap]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(gaps_table).where(gaps_table.c.snapshot_id == snapshot_id)
                                .order_by(gaps_table.c.id)).mappings().all()
        return [CoverageGap(**{k: r[k] for k in ("connector", "operation", "error_code", "message",
                                                  "account", "region", "service")}) for r in rows]

    def close(self) -> None:
        self.engine.dispose()


def _snapshot_info(row: Mapping[str, Any]) -> SnapshotInfo:
    return SnapshotInfo(
        id=row["id"], started_at=_aware(row["started_at"]),
        finished_at=_aware(row["finished_at"]) if row["finished_at"] else None,
        status=row["status"], config_digest=row["config_digest"], connectors=row["connectors"],
        options=row["options"], node_count=row["node_count"], edge_count=row["edge_count"],
        gap_count=row["gap_count"], error=row["error"],
    )


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets the CLI read while a scan writes; a short busy timeout rides out the overlap.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()
