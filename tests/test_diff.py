"""Snapshot diffs: new, removed and changed objects with the fields that changed, and
new and resolved findings."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import boto3
from click.testing import CliRunner

from agentreach.cli import main
from agentreach.diff import diff_markdown, diff_snapshots
from agentreach.model import Edge, EdgeKind, System
from agentreach.store import Store

from .conftest import reset_moto
from .test_model_store import key, scan, user


def test_new_removed_and_changed(tmp_path: Path) -> None:
    store = Store(tmp_path / "d.db")
    alice, bob = user("alice"), user("bob")
    k1, e1 = key("AKIA1", alice)
    a = scan(store, [alice, bob, k1], [e1])
    k1_disabled = dataclasses.replace(k1, status=type(k1.status)("disabled"), tags={"Owner": "alice"})
    carol = user("carol")
    b = scan(store, [alice, carol, k1_disabled], [e1])
    d = diff_snapshots(store, a, b, [{"fingerprint": "f1", "rule": "R", "severity": "high", "title": "t", "subject": "x"}],
                       [{"fingerprint": "f2", "rule": "R2", "severity": "low", "title": "t2", "subject": "y"}])
    assert [c.name for c in d.added] == ["carol"] and [c.name for c in d.removed] == ["bob"]
    assert [(c.name, c.fields) for c in d.changed] == [("AKIA1", ["status", "tags.Owner"])]
    assert [f["fingerprint"] for f in d.new_findings] == ["f2"] and [f["fingerprint"] for f in d.resolved_findings] == ["f1"]
    md = diff_markdown(d)
    assert "### New" in md and "carol" in md and "status, tags.Owner" in md and "### Resolved findings" in md


def _grant(level: str, *grants: str, conditional: bool = False, admin: bool = False) -> dict:
    return {"level": level, "admin": admin, "conditional": conditional, "condition_keys": [], "actions": [],
            "action_count": 0, "grants": list(grants)}


def test_reach_gained_lost_and_changed(tmp_path: Path) -> None:
    """A policy attached between scans, a new assumable role, a grant widened, one taken away:
    no object changed a field, yet the diff says who can now reach what, and by which grant."""
    store = Store(tmp_path / "r.db")
    alice, bot = user("alice"), user("support-bot")
    role = dataclasses.replace(user("x"), id="aws:iam_role:arn:aws:iam::123456789012:role/data-reader",
                               type="aws_iam_role", name="data-reader")
    bucket = System(id="aws:s3_bucket:invoices", provider="aws", source="aws", type="aws_s3_bucket",
                    name="invoices", native_id="arn:aws:s3:::invoices", account="123456789012")
    secret = System(id="aws:secret:db-pass", provider="aws", source="aws", type="aws_secret", name="db-pass",
                    native_id="arn:aws:secretsmanager:us-east-1:123456789012:secret:db-pass",
                    account="123456789012")
    nodes = [alice, bot, role, bucket, secret]

    def access(src, dst, attrs, kind=EdgeKind.CAN_ACCESS):
        return Edge(src=src.id, dst=dst.id, kind=kind, source="graph", attrs=attrs)

    a = scan(store, nodes, [
        access(bot, bucket, _grant("read", "policy support-bot-data statement ReadInvoices")),
        access(alice, secret, _grant("read", "policy alice-secrets statement 0")),
    ])
    b = scan(store, nodes, [
        access(bot, bucket, _grant("write", "policy support-bot-data statement ReadInvoices",
                                   "policy support-bot-data statement WriteInvoices")),
        access(bot, role, _grant("write", "trust policy of data-reader statement 0"), kind=EdgeKind.CAN_ASSUME),
        access(role, secret, _grant("read", "policy data-reader-secrets statement 0", conditional=True)),
        # the same grant stated twice (two records of one edge) is still one edge
        access(role, secret, _grant("read", "policy data-reader-secrets statement 0", conditional=True)),
    ])
    d = diff_snapshots(store, a, b)
    assert (d.added, d.removed, d.changed) == ([], [], [])
    assert [(c.src_name, c.kind, c.dst_name, c.now.level, c.now.conditional) for c in d.new_access] == [
        ("support-bot", "can_assume", "data-reader", "write", False),
        ("data-reader", "can_access", "db-pass", "read", True)]
    assert [(c.src_name, c.dst_name, c.now.grants) for c in d.removed_access] == [
        ("alice", "db-pass", ("policy alice-secrets statement 0",))]
    [widened] = d.changed_access
    assert (widened.src_name, widened.dst_name) == ("support-bot", "invoices")
    assert widened.changes() == ["level read -> write", "+policy support-bot-data statement WriteInvoices"]

    body = d.to_dict()
    assert {"new_access", "removed_access", "changed_access"} <= set(body)
    assert body["new_access"][0] == {
        "src": bot.id, "src_name": "support-bot", "kind": "can_assume", "dst": role.id, "dst_name": "data-reader",
        "level": "write", "admin": False, "conditional": False, "grants": ["trust policy of data-reader statement 0"]}
    assert body["changed_access"][0]["before"]["level"] == "read" and body["changed_access"][0]["level"] == "write"
    json.dumps(body)

    md = diff_markdown(d)
    assert "2 new, 1 removed, 1 changed access" in md
    assert md.index("### New access") < md.index("### Changed access") < md.index("### Removed access")
    assert "- `support-bot` -can_assume-> `data-reader` (write): `trust policy of data-reader statement 0`" in md
    assert "- `data-reader` -can_access-> `db-pass` (read, conditional)" in md
    assert ("- `support-bot` -can_access-> `invoices` (write): level read -> write; "
            "`+policy support-bot-data statement WriteInvoices`") in md
    assert "- `alice` -can_access-> `db-pass` (read): `policy alice-secrets statement 0`" in md


def test_no_reach_change_no_access_section(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    alice = user("alice")
    k1, e1 = key("AKIA1", alice)
    a = scan(store, [alice, k1], [e1])
    b = scan(store, [alice, k1], [e1])
    d = diff_snapshots(store, a, b)
    assert (d.new_access, d.removed_access, d.changed_access) == ([], [], [])
    assert "access" not in diff_markdown(d).split("\n", 3)[-1].replace("0 changed access", "")


def test_a_policy_attached_between_scans_shows_as_new_access(moto_url: str, frontdoor: Any, tmp_path: Path) -> None:
    """End to end against moto: scan, attach a policy and create an assumable role with boto3,
    scan again; ``agentreach diff`` names the new reach with the grants behind it."""
    reset_moto(moto_url)
    frontdoor.serve_service_specific_credentials({})  # the one IAM call moto lacks
    iam = boto3.client("iam", endpoint_url=moto_url, region_name="us-east-1")
    s3 = boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1")
    s3.create_bucket(Bucket="acme-invoices")
    bot = iam.create_user(UserName="invoice-agent")["User"]
    db = str(tmp_path / "diff.db")

    def cli(*args: str, code: int = 0) -> str:
        res = CliRunner().invoke(main, ["--db", db, *args])
        assert res.exit_code == code, res.output
        return res.stdout

    config = tmp_path / "agentreach.yaml"  # only what this story touches: keeps the two scans quick
    config.write_text("connectors:\n  aws:\n    services: [iam, s3]\n", encoding="utf-8")

    def scan_aws() -> None:
        cli("-q", "--config", str(config), "scan", "--endpoint-url", frontdoor.url, "--regions", "us-east-1")

    scan_aws()
    iam.put_user_policy(UserName="invoice-agent", PolicyName="read-invoices", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Sid": "ReadInvoices", "Effect": "Allow", "Action": "s3:GetObject",
                                                "Resource": "arn:aws:s3:::acme-invoices/*"}]}))
    iam.create_role(RoleName="invoice-admin", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": bot["Arn"]},
                                                "Action": "sts:AssumeRole"}]}))
    iam.put_user_policy(UserName="invoice-agent", PolicyName="assume-admin", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Resource": "arn:aws:iam::123456789012:role/invoice-admin"}]}))
    scan_aws()

    body = json.loads(cli("diff", "--format", "json"))
    new = {(c["src_name"], c["kind"], c["dst_name"]): c for c in body["new_access"]}
    read = next(c for k, c in new.items() if k[:2] == ("invoice-agent", "can_access") and "acme-invoices" in k[2])
    assert read["level"] == "read" and any("read-invoices" in g for g in read["grants"])
    assert ("invoice-agent", "can_assume", "invoice-admin") in new
    md = cli("diff", "--format", "md")
    assert "### New access" in md and "`invoice-agent` -can_assume-> `invoice-admin`" in md
    assert "read-invoices" in md
