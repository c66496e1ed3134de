"""AR-AGENT-STALE, AR-SECRET-LONG-LIVED, AR-KEY-TWO-ACTIVE and AR-CREDENTIAL-EXPIRY, each
over its own estate, judged by the real lifecycle layer at a fixed NOW."""

from __future__ import annotations

import pytest

from agentreach.model import CredentialStatus, EdgeKind

from .builders import (
    Run,
    access,
    certificate,
    client_secret,
    context,
    edge,
    fires_and_quiet_test,
    key,
    run,
    system,
    user,
)

STALE, LONG_LIVED, TWO_KEYS, EXPIRY = ("AR-AGENT-STALE", "AR-SECRET-LONG-LIVED", "AR-KEY-TWO-ACTIVE",
                                       "AR-CREDENTIAL-EXPIRY")


@pytest.fixture(scope="module")
def stale() -> Run:
    """An ownerless agent user that reaches customer data, with a key unused for 200 days
    and a fresh one; near miss: a non-agent user's key unused as long."""
    pii = system("customer-pii")
    bot = user("lang-bot")
    old, fresh = key("AKIAOLDKEY0000000001", 400, 200), key("AKIAFRESHKEY00000002", 20, 1)
    legacy = user("legacy-etl")
    legacy_key = key("AKIALEGACYKEY0000003", 400, 200)
    return run(context([pii, bot, old, fresh, legacy, legacy_key],
                       [edge(old, bot, EdgeKind.AUTHENTICATES), edge(fresh, bot, EdgeKind.AUTHENTICATES),
                        edge(legacy_key, legacy, EdgeKind.AUTHENTICATES), access(bot, pii, "read")],
                       agents=[bot, old, fresh], sensitive=[pii]))


@pytest.fixture(scope="module")
def long_lived() -> Run:
    """A client secret issued for two years (no agent's); near misses: one issued for less
    than the maximum lifetime, a key created 20 days ago."""
    return run(context([client_secret("planner-secret", 30, 700), client_secret("short-secret", 30, 300),
                        key("AKIAFRESHKEY00000002", 20, 1)]))


@pytest.fixture(scope="module")
def two_keys() -> Run:
    """An agent user with two active keys; near miss: an agent user with one active key and
    one deactivated."""
    bot, helper = user("lang-bot"), user("helper-agent")
    keys = [key("AKIAOLDKEY0000000001", 400, 200), key("AKIAFRESHKEY00000002", 20, 1),
            key("AKIAHELPERKEY0000001", 30, 1), key("AKIAHELPERKEY0000002", 200, 100, CredentialStatus.DISABLED)]
    return run(context([bot, helper, *keys],
                       [edge(keys[0], bot, EdgeKind.AUTHENTICATES), edge(keys[1], bot, EdgeKind.AUTHENTICATES),
                        edge(keys[2], helper, EdgeKind.AUTHENTICATES), edge(keys[3], helper, EdgeKind.AUTHENTICATES)],
                       agents=[bot, helper, *keys]))


@pytest.fixture(scope="module")
def expiry() -> Run:
    """A certificate expired five days ago and one expiring in ten; near miss: one valid for
    200 more days."""
    return run(context([certificate("old.example", 400, -5), certificate("soon.example", 355, 10),
                        certificate("new.example", 100, 200)]))


CASES = [
    (STALE, "stale", "AKIAOLDKEY0000000001", "AKIAFRESHKEY00000002"),
    (STALE, "stale", "AKIAOLDKEY0000000001", "AKIALEGACYKEY0000003"),  # no agent's key
    (LONG_LIVED, "long_lived", "planner-secret", "AKIAFRESHKEY00000002"),
    (LONG_LIVED, "long_lived", "planner-secret", "short-secret"),
    (TWO_KEYS, "two_keys", "lang-bot", "helper-agent"),
    (EXPIRY, "expiry", "old.example", "new.example"),
    (EXPIRY, "expiry", "soon.example", "new.example"),
]
test_fires_and_stays_quiet = fires_and_quiet_test(CASES)


def test_stale_ownerless_key_reaching_customer_data_is_critical(stale: Run) -> None:
    f = stale.of(STALE)["AKIAOLDKEY0000000001"]
    assert f.severity == "critical" and f.path[0]["edge"] == "authenticates"
    assert f.path[-1]["to_name"] == "customer-pii"
    assert any("raised from medium to critical" in e and "ownerless" in e for e in f.evidence)
    assert any(e.startswith("unused: last used 200 days ago") for e in f.evidence)


def test_a_long_lived_secret_of_no_agent_is_one_level_lower(long_lived: Run) -> None:
    f = long_lived.of(LONG_LIVED)["planner-secret"]
    assert f.severity == "medium" and any(e.startswith("lifetime_too_long: issued for 730 days") for e in f.evidence)
    assert any("not an agent's credential" in e for e in f.evidence)


def test_two_active_keys_names_both(two_keys: Run) -> None:
    f = two_keys.of(TWO_KEYS)["lang-bot"]
    assert f.subject_type == "aws_iam_user"
    assert f.evidence[0] == "2 active access keys on lang-bot"
    assert sum(e.startswith("active key AKIA") for e in f.evidence) == 2


def test_expiry_says_expired_or_expiring(expiry: Run) -> None:
    found = expiry.of(EXPIRY)
    assert any(e.startswith("expired: expired 5 days ago") for e in found["old.example"].evidence)
    assert any(e.startswith("expiring: expires in 10 days") for e in found["soon.example"].evidence)


def test_config_disables_a_rule(two_keys: Run) -> None:
    result = run(two_keys.ctx, {"findings": {"disabled": [TWO_KEYS]}}).results
    assert result[TWO_KEYS].status == "skipped" and "disabled" in result[TWO_KEYS].note
    assert not result[TWO_KEYS].findings
    assert result[EXPIRY].status == "evaluated"  # only the rule named is disabled
