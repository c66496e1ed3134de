"""The parameters each rule declares (agentreach.findings.params): a key a rule does not
declare, a wrong type, a value outside its vocabulary, a non-mapping or an unknown rule id
is refused by ``findings_config`` with a one-line error naming the key; a valid override
changes what the rule reports."""

from __future__ import annotations

from typing import Any, Callable

import pytest

from agentreach.config import ConfigError
from agentreach.findings import RULES, FindingContext, findings_config
from agentreach.model import EdgeKind

from .builders import (
    DAY,
    GHA,
    NOW,
    OTHER_ACCT,
    access,
    api_key,
    certificate,
    client_secret,
    context,
    edge,
    key,
    role,
    run,
    system,
    trust_aws,
    trust_github,
    trust_service,
    user,
    workload,
)


def rules(rule_id: str, value: Any) -> dict[str, Any]:
    return {"findings": {"rules": {rule_id: value}}}


# -- refused, by name ----------------------------------------------------------------------

REFUSED = [
    # a misspelled key
    ("AR-AGENT-STALE", {"min_acess": "read"}, "findings.rules.AR-AGENT-STALE.min_acess: unknown key"),
    # a key another rule declares, not this one
    ("AR-AGENT-SENSITIVE-REACH", {"levels": ["write"]}, "findings.rules.AR-AGENT-SENSITIVE-REACH.levels: unknown key"),
    # a rule with no parameters at all
    ("AR-SECRET-IN-FILES", {"min_agents": 2}, "findings.rules.AR-SECRET-IN-FILES.min_agents: unknown key"),
    # wrong types
    ("AR-AGENT-IDENTITY-REUSE", {"min_agents": "abc"}, "findings.rules.AR-AGENT-IDENTITY-REUSE.min_agents: "),
    ("AR-AGENT-IDENTITY-REUSE", {"min_agents": True}, "findings.rules.AR-AGENT-IDENTITY-REUSE.min_agents: "),
    ("AR-AGENT-HUMAN-USE", {"include_possible": "sometimes"}, "findings.rules.AR-AGENT-HUMAN-USE.include_possible: "),
    ("AR-AGENT-OVERPRIVILEGED", {"levels": "write"}, "findings.rules.AR-AGENT-OVERPRIVILEGED.levels: "),
    ("AR-TRUST-UNKNOWN-ACCOUNT", {"known_accounts": [123456789012]},
     "findings.rules.AR-TRUST-UNKNOWN-ACCOUNT.known_accounts"),
    # outside the vocabulary or the range
    ("AR-AGENT-OWNERLESS", {"sensitive_levels": ["bogus"]}, "findings.rules.AR-AGENT-OWNERLESS.sensitive_levels"),
    ("AR-AGENT-SENSITIVE-REACH", {"min_access": "everything"}, "findings.rules.AR-AGENT-SENSITIVE-REACH.min_access: "),
    ("AR-SECRET-LONG-LIVED", {"codes": ["too_old"]}, "findings.rules.AR-SECRET-LONG-LIVED.codes"),
    ("AR-AGENT-IDENTITY-REUSE", {"min_agents": 1}, "findings.rules.AR-AGENT-IDENTITY-REUSE.min_agents: "),
    ("AR-TRUST-CONFUSED-DEPUTY", {"condition_keys": []}, "findings.rules.AR-TRUST-CONFUSED-DEPUTY.condition_keys: "),
    ("AR-APIKEY-UNRESTRICTED", {"types": []}, "findings.rules.AR-APIKEY-UNRESTRICTED.types: "),
    # not a mapping
    ("AR-AGENT-STALE", 5, "findings.rules.AR-AGENT-STALE: must be a mapping"),
    ("AR-AGENT-STALE", ["min_access", "read"], "findings.rules.AR-AGENT-STALE: must be a mapping"),
]


@pytest.mark.parametrize("rule_id, value, message", REFUSED)
def test_a_bad_parameter_is_refused_by_name(rule_id: str, value: Any, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        findings_config(rules(rule_id, value))
    text = str(err.value)
    assert text.startswith(message), text
    assert "\n" not in text  # one line
    # the bare section is read the same way as a whole config
    with pytest.raises(ConfigError, match=message.split(":")[0]):
        findings_config({"rules": {rule_id: value}})


def test_an_unknown_rule_id_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"unknown rule id\(s\) AR-NOPE \(known: .*AR-AGENT-STALE"):
        findings_config(rules("AR-NOPE", {"min_access": "read"}))


def test_an_unknown_rule_id_is_refused_where_it_was_given() -> None:
    with pytest.raises(ConfigError, match=r"findings\.rules\.AR-NOPE"):
        findings_config(rules("AR-NOPE", {}))


@pytest.mark.parametrize("value", [None, []])
def test_rules_that_are_not_a_mapping_are_refused_as_such(value: Any) -> None:
    with pytest.raises(ConfigError, match=r"findings\.rules: must map"):
        findings_config({"findings": {"rules": value}})


# -- accepted -------------------------------------------------------------------------------

def test_the_shipped_config_states_every_declared_parameter() -> None:
    cfg = findings_config(None)
    for r in RULES:
        assert set(cfg["rules"].get(r.id) or {}) == set(r.meta.params.model_fields), r.id


def test_an_override_is_merged_over_the_shipped_values() -> None:
    for config in (rules("AR-AGENT-IDENTITY-REUSE", {"min_agents": 3}),
                   {"rules": {"AR-AGENT-IDENTITY-REUSE": {"min_agents": 3}}}):
        assert findings_config(config)["rules"]["AR-AGENT-IDENTITY-REUSE"] == {"include_possible": True,
                                                                               "min_agents": 3}


# -- a valid override changes what the rule reports -----------------------------------------
# (rule, its own estate, the subject, the override, whether the shipped values report it)

def possible_ownerless() -> FindingContext:
    maybe = role("maybe-agent", trust_service("bedrock.amazonaws.com", guarded=True))
    return context([maybe], possible=[maybe])


def reads_customer_data() -> FindingContext:
    pii, bot = system("customer-pii"), user("lang-bot", tags={"Owner": "ml@example.com"})
    return context([pii, bot], [access(bot, pii, "read")], agents=[bot], sensitive=[pii])


def writes_reports() -> FindingContext:
    reports, writer = system("reports"), user("report-writer-agent")
    return context([reports, writer], [access(writer, reports, "write")], agents=[writer])


def unguarded_agentcore_trust() -> FindingContext:
    ops = role("ops-agent", trust_service("bedrock-agentcore.amazonaws.com"))
    return context([ops], agents=[ops])


def source_arn_guarded_trust() -> FindingContext:
    stmt = {"Effect": "Allow", "Principal": {"Service": "bedrock.amazonaws.com"}, "Action": "sts:AssumeRole",
            "Condition": {"ArnLike": {"aws:SourceArn": "arn:aws:bedrock:us-east-1:111122223333:agent/*"}}}
    ops = role("ops-agent", {"Version": "2012-10-17", "Statement": [stmt]})
    return context([ops], agents=[ops])


def partner_trust() -> FindingContext:
    return context([role("partner-role", trust_aws(f"arn:aws:iam::{OTHER_ACCT}:root"))])


def long_lived_secret() -> FindingContext:
    return context([client_secret("planner-secret", 30, 700)])


def expired_certificate() -> FindingContext:
    return context([certificate("old.example", 400, -5)])


def unrestricted_api_key() -> FindingContext:
    k = api_key("gemini-prototype", [], ["none"])
    return context([k], agents=[k])


def github_any_repo() -> FindingContext:
    return context([role("gha-any-repo", trust_github({"StringEquals": {f"{GHA}:aud": "sts.amazonaws.com"}}))])


def stale_possible_agent_key() -> FindingContext:
    k = key("AKIAMAYBEKEY00000001", 400, 200)
    return context([k], possible=[k])


def two_workloads_on_a_possible_agent() -> FindingContext:
    shared = role("shared-agent", trust_service("bedrock.amazonaws.com", guarded=True))
    a, b = workload("planner"), workload("researcher")
    return context([shared, a, b], [edge(a, shared, EdgeKind.RUNS_AS), edge(b, shared, EdgeKind.RUNS_AS)],
                   possible=[shared])


def a_person_on_a_possible_agent() -> FindingContext:
    helper = user("helper-agent", mfa_active=True)
    return context([helper], possible=[helper])


OVERRIDES: list[tuple[str, Callable[[], FindingContext], str, dict[str, Any], bool]] = [
    ("AR-AGENT-OWNERLESS", possible_ownerless, "maybe-agent", {"include_possible": False}, True),
    ("AR-AGENT-STALE", stale_possible_agent_key, "AKIAMAYBEKEY00000001", {"include_possible": False}, True),
    ("AR-AGENT-IDENTITY-REUSE", two_workloads_on_a_possible_agent, "shared-agent", {"include_possible": False}, True),
    ("AR-AGENT-HUMAN-USE", a_person_on_a_possible_agent, "helper-agent", {"include_possible": False}, True),
    ("AR-AGENT-SENSITIVE-REACH", reads_customer_data, "lang-bot", {"min_access": "write"}, True),
    ("AR-AGENT-SENSITIVE-REACH", reads_customer_data, "lang-bot", {"sensitive_levels": ["critical"]}, True),
    ("AR-AGENT-OVERPRIVILEGED", writes_reports, "report-writer-agent",
     {"levels": ["permissions-management", "write"]}, False),
    ("AR-TRUST-CONFUSED-DEPUTY", unguarded_agentcore_trust, "ops-agent", {"services": ["lambda.amazonaws.com"]}, True),
    ("AR-TRUST-CONFUSED-DEPUTY", source_arn_guarded_trust, "ops-agent", {"condition_keys": ["aws:SourceAccount"]},
     False),
    ("AR-TRUST-UNKNOWN-ACCOUNT", partner_trust, "partner-role", {"known_accounts": [OTHER_ACCT]}, True),
    ("AR-TRUST-UNKNOWN-ACCOUNT", partner_trust, "partner-role", {"agents_only": True}, True),
    ("AR-SECRET-LONG-LIVED", long_lived_secret, "planner-secret", {"codes": ["rotation_overdue"]}, True),
    ("AR-SECRET-LONG-LIVED", long_lived_secret, "planner-secret", {"agents_only": True}, True),
    ("AR-CREDENTIAL-EXPIRY", expired_certificate, "old.example", {"agents_only": True}, True),
    ("AR-APIKEY-UNRESTRICTED", unrestricted_api_key, "gemini-prototype", {"types": ["azure_api_key"]}, True),
    ("AR-FEDERATION-UNCONSTRAINED", github_any_repo, "gha-any-repo", {"public_issuers": ["https://gitlab.com"]}, True),
]


@pytest.mark.parametrize("rule_id, estate, subject, override, shipped_reports",
                         OVERRIDES, ids=[f"{o[0]}-{next(iter(o[3]))}" for o in OVERRIDES])
def test_a_valid_override_changes_what_the_rule_reports(rule_id: str, estate: Callable[[], FindingContext],
                                                        subject: str, override: dict[str, Any],
                                                        shipped_reports: bool) -> None:
    ctx = estate()
    assert (subject in run(ctx).of(rule_id)) is shipped_reports
    assert (subject in run(ctx, rules(rule_id, override)).of(rule_id)) is not shipped_reports


def test_sensitive_levels_decide_escalation() -> None:
    """An ownerless, stale agent user reaching a high-sensitivity system is critical under
    the shipped levels, and back at the base when only critical systems count."""
    pii, bot = system("customer-pii"), user("lang-bot", last_used=NOW - 200 * DAY)
    ctx = context([pii, bot], [access(bot, pii, "read")], agents=[bot], sensitive=[pii])
    assert run(ctx).of("AR-AGENT-OWNERLESS")["lang-bot"].severity == "critical"
    lowered = run(ctx, rules("AR-AGENT-OWNERLESS", {"sensitive_levels": ["critical"]})).of("AR-AGENT-OWNERLESS")
    assert lowered["lang-bot"].severity == "high"
    stale = run(ctx, rules("AR-AGENT-STALE", {"min_access": "write"})).of("AR-AGENT-STALE")["lang-bot"]
    assert stale.severity == "high" and not stale.path  # ownerless only: no sensitive reach at write


def test_an_empty_sensitive_levels_list_is_honoured_or_refused() -> None:
    pii, bot = system("customer-pii"), user("lang-bot", last_used=NOW - 200 * DAY)
    ctx = context([pii, bot], [access(bot, pii, "read")], agents=[bot], sensitive=[pii])
    try:
        found = run(ctx, rules("AR-AGENT-OWNERLESS", {"sensitive_levels": []})).of("AR-AGENT-OWNERLESS")
    except ConfigError:
        return
    assert found["lang-bot"].severity == "high"
