"""The record types and the snapshot store: every store test on a real SQLite file and on a
real PostgreSQL (a throwaway cluster from the system's binaries, see tests/pg.py)."""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from agentreach.graph.resolve import find
from agentreach.model import (
    Credential,
    CredentialStatus,
    Edge,
    EdgeKind,
    Identity,
    NodeKind,
    node_from_dict,
    node_id,
)
from agentreach.store import DRIVER_HINT, Store, StoreError, StoreMissing, StoreUnreachable, is_url, store_url

from .pg import free_port

DATA = Path(__file__).parent / "data"

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


def user(name: str, **kw) -> Identity:
    arn = f"arn:aws:iam::123456789012:user/{name}"
    return Identity(id=node_id("aws", "iam_user", arn), provider="aws", source="aws", type="aws_iam_user",
                    name=name, native_id=arn, account="123456789012", **kw)


def key(key_id: str, owner: Identity) -> tuple[Credential, Edge]:
    cred = Credential(id=node_id("aws", "access_key", key_id), provider="aws", source="aws",
                      type="aws_access_key", name=key_id, native_id=key_id, account="123456789012",
                      created=T0, status=CredentialStatus.ACTIVE)
    return cred, Edge(src=cred.id, dst=owner.id, kind=EdgeKind.AUTHENTICATES, source="aws")


def test_node_id_refuses_secret_looking_parts() -> None:
    with pytest.raises(ValueError):
        node_id("files", "secret", "sk-proj-abcdefghijklmnop")
    with pytest.raises(ValueError):
        node_id("files", "key", "-----BEGIN PRIVATE KEY-----")
    assert node_id("aws", "access_key", "AKIAEXAMPLE") == "aws:access_key:AKIAEXAMPLE"


def test_round_trip_keeps_types_and_dates() -> None:
    cred, _ = key("AKIA1", user("a"))
    back = node_from_dict(cred.to_dict())
    assert back == cred and back.kind is NodeKind.CREDENTIAL and back.created == T0


def scan(store: Store, nodes, edges=(), *, finish: bool = True) -> int:
    sid = store.begin_snapshot(config_digest="x", connectors={"aws": "t"}, options={})
    store.add_nodes(sid, list(nodes))
    store.add_edges(sid, list(edges))
    if finish:
        store.finish_snapshot(sid, status="complete")
    return sid


def test_first_and_last_seen_across_scans_and_removal(store_at: Callable[[str], str]) -> None:
    store = Store(store_at("inv"))
    alice, bob = user("alice"), user("bob")
    k1, e1 = key("AKIA1", alice)
    s1 = scan(store, [alice, bob, k1], [e1])
    first = {n.node.id: n for n in store.nodes(s1)}
    s2 = scan(store, [alice, k1], [e1])  # bob deleted from the estate
    latest = store.latest_snapshot()
    assert latest is not None and latest.id == s2
    now = {n.node.id: n for n in store.nodes(s2)}
    assert bob.id not in now
    assert now[alice.id].first_seen == first[alice.id].first_seen
    assert now[alice.id].last_seen > first[alice.id].last_seen
    # bob stays in history, last seen in the first snapshot
    history = {n.node.id: n for n in store.nodes(s1)}
    assert history[bob.id].last_seen == first[bob.id].first_seen
    assert [s.status for s in store.snapshots()] == ["complete", "complete"]
    assert find(store, s2, "AKIA1")[0].node == k1
    assert find(store, s2, alice.native_id)[0].node == alice
    assert find(store, s2, "alice")[0].node == alice
    assert store.edges(s2, touching=alice.id)[0]["kind"] == "authenticates"


def test_unchanged_objects_are_stored_once(store_at: Callable[[str], str]) -> None:
    store = Store(store_at("inv"))
    alice = user("alice")
    scan(store, [alice])
    scan(store, [alice])
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("select count(*) from blobs").scalar_one() == 1


def test_a_scan_that_never_finishes_leaves_the_previous_snapshot(store_at: Callable[[str], str]) -> None:
    store = Store(store_at("inv"))
    alice = user("alice")
    s1 = scan(store, [alice])
    seen = {n.node.id: n.last_seen for n in store.nodes(s1)}
    scan(store, [user("mallory")], finish=False)  # the process dies here
    reopened = Store(store_at("inv"))
    latest = reopened.latest_snapshot()
    assert latest is not None and latest.id == s1
    assert {n.node.id: n.last_seen for n in reopened.nodes(s1)} == seen
    assert reopened.snapshots()[-1].status == "running"


def database_name(target: str) -> str:
    """What a message names the store by: the file's name, or the PostgreSQL database."""
    return target.rsplit("/", 1)[1] if is_url(target) else Path(target).name


def test_not_a_store(store_at: Callable[[str], str], request: pytest.FixtureRequest) -> None:
    bad = store_at("x")
    if is_url(bad):  # a database that holds something else under our table's name
        request.getfixturevalue("pg_cluster").execute(database_name(bad), "create table meta (x integer)")
    else:
        Path(bad).write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StoreError, match=re.escape(database_name(bad))):
        Store(bad)
    with pytest.raises(StoreError, match="no agentreach store"):
        Store(store_at("missing"), create=False)


def test_fingerprint_is_salted_per_store(store_at: Callable[[str], str]) -> None:
    a, b = Store(store_at("a")), Store(store_at("b"))
    assert a.fingerprint("v") == a.fingerprint("v") != b.fingerprint("v")
    import hashlib

    assert a.fingerprint("v") != "sha256:" + hashlib.sha256(b"v").hexdigest()


def test_find_by_a_leaked_secrets_fingerprint(store_at: Callable[[str], str]) -> None:
    from agentreach.cli import main

    store = Store(store_at("inv"))
    fp = store.fingerprint("sk-proj-LEAKEDVALUE1234567890")
    secret = Credential(id=node_id("files", "secret", fp), provider="files", source="files", type="file_secret",
                        name="OpenAI key in .env:3", fingerprint=fp)
    scan(store, [secret])
    assert [n.node.id for n in find(store, 1, fp)] == [secret.id]
    out = CliRunner().invoke(main, ["--db", store_at("inv"), "show", "-", "--format", "json"],
                             input="sk-proj-LEAKEDVALUE1234567890\n")
    assert out.exit_code == 0, out.output
    assert '"file_secret"' in out.stdout and "LEAKEDVALUE" not in out.output


def test_find_takes_what_responders_paste(store_at: Callable[[str], str]) -> None:
    """A GCP key's resource name, an IAM member, a GUID in upper case: the native id they mean."""
    store = Store(store_at("find"))
    sid = store.begin_snapshot(config_digest="x", connectors={"t": "1"}, options={})
    email = "adk-agent@agents-prod.iam.gserviceaccount.com"
    store.add_nodes(sid, [
        Identity(id=node_id("gcp", "sa", email), provider="gcp", source="gcp", type="gcp_sa", name="adk-agent",
                 native_id=email),
        Credential(id=node_id("gcp", "sa_key", "3f1e0c7a"), provider="gcp", source="gcp", type="gcp_sa_key",
                   name="adk-agent key 3f1e0c7a", native_id="3f1e0c7a"),
        Credential(id=node_id("azure", "client_secret", "5555aaaa-0000"), provider="azure", source="azure",
                   type="azure_client_secret", name="blueprint-prod", native_id="5555aaaa-0000"),
    ])
    store.finish_snapshot(sid, status="complete")

    def names(ref: str) -> list[str]:
        return [n.node.name for n in find(store, sid, ref)]

    assert names(f"projects/agents-prod/serviceAccounts/{email}/keys/3f1e0c7a") == ["adk-agent key 3f1e0c7a"]
    assert names(f"serviceAccount:{email}") == ["adk-agent"]
    assert names("5555AAAA-0000") == ["blueprint-prod"]
    assert names("ADK-AGENT@agents-prod.iam.gserviceaccount.com") == ["adk-agent"]
    assert names("nothing-like-it") == []


# -- ids of any length, lists of any size -------------------------------------------------------

def long_role(length: int) -> Identity:
    """A role whose ARN is ``length`` characters: IAM paths run to 512 characters and role
    names to 64, so a legal ARN runs past 600."""
    head, name = "arn:aws:iam::123456789012:role/", "agent-runtime"
    path = ("platform/agents/" * 40)[: length - len(head) - len(name) - 1].rstrip("/") + "/"
    arn = head + path + "x" * (length - len(head) - len(path) - len(name)) + name
    assert len(arn) == length
    return Identity(id=node_id("aws", "iam_role", arn), provider="aws", source="aws", type="aws_iam_role",
                    name=arn.rsplit("/", 1)[1], native_id=arn, account="123456789012")


def test_a_530_character_arn_is_an_id_like_any_other(store_at: Callable[[str], str]) -> None:
    store = Store(store_at("inv"))
    role = long_role(530)
    cred, edge = key("AKIALONG", role)
    sid = scan(store, [role, cred], [edge])
    assert find(store, sid, role.native_id)[0].node == role
    assert [n.node for n in store.nodes(sid, ids=[role.id])] == [role]
    assert store.edges(sid, touching=role.id)[0]["dst"] == role.id
    assert store.authenticates(sid) == {cred.id: [{"id": role.id, "name": role.name}]}


def test_id_lists_past_the_bind_parameter_limits(store_at: Callable[[str], str]) -> None:
    """70,000 ids in one call: more than PostgreSQL's 65,535 bind parameters a statement
    (and SQLite's 32,766 in many builds), as a snapshot of 100k identities asks."""
    store = Store(store_at("inv"))
    alice, bob = user("alice"), user("bob")
    sid = scan(store, [alice, bob])
    store.put_annotations(sid, "agent", {alice.id: {"verdict": "agent"}, bob.id: {"verdict": "none"}})
    asked = [f"aws:iam_user:nobody-{i}" for i in range(70_000)] + [bob.id]
    assert [n.node for n in store.nodes(sid, ids=asked)] == [bob]
    assert store.annotations(sid, "agent", ids=asked) == {bob.id: {"verdict": "none"}}
    assert list(store.nodes(sid, ids=[])) == [] and store.annotations(sid, "agent", ids=[]) == {}


def test_times_come_back_in_utc_whatever_the_session_zone(store_at: Callable[[str], str]) -> None:
    store = Store(store_at("inv"))
    tokyo = dt.timezone(dt.timedelta(hours=9))
    sid = store.begin_snapshot(config_digest="x", connectors={}, options={}, started_at=T0.astimezone(tokyo))
    store.add_nodes(sid, [user("alice")])
    info = store.finish_snapshot(sid, status="complete", finished_at=(T0 + dt.timedelta(hours=1)).astimezone(tokyo))
    assert info.started_at == T0 and info.started_at.tzinfo == dt.timezone.utc
    assert info.to_dict()["finished_at"] == "2026-01-01T01:00:00Z"
    [alice] = store.nodes(sid)
    assert alice.first_seen == alice.last_seen == T0 + dt.timedelta(hours=1)
    assert alice.last_seen.tzinfo == dt.timezone.utc


def test_first_and_last_seen_follow_finishing_times_not_commit_order(store_at: Callable[[str], str]) -> None:
    """Two shards' snapshots may commit in either order; the dates are those of their finish."""
    store = Store(store_at("inv"))
    alice = user("alice")
    early, late = (store.begin_snapshot(config_digest=s, connectors={}, options={}) for s in ("early", "late"))
    for sid in (early, late):
        store.add_nodes(sid, [alice])
    store.finish_snapshot(late, status="complete", finished_at=T0 + dt.timedelta(hours=2))
    store.finish_snapshot(early, status="complete", finished_at=T0 + dt.timedelta(hours=1))
    [seen] = store.nodes(late)
    assert (seen.first_seen, seen.last_seen) == (T0 + dt.timedelta(hours=1), T0 + dt.timedelta(hours=2))


def test_listings_sort_by_bytes_on_both_engines(store_at: Callable[[str], str]) -> None:
    """Names in the order SQLite gives them (bytes), not in a PostgreSQL server's collation
    (the test cluster's default is ICU en-US, which would put 'Bob' after 'alice')."""
    store = Store(store_at("inv"))
    names = ["alice", "Bob", "carol", "_z", "a-b", "ab", "Zed", "émile"]
    sid = scan(store, [user(n) for n in names] + [replace(user("no-account"), account=None)])
    assert [n.node.name for n in store.nodes(sid)] == ["no-account", *sorted(names, key=str.encode)]


# -- a store made by the previous version ---------------------------------------------------------

def load_schema_1(target: str, request: pytest.FixtureRequest) -> None:
    """The previous version's store (tests/data/store_v1_*.sql, made by it) at ``target``."""
    if is_url(target):
        request.getfixturevalue("pg_cluster").execute(
            database_name(target), (DATA / "store_v1_postgresql.sql").read_text())
    else:
        with sqlite3.connect(target) as conn:
            conn.executescript((DATA / "store_v1_sqlite.sql").read_text())


def varchar_columns(engine: sa.Engine) -> list[str]:
    inspector = sa.inspect(engine)
    return sorted(f"{t}.{c['name']}" for t in inspector.get_table_names() for c in inspector.get_columns(t)
                  if isinstance(c["type"], sa.String) and c["type"].length)


def test_a_schema_1_store_opens_and_takes_long_ids(store_at: Callable[[str], str],
                                                    request: pytest.FixtureRequest) -> None:
    target = store_at("old")
    load_schema_1(target, request)
    raw = sa.create_engine(store_url(target))
    with raw.connect() as conn:
        assert conn.exec_driver_sql("select value from meta where key = 'schema_version'").scalar_one() == "1"
    declared = varchar_columns(raw)
    raw.dispose()
    assert "snapshot_nodes.node_id" in declared and "objects.node_id" in declared  # VARCHAR(512) in schema 1
    store = Store(target)
    alice = user("alice")
    before = {n.node.id: (n.first_seen, n.last_seen) for n in store.nodes(1)}
    assert before[alice.id][0] == T0 + dt.timedelta(minutes=5) and store.latest_snapshot().id == 1
    # On PostgreSQL the limits are gone; SQLite never enforced them, so its columns stay as declared.
    assert varchar_columns(store.engine) == ([] if is_url(target) else declared)
    if is_url(target):  # and every string column compares bytes, as a new store's do
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql(
                "select count(*) from information_schema.columns where table_schema = current_schema() "
                "and data_type = 'text' and collation_name is distinct from 'C'").scalar_one() == 0
    role = long_role(530)
    s2 = scan(store, [alice, role])
    assert store.latest_snapshot().id == s2 == 2
    now = {n.node.id: n for n in store.nodes(s2)}
    assert now[alice.id].first_seen == before[alice.id][0] and now[role.id].node == role
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("select value from meta where key = 'schema_version'").scalar_one() == "2"
    assert Store(target).latest_snapshot().id == 2  # opening again migrates nothing twice


# -- many writers (PostgreSQL) ------------------------------------------------------------------------

@pytest.mark.parametrize("store_engine", ["postgresql"])
def test_two_scans_write_into_two_snapshots_at_once(store_at: Callable[[str], str]) -> None:
    """Two workers (one shard each) write at the same time, sharing most objects, in opposite
    orders, and finish together: neither waits forever on the other, each snapshot holds its
    own objects, and first/last seen follow the finishing times whichever commits first."""
    target = store_at("inv")
    Store(target)  # the schema, as the first scan of a store makes it
    shared = [user(f"shared-{i:04d}") for i in range(2000)]
    own = {"a": [user(f"a-{i}") for i in range(50)], "b": [user(f"b-{i}") for i in range(50)]}
    finish = {"a": T0 + dt.timedelta(hours=1), "b": T0 + dt.timedelta(hours=2)}
    together = threading.Barrier(2, timeout=60)
    sids: dict[str, int] = {}
    errors: list[BaseException] = []

    def worker(shard: str) -> None:
        try:
            store = Store(target)
            sid = sids[shard] = store.begin_snapshot(config_digest=shard, connectors={"aws": "t"}, options={})
            nodes = shared + own[shard]
            nodes = nodes if shard == "a" else nodes[::-1]
            together.wait()
            for start in range(0, len(nodes), 1025):  # two transactions, each crossing the other's
                store.add_nodes(sid, nodes[start:start + 1025])
            together.wait()
            store.finish_snapshot(sid, status="complete", finished_at=finish[shard])
            store.close()
        except BaseException as exc:  # noqa: BLE001 (reported by the test thread)
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(shard,)) for shard in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    store = Store(target)
    assert [(s.status, s.node_count) for s in store.snapshots()] == [("complete", 2050), ("complete", 2050)]
    for shard, other in (("a", "b"), ("b", "a")):
        ids = {n.node.id for n in store.nodes(sids[shard])}
        assert {u.id for u in own[shard]} <= ids and not ids & {u.id for u in own[other]}
    seen = {n.node.id: n for n in store.nodes(sids["b"])}
    assert {(seen[u.id].first_seen, seen[u.id].last_seen) for u in shared} == {(finish["a"], finish["b"])}
    assert {(seen[u.id].first_seen, seen[u.id].last_seen) for u in own["b"]} == {(finish["b"], finish["b"])}
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("select count(*) from blobs").scalar_one() == 2100


# -- store URLs and the three ways PostgreSQL refuses ----------------------------------------------

def test_store_urls() -> None:
    assert store_url("postgresql://u:pw@db.internal/inv").drivername == "postgresql+psycopg"
    assert store_url("postgres://u:pw@db.internal/inv").drivername == "postgresql+psycopg"
    assert store_url("postgresql+psycopg://u:pw@db.internal:5433/inv").port == 5433
    assert "pw" not in str(store_url("postgresql://u:pw@db.internal/inv"))
    assert store_url(Path("/var/lib/agentreach/inv.db")).database == "/var/lib/agentreach/inv.db"
    assert store_url("inv.db").get_backend_name() == "sqlite"
    assert is_url("postgresql://h/db") and not is_url(Path("postgresql://h/db")) and not is_url("a/b.db")
    with pytest.raises(StoreError, match=r"cannot read the store URL \(postgresql://…\)") as bad:
        store_url("postgresql://u:hunter22@h:port/db")
    assert "hunter22" not in str(bad.value)


def one_line(output: str) -> str:
    lines = output.strip().splitlines()
    assert len(lines) == 1, output
    return lines[0]


def test_a_missing_driver_says_which_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from agentreach.cli import main

    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg -> ImportError, as when not installed
    url = "postgresql://agentreach:hunter22@127.0.0.1:5432/inv"
    with pytest.raises(StoreError) as err:
        Store(url)
    assert str(err.value) == DRIVER_HINT == 'PostgreSQL needs the driver: pip install "agentreach[postgres]"'
    out = CliRunner().invoke(main, ["--db", url, "inventory"])
    assert out.exit_code == 4 and one_line(out.output).endswith(f"error: {DRIVER_HINT}"), out.output


@pytest.mark.parametrize("failure", ["refused", "wrong password", "unknown database"])
def test_postgresql_refusals_are_one_line_and_exit_4(failure: str, pg_cluster: Any, tmp_path: Path) -> None:
    from agentreach.cli import main

    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(f"connectors:\n  files:\n    paths: [{tmp_path}]\n")

    db = pg_cluster.create_database("refusal")
    wrong = "not-the-" + pg_cluster.password
    url, expected = {
        "refused": (pg_cluster.url(db, port=free_port()), "connection refused"),
        "wrong password": (pg_cluster.url(db, password=wrong), 'password authentication failed for user "agentreach"'),
        "unknown database": (pg_cluster.url("no_such_db"), 'database "no_such_db" does not exist'),
    }[failure]
    name = url.rsplit("/", 1)[1]
    with pytest.raises(StoreUnreachable) as err:
        Store(url)
    message = str(err.value)
    assert message.startswith("cannot connect to the PostgreSQL store at 127.0.0.1:") and f'database "{name}"' in message
    assert expected in message and "\n" not in message
    for command in (["inventory"], ["snapshots"], ["--config", str(cfg), "-q", "scan", "--only", "files"]):
        out = CliRunner().invoke(main, ["--db", url, *command])
        assert out.exit_code == 4, (command, out.output)
        assert one_line(out.output).endswith(f"error: {message}"), out.output
    for secret in (pg_cluster.password, wrong):
        assert secret not in message and secret not in out.output


def test_an_empty_postgresql_database_is_no_store_yet(pg_cluster: Any) -> None:
    from agentreach.cli import main

    url = pg_cluster.url(pg_cluster.create_database("empty"))
    with pytest.raises(StoreMissing, match="no agentreach store in the PostgreSQL store at"):
        Store(url, create=False)
    out = CliRunner().invoke(main, ["--db", url, "inventory"])
    assert out.exit_code == 5 and "no agentreach store" in out.output
    assert pg_cluster.password not in out.output


# -- every command reads the same on both engines ---------------------------------------------------

ISO_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")
READERS = (
    ["snapshots", "--format", "json"],
    ["inventory", "--format", "json"],
    ["inventory", "--kind", "all", "--format", "json"],
    ["inventory", "--agents"],
    ["show", "support-agent-exec", "--format", "json"],
    ["explain", "support-agent-exec", "--format", "json"],
    ["reach", "support-agent-exec", "--format", "json"],
    ["who-can-reach", "acme-customer-pii", "--format", "json"],
    ["path", "support-agent-exec", "acme-customer-pii", "--format", "json"],
    ["findings", "--format", "json"],
    ["report", "--format", "sarif"],
    ["report", "--format", "md"],
    ["graph", "export", "--format", "json"],
)


@pytest.mark.parametrize("store_engine", ["postgresql"])
def test_every_reader_says_the_same_on_both_engines(store_at: Callable[[str], str], seeded_estate: Any,
                                                    frontdoor: Any, tmp_path: Path) -> None:
    """The seeded estate scanned through the CLI into a SQLite file and into PostgreSQL (a
    cluster whose default collation is ICU en-US, as a production server's often is): every
    reading command prints the same, times aside, in the same order."""
    from agentreach.cli import main

    targets = {"sqlite": str(tmp_path / "inv.db"), "postgresql": store_at("inv")}
    for target in targets.values():
        out = CliRunner().invoke(main, ["--db", target, "-q", "scan", "--endpoint-url", frontdoor.url,
                                        "--regions", "us-east-1", "--accounts", ",".join(seeded_estate.accounts)])
        assert out.exit_code == 0, out.output
    for command in READERS:
        said = {}
        for engine, target in targets.items():
            out = CliRunner().invoke(main, ["--db", target, *command])
            assert out.exit_code == 0, (engine, command, out.output)
            said[engine] = ISO_TIME.sub("<time>", out.stdout)
        assert said["sqlite"] == said["postgresql"], command


@pytest.mark.parametrize("store_engine", ["postgresql"])
def test_the_demo_honours_a_postgresql_url(store_at: Callable[[str], str], pg_cluster: Any, tmp_path: Path) -> None:
    """``demo --db postgresql://…`` writes into that database: no SQLite file in a folder named
    after the URL, and the URL it prints to explore with carries no password."""
    import os
    import subprocess

    url = store_at("demo")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, "XDG_DATA_HOME": str(tmp_path / "data")}
    proc = subprocess.run([sys.executable, "-m", "agentreach", "--db", url, "demo", "--cloud", "aws"],
                          capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert list(tmp_path.iterdir()) == [tmp_path / "data"]  # only the HTML report, in the data folder
    assert (tmp_path / "data" / "agentreach" / "demo-report.html").is_file()
    assert f"--db {store_url(url)} inventory --agents" in proc.stdout
    assert pg_cluster.password not in proc.stdout + proc.stderr
    latest = Store(url).latest_snapshot()
    assert latest is not None and latest.status == "complete" and latest.node_count > 0
