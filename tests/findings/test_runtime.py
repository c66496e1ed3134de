"""The run-time rules over activity aggregates fed directly (the interface of
agentreach.findings.activity, which activity collection fills): used beyond the approved
profile, first use of a sensitive system, activity on an orphaned identity's credential,
use after a credential's planned retirement. Each fires and stays quiet on a near miss;
without activity they are skipped, with an empty window they pass."""

from __future__ import annotations

import pytest

from agentreach.config import ConfigError
from agentreach.findings.activity import aggregate
from agentreach.model import EdgeKind

from .builders import (
    DAY,
    NOW,
    Run,
    access,
    bucket,
    context,
    edge,
    fires_and_quiet_test,
    key,
    person,
    profile,
    role,
    run,
    trust_service,
    user,
)

RUNTIME, FIRST, ORPHANED, AFTER = ("AR-PROFILE-RUNTIME-DRIFT", "AR-AGENT-FIRST-SENSITIVE-USE",
                                   "AR-ORPHANED-CREDENTIAL-ACTIVITY", "AR-CREDENTIAL-USED-AFTER-RETIREMENT")
UNUSED = "AR-AGENT-UNUSED-GRANTS"
TRUST = trust_service("bedrock.amazonaws.com", guarded=True)
OWNED = {"Owner": "ml@example.com"}


def seen(principal: str, action: str, resource: str = "", first: int = 30, last: int = 1, count: int = 5,
         identity: str | None = None) -> dict:
    """One aggregate row: ``first`` and ``last`` days before NOW."""
    return {"principal": principal, "identity": identity, "action": action, "resource": resource,
            "first_seen": (NOW - first * DAY).isoformat(), "last_seen": (NOW - last * DAY).isoformat(),
            "count": count}


@pytest.fixture(scope="module")
def runtime() -> Run:
    """An agent whose key was seen deleting objects its profile does not allow (and reading
    a bucket it is not approved for); near miss: an agent seen calling only what its
    wildcard allow-list covers, in the lower case CloudTrail never uses but IAM accepts."""
    docs, pii = bucket("docs"), bucket("customer-pii")
    bot, bot_key = user("wandering-agent", tags=OWNED), key("AKIAWANDERINGKEY0001", 30, 1)
    calm = role("steady-agent", TRUST, tags=OWNED)
    return run(context(
        [docs, pii, bot, bot_key, calm], [edge(bot_key, bot, EdgeKind.AUTHENTICATES)], agents=[bot, calm],
        profiles={bot.id: profile(systems=["arn:aws:s3:::docs"], actions=["s3:GetObject"]),
                  calm.id: profile(systems=["arn:aws:s3:::docs*"], actions=["s3:Get*"])},
        activity=[seen(bot_key.id, "s3:GetObject", docs.id), seen(bot_key.id, "s3:DeleteObject", docs.id, count=2),
                  seen(bot_key.id, "s3:GetObject", "arn:aws:s3:::customer-pii"),
                  seen(calm.id, "s3:getobject", docs.id), seen(calm.id, "s3:GetObjectTagging", docs.id)]))


@pytest.fixture(scope="module")
def first_use() -> Run:
    """An agent that first read customer PII two days ago; near misses: an agent that has
    read it for two months, and a non-agent that first read it yesterday."""
    pii = bucket("customer-pii")
    new, old = role("curious-agent", TRUST, tags=OWNED), role("veteran-agent", TRUST, tags=OWNED)
    etl = role("etl-batch", trust_service("glue.amazonaws.com", guarded=True), tags=OWNED)
    return run(context([pii, new, old, etl], agents=[new, old], sensitive=[pii],
                       activity=[seen(new.id, "s3:GetObject", pii.id, first=2), seen(old.id, "s3:GetObject", pii.id,
                                                                                     first=60),
                                 seen(etl.id, "s3:GetObject", pii.id, first=1)]))


@pytest.fixture(scope="module")
def orphaned() -> Run:
    """A key of an agent whose owner left, still in use; near miss: the same activity on a
    key of an agent whose owner is active."""
    gone, ana = person("gone@example.com", active=False), person("ana@example.com", active=True)
    left, kept = user("left-behind-agent"), user("looked-after-agent")
    left_key, kept_key = key("AKIALEFTBEHINDKEY001", 100, 1), key("AKIALOOKEDAFTERKEY01", 100, 1)
    return run(context(
        [gone, ana, left, kept, left_key, kept_key],
        [edge(gone, left, EdgeKind.OWNS), edge(ana, kept, EdgeKind.OWNS),
         edge(left_key, left, EdgeKind.AUTHENTICATES), edge(kept_key, kept, EdgeKind.AUTHENTICATES)],
        agents=[left, kept],
        activity=[seen(left_key.id, "bedrock:InvokeModel"), seen(kept_key.id, "bedrock:InvokeModel")]))


@pytest.fixture(scope="module")
def after_retirement() -> Run:
    """Under a 90-day lifetime, a key made 200 days ago seen yesterday; near miss: the same
    agent's old key last seen 150 days ago, before its retirement date (110 days ago)."""
    bot = user("retiring-agent", tags=OWNED)
    used, quiet = key("AKIAUSEDAFTERKEY0001", 200, 1), key("AKIAUSEDBEFOREKEY001", 200, 150)
    return run(context(
        [bot, used, quiet], [edge(used, bot, EdgeKind.AUTHENTICATES), edge(quiet, bot, EdgeKind.AUTHENTICATES)],
        agents=[bot], profiles={bot.id: profile(lifetime="90d")},
        activity=[seen(used.id, "bedrock:InvokeModel", first=190, last=1),
                  seen(quiet.id, "bedrock:InvokeModel", first=190, last=150)]))


@pytest.fixture(scope="module")
def unused() -> Run:
    """An agent granted everything on an account-wide system and reads on a bucket, seen for a
    month only reading the bucket and writing metrics: the admin grant is unused. Near misses:
    an agent that uses every service it is granted; one whose activity spans two days only."""
    docs, everything = bucket("docs"), bucket("account-everything")
    ops, tidy, fresh = (role(n, TRUST, tags=OWNED) for n in ("ops-agent", "tidy-agent", "fresh-agent"))
    return run(context(
        [docs, everything, ops, tidy, fresh],
        [access(ops, everything, "permissions-management", admin=True, actions=["*"]),
         access(ops, docs, "read", actions=["s3:GetObject"]), access(tidy, docs, "read", actions=["s3:GetObject"]),
         access(fresh, everything, "permissions-management", admin=True, actions=["*"])],
        agents=[ops, tidy, fresh],
        activity=[seen(ops.id, "s3:GetObject", docs.id, first=30), seen(ops.id, "cloudwatch:PutMetricData", first=28),
                  seen(tidy.id, "s3:GetObject", docs.id, first=30),
                  seen(fresh.id, "s3:GetObject", docs.id, first=2)]))


CASES = [
    (UNUSED, "unused", "ops-agent", "tidy-agent"),
    (UNUSED, "unused", "ops-agent", "fresh-agent"),
    (RUNTIME, "runtime", "wandering-agent", "steady-agent"),
    (FIRST, "first_use", "curious-agent", "veteran-agent"),
    (FIRST, "first_use", "curious-agent", "etl-batch"),
    (ORPHANED, "orphaned", "left-behind-agent", "looked-after-agent"),
    (AFTER, "after_retirement", "AKIAUSEDAFTERKEY0001", "AKIAUSEDBEFOREKEY001"),
]
test_fires_and_stays_quiet = fires_and_quiet_test(CASES)


def test_runtime_drift_names_each_call_beyond_the_profile(runtime: Run) -> None:
    f = runtime.of(RUNTIME)["wandering-agent"]
    assert f.evidence[0] == "2 action(s) used beyond the approved profile (7 call(s) in the window)"
    assert any(e.startswith("used s3:DeleteObject on aws_s3_bucket docs (action not in the allow-list): 2 call(s)")
               and e.endswith("with AKIAWANDERINGKEY0001") for e in f.evidence)  # the key that made the calls
    assert any(e.startswith("used s3:GetObject on aws_s3_bucket customer-pii (system not approved)")
               for e in f.evidence)


def test_unused_grants_propose_the_policy_of_what_was_used(unused: Run) -> None:
    f = unused.of(UNUSED)["ops-agent"]
    assert f.severity == "high" and any(e.startswith("severity raised from medium to high") for e in f.evidence)
    assert any(e.startswith("unused on account-everything: *") for e in f.evidence)
    assert not any(e.startswith("unused on docs") for e in f.evidence)  # s3 was used
    [grant] = f.right_sized["grants"]
    assert grant["identity_name"] == "ops-agent"
    assert grant["policy"]["Statement"] == [
        {"Sid": "Used1", "Effect": "Allow", "Action": ["cloudwatch:PutMetricData"], "Resource": "*"},
        {"Sid": "Used2", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:aws:s3:::docs"]}]


def test_without_activity_the_rules_are_skipped_and_an_empty_window_passes(runtime: Run) -> None:
    bare = run(context(list(runtime.ctx.view.nodes.values()), agents=[], profiles=runtime.ctx.profiles))
    empty = run(context(list(runtime.ctx.view.nodes.values()), agents=[], profiles=runtime.ctx.profiles,
                        activity=[]))
    for rid in (RUNTIME, FIRST, ORPHANED, AFTER, UNUSED):
        assert bare.results[rid].status == "skipped" and "activity" in bare.results[rid].note
        assert empty.results[rid].status == "evaluated" and not empty.results[rid].findings


@pytest.mark.parametrize("row, error", [
    ({"action": "s3:GetObject", "first_seen": "2026-01-01T00:00:00Z", "last_seen": "2026-01-01T00:00:00Z"},
     "needs a principal and an action"),
    ({"principal": "aws:access_key:AKIA1", "action": "s3:GetObject", "first_seen": "yesterday",
      "last_seen": "2026-01-01T00:00:00Z"}, "first_seen 'yesterday' is not an ISO time"),
    ({"principal": "aws:access_key:AKIA1", "action": "s3:GetObject", "first_seen": "2026-01-01T00:00:00Z",
      "last_seen": "2026-01-01T00:00:00Z", "count": 0}, "count 0 is not a positive integer"),
])
def test_a_bad_aggregate_row_is_named_in_one_line(row: dict, error: str) -> None:
    with pytest.raises(ConfigError, match=error):
        aggregate(row)
