"""The approved-profile rules (AR-PROFILE-DRIFT, AR-AGENT-NO-PROFILE,
AR-PROFILE-REVIEW-OVERDUE, AR-CREDENTIAL-PAST-RETIREMENT), each over its own estate with a
near miss; the right-sized policy a drift finding carries; and the rules skipped (not
passing) before the reviewed file declares any profile."""

from __future__ import annotations

import dataclasses

import pytest

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
    profile,
    role,
    run,
    trust_service,
    user,
)

DRIFT, NO_PROFILE, REVIEW, RETIRE = ("AR-PROFILE-DRIFT", "AR-AGENT-NO-PROFILE", "AR-PROFILE-REVIEW-OVERDUE",
                                     "AR-CREDENTIAL-PAST-RETIREMENT")
TRUST = trust_service("bedrock.amazonaws.com", guarded=True)
OWNED = {"Owner": "ml@example.com"}


@pytest.fixture(scope="module")
def drift() -> Run:
    """An agent approved to read the docs bucket that can also read and write customer PII;
    near miss: an agent whose wildcard allow-list (written in another case, as IAM allows)
    covers what it is granted on the bucket it is approved for."""
    docs, pii = bucket("docs"), bucket("customer-pii")
    drifting = role("drifting-agent", TRUST, tags=OWNED)
    tidy = role("tidy-agent", TRUST, tags=OWNED)
    return run(context(
        [docs, pii, drifting, tidy],
        [access(drifting, docs, "read"),
         access(drifting, pii, "write", actions=["s3:GetObject", "s3:PutObject"], grant="managed PiiRW #0"),
         access(tidy, docs, "read", actions=["s3:GetObject", "s3:GetObjectVersion"])],
        agents=[drifting, tidy], sensitive=[pii],
        profiles={drifting.id: profile(systems=["arn:aws:s3:::docs"], actions=["s3:GetObject"]),
                  tidy.id: profile(systems=["arn:aws:s3:::do*"], actions=["S3:getobject*"])}))


@pytest.fixture(scope="module")
def no_profile() -> Run:
    """An agent nobody wrote a profile for; near misses: an agent with one, and a key of
    the profiled agent (its identity's profile covers it)."""
    bare = role("unprofiled-agent", TRUST, tags=OWNED)
    kept = user("profiled-agent", tags=OWNED)
    kept_key = key("AKIAPROFILEDKEY00001", 10, 1)
    return run(context([bare, kept, kept_key], [edge(kept_key, kept, EdgeKind.AUTHENTICATES)],
                       agents=[bare, kept, kept_key], profiles={kept.id: profile()}))


@pytest.fixture(scope="module")
def review() -> Run:
    """A profile ten days past its review date; near miss: one due in a month."""
    late, current = role("overdue-agent", TRUST, tags=OWNED), role("current-agent", TRUST, tags=OWNED)
    return run(context([late, current], agents=[late, current],
                       profiles={late.id: profile(review_days=-10), current.id: profile(review_days=30)}))


@pytest.fixture(scope="module")
def retirement() -> Run:
    """Under a 90-day lifetime: a key made 200 days ago and used last week (past its planned
    retirement and used after it); near misses: a 30-day-old key of the same agent, and an
    old key of an agent whose profile plans no retirement."""
    bot = user("keyed-agent", tags=OWNED)
    old, fresh = key("AKIAOLDRETIREDKEY001", 200, 7), key("AKIAFRESHKEY00000001", 30, 1)
    other = user("keyless-plan-agent", tags=OWNED)
    other_key = key("AKIANOPLANKEY0000001", 400, 1)
    return run(context(
        [bot, old, fresh, other, other_key],
        [edge(old, bot, EdgeKind.AUTHENTICATES), edge(fresh, bot, EdgeKind.AUTHENTICATES),
         edge(other_key, other, EdgeKind.AUTHENTICATES)],
        agents=[bot, other], profiles={bot.id: profile(lifetime="90d"), other.id: profile()}))


CASES = [
    (DRIFT, "drift", "drifting-agent", "tidy-agent"),
    (NO_PROFILE, "no_profile", "unprofiled-agent", "profiled-agent"),
    (NO_PROFILE, "no_profile", "unprofiled-agent", "AKIAPROFILEDKEY00001"),
    (REVIEW, "review", "overdue-agent", "current-agent"),
    (RETIRE, "retirement", "AKIAOLDRETIREDKEY001", "AKIAFRESHKEY00000001"),
    (RETIRE, "retirement", "AKIAOLDRETIREDKEY001", "AKIANOPLANKEY0000001"),
]
test_fires_and_stays_quiet = fires_and_quiet_test(CASES)


def test_drift_says_what_is_beyond_and_proposes_the_right_sized_policy(drift: Run) -> None:
    f = drift.of(DRIFT)["drifting-agent"]
    assert f.severity == "high"  # raised: the drift reaches a sensitive system
    assert any("customer-pii" in e and "not an approved system" in e and "s3:PutObject" in e for e in f.evidence)
    assert any(e.startswith("severity raised from medium to high") for e in f.evidence)
    grants = f.right_sized["grants"]
    assert [g["identity_name"] for g in grants] == ["drifting-agent"]
    assert grants[0]["policy"] == {"Version": "2012-10-17", "Statement": [
        {"Sid": "Approved1", "Effect": "Allow", "Action": ["s3:GetObject"],
         "Resource": ["arn:aws:s3:::docs", "arn:aws:s3:::docs/*"]}]}
    assert f.to_dict()["right_sized"] == f.right_sized
    assert "right_sized" not in dataclasses.replace(f, right_sized={}).to_dict()  # absent where nothing is proposed


def test_an_action_beyond_the_allow_list_on_an_approved_system_is_drift() -> None:
    docs = bucket("docs")
    agent = role("writer-agent", TRUST, tags=OWNED)
    r = run(context([docs, agent], [access(agent, docs, "write", actions=["s3:GetObject", "s3:DeleteObject"])],
                    agents=[agent], profiles={agent.id: profile(systems=["arn:aws:s3:::docs/*"],
                                                                actions=["s3:Get*"])}))
    f = r.of(DRIFT)["writer-agent"]
    assert f.severity == "medium"
    assert any("approved as arn:aws:s3:::docs/*" in e and "s3:DeleteObject" in e and "GetObject" not in e
               for e in f.evidence)
    assert f.right_sized["grants"][0]["policy"]["Statement"][0]["Action"] == ["s3:GetObject"]


def test_the_rules_are_skipped_until_a_profile_is_declared() -> None:
    agent = role("some-agent", TRUST, tags=OWNED)
    r = run(context([agent], agents=[agent]))
    for rid in (DRIFT, NO_PROFILE, REVIEW, RETIRE):
        assert r.results[rid].status == "skipped" and "profile" in r.results[rid].note


def test_retirement_used_after_it_is_raised(retirement: Run) -> None:
    f = retirement.of(RETIRE)["AKIAOLDRETIREDKEY001"]
    assert f.severity == "high"
    assert any("planned retirement" in e and "credential_lifetime 90d" in e for e in f.evidence)
    assert any("after its planned retirement" in e for e in f.evidence)
    assert (NOW - 200 * DAY + 90 * DAY).date().isoformat() in f.evidence[0]


def test_review_grace_keeps_a_recent_lapse_quiet(review: Run) -> None:
    r = run(review.ctx, {"findings": {"rules": {REVIEW: {"grace_days": 30}}}})
    assert not r.results[REVIEW].findings


def test_azure_and_gcp_drift_propose_a_role() -> None:
    """Azure: a vault's secrets approved, Reader on the resource group beyond it: a custom role
    with the data action at the vault's scope. GCP: objects.get approved, objects.delete
    granted too: a custom role with objects.get on the bucket."""
    from agentreach.model import Identity, System, node_id

    vault_id = "/subscriptions/s1/resourcegroups/rg/providers/microsoft.keyvault/vaults/kv"
    vault = System(id=node_id("azure", "key_vault", vault_id), provider="azure", source="azure",
                   type="azure_key_vault", name="kv", native_id=vault_id, account="s1")
    rg = System(id=node_id("azure", "resource_group", "/subscriptions/s1/resourcegroups/rg"), provider="azure",
                source="azure", type="azure_resource_group", name="rg", native_id="/subscriptions/s1/resourcegroups/rg",
                account="s1")
    mi = Identity(id=node_id("azure", "managed_identity", "mi-1"), provider="azure", source="azure",
                  type="azure_managed_identity", name="vault-agent", native_id="mi-1", account="s1")
    bkt = System(id=node_id("gcp", "bucket", "docs"), provider="gcp", source="gcp", type="gcp_bucket", name="docs",
                 native_id="projects/_/buckets/docs", account="p1")
    sa = Identity(id=node_id("gcp", "sa", "bot@p1.iam.gserviceaccount.com"), provider="gcp", source="gcp",
                  type="gcp_service_account", name="docs-agent", native_id="bot@p1.iam.gserviceaccount.com",
                  account="p1")
    r = run(context(
        [vault, rg, mi, bkt, sa],
        [access(mi, vault, "read", actions=["microsoft.keyvault/vaults/secrets/getsecret/action"], plane="data"),
         access(mi, rg, "read", actions=["*/read"], plane="control"),
         access(sa, bkt, "write", actions=["storage.objects.delete", "storage.objects.get"])],
        agents=[mi, sa],
        profiles={mi.id: profile(systems=["/subscriptions/S1/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/*"],
                                 actions=["Microsoft.KeyVault/vaults/secrets/getSecret/action"]),
                  sa.id: profile(systems=["projects/_/buckets/docs"], actions=["storage.objects.get"])}))
    az = r.of(DRIFT)["vault-agent"]
    assert any("rg is not an approved system" in e and "*/read" in e for e in az.evidence)
    role = az.right_sized["grants"][0]["role"]
    # the profile's spelling, which is the documented one (agentreach stores grants lower-cased)
    assert role["DataActions"] == ["Microsoft.KeyVault/vaults/secrets/getSecret/action"] and role["Actions"] == []
    assert role["AssignableScopes"] == [vault_id]
    gcp = r.of(DRIFT)["docs-agent"]
    assert any("storage.objects.delete" in e and "not in the allow-list" in e for e in gcp.evidence)
    assert gcp.right_sized["grants"][0]["role"]["includedPermissions"] == ["storage.objects.get"]
    assert gcp.right_sized["grants"][0]["role"]["grant_on"] == ["projects/_/buckets/docs"]
