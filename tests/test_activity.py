"""The activity model: CloudTrail records (AWS's published examples) into events, events into
bounded aggregates, aggregates stored per snapshot and merged, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import pytest
from agentreach_connectors.aws import cloudtrail

from agentreach.activity import (
    MAX_VALUES,
    ActivityEvent,
    Aggregator,
    aggregates_for,
    exercised,
    merge_all,
    window_start,
)
from agentreach.store import Store

EXAMPLES = json.loads((Path(__file__).parent / "data" / "cloudtrail" / "aws_examples.json").read_text())


def test_iam_user_record_names_user_key_action_and_outcome() -> None:
    ev = cloudtrail.event_of(EXAMPLES["start_instances_iam_user"])
    assert ev is not None
    assert ev.identity == "aws:iam_user:arn:aws:iam::123456789012:user/Mateo"
    assert ev.credential == "aws:access_key:AKIAIOSFODNN7EXAMPLE"
    assert ev.action == "ec2:StartInstances"
    assert (ev.outcome, ev.source_ip, ev.time) == ("success", "192.0.2.0", "2023-07-19T21:17:28Z")
    assert ev.user_agent.startswith("aws-cli/2.13.5")
    assert ev.resource == ""  # StartInstances names no resource in resources[] nor a naming parameter


def test_assumed_role_is_the_role_and_objects_count_against_their_bucket() -> None:
    ev = cloudtrail.event_of(EXAMPLES["put_object_assumed_role"])
    assert ev.identity == "aws:iam_role:arn:aws:iam::123456789012:role/SomeRole"
    assert ev.credential is None  # a session key is not a credential of the inventory
    assert ev.principal == "arn:aws:sts::123456789012:assumed-role/SomeRole/user-SomeRole"
    assert (ev.action, ev.resource) == ("s3:PutObject", "arn:aws:s3:::BUCKETNAME")


def test_sdk_user_agent_is_kept_with_its_md_tokens() -> None:
    ev = cloudtrail.event_of(EXAMPLES["create_session_assumed_role_java_sdk"])
    assert "md/internal" in ev.user_agent and "exec-env/AWS_Lambda_java11" in ev.user_agent
    assert ev.resource == "arn:aws:s3express:us-west-2:111122223333:bucket/bucket-base-name--usw2-az1--x-s3"
    assert ev.action == "s3express:CreateSession"


def test_denied_and_failed_calls_have_their_outcome() -> None:
    denied = dict(EXAMPLES["get_object_s3_tables_iam_user"], errorCode="AccessDenied", errorMessage="Access Denied")
    failed = dict(EXAMPLES["get_object_s3_tables_iam_user"], errorCode="NoSuchKey")
    assert (cloudtrail.event_of(denied).outcome, cloudtrail.event_of(denied).error_code) == ("denied", "AccessDenied")
    assert cloudtrail.event_of(failed).outcome == "error"


def test_service_and_anonymous_callers_are_not_principals() -> None:
    record = dict(EXAMPLES["start_instances_iam_user"],
                  userIdentity={"type": "AWSService", "invokedBy": "cloudtrail.amazonaws.com"})
    assert cloudtrail.event_of(record) is None


def test_log_file_keys_standard_and_organization_layouts() -> None:
    key = "logs/AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/01/111122223333_CloudTrail_us-east-2_20150801T0210Z_Mu0KsOhtH1ar15ZZ.json.gz"
    assert cloudtrail.parse_key(key)["date"] == "2015/08/01"
    org = "AWSLogs/o-exampleorgid/111122223333/CloudTrail/us-east-1/2026/11/30/x.json.gz"
    assert cloudtrail.parse_key(org)["org"] == "o-exampleorgid"
    assert cloudtrail.key_date("AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/30/d.json.gz") is None


def test_a_file_that_is_not_a_log_is_named_not_raised() -> None:
    with pytest.raises(cloudtrail.LogFileError, match="no Records"):
        cloudtrail.records_of(gzip.compress(b'{"records": []}'))
    with pytest.raises(cloudtrail.LogFileError, match="not a CloudTrail log file"):
        cloudtrail.records_of(b"\x1f\x8bnot gzip at all")
    assert len(cloudtrail.records_of(gzip.compress(json.dumps({"Records": list(EXAMPLES.values())}).encode()))) == 4


def _ev(t: str, ip: str = "192.0.2.1", ua: str = "ua", action: str = "s3:GetObject") -> ActivityEvent:
    return ActivityEvent(identity="aws:iam_user:arn:aws:iam::1:user/u", credential="aws:access_key:AKIAX",
                         action=action, resource="arn:aws:s3:::b", time=t, source_ip=ip, user_agent=ua)


def test_aggregates_first_last_count_and_bounded_sets() -> None:
    agg = Aggregator()
    for i in range(50):
        agg.add(_ev(f"2026-11-{10 + i % 20:02d}T00:00:00Z", ip=f"198.51.100.{i}"))
    agg.add(_ev("2026-11-12T00:00:00Z", action="s3:PutObject"))
    out = agg.drain()
    assert len(out) == 2 and len(agg) == 0
    get = next(a for a in out if a.action == "s3:GetObject")
    assert get.count == 50 and get.first_seen.day == 10 and get.last_seen.day == 29
    assert len(get.source_ips) == MAX_VALUES and get.truncated


def test_parts_drained_apart_merge_into_the_same_totals() -> None:
    whole, parts = Aggregator(), []
    small = Aggregator(max_keys=1)
    events = [_ev(f"2026-11-{d:02d}T00:00:00Z", action=a) for d in (3, 1, 7) for a in ("s3:GetObject", "s3:ListBucket")]
    for ev in events:
        whole.add(ev)
        small.add(ev)
        if small.full:
            parts.extend(small.drain())
    parts.extend(small.drain())
    assert [a.to_dict() for a in merge_all(parts)] == [a.to_dict() for a in whole.drain()]


def test_exercised_needs_success_on_that_resource_with_a_granted_action() -> None:
    agg = Aggregator()
    agg.add(_ev("2026-11-03T00:00:00Z"))
    agg.add(dict_ev := ActivityEvent(identity="aws:iam_user:arn:aws:iam::1:user/u", action="s3:DeleteObject",
                                     resource="arn:aws:s3:::b", time="2026-11-04T00:00:00Z", outcome="denied"))
    assert dict_ev.outcome == "denied"
    aggs = agg.drain()
    hit = exercised(aggs, actors=["aws:access_key:AKIAX"], resource="arn:aws:s3:::b", granted=["s3:Get*"])
    assert hit is not None and hit.count == 1 and hit.actions == ("s3:GetObject",)
    assert exercised(aggs, actors=["aws:access_key:AKIAX"], resource="arn:aws:s3:::other", granted=None) is None
    assert exercised(aggs, actors=["aws:iam_user:arn:aws:iam::1:user/u"], resource="arn:aws:s3:::b",
                     granted=["s3:Delete*"]) is None  # denied is not exercised


def test_window_start_reads_durations_and_dates() -> None:
    now = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)
    assert window_start(now, None) == now - dt.timedelta(days=90)
    assert window_start(now, "12h") == now - dt.timedelta(hours=12)
    assert window_start(now, "2026-11-01").day == 1
    with pytest.raises(ValueError, match="--since 'soon'"):
        window_start(now, "soon")


def test_store_merges_parts_and_answers_by_subject_and_time(store_at) -> None:
    store = Store(store_at("act"))
    sid = store.begin_snapshot(config_digest="x", connectors={}, options={})
    first, second = Aggregator(), Aggregator()
    first.add(_ev("2026-11-03T00:00:00Z", ip="192.0.2.1"))
    second.add(_ev("2026-11-09T00:00:00Z", ip="192.0.2.2"))
    second.add(_ev("2026-10-01T00:00:00Z", action="s3:ListBucket"))
    store.add_activity(sid, first.drain())
    store.add_activity(sid, second.drain())
    got = aggregates_for(store, ["aws:access_key:AKIAX"], None, snapshot_id=sid)
    assert [(a.action, a.count) for a in got] == [("s3:GetObject", 2), ("s3:ListBucket", 1)]
    get = got[0]
    assert get.first_seen.day == 3 and get.last_seen.day == 9 and set(get.source_ips) == {"192.0.2.1", "192.0.2.2"}
    recent = aggregates_for(store, ["aws:iam_user:arn:aws:iam::1:user/u"],
                            dt.datetime(2026, 11, 1, tzinfo=dt.timezone.utc), snapshot_id=sid)
    assert [a.action for a in recent] == ["s3:GetObject"]
    assert aggregates_for(store, ["aws:iam_user:someone-else"], None, snapshot_id=sid) == []
    store.close()


# User agents as the frameworks' own code builds them (config/user-agents.yaml names each source).
FRAMEWORK_UAS = {
    "langchain": "Boto3/1.38.0 md/Botocore#1.38.0 ua/2.1 lang/python#3.12 x-client-framework:langchain-aws",
    "llamaindex": "Boto3/1.35.0 md/Botocore#1.35.0 ua/2.0 x-client-framework:llama_index",
    "strands": "Boto3/1.38.0 md/Botocore#1.38.0 ua/2.1 os/linux#6.8 cfg/retry-mode#standard Botocore/1.38.0 strands-agents",
    "awslabs-mcp": "Boto3/1.38.0 md/Botocore#1.38.0 ua/2.1 md/awslabs#mcp#iam-mcp-server#1.0.5",
    "haystack": "Boto3/1.34.0 md/Botocore#1.34.0 x-client-framework:haystack",
}
PLAIN_UAS = ["aws-cli/2.13.5 Python/3.11.4 Linux/4.14.255 exec-env/CloudShell exe/x86_64.amzn.2 prompt/off",
             "[aws-cli/2.18.5]", "console.amazonaws.com", "AWS Internal",
             "aws-sdk-java/2.20.160-SNAPSHOT Linux/5.10.216 OpenJDK_64-Bit_Server_VM/11.0.23+9-LTS Java/11.0.23 "
             "vendor/Amazon.com_Inc. md/internal exec-env/AWS_Lambda_java11 io/sync http/Apache"]


def test_user_agent_signal_names_the_framework_with_the_user_agent() -> None:
    from agentreach.classify import signals_for
    from agentreach.classify.matchers import _user_agent_patterns, match_user_agent
    from agentreach.config import load_config
    from agentreach.model import Identity

    frameworks = {fw for fw, _ in _user_agent_patterns()}
    assert {"Strands Agents", "AWS MCP server (awslabs/mcp)", "Claude Code", "CrewAI"} <= frameworks
    sig = next(s for s in signals_for(load_config()) if s.id == "any.telemetry.framework-user-agent")
    assert sig.strength == "medium"
    node = Identity(id="aws:iam_role:r", provider="aws", source="aws", type="iam_role", name="r",
                    attrs={"user_agents": [*PLAIN_UAS, *FRAMEWORK_UAS.values()]})
    texts = [m.matched for m in match_user_agent(sig, node, None)]  # type: ignore[arg-type]
    assert len(texts) == len(FRAMEWORK_UAS)  # each framework's user agent once, no plain SDK or CLI one
    assert f"Strands Agents: {FRAMEWORK_UAS['strands']}" in texts
    assert any(t.startswith("AWS MCP server") and "iam-mcp-server" in t for t in texts)


def test_folding_records_is_the_same_as_adding_their_events() -> None:
    records = [dict(r, eventTime=f"2026-11-0{i % 9 + 1}T00:00:00Z") for i, r in enumerate(list(EXAMPLES.values()) * 3)]
    records[1] = dict(records[1], errorCode="AccessDenied")
    records.append({"userIdentity": {"type": "AWSService"}, "eventTime": "2026-11-01T00:00:00Z"})
    slow, fast = Aggregator(), Aggregator()
    slow.add_all(cloudtrail.events_of(records, "2026-11-02T00:00:00Z"))
    assert cloudtrail.fold(records, fast, "2026-11-02T00:00:00Z") == slow.events > 0
    assert [a.to_dict() for a in fast.drain()] == [a.to_dict() for a in slow.drain()]
