"""AR-TRUST-CONFUSED-DEPUTY and AR-TRUST-UNKNOWN-ACCOUNT, each over its own estate: who may
become an agent's role, statement by statement of its trust policy."""

from __future__ import annotations

import pytest

from .builders import ACCT, OTHER_ACCT, Run, context, fires_and_quiet_test, role, run, trust_aws, trust_service

DEPUTY, UNKNOWN = "AR-TRUST-CONFUSED-DEPUTY", "AR-TRUST-UNKNOWN-ACCOUNT"


@pytest.fixture(scope="module")
def confused_deputy() -> Run:
    """An agent role the AgentCore service may assume with no source condition; near misses:
    an agent role whose service trust carries aws:SourceAccount, a role of no agent with an
    unguarded Lambda trust."""
    ops = role("ops-agent", trust_service("bedrock-agentcore.amazonaws.com"))
    support = role("support-agent", trust_service("bedrock.amazonaws.com", guarded=True))
    cron = role("nightly-cleanup", trust_service("lambda.amazonaws.com"))
    return run(context([ops, support, cron], agents=[ops, support]))


@pytest.fixture(scope="module")
def unknown_account() -> Run:
    """An agent role trusted by an account nobody scanned; near misses: an agent role with a
    service trust, one trusted by the scanned account itself."""
    shared = role("shared-agent", trust_aws(f"arn:aws:iam::{OTHER_ACCT}:root"))
    support = role("support-agent", trust_service("bedrock.amazonaws.com", guarded=True))
    local = role("local-agent", trust_aws(f"arn:aws:iam::{ACCT}:root"))
    return run(context([shared, support, local], agents=[shared, support, local]))


CASES = [
    (DEPUTY, "confused_deputy", "ops-agent", "support-agent"),
    (DEPUTY, "confused_deputy", "ops-agent", "nightly-cleanup"),  # agents_only
    (UNKNOWN, "unknown_account", "shared-agent", "support-agent"),
    (UNKNOWN, "unknown_account", "shared-agent", "local-agent"),  # the scanned account
]
test_fires_and_stays_quiet = fires_and_quiet_test(CASES)


def test_confused_deputy_names_the_missing_condition(confused_deputy: Run) -> None:
    f = confused_deputy.of(DEPUTY)["ops-agent"]
    assert any("bedrock-agentcore.amazonaws.com" in e and "aws:SourceAccount" in e for e in f.evidence)
    assert f.severity == "high"


def test_unknown_account_names_the_account(unknown_account: Run) -> None:
    f = unknown_account.of(UNKNOWN)["shared-agent"]
    assert any(OTHER_ACCT in e and "not scanned" in e for e in f.evidence)
    assert f"scanned accounts: {ACCT}" in f.evidence


def test_config_overrides_a_rules_severity(confused_deputy: Run) -> None:
    found = run(confused_deputy.ctx, {"findings": {"severity": {DEPUTY: "low"}}}).of(DEPUTY)
    assert found["ops-agent"].severity == "low"
