"""Findings rules: each fires where it should and stays quiet where it should not, severity
escalates (and says why), files rules are skipped with a note until that connector ran,
fingerprints are stable, config disables and re-grades rules; and a real scan of the demo
estate yields the findings a responder expects."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from agentreach.config import ConfigError
from agentreach.findings import RULES, Finding, FindingContext, all_findings, evaluate
from agentreach.graph.core import Graph
from agentreach.lifecycle import lifecycle_facts, load_lifecycle_config
from agentreach.model import (
    Credential,
    CredentialStatus,
    Edge,
    EdgeKind,
    Identity,
    Location,
    Node,
    Owner,
    System,
    Workload,
    node_id,
)
from agentreach.ownership import load_owner_config, resolve_owners
from agentreach.view import SnapshotView

ACCT = "111122223333"
NOW = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
DAY = dt.timedelta(days=1)


def trust_service(svc: str, *, guarded: bool = False) -> dict[str, Any]:
    stmt: dict[str, Any] = {"Effect": "Allow", "Principal": {"Service": svc}, "Action": "sts:AssumeRole"}
    if guarded:
        stmt["Condition"] = {"StringEquals": {"aws:SourceAccount": ACCT}}
    return {"Version": "2012-10-17", "Statement": [stmt]}


def trust_aws(principal: str, condition: dict[str, Any] | None = None) -> dict[str, Any]:
    stmt: dict[str, Any] = {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}
    if condition:
        stmt["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [stmt]}


def role(name: str, trust: dict[str, Any], tags: dict[str, str] | None = None, last_used: dt.datetime | None = None,
         **attrs: Any) -> Identity:
    arn = f"arn:aws:iam::{ACCT}:role/{name}"
    return Identity(id=node_id("aws", "iam_role", arn), provider="aws", source="aws", type="aws_iam_role", name=name,
                    native_id=arn, account=ACCT, created=NOW - 300 * DAY, last_used=last_used or NOW - DAY,
                    tags=tags or {}, attrs={"trust_policy": trust, "last_used_source": "role_last_used", **attrs})


def user(name: str, tags: dict[str, str] | None = None, last_used: dt.datetime | None = None, **attrs: Any) -> Identity:
    arn = f"arn:aws:iam::{ACCT}:user/{name}"
    return Identity(id=node_id("aws", "iam_user", arn), provider="aws", source="aws", type="aws_iam_user", name=name,
                    native_id=arn, account=ACCT, created=NOW - 500 * DAY, last_used=last_used or NOW - DAY,
                    tags=tags or {}, attrs={"last_used_source": "credential_report", "mfa_active": False,
                                            "password_enabled": False, **attrs})


def key(kid: str, created_days: int, used_days: int | None) -> Credential:
    return Credential(id=node_id("aws", "access_key", kid), provider="aws", source="aws", type="aws_access_key",
                      name=kid, native_id=kid, account=ACCT, created=NOW - created_days * DAY,
                      last_used=NOW - used_days * DAY if used_days is not None else None,
                      attrs={"last_used_source": "access_key_last_used"})


def system(name: str, type_: str = "aws_s3_bucket") -> System:
    return System(id=node_id("aws", type_, name), provider="aws", source="aws", type=type_, name=name, account=ACCT)


def workload(name: str, type_: str = "aws_agentcore_runtime") -> Workload:
    return Workload(id=node_id("aws", type_, name), provider="aws", source="aws", type=type_, name=name, account=ACCT)


def edge(src: Node, dst: Node, kind: EdgeKind, **attrs: Any) -> Edge:
    return Edge(src=src.id, dst=dst.id, kind=kind, source="test", attrs=attrs)


def access(src: Node, dst: Node, level: str, *, admin: bool = False, grant: str = "inline p #0") -> Edge:
    return edge(src, dst, EdgeKind.CAN_ACCESS, level=level, admin=admin, conditional=False, grants=[grant],
                actions=["s3:GetObject"])


class Estate:
    """A small AWS-shaped estate: agent roles and users, keys, certificates, a leaked key,
    owners resolved and lifecycle judged by the real layers, a graph like load_graph's."""

    def __init__(self, possible: tuple[str, ...] = ()) -> None:
        self.pii = system("customer-pii")
        self.iam = system(f"all of iam in {ACCT}", "aws_account_service")
        self.public = system("public-assets")
        # A: ownerless agent role, service trust with no condition, admin on IAM, reaches PII
        self.ops = role("ops-agent", trust_service("bedrock-agentcore.amazonaws.com"))
        # B: owned agent role, guarded trust, one runtime, reaches only a public bucket
        self.support = role("support-agent", trust_service("bedrock.amazonaws.com", guarded=True),
                            tags={"Owner": "ml@example.com"})
        self.rt1 = workload("support-runtime")
        # C: owned agent role run by two agents, trusted by an account nobody scanned
        self.shared = role("shared-agent", trust_aws("arn:aws:iam::999988887777:root"), tags={"Owner": "ml@example.com"})
        self.rt2, self.rt3 = workload("planner"), workload("researcher", "aws_bedrock_agent")
        # D: ownerless agent user, unused for 200 days, a stale key and a fresh one, reaches PII
        self.bot = user("lang-bot", last_used=NOW - 200 * DAY)
        self.k_old, self.k_new = key("AKIAOLDKEY0000000001", 400, 200), key("AKIAFRESHKEY00000002", 20, 1)
        # E: agent user whose owner left, with a console password and an MFA device
        self.helper = user("helper-agent", mfa_active=True, password_enabled=True)
        self.gone = Owner(id="dir:person:gone", provider="dir", source="dir", type="person", name="gone@example.com",
                          active=False)
        # certificates and a long-lived client secret (not an agent's)
        self.expired = Credential(id=node_id("aws", "acm", "old.example"), provider="aws", source="aws",
                                  type="aws_acm_certificate", name="old.example", account=ACCT,
                                  created=NOW - 400 * DAY, expires=NOW - 5 * DAY, status=CredentialStatus.EXPIRED)
        self.valid = Credential(id=node_id("aws", "acm", "new.example"), provider="aws", source="aws",
                                type="aws_acm_certificate", name="new.example", account=ACCT,
                                created=NOW - 100 * DAY, expires=NOW + 200 * DAY)
        self.secret = Credential(id=node_id("azure", "client_secret", "k-1"), provider="azure", source="azure",
                                 type="azure_client_secret", name="planner-secret", account="tenant-1",
                                 created=NOW - 30 * DAY, expires=NOW + 700 * DAY)
        # a key found in a file (files connector), and the live key found in a file too
        fp = "ab" * 32
        self.leak = Credential(id=node_id("files", "secret", fp), provider="files", source="files", type="file_secret",
                               name="openai key in app.env", fingerprint=fp, preview="redacted-preview-7f3a",
                               attrs={"detector": "openai-api-key"})
        self.loc1 = Location(id=node_id("files", "location", "app.env", "3"), provider="files", source="files",
                             type="file_line", name="app.env:3", path="app.env", line=3)
        self.loc2 = Location(id=node_id("files", "location", "deploy.sh", "9"), provider="files", source="files",
                             type="file_line", name="deploy.sh:9", path="deploy.sh", line=9)
        # federated trust: GitHub Actions with no subject condition, and one scoped to a repository;
        # a GCP workload identity provider with and without an attribute condition
        gha = f"arn:aws:iam::{ACCT}:oidc-provider/token.actions.githubusercontent.com"
        self.gha_any = role("gha-any-repo", {"Statement": [{
            "Effect": "Allow", "Principal": {"Federated": gha}, "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com"}}}]})
        self.gha_scoped = role("gha-scoped", {"Statement": [{
            "Effect": "Allow", "Principal": {"Federated": gha}, "Action": "sts:AssumeRoleWithWebIdentity",
            "Condition": {"StringLike": {"token.actions.githubusercontent.com:sub": "repo:acme/agents:*"}}}]})
        self.wif_open, self.wif_scoped = (
            Credential(id=node_id("gcp", "wif_provider", name), provider="gcp", source="gcp", type="gcp_wif_provider",
                       name=name, account="agents-prod",
                       attrs={"issuer": "https://token.actions.githubusercontent.com", "attribute_condition": cond})
            for name, cond in (("github-pool/open", ""), ("github-pool/scoped", "assertion.repository_owner=='acme'")))
        # a Gemini key with no restriction at all, and one restricted to the Gemini API from one address
        self.key_open, self.key_locked = (
            Credential(id=node_id("gcp", "api_key", name), provider="gcp", source="gcp", type="gcp_api_key",
                       name=name, account="agents-prod", created=NOW - 100 * DAY,
                       attrs={"api_targets": targets, "api_restricted": bool(targets),
                              "restrictions": {"application": app}})
            for name, targets, app in (("gemini-prototype", [], ["none"]),
                                       ("gemini-prod", ["generativelanguage.googleapis.com"], ["server"])))
        self.nodes: list[Node] = [self.pii, self.iam, self.public, self.ops, self.support, self.rt1, self.shared,
                                  self.rt2, self.rt3, self.bot, self.k_old, self.k_new, self.helper, self.gone,
                                  self.expired, self.valid, self.secret, self.leak, self.loc1, self.loc2,
                                  self.gha_any, self.gha_scoped, self.wif_open, self.wif_scoped,
                                  self.key_open, self.key_locked]
        self.edges = [
            access(self.ops, self.iam, "permissions-management", admin=True, grant="inline AdministratorAccess #0"),
            access(self.ops, self.pii, "permissions-management", admin=True, grant="inline AdministratorAccess #0"),
            access(self.support, self.public, "read"),
            edge(self.rt1, self.support, EdgeKind.RUNS_AS), edge(self.rt2, self.shared, EdgeKind.RUNS_AS),
            edge(self.rt3, self.shared, EdgeKind.RUNS_AS),
            edge(self.k_old, self.bot, EdgeKind.AUTHENTICATES), edge(self.k_new, self.bot, EdgeKind.AUTHENTICATES),
            access(self.bot, self.pii, "read", grant="managed PiiRead #0"),
            edge(self.gone, self.helper, EdgeKind.OWNS),
            edge(self.leak, self.loc1, EdgeKind.FOUND_IN), edge(self.k_old, self.loc2, EdgeKind.FOUND_IN),
        ]
        agents = [self.ops, self.support, self.shared, self.bot, self.k_old, self.k_new, self.helper]
        self.agent = {n.id: verdict("possible" if n.name in possible else "agent") for n in agents}
        self.agent[self.leak.id] = verdict("possible")
        self.agent[self.key_open.id] = self.agent[self.key_locked.id] = verdict("agent")
        self.sensitivity = {self.pii.id: {"level": "high"}, self.iam.id: {"level": "high"}}

    def ctx(self, capabilities: tuple[str, ...] = ("aws",)) -> FindingContext:
        view = SnapshotView.build(self.nodes, [e.to_dict() for e in self.edges])
        owners = resolve_owners(view, load_owner_config())
        stale = lifecycle_facts(view, NOW, load_lifecycle_config())
        graph = Graph()
        for n in self.nodes:
            graph.add_node(n.id, n.kind.value, n.name, type=n.type, account=n.account,
                           sensitivity=(self.sensitivity.get(n.id) or {}).get("level"))
        for e in self.edges:
            graph.add_edge(e.src, e.dst, e.kind.value, e.attrs)
        return FindingContext(view=view, graph=graph, now=NOW, agent=self.agent,
                              owner={k: v.to_dict() for k, v in owners.items()},
                              stale={k: v.to_dict() for k, v in stale.items()}, sensitivity=self.sensitivity,
                              scanned_accounts=frozenset({ACCT}), capabilities=frozenset(capabilities))


def verdict(v: str) -> dict[str, Any]:
    return {"verdict": v, "score": 0.9 if v == "agent" else 0.5, "role": "agent_runtime",
            "evidence": [{"signal": "test.linked", "weight": 0.9, "why": "an agent runtime runs as it"}]}


def by_rule(ctx: FindingContext, config: dict[str, Any] | None = None) -> dict[str, dict[str, Finding]]:
    out: dict[str, dict[str, Finding]] = {}
    for result in evaluate(ctx, config):
        out[result.rule.id] = {f.subject_name: f for f in result.findings}
    return out


@pytest.fixture(scope="module")
def estate() -> Estate:
    return Estate()


@pytest.fixture(scope="module")
def found(estate: Estate) -> dict[str, dict[str, Finding]]:
    return by_rule(estate.ctx(("aws", "files")))


# rule, a subject it fires on, a subject it does not fire on
CASES = [
    ("AR-AGENT-OWNERLESS", "ops-agent", "support-agent"),
    ("AR-AGENT-ORPHANED", "helper-agent", "ops-agent"),
    ("AR-AGENT-STALE", "AKIAOLDKEY0000000001", "AKIAFRESHKEY00000002"),
    ("AR-SECRET-LONG-LIVED", "planner-secret", "AKIAFRESHKEY00000002"),
    ("AR-KEY-TWO-ACTIVE", "lang-bot", "helper-agent"),
    ("AR-CREDENTIAL-EXPIRY", "old.example", "new.example"),
    ("AR-AGENT-OVERPRIVILEGED", "ops-agent", "lang-bot"),
    ("AR-AGENT-SENSITIVE-REACH", "lang-bot", "support-agent"),
    ("AR-AGENT-IDENTITY-REUSE", "shared-agent", "support-agent"),
    ("AR-AGENT-HUMAN-USE", "helper-agent", "lang-bot"),
    ("AR-TRUST-CONFUSED-DEPUTY", "ops-agent", "support-agent"),
    ("AR-TRUST-UNKNOWN-ACCOUNT", "shared-agent", "support-agent"),
    ("AR-FEDERATION-UNCONSTRAINED", "gha-any-repo", "gha-scoped"),
    ("AR-APIKEY-UNRESTRICTED", "gemini-prototype", "gemini-prod"),
    ("AR-SECRET-IN-FILES", "openai key in app.env", "AKIAFRESHKEY00000002"),
    ("AR-SECRET-LEAKED-LIVE", "AKIAOLDKEY0000000001", "openai key in app.env"),
]


def test_every_rule_has_a_case_and_mapped_metadata() -> None:
    assert {c[0] for c in CASES} == {r.id for r in RULES}
    for r in RULES:
        assert r.meta.owasp_nhi.startswith("NHI") and ":2025 " in r.meta.owasp_nhi
        assert r.meta.nist_csf and r.meta.rationale and r.meta.remediation


@pytest.mark.parametrize("rule_id, fires, quiet", CASES)
def test_rule_fires_and_stays_quiet(found: dict[str, dict[str, Finding]], rule_id: str, fires: str, quiet: str) -> None:
    assert fires in found[rule_id], sorted(found[rule_id])
    assert quiet not in found[rule_id]
    f = found[rule_id][fires]
    assert f.evidence and all(isinstance(e, str) and e for e in f.evidence)
    assert any(fw.startswith("OWASP-NHI:NHI") for fw in f.frameworks)
    assert any(fw.startswith("NIST-CSF:") for fw in f.frameworks)
    d = f.to_dict()
    for k in ("rule", "severity", "title", "subject", "evidence", "path", "frameworks", "fingerprint"):
        assert k in d


def test_federation_without_a_subject_condition(found: dict[str, dict[str, Finding]]) -> None:
    fed = found["AR-FEDERATION-UNCONSTRAINED"]
    assert "github-pool/open" in fed and "github-pool/scoped" not in fed
    assert "no attribute condition" in " ".join(fed["github-pool/open"].evidence)
    aws = fed["gha-any-repo"]
    assert aws.severity == "medium" and any("no token.actions.githubusercontent.com:sub" in e for e in aws.evidence)


def test_an_unrestricted_agent_api_key_is_high(found: dict[str, dict[str, Finding]]) -> None:
    f = found["AR-APIKEY-UNRESTRICTED"]["gemini-prototype"]
    assert f.severity == "high" and any("no API restriction" in e for e in f.evidence)


def test_evidence_says_why(found: dict[str, dict[str, Finding]]) -> None:
    ownerless = found["AR-AGENT-OWNERLESS"]["ops-agent"]
    assert any(e.startswith("owner: ownerless") for e in ownerless.evidence)
    assert any("agent verdict agent" in e and "test.linked" in e for e in ownerless.evidence)
    orphaned = found["AR-AGENT-ORPHANED"]["helper-agent"]
    assert any("gone@example.com" in e and "orphaned" in e for e in orphaned.evidence)
    reach = found["AR-AGENT-SENSITIVE-REACH"]["lang-bot"]
    assert reach.path and reach.path[-1]["to_name"] == "customer-pii"
    assert any("granted by managed PiiRead #0" in e for e in reach.evidence)
    over = found["AR-AGENT-OVERPRIVILEGED"]["ops-agent"]
    assert over.severity == "critical" and any("unconditional admin" in e for e in over.evidence)
    assert any("aws:SourceAccount" in e for e in found["AR-TRUST-CONFUSED-DEPUTY"]["ops-agent"].evidence)
    assert any("999988887777" in e for e in found["AR-TRUST-UNKNOWN-ACCOUNT"]["shared-agent"].evidence)
    assert any("app.env:3" in e for e in found["AR-SECRET-IN-FILES"]["openai key in app.env"].evidence)
    assert any("deploy.sh:9" in e for e in found["AR-SECRET-LEAKED-LIVE"]["AKIAOLDKEY0000000001"].evidence)


def test_escalation_ownerless_stale_sensitive_is_critical(found: dict[str, dict[str, Finding]]) -> None:
    bot = found["AR-AGENT-OWNERLESS"]["lang-bot"]
    assert bot.severity == "critical"
    assert any("raised from high to critical" in e and "stale" in e for e in bot.evidence)
    assert bot.path and bot.path[-1]["to_name"] == "customer-pii"
    key_ = found["AR-AGENT-STALE"]["AKIAOLDKEY0000000001"]
    assert key_.severity == "critical" and key_.path[0]["edge"] == "authenticates"
    # ownerless but neither stale nor... : the ops role is in use, so it stays at the base severity
    assert found["AR-AGENT-OWNERLESS"]["ops-agent"].severity == "high"


def test_possible_agent_is_one_level_lower() -> None:
    found = by_rule(Estate(possible=("lang-bot",)).ctx())
    bot = found["AR-AGENT-OWNERLESS"]["lang-bot"]
    assert bot.severity == "high" and any("only possible" in e for e in bot.evidence)


def test_files_rules_are_skipped_with_a_note_without_files(estate: Estate) -> None:
    results = {r.rule.id: r for r in evaluate(estate.ctx(("aws",)))}
    for rid in ("AR-SECRET-IN-FILES", "AR-SECRET-LEAKED-LIVE"):
        assert results[rid].status == "skipped" and not results[rid].findings
        assert "files connector" in results[rid].note
    assert results["AR-AGENT-OWNERLESS"].status == "evaluated"


def test_fingerprints_are_stable_and_ignore_evidence(estate: Estate) -> None:
    a = {f.fingerprint for f in all_findings(evaluate(estate.ctx()))}
    b = {f.fingerprint for f in all_findings(evaluate(estate.ctx()))}
    assert a == b and len(a) == len(all_findings(evaluate(estate.ctx())))
    f = all_findings(evaluate(estate.ctx()))[0]
    g = Finding(rule=f.rule, severity="low", title="x", subject=f.subject, subject_name="renamed", subject_type="t",
                account=None, evidence=("different words",))
    assert g.fingerprint == f.fingerprint
    assert Finding(**{**f.__dict__, "rule": "AR-OTHER"}).fingerprint != f.fingerprint


def test_config_disables_and_overrides(estate: Estate) -> None:
    config = {"findings": {"disabled": ["AR-KEY-TWO-ACTIVE"], "severity": {"AR-TRUST-CONFUSED-DEPUTY": "low"},
                           "rules": {"AR-AGENT-IDENTITY-REUSE": {"min_agents": 3}}}}
    results = {r.rule.id: r for r in evaluate(estate.ctx(), config)}
    assert results["AR-KEY-TWO-ACTIVE"].status == "skipped" and "disabled" in results["AR-KEY-TWO-ACTIVE"].note
    deputy = {f.subject_name: f for f in results["AR-TRUST-CONFUSED-DEPUTY"].findings}
    assert deputy["ops-agent"].severity == "low"
    assert not results["AR-AGENT-IDENTITY-REUSE"].findings
    with pytest.raises(ConfigError, match="AR-NOPE"):
        evaluate(estate.ctx(), {"findings": {"disabled": ["AR-NOPE"]}})
    with pytest.raises(ConfigError, match="severity"):
        evaluate(estate.ctx(), {"findings": {"severity": {"AR-AGENT-STALE": "urgent"}}})


def test_no_secret_or_preview_in_findings(estate: Estate) -> None:
    """Findings name a found secret by its fingerprint id, and never carry even its preview."""
    text = repr([f.to_dict() for f in all_findings(evaluate(estate.ctx(("aws", "files"))))])
    assert "redacted-preview-7f3a" not in text


def test_real_scan_of_the_demo_estate(db: str) -> None:
    from agentreach.store import Store

    store = Store(db)
    sid = store.latest_snapshot().id
    ctx = FindingContext.from_store(store, sid)
    assert ctx.capabilities == {"aws"} and len(ctx.scanned_accounts) == 2
    results = {r.rule.id: r for r in evaluate(ctx)}
    found = {rid: {f.subject_name: f for f in r.findings} for rid, r in results.items()}
    ops = found["AR-AGENT-OWNERLESS"]["ops-autopilot-agent"]
    assert ops.severity in ("high", "critical")
    assert found["AR-AGENT-OVERPRIVILEGED"]["ops-autopilot-agent"].severity == "critical"
    assert "ops-autopilot-agent" in found["AR-TRUST-CONFUSED-DEPUTY"]
    bot_keys = {name for name, f in found["AR-AGENT-STALE"].items()
                if any("langchain-bot" in e for e in f.evidence) and name.startswith("AKIA")}
    assert len(bot_keys) == 2
    assert "legacy-api.acme.example" in found["AR-CREDENTIAL-EXPIRY"]
    assert "support-agent-exec" not in found["AR-TRUST-CONFUSED-DEPUTY"]
    assert results["AR-SECRET-IN-FILES"].status == "skipped"
    for f in all_findings(results.values()):
        assert f.evidence and f.fingerprint
