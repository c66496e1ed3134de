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


@pytest.fixture(scope="module")
def by_class() -> Run:
    """Agents on a sensitive bucket by access class: one reads only its configuration, one
    may rewrite its policy (who can read it), one reads its objects."""
    from agentreach.model import EdgeKind

    from .builders import edge

    pii = system("customer-pii")
    meta, policy, reader = user("config-audit-agent"), user("policy-agent"), user("reader-agent")

    def grant(who, level: str, classes: list[str], action: str):
        return edge(who, pii, EdgeKind.CAN_ACCESS, level=level, admin=False, conditional=False,
                    grants=["inline p #0"], actions=[action], classes=classes)

    return run(context([pii, meta, policy, reader],
                       [grant(meta, "read", ["read-metadata"], "s3:GetBucketPolicy"),
                        grant(policy, "permissions-management", ["permissions-management"], "s3:PutBucketPolicy"),
                        grant(reader, "read", ["read-data"], "s3:GetObject")],
                       agents=[meta, policy, reader], sensitive=[pii]))


def test_sensitive_reach_is_the_data_or_who_may_reach_it(by_class: Run) -> None:
    """Reading a bucket's policy is not reaching its data; rewriting that policy decides who
    reads it, one edit away, so it counts like reading the data does."""
    found = by_class.of(SENSITIVE)
    assert {"policy-agent", "reader-agent"} <= set(found)
    assert "config-audit-agent" not in found


def test_a_file_copy_of_a_live_key_is_covered_by_the_key(tmp_path) -> None:
    """Both halves of an AWS key written in a .env file are the agent user's live key: one
    finding for the user (the leaked-live rule names the file), not one per half."""
    from agentreach.model import EdgeKind

    from .builders import edge, file_line, found_secret, key

    pii = system("customer-pii")
    bot, live = user("lang-bot"), key("AKIAEXAMPLEEXAMPLE01", 90, 3)
    id_half = found_secret("AWS access key id in .env:3", "sha256:aa", "AKIA…01", "AWS Access Key")
    secret_half = found_secret("AWS secret access key in .env:4", "sha256:bb", "wJal…", "AWS Secret Key")
    line3, line4 = file_line(".env", 3), file_line(".env", 4)
    edges = [edge(live, bot, EdgeKind.AUTHENTICATES), access(bot, pii, "read", grant="managed PiiRead #0"),
             edge(id_half, line3, EdgeKind.FOUND_IN), edge(secret_half, line4, EdgeKind.FOUND_IN),
             edge(live, line3, EdgeKind.FOUND_IN, file_credential=id_half.id, via="access_key_id"),
             edge(live, line4, EdgeKind.FOUND_IN, file_credential=secret_half.id, via="access_key_id")]
    estate = run(context([pii, bot, live, id_half, secret_half, line3, line4], edges,
                         agents=[bot, live, id_half, secret_half], sensitive=[pii]))
    assert estate.ctx.view.live_copies_of(id_half.id) == [live.id]
    for rule_id in (SENSITIVE, "AR-AGENT-OWNERLESS"):
        assert set(estate.of(rule_id)) == {"lang-bot"}, rule_id
    # Near miss: a file secret matched to no live key is its own subject.
    alone = run(context([pii, id_half, line3], [edge(id_half, line3, EdgeKind.FOUND_IN)], agents=[id_half]))
    assert "AWS access key id in .env:3" in alone.of("AR-AGENT-OWNERLESS")
