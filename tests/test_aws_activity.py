"""AWS activity collection against the moto server with real boto3: CloudTrail log files (AWS's
published example records, rewritten to this estate's principals) in trail buckets in the
standard and organization layouts, LookupEvents as the fallback and IAM last-accessed data
from the front door (moto lacks both), then what the CLI answers from the stored snapshot."""

from __future__ import annotations

import copy
import datetime as dt
import gzip
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from agentreach_testing.faults import Fault
from click.testing import CliRunner

from agentreach.activity import aggregates_for
from agentreach.cli import main
from agentreach.store import Store

from .conftest import NOW, reset_moto

ACCOUNT = "123456789012"  # moto's default account
EXAMPLES = json.loads((Path(__file__).parent / "data" / "cloudtrail" / "aws_examples.json").read_text())
STRANDS_UA = ("Boto3/1.38.0 md/Botocore#1.38.0 ua/2.1 os/linux#6.8.0 md/arch#x86_64 lang/python#3.12.3 "
              "md/pyimpl#CPython m/b,Z,D cfg/retry-mode#standard Botocore/1.38.0 strands-agents")
ORG = "o-aa11bb22cc"


def _t(days_ago: float) -> str:
    return (NOW - dt.timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def user_get_object(user_arn: str, key_id: str, when: str, *, error: str | None = None) -> dict[str, Any]:
    """The S3 Tables GetObject example (an IAM user's data event), made an S3 GetObject on
    the estate's bucket by the estate's user and key."""
    rec = copy.deepcopy(EXAMPLES["get_object_s3_tables_iam_user"])
    rec["userIdentity"].update(arn=user_arn, accountId=ACCOUNT, accessKeyId=key_id, userName="leaky-bot")
    rec.update(eventTime=when, eventSource="s3.amazonaws.com", recipientAccountId=ACCOUNT,
               resources=[{"type": "AWS::S3::Object", "ARN": "arn:aws:s3:::customer-data/exports/q3.csv"},
                          {"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::customer-data"}])
    if error:
        rec.update(errorCode=error, errorMessage="Access Denied")
    return rec


def role_put_object(role_arn: str, when: str, region: str) -> dict[str, Any]:
    """The aws-cdk PutObject example (an assumed role), by the estate's role, from an agent."""
    rec = copy.deepcopy(EXAMPLES["put_object_assumed_role"])
    ui = rec["userIdentity"]
    ui["accountId"] = ACCOUNT
    ui["arn"] = "arn:aws:sts::123456789012:assumed-role/agent-runner/session-1"
    ui["sessionContext"]["sessionIssuer"].update(arn=role_arn, accountId=ACCOUNT, userName="agent-runner")
    rec.update(eventTime=when, awsRegion=region, userAgent=STRANDS_UA, recipientAccountId=ACCOUNT,
               resources=[{"ARN": "arn:aws:s3:::customer-data/agent/out.json", "type": "AWS::S3::Object"},
                          {"accountId": ACCOUNT, "ARN": "arn:aws:s3:::customer-data", "type": "AWS::S3::Bucket"}])
    return rec


def user_start_instances(user_arn: str, key_id: str, when: str) -> dict[str, Any]:
    rec = copy.deepcopy(EXAMPLES["start_instances_iam_user"])
    rec["userIdentity"].update(arn=user_arn, accountId=ACCOUNT, accessKeyId=key_id, userName="leaky-bot")
    rec.update(eventTime=when, recipientAccountId=ACCOUNT)
    return rec


def log_key(prefix: str, region: str, when: str, unique: str) -> str:
    day = when[:10].replace("-", "/")
    stamp = when[:4] + when[5:7] + when[8:10] + "T" + when[11:13] + when[14:16] + "Z"
    return f"{prefix}{ACCOUNT}/CloudTrail/{region}/{day}/{ACCOUNT}_CloudTrail_{region}_{stamp}_{unique}.json.gz"


def put_log(s3: Any, bucket: str, key: str, records: list[dict[str, Any]]) -> None:
    s3.put_object(Bucket=bucket, Key=key, Body=gzip.compress(json.dumps({"Records": records}).encode()))


@pytest.fixture(scope="module")
def estate(moto_url: str, frontdoor_session: Any) -> dict[str, Any]:
    reset_moto(moto_url)
    frontdoor_session.clear_rules()
    kw = {"endpoint_url": moto_url, "region_name": "us-east-1"}
    iam, s3, ct = boto3.client("iam", **kw), boto3.client("s3", **kw), boto3.client("cloudtrail", **kw)
    user = iam.create_user(UserName="leaky-bot")["User"]
    key_id = iam.create_access_key(UserName="leaky-bot")["AccessKey"]["AccessKeyId"]
    read_data = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject", "s3:ListBucket"],
         "Resource": ["arn:aws:s3:::customer-data", "arn:aws:s3:::customer-data/*"]}]})
    iam.put_user_policy(UserName="leaky-bot", PolicyName="data", PolicyDocument=read_data)
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    role = iam.create_role(RoleName="agent-runner", AssumeRolePolicyDocument=trust)["Role"]
    iam.put_role_policy(RoleName="agent-runner", PolicyName="data", PolicyDocument=read_data)
    for bucket in ("ct-logs", "org-ct-logs", "customer-data"):
        s3.create_bucket(Bucket=bucket)
    ct.create_trail(Name="main", S3BucketName="ct-logs", IsMultiRegionTrail=True)
    ct.create_trail(Name="org", S3BucketName="org-ct-logs", S3KeyPrefix="org", IsMultiRegionTrail=True)
    gets = [user_get_object(user["Arn"], key_id, _t(d)) for d in (5, 3, 2)]
    put_log(s3, "ct-logs", log_key("AWSLogs/", "us-east-1", _t(2), "Mu0KsOhtH1ar15ZZ"),
            gets + [user_get_object(user["Arn"], key_id, _t(2), error="AccessDenied"),
                    user_start_instances(user["Arn"], key_id, _t(2))])
    # Older than the window and a digest: both garbage, so reading either would be a gap.
    s3.put_object(Bucket="ct-logs", Key=log_key("AWSLogs/", "us-east-1", _t(200), "OLDOLDOLDOLDOLD1"), Body=b"x")
    s3.put_object(Bucket="ct-logs", Key=f"AWSLogs/{ACCOUNT}/CloudTrail-Digest/us-east-1/2026/01/01/d.json.gz",
                  Body=b"x")
    # In the window but not a CloudTrail log: a gap naming its key, the other files still read.
    bad_key = log_key("AWSLogs/", "us-east-1", _t(3), "BADBADBADBADBAD1")
    s3.put_object(Bucket="ct-logs", Key=bad_key, Body=gzip.compress(b'{"NotRecords": 1}'))
    put_log(s3, "org-ct-logs", log_key(f"org/AWSLogs/{ORG}/", "eu-west-1", _t(1), "Zz0KsOhtH1ar15QQ"),
            [role_put_object(role["Arn"], _t(1), "eu-west-1"), role_put_object(role["Arn"], _t(1.5), "eu-west-1")])
    frontdoor_session.serve_service_specific_credentials({})
    frontdoor_session.serve_last_accessed({role["Arn"]: [
        {"ServiceName": "Amazon S3", "ServiceNamespace": "s3", "LastAuthenticated": NOW - dt.timedelta(days=1),
         "LastAuthenticatedEntity": role["Arn"], "TotalAuthenticatedEntities": 1,
         "TrackedActionsLastAccessed": [{"ActionName": "PutObject", "LastAccessedTime": NOW - dt.timedelta(days=1),
                                         "LastAccessedEntity": role["Arn"], "LastAccessedRegion": "eu-west-1"}]},
        {"ServiceName": "AWS Security Token Service", "ServiceNamespace": "sts",
         "LastAuthenticated": NOW - dt.timedelta(days=4), "TotalAuthenticatedEntities": 1},
        {"ServiceName": "Amazon DynamoDB", "ServiceNamespace": "dynamodb", "TotalAuthenticatedEntities": 0},
    ]}, in_progress_polls=1)
    lookup = [user_start_instances(user["Arn"], key_id, _t(d)) for d in (1, 2, 3)]
    frontdoor_session.serve_lookup_events({ACCOUNT: lookup}, page_size=2)
    return {"user": user, "key_id": key_id, "role": role, "moto": moto_url, "bad_key": bad_key}


def _scan(door: Any, db: str, *extra: str) -> Any:
    return CliRunner().invoke(main, ["--db", db, "-q", "scan", "--only", "aws", "--endpoint-url", door.url,
                                     "--regions", "us-east-1,eu-west-1", "--activity", "--activity-since", "30d",
                                     *extra])


@pytest.fixture(scope="module")
def scanned(estate: dict[str, Any], frontdoor_session: Any, tmp_path_factory: pytest.TempPathFactory) -> str:
    db = str(tmp_path_factory.mktemp("activity") / "inv.db")
    result = _scan(frontdoor_session, db)
    assert result.exit_code == 3, result.output  # the one bad log file is a coverage gap
    return db


def test_trail_files_become_aggregates_per_key_action_and_resource(estate: dict[str, Any], scanned: str) -> None:
    store = Store(scanned, create=False)
    key = f"aws:access_key:{estate['key_id']}"
    got = {(a.action, a.resource, a.outcome, a.source): a for a in aggregates_for(store, [key], None)}
    read = got[("s3:GetObject", "arn:aws:s3:::customer-data", "success", "cloudtrail")]
    assert read.count == 3 and read.identity == f"aws:iam_user:{estate['user']['Arn']}"
    assert read.first_seen.strftime("%Y-%m-%dT%H:%M:%SZ") == _t(5)
    assert read.last_seen.strftime("%Y-%m-%dT%H:%M:%SZ") == _t(2)
    assert read.user_agents == ("[aws-cli/2.18.5]",) and read.source_ips == ("192.0.2.0",)
    assert got[("s3:GetObject", "arn:aws:s3:::customer-data", "denied", "cloudtrail")].count == 1
    assert ("ec2:StartInstances", "", "success", "cloudtrail") in got
    # The trail bucket was readable: LookupEvents was not needed.
    assert not any(source == "lookup_events" for *_, source in got)
    # Only the bad file in the window is a gap, named by its key; neither the file older than
    # the window nor the digest was read (both would be gaps too).
    bad = [g for g in store.gaps(store.latest_snapshot().id) if g.error_code == "LogFileMalformed"]
    assert len(bad) == 1 and estate["bad_key"] in bad[0].message and "no Records list" in bad[0].message
    assert [g for g in store.gaps(store.latest_snapshot().id) if g.error_code != "LogFileMalformed"] == []


def test_organization_trail_and_last_accessed_fill_the_role(estate: dict[str, Any], scanned: str) -> None:
    store = Store(scanned, create=False)
    role = f"aws:iam_role:{estate['role']['Arn']}"
    got = {(a.action, a.source): a for a in aggregates_for(store, [role], None)}
    assert got[("s3:PutObject", "cloudtrail")].count == 2
    assert got[("s3:PutObject", "cloudtrail")].user_agents == (STRANDS_UA,)
    advisor = got[("s3:PutObject", "last_accessed")]
    assert advisor.count == 0 and advisor.resource == ""  # last-accessed gives a time, no count
    assert ("sts:*", "last_accessed") in got and not any(a.startswith("dynamodb") for a, _ in got)


def test_user_agents_reach_the_identity_and_the_classifier(estate: dict[str, Any], scanned: str) -> None:
    store = Store(scanned, create=False)
    sid = store.latest_snapshot().id
    role_id = f"aws:iam_role:{estate['role']['Arn']}"
    node = next(store.nodes(sid, ids=[role_id])).node
    assert node.attrs["user_agents"] == [STRANDS_UA]
    verdict = store.annotations(sid, "agent", ids=[role_id])[role_id]
    ua = [e for e in verdict["evidence"] if e.get("signal") == "any.telemetry.framework-user-agent"]
    assert ua and STRANDS_UA in json.dumps(ua)


def test_unreadable_bucket_falls_back_to_lookup_events(estate: dict[str, Any], frontdoor: Any, tmp_path: Path) -> None:
    frontdoor.add(Fault("deny", api="s3", operation="ListObjectsV2"))
    frontdoor.add(Fault("throttle", api="cloudtrail", operation="LookupEvents", times=1))
    db = str(tmp_path / "fallback.db")
    result = _scan(frontdoor, db)
    assert result.exit_code == 3, result.output  # the denied listing is a coverage gap
    store = Store(db, create=False)
    gaps = store.gaps(store.latest_snapshot().id)
    assert any(g.operation == "ListObjectsV2" and g.error_code == "AccessDenied" for g in gaps)
    got = aggregates_for(store, [f"aws:access_key:{estate['key_id']}"], None)
    lookup = [a for a in got if a.source == "lookup_events"]
    assert [(a.action, a.count) for a in lookup] == [("ec2:StartInstances", 3)]  # three events over two pages
    assert frontdoor.calls[("cloudtrail", "LookupEvents")] >= 3  # throttled once, then two pages


def _cli(db: str, *args: str) -> Any:
    return CliRunner().invoke(main, ["--db", db, "-q", *args])


def test_activity_answers_did_the_key_read_the_bucket(estate: dict[str, Any], scanned: str) -> None:
    key = estate["key_id"]
    result = _cli(scanned, "activity", key, "--system", "customer-data", "--format", "json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["subject"]["native_id"] == key and body["system"] == "arn:aws:s3:::customer-data"
    rows = {(r["action"], r["outcome"]): r for r in body["activity"]}
    assert set(rows) == {("s3:GetObject", "success"), ("s3:GetObject", "denied")}
    assert rows[("s3:GetObject", "success")]["count"] == 3
    assert rows[("s3:GetObject", "success")]["last_seen"] == _t(2)
    assert body["summary"] == {"actions": 2, "calls": 4, "last_seen": _t(2)}
    csv_out = _cli(scanned, "activity", key, "--format", "csv").output
    assert csv_out.splitlines()[0].startswith("subject,identity,credential,action,resource")
    assert "ec2:StartInstances" in csv_out
    md_out = _cli(scanned, "activity", key, "--format", "md").output
    assert "| `s3:GetObject` | `arn:aws:s3:::customer-data` | success | 3 |" in md_out
    # --since keeps the aggregates last seen in it: the key's last call was two days ago.
    assert "No activity recorded" in _cli(scanned, "activity", key, "--since", "1d", "--format", "md").output


def test_activity_of_a_key_outside_the_inventory_and_of_an_identity(estate: dict[str, Any], scanned: str) -> None:
    stranger = _cli(scanned, "activity", "AKIAZZZZZZZZZZZZZZZZ", "--format", "json")
    assert stranger.exit_code == 0, stranger.output
    assert json.loads(stranger.output)["activity"] == []
    assert json.loads(stranger.output)["subject"]["in_inventory"] is False
    role = json.loads(_cli(scanned, "activity", "agent-runner", "--format", "json").output)
    assert {(r["action"], r["source"]) for r in role["activity"]} >= {("s3:PutObject", "cloudtrail"),
                                                                      ("s3:PutObject", "last_accessed")}


def test_reach_and_who_can_reach_mark_exercised_paths(estate: dict[str, Any], scanned: str) -> None:
    reach = json.loads(_cli(scanned, "reach", estate["key_id"], "--format", "json").output)
    bucket = next(s for s in reach["systems"] if s["name"] == "customer-data")
    assert bucket["exercised"]["count"] == 3 and bucket["exercised"]["actions"] == ["s3:GetObject"]
    assert bucket["exercised"]["last_seen"] == _t(2)
    unused = [s for s in reach["systems"] if s["name"] == "ct-logs"]
    assert all(s["exercised"] is None for s in unused)
    who = json.loads(_cli(scanned, "who-can-reach", "customer-data", "--format", "json").output)
    by_name = {s["name"]: s for s in who["subjects"]}
    assert by_name["agent-runner"]["exercised"]["count"] == 2
    assert by_name["agent-runner"]["exercised"]["actions"] == ["s3:PutObject"]
    old = json.loads(_cli(scanned, "who-can-reach", "customer-data", "--since", "12h", "--format", "json").output)
    assert all(s["exercised"] is None for s in old["subjects"])  # nothing in the last 12 hours
    table = _cli(scanned, "reach", estate["key_id"]).output
    assert "used" in table and "3× last" in table


def _reviewed(tmp: Path, user_arn: str, actions: list[str]) -> str:
    path = tmp / "reviewed.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "reviewed": [{
        "id": f"aws:iam_user:{user_arn}", "name": "leaky-bot",
        "triage": {"decision": "agent", "reason": "the support bot", "by": "sec@example.com",
                   "at": "2026-01-01T00:00:00Z"},
        "profile": {"owner": "support@example.com", "purpose": "reads customer records for tickets",
                    "systems": ["arn:aws:s3:::customer-data/*", "aws:account_service:*:ec2"],
                    "actions": actions, "review_by": "2099-01-01"}}]}))
    return str(path)


def _rules(db: str) -> dict[str, dict[str, Any]]:
    body = json.loads(_cli(db, "findings", "--format", "json").output)
    return {r["rule"]: {**r, "findings": [f for f in body["findings"] if f["rule"] == r["rule"]]}
            for r in body["rules"]}


def test_stored_activity_feeds_the_run_time_profile_rules(estate: dict[str, Any], frontdoor_session: Any,
                                                          tmp_path: Path) -> None:
    """A scan with activity hands what was seen to the run-time rules: the key started
    instances its approved profile does not list (drift, with when and how often); approved,
    the same use is quiet; a scan that collected no activity skips them (nobody looked)."""
    (tmp_path / "a").mkdir()
    narrow = _reviewed(tmp_path / "a", estate["user"]["Arn"], ["s3:GetObject"])
    db = str(tmp_path / "drift.db")
    assert _scan(frontdoor_session, db, "--reviewed", narrow).exit_code == 3
    drift = _rules(db)["AR-PROFILE-RUNTIME-DRIFT"]
    assert drift["status"] == "evaluated" and [f["subject_name"] for f in drift["findings"]] == ["leaky-bot"]
    assert any("ec2:StartInstances" in e for e in drift["findings"][0]["evidence"]), drift["findings"][0]["evidence"]
    assert not any("s3:GetObject" in e and "beyond" in e for e in drift["findings"][0]["evidence"])

    (tmp_path / "b").mkdir()
    wide = _reviewed(tmp_path / "b", estate["user"]["Arn"], ["s3:GetObject", "ec2:StartInstances"])
    db = str(tmp_path / "approved.db")
    assert _scan(frontdoor_session, db, "--reviewed", wide).exit_code == 3
    assert _rules(db)["AR-PROFILE-RUNTIME-DRIFT"]["findings"] == []

    db = str(tmp_path / "no-activity.db")
    res = CliRunner().invoke(main, ["--db", db, "-q", "scan", "--only", "aws", "--endpoint-url", frontdoor_session.url,
                                    "--regions", "us-east-1", "--reviewed", narrow])
    assert res.exit_code == 0, res.output
    assert _rules(db)["AR-PROFILE-RUNTIME-DRIFT"]["status"] == "skipped"
