"""AR-AGENT-IDENTITY-REUSE and AR-AGENT-HUMAN-USE, each over its own estate: several agents
on one identity, a person signing in as an agent's."""

from __future__ import annotations

import pytest

from agentreach.model import EdgeKind

from .builders import Run, context, edge, fires_and_quiet_test, role, run, trust_service, user, workload

REUSE, HUMAN_USE = "AR-AGENT-IDENTITY-REUSE", "AR-AGENT-HUMAN-USE"


@pytest.fixture(scope="module")
def reuse() -> Run:
    """An agent role two agents run as; near miss: an agent role one runtime runs as."""
    shared = role("shared-agent", trust_service("bedrock.amazonaws.com", guarded=True), tags={"Owner": "ml@example.com"})
    support = role("support-agent", trust_service("bedrock.amazonaws.com", guarded=True),
                   tags={"Owner": "ml@example.com"})
    planner, researcher = workload("planner"), workload("researcher", "aws_bedrock_agent")
    runtime = workload("support-runtime")
    return run(context([shared, support, planner, researcher, runtime],
                       [edge(planner, shared, EdgeKind.RUNS_AS), edge(researcher, shared, EdgeKind.RUNS_AS),
                        edge(runtime, support, EdgeKind.RUNS_AS)],
                       agents=[shared, support]))


@pytest.fixture(scope="module")
def human_use() -> Run:
    """An agent user with a console password and an MFA device; near misses: an agent user
    with neither, a person's own user with both."""
    helper = user("helper-agent", mfa_active=True, password_enabled=True)
    bot = user("lang-bot")
    alice = user("alice", mfa_active=True, password_enabled=True)
    return run(context([helper, bot, alice], agents=[helper, bot]))


CASES = [
    (REUSE, "reuse", "shared-agent", "support-agent"),
    (HUMAN_USE, "human_use", "helper-agent", "lang-bot"),
    (HUMAN_USE, "human_use", "helper-agent", "alice"),  # a person's own identity
]
test_fires_and_stays_quiet = fires_and_quiet_test(CASES)


def test_reuse_names_each_agent(reuse: Run) -> None:
    f = reuse.of(REUSE)["shared-agent"]
    assert f.evidence[0] == "2 agent(s) or workload(s) use this identity (threshold 2)"
    assert {e for e in f.evidence if e.startswith("used by ")} == {
        "used by workload aws_agentcore_runtime planner", "used by workload aws_bedrock_agent researcher"}


def test_human_use_says_how_a_person_signs_in(human_use: Run) -> None:
    f = human_use.of(HUMAN_USE)["helper-agent"]
    assert any("password_enabled=true" in e for e in f.evidence)
    assert any("mfa_active=true" in e for e in f.evidence)


def test_config_raises_the_reuse_threshold(reuse: Run) -> None:
    results = run(reuse.ctx, {"findings": {"rules": {REUSE: {"min_agents": 3}}}}).results
    assert results[REUSE].status == "evaluated" and not results[REUSE].findings
