"""The engine over one small estate of its own: fingerprints are stable and ignore the
wording, one per finding; config naming an unknown rule or severity is refused."""

from __future__ import annotations

import pytest

from agentreach.config import ConfigError
from agentreach.findings import Finding, FindingContext, all_findings, evaluate
from agentreach.model import EdgeKind

from .builders import access, context, edge, iam_of_account, key, role, trust_service, user


def engine_estate() -> FindingContext:
    """An ownerless agent role with an unguarded service trust and admin over IAM (several
    rules on one subject), an agent user with two active keys."""
    iam = iam_of_account()
    ops = role("ops-agent", trust_service("bedrock-agentcore.amazonaws.com"))
    bot = user("lang-bot")
    k1, k2 = key("AKIAOLDKEY0000000001", 400, 200), key("AKIAFRESHKEY00000002", 20, 1)
    return context([iam, ops, bot, k1, k2],
                   [access(ops, iam, "permissions-management", admin=True, grant="inline AdministratorAccess #0"),
                    edge(k1, bot, EdgeKind.AUTHENTICATES), edge(k2, bot, EdgeKind.AUTHENTICATES)],
                   agents=[ops, bot, k1, k2], sensitive=[iam])


def test_fingerprints_are_stable_and_ignore_evidence() -> None:
    first = all_findings(evaluate(engine_estate()))
    a = {f.fingerprint for f in first}
    b = {f.fingerprint for f in all_findings(evaluate(engine_estate()))}
    assert a == b and len(a) == len(first)
    on_ops = {f.rule for f in first if f.subject_name == "ops-agent"}
    assert len(on_ops) >= 3  # several rules on one subject, each its own fingerprint
    f = first[0]
    g = Finding(rule=f.rule, severity="low", title="x", subject=f.subject, subject_name="renamed", subject_type="t",
                account=None, evidence=("different words",))
    assert g.fingerprint == f.fingerprint
    assert Finding(**{**f.__dict__, "rule": "AR-OTHER"}).fingerprint != f.fingerprint


def test_config_naming_an_unknown_rule_or_severity_is_refused() -> None:
    ctx = engine_estate()
    with pytest.raises(ConfigError, match="AR-NOPE"):
        evaluate(ctx, {"findings": {"disabled": ["AR-NOPE"]}})
    with pytest.raises(ConfigError, match="severity"):
        evaluate(ctx, {"findings": {"severity": {"AR-AGENT-STALE": "urgent"}}})
