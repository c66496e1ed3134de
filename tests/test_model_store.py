"""The record types and the snapshot store, on a real SQLite file."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

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
from agentreach.store import Store, StoreError

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


def test_first_and_last_seen_across_scans_and_removal(tmp_path: Path) -> None:
    store = Store(tmp_path / "inv.db")
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
    assert store.find(s2, "AKIA1")[0].node == k1
    assert store.find(s2, alice.native_id)[0].node == alice
    assert store.find(s2, "alice")[0].node == alice
    assert store.edges(s2, touching=alice.id)[0]["kind"] == "authenticates"


def test_unchanged_objects_are_stored_once(tmp_path: Path) -> None:
    store = Store(tmp_path / "inv.db")
    alice = user("alice")
    scan(store, [alice])
    scan(store, [alice])
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("select count(*) from blobs").scalar_one() == 1


def test_a_scan_that_never_finishes_leaves_the_previous_snapshot(tmp_path: Path) -> None:
    store = Store(tmp_path / "inv.db")
    alice = user("alice")
    s1 = scan(store, [alice])
    seen = {n.node.id: n.last_seen for n in store.nodes(s1)}
    scan(store, [user("mallory")], finish=False)  # the process dies here
    reopened = Store(tmp_path / "inv.db")
    latest = reopened.latest_snapshot()
    assert latest is not None and latest.id == s1
    assert {n.node.id: n.last_seen for n in reopened.nodes(s1)} == seen
    assert reopened.snapshots()[-1].status == "running"


def test_not_a_store(tmp_path: Path) -> None:
    bad = tmp_path / "x.db"
    bad.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StoreError, match="x.db"):
        Store(bad)
    with pytest.raises(StoreError, match="no agentreach store"):
        Store(tmp_path / "missing.db", create=False)


def test_fingerprint_is_salted_per_store(tmp_path: Path) -> None:
    a, b = Store(tmp_path / "a.db"), Store(tmp_path / "b.db")
    assert a.fingerprint("v") == a.fingerprint("v") != b.fingerprint("v")
    import hashlib

    assert a.fingerprint("v") != "sha256:" + hashlib.sha256(b"v").hexdigest()


def test_find_by_a_leaked_secrets_fingerprint(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from agentreach.cli import main

    store = Store(tmp_path / "inv.db")
    fp = store.fingerprint("sk-proj-LEAKEDVALUE1234567890")
    secret = Credential(id=node_id("files", "secret", fp), provider="files", source="files", type="file_secret",
                        name="OpenAI key in .env:3", fingerprint=fp)
    scan(store, [secret])
    assert [n.node.id for n in store.find(1, fp)] == [secret.id]
    out = CliRunner().invoke(main, ["--db", str(tmp_path / "inv.db"), "show", "-", "--format", "json"],
                             input="sk-proj-LEAKEDVALUE1234567890\n")
    assert out.exit_code == 0, out.output
    assert '"file_secret"' in out.stdout and "LEAKEDVALUE" not in out.output


def test_find_takes_what_responders_paste(tmp_path) -> None:
    """A GCP key's resource name, an IAM member, a GUID in upper case: the native id they mean."""
    from agentreach.model import Credential, Identity, node_id
    from agentreach.store import Store

    store = Store(tmp_path / "find.db")
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
        return [n.node.name for n in store.find(sid, ref)]

    assert names(f"projects/agents-prod/serviceAccounts/{email}/keys/3f1e0c7a") == ["adk-agent key 3f1e0c7a"]
    assert names(f"serviceAccount:{email}") == ["adk-agent"]
    assert names("5555AAAA-0000") == ["blueprint-prod"]
    assert names("ADK-AGENT@agents-prod.iam.gserviceaccount.com") == ["adk-agent"]
    assert names("nothing-like-it") == []
