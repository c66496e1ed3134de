"""AR-AGENT-OVERPRIVILEGED and AR-AGENT-SENSITIVE-REACH, each over its own estate: what an
agent reaches in the graph, with the path as evidence."""

from __future__ import annotations

import pytest

from .builders import (
    Run,
    access,
    context,
    fires_and_quiet_test,
    iam_of_account,
    role,
    run,
    system,
    trust_service,
    user,
)

OVERPRIVILEGED, SENSITIVE = "AR-AGENT-OVERPRIVILEGED", "AR-AGENT-SENSITIVE-REACH"


@pytest.fixture(scope="module")
def overprivileged() -> Run:
    """An agent role with AdministratorAccess over IAM; near misses: an agent user that only
    reads customer data, one that writes to a bucket."""
    iam, pii, reports = iam_of_account(), system("customer-pii"), system("reports")
    ops = role("ops-agent", trust_service("bedrock-agentcore.amazonaws.com", guarded=True))
    bot, writer = user("lang-bot"), user("report-writer-agent")
    return run(context([iam, pii, reports, ops, bot, writer],
                       [access(ops, iam, "permissions-management", admin=True, grant="inline AdministratorAccess #0"),
                        access(bot, pii, "read"), access(writer, reports, "write")],
                       agents=[ops, bot, writer], sensitive=[iam, pii]))


@pytest.fixture(scope="module")
def sensitive_reach() -> Run:
    """An ownerless agent user and an owned agent user that read customer data; near misses:
    an agent role that reads only a public bucket, an agent user that may only list the
    customer data bucket."""
    pii, public = system("customer-pii"), system("public-assets")
    bot, lister = user("lang-bot"), user("inventory-agent")
    analyst = user("analytics-agent", tags={"Owner": "data@example.com"})
    support = role("support-agent", trust_service("bedrock.amazonaws.com", guarded=True),
                   tags={"Owner": "ml@example.com"})
    return run(context([pii, public, bot, lister, analyst, support],
                       [access(bot, pii, "read", grant="managed PiiRead #0"), access(support, public, "read"),
                        access(lister, pii, "list"), access(analyst, pii, "read")],
                       agents=[bot, lister, analyst, support], sensitive=[pii]))


CASES = [
    (OVERPRIVILEGED, "overprivileged", "ops-agent", "lang-bot"),
    (OVERPRIVILEGED, "overprivileged", "ops-agent", "report-writer-agent"),  # write is not permissions-management
    (SENSITIVE, "sensitive_reach", "lang-bot", "support-agent"),
    (SENSITIVE, "sensitive_reach", "lang-bot", "inventory-agent"),  # list is below min_access read
]
test_fires_and_stays_quiet = fires_and_quiet_test(CASES)


def test_unconditional_admin_is_critical(overprivileged: Run) -> None:
    over = overprivileged.of(OVERPRIVILEGED)["ops-agent"]
    assert over.severity == "critical" and any("unconditional admin" in e for e in over.evidence)
    assert over.path and over.path[-1]["to_name"] == f"all of iam in {over.account}"


def test_sensitive_reach_shows_the_path_and_the_grant(sensitive_reach: Run) -> None:
    reach = sensitive_reach.of(SENSITIVE)["lang-bot"]
    assert reach.path and reach.path[-1]["to_name"] == "customer-pii"
    assert any("granted by managed PiiRead #0" in e for e in reach.evidence)
    assert reach.severity == "critical"
    assert any(e == "severity raised from high to critical: the agent credential is ownerless" for e in reach.evidence)
    # owned and in use: the base severity
    assert sensitive_reach.of(SENSITIVE)["analytics-agent"].severity == "high"
