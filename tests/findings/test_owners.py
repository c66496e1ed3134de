"""AR-AGENT-OWNERLESS and AR-AGENT-ORPHANED, each over its own estate: an agent nobody
answers for, or whose named owner has left; escalation when it is also stale and reaches a
sensitive system; a possible agent one level lower."""

from __future__ import annotations

import pytest

from agentreach.model import EdgeKind

from .builders import (
    DAY,
    NOW,
    Run,
    access,
    context,
    edge,
    fires_and_quiet_test,
    key,
    person,
    role,
    run,
    system,
    trust_service,
    user,
)

OWNERLESS, ORPHANED = "AR-AGENT-OWNERLESS", "AR-AGENT-ORPHANED"


def ownerless_estate(possible: tuple[str, ...] = ()) -> Run:
    """An ownerless agent role in use that reaches customer data; an ownerless agent user
    unused for 200 days (with a key) that reaches it too; near misses: an agent role with an
    Owner tag, an ownerless role that is no agent."""
    pii = system("customer-pii")
    ops = role("ops-agent", trust_service("bedrock-agentcore.amazonaws.com", guarded=True))
    bot = user("lang-bot", last_used=NOW - 200 * DAY)
    bot_key = key("AKIAOLDKEY0000000001", 400, 200)
    support = role("support-agent", trust_service("bedrock.amazonaws.com", guarded=True),
                   tags={"Owner": "ml@example.com"})
    deployer = role("ci-deployer", trust_service("codebuild.amazonaws.com", guarded=True))
    agents = [n for n in (ops, bot, bot_key, support) if n.name not in possible]
    maybe = [n for n in (ops, bot, bot_key, support) if n.name in possible]
    return run(context([pii, ops, bot, bot_key, support, deployer],
                       [access(ops, pii, "write"), access(bot, pii, "read", grant="managed PiiRead #0"),
                        edge(bot_key, bot, EdgeKind.AUTHENTICATES)],
                       agents=agents, possible=maybe, sensitive=[pii]))


def orphaned_estate() -> Run:
    """An agent user whose owner left the directory; near misses: an ownerless agent role,
    an agent user whose owner is active."""
    gone, ana = person("gone@example.com", active=False), person("ana@example.com", active=True)
    helper = user("helper-agent")
    ops = role("ops-agent", trust_service("bedrock-agentcore.amazonaws.com", guarded=True))
    planner = user("planner-agent")
    return run(context([gone, ana, helper, ops, planner],
                       [edge(gone, helper, EdgeKind.OWNS), edge(ana, planner, EdgeKind.OWNS)],
                       agents=[helper, ops, planner]))


@pytest.fixture(scope="module")
def ownerless() -> Run:
    return ownerless_estate()


@pytest.fixture(scope="module")
def orphaned() -> Run:
    return orphaned_estate()


CASES = [
    (OWNERLESS, "ownerless", "ops-agent", "support-agent"),
    (OWNERLESS, "ownerless", "lang-bot", "ci-deployer"),  # no agent: not this rule's concern
    (ORPHANED, "orphaned", "helper-agent", "ops-agent"),
    (ORPHANED, "orphaned", "helper-agent", "planner-agent"),  # owner still active
]
test_fires_and_stays_quiet = fires_and_quiet_test(CASES)


def test_ownerless_evidence_says_why(ownerless: Run) -> None:
    f = ownerless.of(OWNERLESS)["ops-agent"]
    assert any(e.startswith("owner: ownerless") for e in f.evidence)
    assert any("agent verdict agent" in e and "test.linked" in e for e in f.evidence)


def test_orphaned_evidence_names_the_owner_who_left(orphaned: Run) -> None:
    f = orphaned.of(ORPHANED)["helper-agent"]
    assert any("gone@example.com" in e and "orphaned" in e for e in f.evidence)


def test_escalation_ownerless_stale_sensitive_is_critical(ownerless: Run) -> None:
    bot = ownerless.of(OWNERLESS)["lang-bot"]
    assert bot.severity == "critical"
    assert any("raised from high to critical" in e and "stale" in e for e in bot.evidence)
    assert bot.path and bot.path[-1]["to_name"] == "customer-pii"
    # ownerless and reaching customer data, but in use: it stays at the base severity
    ops = ownerless.of(OWNERLESS)["ops-agent"]
    assert ops.severity == "high" and ops.path and ops.path[-1]["to_name"] == "customer-pii"


def test_an_agent_users_key_is_named_in_the_users_finding(ownerless: Run) -> None:
    """The key of an agent user is covered by the user's finding, not a second one."""
    found = ownerless.of(OWNERLESS)
    assert "AKIAOLDKEY0000000001" not in found
    assert any("AKIAOLDKEY0000000001" in e and "no owner of their own" in e for e in found["lang-bot"].evidence)


def test_possible_agent_is_one_level_lower() -> None:
    bot = ownerless_estate(possible=("lang-bot",)).of(OWNERLESS)["lang-bot"]
    assert bot.severity == "high" and any("only possible" in e for e in bot.evidence)
