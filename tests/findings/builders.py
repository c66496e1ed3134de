"""Builders for the findings tests: the nodes and edges of a small estate, and the
:class:`FindingContext` a rule reads, made from them the way a scan makes it (owners
resolved and lifecycle judged by the real layers, a graph shaped like load_graph's).

Each rule's test module builds its own estate from these, the smallest that makes the rule
fire plus a near miss that keeps it quiet, so a change to one rule's estate cannot change
what another rule's test exercises."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from agentreach.findings import Finding, FindingContext, RuleResult, evaluate
from agentreach.findings.activity import aggregates
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
OTHER_ACCT = "999988887777"  # an account no estate here scans
NOW = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
DAY = dt.timedelta(days=1)
GHA = "token.actions.githubusercontent.com"


# -- trust policies -------------------------------------------------------------------------

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


def trust_github(condition: dict[str, Any]) -> dict[str, Any]:
    """GitHub Actions OIDC federation into a role, under ``condition``."""
    provider = f"arn:aws:iam::{ACCT}:oidc-provider/{GHA}"
    return {"Statement": [{"Effect": "Allow", "Principal": {"Federated": provider},
                           "Action": "sts:AssumeRoleWithWebIdentity", "Condition": condition}]}


# -- nodes ----------------------------------------------------------------------------------

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


def key(kid: str, created_days: int, used_days: int | None,
        status: CredentialStatus = CredentialStatus.ACTIVE) -> Credential:
    return Credential(id=node_id("aws", "access_key", kid), provider="aws", source="aws", type="aws_access_key",
                      name=kid, native_id=kid, account=ACCT, created=NOW - created_days * DAY,
                      last_used=NOW - used_days * DAY if used_days is not None else None, status=status,
                      attrs={"last_used_source": "access_key_last_used"})


def certificate(name: str, created_days: int, expires_days: int) -> Credential:
    """An ACM certificate issued ``created_days`` ago that expires in ``expires_days`` (negative: expired)."""
    status = CredentialStatus.EXPIRED if expires_days <= 0 else CredentialStatus.ACTIVE
    return Credential(id=node_id("aws", "acm", name), provider="aws", source="aws", type="aws_acm_certificate",
                      name=name, account=ACCT, created=NOW - created_days * DAY, expires=NOW + expires_days * DAY,
                      status=status)


def client_secret(name: str, created_days: int, expires_days: int) -> Credential:
    return Credential(id=node_id("azure", "client_secret", name), provider="azure", source="azure",
                      type="azure_client_secret", name=name, account="tenant-1", created=NOW - created_days * DAY,
                      expires=NOW + expires_days * DAY)


def found_secret(name: str, fingerprint: str, preview: str, detector: str) -> Credential:
    """A secret the files connector found: named by its fingerprint, with a redacted preview."""
    return Credential(id=node_id("files", "secret", fingerprint), provider="files", source="files",
                      type="file_secret", name=name, fingerprint=fingerprint, preview=preview,
                      attrs={"detector": detector})


def file_line(path: str, line: int) -> Location:
    return Location(id=node_id("files", "location", path, str(line)), provider="files", source="files",
                    type="file_line", name=f"{path}:{line}", path=path, line=line)


def wif_provider(name: str, condition: str) -> Credential:
    """A GCP workload identity provider trusting GitHub Actions under ``condition``."""
    return Credential(id=node_id("gcp", "wif_provider", name), provider="gcp", source="gcp", type="gcp_wif_provider",
                      name=name, account="agents-prod",
                      attrs={"issuer": f"https://{GHA}", "attribute_condition": condition})


def api_key(name: str, targets: list[str], application: list[str]) -> Credential:
    """A GCP API key restricted to ``targets`` (none: every API) from ``application`` (["none"]: anywhere)."""
    return Credential(id=node_id("gcp", "api_key", name), provider="gcp", source="gcp", type="gcp_api_key",
                      name=name, account="agents-prod", created=NOW - 100 * DAY,
                      attrs={"api_targets": targets, "api_restricted": bool(targets),
                             "restrictions": {"application": application}})


def person(email: str, active: bool) -> Owner:
    return Owner(id=f"dir:person:{email}", provider="dir", source="dir", type="person", name=email, active=active)


def system(name: str, type_: str = "aws_s3_bucket", native_id: str | None = None) -> System:
    return System(id=node_id("aws", type_, name), provider="aws", source="aws", type=type_, name=name, account=ACCT,
                  native_id=native_id)


def bucket(name: str) -> System:
    """An S3 bucket with its ARN (what a profile names it by)."""
    return system(name, "aws_s3_bucket", f"arn:aws:s3:::{name}")


def iam_of_account() -> System:
    return system(f"all of iam in {ACCT}", "aws_account_service")


def workload(name: str, type_: str = "aws_agentcore_runtime") -> Workload:
    return Workload(id=node_id("aws", type_, name), provider="aws", source="aws", type=type_, name=name, account=ACCT)


# -- edges ----------------------------------------------------------------------------------

def edge(src: Node, dst: Node, kind: EdgeKind, **attrs: Any) -> Edge:
    return Edge(src=src.id, dst=dst.id, kind=kind, source="test", attrs=attrs)


def access(src: Node, dst: Node, level: str, *, admin: bool = False, grant: str = "inline p #0",
           actions: Iterable[str] = ("s3:GetObject",), **attrs: Any) -> Edge:
    return edge(src, dst, EdgeKind.CAN_ACCESS, level=level, admin=admin, conditional=False, grants=[grant],
                actions=list(actions), **attrs)


def profile(*, systems: Iterable[str] = ("*",), actions: Iterable[str] = ("s3:GetObject",),
            review_days: int = 90, lifetime: str | None = None, owner: str = "ml@example.com") -> dict[str, Any]:
    """An approved profile block as the reviewed file states it (review due in ``review_days``)."""
    body: dict[str, Any] = {"owner": owner, "purpose": "answers tickets", "systems": list(systems),
                            "actions": list(actions), "review_by": (NOW + review_days * DAY).date().isoformat()}
    if lifetime:
        body["credential_lifetime"] = lifetime
    return body


# -- the context a rule reads ------------------------------------------------------------------

def verdict(v: str) -> dict[str, Any]:
    return {"verdict": v, "score": 0.9 if v == "agent" else 0.5, "role": "agent_runtime",
            "evidence": [{"signal": "test.linked", "weight": 0.9, "why": "an agent runtime runs as it"}]}


def context(nodes: Iterable[Node], edges: Iterable[Edge] = (), *, agents: Iterable[Node] = (),
            possible: Iterable[Node] = (), sensitive: Iterable[Node] = (),
            capabilities: Iterable[str] = ("aws",), profiles: Mapping[str, dict] | None = None,
            activity: Iterable[Any] | None = None) -> FindingContext:
    """The context of an estate of ``nodes`` and ``edges``: ``agents`` and ``possible`` get
    that agent verdict (every other node none), ``sensitive`` systems are rated high;
    ``profiles``: node id -> its approved profile block; ``activity``: activity aggregates
    (rows or ActivityAggregate), None for a scan that collected none."""
    nodes, edges = list(nodes), list(edges)
    view = SnapshotView.build(nodes, [e.to_dict() for e in edges])
    owners = resolve_owners(view, load_owner_config())
    stale = lifecycle_facts(view, NOW, load_lifecycle_config())
    agent = {n.id: verdict("agent") for n in agents} | {n.id: verdict("possible") for n in possible}
    sensitivity = {n.id: {"level": "high"} for n in sensitive}
    graph = Graph()
    for n in nodes:
        graph.add_node(n.id, n.kind.value, n.name, type=n.type, account=n.account,
                       sensitivity=(sensitivity.get(n.id) or {}).get("level"))
    for e in edges:
        graph.add_edge(e.src, e.dst, e.kind.value, e.attrs)
    return FindingContext(view=view, graph=graph, now=NOW, agent=agent,
                          owner={k: v.to_dict() for k, v in owners.items()},
                          stale={k: v.to_dict() for k, v in stale.items()}, sensitivity=sensitivity,
                          scanned_accounts=frozenset({ACCT}), capabilities=frozenset(capabilities),
                          profiles=dict(profiles or {}),
                          activity=aggregates(activity) if activity is not None else None)


@dataclass(frozen=True)
class Run:
    """One evaluation of every rule over one estate's context."""

    ctx: FindingContext
    results: Mapping[str, RuleResult]

    def __repr__(self) -> str:  # a failing assertion prints this: the findings, not the whole context
        return f"Run({ {rid: sorted(self.of(rid)) for rid in sorted(self.results)} })"

    def of(self, rule_id: str) -> dict[str, Finding]:
        """The findings of ``rule_id`` by subject name."""
        return {f.subject_name: f for f in self.results[rule_id].findings}

    @property
    def names(self) -> set[str]:
        return {n.name for n in self.ctx.view.nodes.values()}


def run(ctx: FindingContext, config: Mapping[str, Any] | None = None) -> Run:
    return Run(ctx, {r.rule.id: r for r in evaluate(ctx, config)})


def assert_fires_and_quiet(estate: Run, rule_id: str, fires: str, quiet: str) -> None:
    """``rule_id`` reports ``fires`` with evidence and framework items, and not ``quiet``,
    which is in the estate (a near miss, not a name nobody built)."""
    found = estate.of(rule_id)
    assert fires in found, sorted(found)
    assert quiet in estate.names, f"{quiet} is not in the estate: the near miss tests nothing"
    assert quiet not in found, found[quiet].evidence if quiet in found else None
    f = found[fires]
    assert f.evidence and all(isinstance(e, str) and e for e in f.evidence)
    assert any(fw.startswith("OWASP-NHI:NHI") for fw in f.frameworks)
    assert any(fw.startswith("NIST-CSF:") for fw in f.frameworks)
    d = f.to_dict()
    for k in ("rule", "severity", "title", "subject", "evidence", "path", "frameworks", "fingerprint"):
        assert k in d


def fires_and_quiet_test(cases: list[tuple[str, str, str, str]]) -> Any:
    """The test a rule family's module runs over its ``CASES``: (rule id, the fixture of that
    rule's estate, a subject it fires on, a near miss it stays quiet on)."""
    import pytest

    @pytest.mark.parametrize("rule_id, estate, fires, quiet", cases)
    def test(request: pytest.FixtureRequest, rule_id: str, estate: str, fires: str, quiet: str) -> None:
        assert_fires_and_quiet(request.getfixturevalue(estate), rule_id, fires, quiet)

    test.cases = cases  # type: ignore[attr-defined]  (read by test_rules_covered)
    return test
