"""agentreach's AwsEvaluator against the reference evaluator (tests/reference_iam, written from
the IAM User Guide), on generated principals, policies and resources.

Each generated case is one principal (user or role, with identity policies, maybe a boundary,
maybe SCPs at one to three organization levels) and one resource (object, bucket, secret, KMS
key, DynamoDB table, or a role to assume) with maybe a resource-based policy, plus a few
actions. For each action both evaluators give an outcome: ``allow``, ``deny``, or
``conditional`` (ours: the action is in ``Access.conditional_actions``; the reference: allowed
for some values of the request keys the snapshot cannot know, such as aws:SourceIp, and not for
others).

A *hard* disagreement is ours saying ``allow`` or ``deny`` where the reference says otherwise;
ours saying ``conditional`` where the reference is sure is only imprecision, counted apart.
Each hard disagreement is given a cause by rewriting the case the way our evaluator behaves
(SCP levels merged into one, ARN conditions matched case-insensitively in the service, a
NotPrincipal read naively) until the reference agrees. Causes that are faults of ours, with
the documentation that says so, are listed in tests/reference_iam/known_disagreements.yaml;
the test fails on any other cause, and on a listed cause that no longer occurs (fixed: delete
its entry).

    .venv/bin/python tests/test_policy_differential.py --examples 20000   # the bench mode
"""

from __future__ import annotations

import argparse
import copy
import itertools
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import yaml
from hypothesis import HealthCheck, Phase, example, given, settings, strategies as st

if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests import reference_iam as ref

A, B = "111111111111", "222222222222"
EXAMPLES = 1500  # in the suite; the bench mode runs more
KNOWN = Path(__file__).parent / "reference_iam" / "known_disagreements.yaml"
V = "2012-10-17"


# -- the cases ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    kind: str  # user | role
    arn: str
    tags: Mapping[str, str]
    identity: tuple[dict, ...]
    boundary: dict | None
    scps: tuple[tuple[dict, ...], ...]  # per level, root first
    rtype: str
    resource: str
    resource_account: str
    policy: dict | None
    actions: tuple[str, ...]

    @property
    def account(self) -> str:
        return self.arn.split(":")[4]


ACTIONS = {
    "object": ("s3:GetObject", "s3:PutObject", "s3:DeleteObject"),
    "bucket": ("s3:ListBucket", "s3:GetBucketPolicy", "s3:PutBucketPolicy"),
    "secret": ("secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret", "secretsmanager:PutResourcePolicy"),
    "key": ("kms:Decrypt", "kms:DescribeKey", "kms:PutKeyPolicy"),
    "table": ("dynamodb:GetItem", "dynamodb:Query", "dynamodb:DescribeTable", "dynamodb:DeleteTable"),
    "role": ("sts:AssumeRole",),
}
PRINCIPALS = (
    ("user", f"arn:aws:iam::{A}:user/alice"),
    ("user", f"arn:aws:iam::{A}:user/agents/etl-agent"),
    ("role", f"arn:aws:iam::{A}:role/etl-agent"),
    ("role", f"arn:aws:iam::{A}:role/service/Reader"),
)
OTHER = f"arn:aws:iam::{A}:user/bob"


def resource_arn(rtype: str, account: str, draw_index: int) -> str:
    return {
        "object": ("arn:aws:s3:::acme-pii/exports/q1.csv", "arn:aws:s3:::acme-pii/home/alice/notes.txt")[draw_index % 2],
        "bucket": "arn:aws:s3:::acme-pii",
        "secret": f"arn:aws:secretsmanager:us-east-1:{account}:secret:prod/db-AbCdEf",
        "key": f"arn:aws:kms:us-east-1:{account}:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "table": f"arn:aws:dynamodb:us-east-1:{account}:table/customers",
        "role": f"arn:aws:iam::{account}:role/target",
    }[rtype]


ACTION_PATTERNS = ("s3:GetObject", "s3:PutObject", "s3:Get*", "s3:*", "s3:*Object", "s3:List*", "*",
                   "secretsmanager:GetSecretValue", "secretsmanager:*", "secretsmanager:Describe*",
                   "kms:Decrypt", "kms:*", "kms:Describe*", "dynamodb:GetItem", "dynamodb:*", "dynamodb:Describe*",
                   "dynamodb:Query", "sts:AssumeRole", "sts:*", "ec2:*", "iam:PassRole")
RESOURCE_PATTERNS = ("*", "arn:aws:s3:::acme-pii/*", "arn:aws:s3:::acme-*/*", "arn:aws:s3:::acme-pii",
                     "arn:aws:s3:::acme-pii/home/${aws:username}/*", "arn:aws:s3:::other/*",
                     "arn:aws:secretsmanager:*:*:secret:prod/*", f"arn:aws:secretsmanager:us-east-1:{A}:secret:*",
                     f"arn:aws:kms:*:{A}:key/*", "arn:aws:kms:*:*:key/*", "arn:aws:dynamodb:*:*:table/cust*",
                     f"arn:aws:dynamodb:us-east-1:{B}:table/*", f"arn:aws:iam::{A}:role/*", "arn:aws:iam::*:role/target")
CONDITIONS = (
    {"StringEquals": {"aws:PrincipalTag/team": "data"}},
    {"StringNotEquals": {"aws:PrincipalTag/team": "data"}},
    {"StringEqualsIgnoreCase": {"aws:PrincipalTag/team": "DATA"}},
    {"Null": {"aws:PrincipalTag/team": "true"}},
    {"StringEquals": {"aws:PrincipalAccount": A}},
    {"StringEquals": {"aws:PrincipalAccount": B}},
    {"StringLike": {"aws:PrincipalArn": "*agent*"}},
    {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{A}:role/*"}},
    {"ArnLike": {"aws:PrincipalArn": f"arn:aws:IAM::{A}:role/*"}},
    {"ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::{A}:user/*"}},
    {"ArnEquals": {"aws:PrincipalArn": f"arn:aws:Iam::{A}:user/alice"}},
    {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
    {"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}},
    {"Bool": {"aws:MultiFactorAuthPresent": "true"}},
    {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}},
    # decided by the stated request context (STATED) and the snapshot since issue 14
    {"Bool": {"aws:SecureTransport": "false"}},
    {"DateLessThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}},
    {"DateGreaterThan": {"aws:EpochTime": "1577836800"}},
    {"StringLike": {"aws:username": "a*"}},
    {"StringEquals": {"aws:PrincipalArn": f"arn:aws:iam::{A}:user/${{aws:username}}"}},
    {"ForAnyValue:StringEquals": {"aws:PrincipalTag/team": ["data", "ops"]}},
    {"ForAllValues:StringEquals": {"aws:PrincipalTag/team": ["web"]}},
    {"StringEquals": {"aws:PrincipalTag/team": "${aws:PrincipalTag/team}"}},
)
# What the user states about the request (--context): both evaluators decide these keys.
STATED = {"aws:SecureTransport": "true", "aws:CurrentTime": "2025-06-01T00:00:00Z"}
# A request carries the time twice (global condition keys): the reference is given both.
REQUEST_TIME = {**STATED, "aws:EpochTime": "1748736000"}
# Request keys no snapshot holds, and the values the reference tries for each (absent too).
UNKNOWN_KEYS = {"aws:sourceip": ("203.0.113.7", "198.51.100.9"), "aws:multifactorauthpresent": ("true", "false")}


SELF = "<the principal>"  # stands for the case's principal ARN in the pools below
PRINCIPAL_POOL = ("*", {"AWS": "*"}, {"AWS": SELF}, {"AWS": f"arn:aws:iam::{A}:root"}, {"AWS": A},
                  {"AWS": f"arn:aws:iam::{B}:root"}, {"AWS": OTHER}, {"AWS": [SELF, OTHER]},
                  {"Service": "ec2.amazonaws.com"})
NOT_PRINCIPAL_POOL = ({"AWS": [SELF]}, {"AWS": [SELF, f"arn:aws:iam::{A}:root"]}, {"AWS": [f"arn:aws:iam::{A}:root"]},
                      {"AWS": [OTHER]}, {"AWS": [OTHER, f"arn:aws:iam::{A}:root"]})

# Strategies built once: building them inside a draw is most of the generation time.
_effects = st.sampled_from(("Allow", "Allow", "Allow", "Deny"))
_actions = st.lists(st.sampled_from(ACTION_PATTERNS), min_size=1, max_size=3, unique=True)
_resources = st.lists(st.sampled_from(RESOURCE_PATTERNS), min_size=1, max_size=2, unique=True)
_conditions = st.one_of(st.none(), st.none(), st.sampled_from(CONDITIONS))
_principal = st.sampled_from(PRINCIPAL_POOL)
_not_principal_s = st.sampled_from(NOT_PRINCIPAL_POOL)
_dice = st.integers(0, 7)


def _own(value: Any, arn: str) -> Any:
    if isinstance(value, dict):
        return {k: _own(v, arn) for k, v in value.items()}
    if isinstance(value, list):
        return [_own(v, arn) for v in value]
    return arn if value == SELF else value


@st.composite
def statement(draw: st.DrawFn, resource_policy: bool = False) -> dict:
    stmt: dict[str, Any] = {"Effect": draw(_effects)}
    if resource_policy:
        if stmt["Effect"] == "Deny" and draw(_dice) < 4:
            stmt["NotPrincipal"] = draw(_not_principal_s)
        else:
            stmt["Principal"] = draw(_principal)
    actions = draw(_actions)
    stmt["NotAction" if draw(_dice) == 0 else "Action"] = actions if len(actions) > 1 else actions[0]
    if not resource_policy or draw(_dice) < 4:
        stmt["NotResource" if draw(_dice) == 0 else "Resource"] = draw(_resources)
    condition = draw(_conditions)
    if condition:
        stmt["Condition"] = condition
    return stmt


def document(stmts: list[dict]) -> dict:
    return {"Version": V, "Statement": stmts}


FULL = document([{"Effect": "Allow", "Action": "*", "Resource": "*"}])
_identity_doc = st.builds(document, st.lists(statement(), min_size=1, max_size=3))
_boundary = st.one_of(st.none(), st.none(), st.none(), st.builds(document, st.lists(statement(), min_size=1, max_size=2)))
SERVICE_SCPS = tuple(document([{"Effect": "Allow", "Action": list(actions), "Resource": "*"}]) for actions in
                     (("s3:*",), ("s3:*", "kms:*"), ("secretsmanager:*", "dynamodb:*", "sts:*"), ("kms:*", "sts:*")))
_scp_level = st.lists(st.one_of(st.just(FULL), st.sampled_from(SERVICE_SCPS), st.builds(lambda s: document([s]), statement())),
                      min_size=1, max_size=2)
_scps = st.one_of(st.just([]), st.just([]), st.lists(_scp_level.map(tuple), min_size=1, max_size=3))
_resource_policy = st.builds(document, st.lists(statement(resource_policy=True), min_size=1, max_size=3))


@st.composite
def cases(draw: st.DrawFn) -> Case:
    kind, arn = draw(st.sampled_from(PRINCIPALS))
    tags = draw(st.sampled_from(({}, {"team": "data"}, {"team": "web"})))
    identity = tuple(draw(st.lists(_identity_doc, max_size=3)))
    boundary = draw(_boundary)
    scps = tuple(draw(_scps))
    rtype = draw(st.sampled_from(tuple(ACTIONS)))
    account = draw(st.sampled_from((A, A, B)))
    resource = resource_arn(rtype, account, draw(_dice))
    policy = None
    if rtype in ("key", "role") or draw(_dice) > 2:  # every key and role has its key / trust policy
        policy = _own(draw(_resource_policy), arn)
    return Case(kind, arn, tags, identity, boundary, scps, rtype, resource, account, policy, ACTIONS[rtype])


def _documented(kind: str, arn: str, rtype: str, *, identity: tuple[dict, ...] = (FULL,), boundary: dict | None = None,
                scps: tuple[tuple[dict, ...], ...] = (), policy: dict | None = None) -> Case:
    return Case(kind, arn, {}, identity, boundary, scps, rtype, resource_arn(rtype, A, 0), A, policy, ACTIONS[rtype])


def _bob_style_bucket(not_principal: list[str]) -> dict:
    return document([{"Effect": "Deny", "NotPrincipal": {"AWS": not_principal}, "Action": "s3:*",
                      "Resource": ["arn:aws:s3:::acme-pii", "arn:aws:s3:::acme-pii/*"]}])


ALICE, ETL = PRINCIPALS[0][1], PRINCIPALS[2][1]
# One case per documented rule, run on every test run besides the generated ones, so that each
# known fault is exercised whatever the generator happens to draw.
DOCUMENTED = (
    # orgs_manage_policies_scps_evaluation: the OU allows only S3, the account has FullAWSAccess.
    _documented("role", ETL, "secret", scps=((FULL,), (SERVICE_SCPS[0],), (FULL,))),
    # condition operators: "ArnEquals, ArnLike: Case-sensitive matching of the ARN".
    _documented("user", ALICE, "object", identity=(document([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
                "Condition": {"ArnLike": {"aws:PrincipalArn": f"arn:aws:IAM::{A}:user/*"}}}]),)),
    # NotPrincipal: "you must also specify the account ARN of the not-denied principal".
    _documented("user", ALICE, "object", policy=_bob_style_bucket([ALICE])),
    _documented("role", ETL, "object", policy=_bob_style_bucket([f"arn:aws:iam::{A}:root"])),
    # access_policies_boundaries: NotPrincipal with Deny "will always deny any IAM principal that has a
    # permissions boundary policy attached".
    _documented("user", ALICE, "object", boundary=FULL, policy=_bob_style_bucket([ALICE, f"arn:aws:iam::{A}:root"])),
)


# -- the two evaluators ------------------------------------------------------------------------

def ours(case: Case, catalogue: Any) -> dict[str, str]:
    """Our evaluator's outcome per action. The one place that knows its interface (the core is
    being restructured: adapt here)."""
    from agentreach.policy.aws import AwsEvaluator, PolicyRef, Principal, Resource
    from agentreach.policy.context import parse_context

    ev = AwsEvaluator(catalogue, request=parse_context(",".join(f"{k}={v}" for k, v in STATED.items())))
    principal = Principal(
        arn=case.arn, account=case.account,
        identity_policies=tuple((PolicyRef("inline", f"policy{i}", ""), d) for i, d in enumerate(case.identity)),
        boundary=(PolicyRef("boundary", "boundary", ""), case.boundary) if case.boundary else None,
        scp_levels=tuple(tuple((PolicyRef("scp", f"scp{i}.{j} (on level {i})", ""), d) for j, d in enumerate(level))
                         for i, level in enumerate(case.scps)),
        tags=dict(case.tags))
    target = Resource(arn=case.resource, account=case.resource_account, policy=case.policy)
    access = ev.can_assume(principal, target) if case.rtype == "role" else ev.access(principal, target)
    out = {}
    for action in case.actions:
        if access is None or action not in access.actions:
            out[action] = "deny"
        else:
            out[action] = "conditional" if action in access.conditional_actions else "allow"
    return out


def contexts(case: Case) -> list[dict[str, str]]:
    """Every combination of the unknowable request keys the case's policies mention."""
    text = repr((case.identity, case.boundary, case.scps, case.policy)).lower()
    keys = [k for k in UNKNOWN_KEYS if k in text]
    options = [[None, *UNKNOWN_KEYS[k]] for k in keys]
    return [{**REQUEST_TIME, **{k: v for k, v in zip(keys, combo, strict=True) if v is not None}}
            for combo in itertools.product(*options)]


def reference(case: Case) -> dict[str, str]:
    principal = ref.Principal(arn=case.arn, kind=case.kind, identity_policies=case.identity, boundary=case.boundary,
                              scps=case.scps, tags=dict(case.tags))
    target = ref.Resource(arn=case.resource, account=case.resource_account, policy=case.policy)
    out = {}
    for action in case.actions:
        got = {ref.evaluate(ref.Request(principal, action, target, ctx)).allowed for ctx in contexts(case)}
        out[action] = "conditional" if len(got) > 1 else "allow" if got == {True} else "deny"
    return out


# -- rewriting a case the way our evaluator reads it, to name the cause of a disagreement -------

def _docs(case: Case) -> Iterator[dict]:
    yield from case.identity
    if case.boundary:
        yield case.boundary
    for level in case.scps:
        yield from level
    if case.policy:
        yield case.policy


def _map_statements(case: Case, fn: Callable[[dict], dict | None]) -> Case:
    def doc(d: dict | None) -> dict | None:
        if d is None:
            return None
        stmts = [fn(copy.deepcopy(s)) for s in d["Statement"]]
        return {**d, "Statement": [s for s in stmts if s is not None]}
    return replace(case, identity=tuple(doc(d) for d in case.identity), boundary=doc(case.boundary),
                   scps=tuple(tuple(doc(d) for d in level) for level in case.scps), policy=doc(case.policy))


def scp_levels_ored(case: Case) -> Case | None:
    if len(case.scps) < 2:
        return None
    return replace(case, scps=(tuple(d for level in case.scps for d in level),))


def arn_service_case_insensitive(case: Case) -> Case | None:
    def lower_service(value: str) -> str:
        parts = value.split(":", 3)
        return ":".join([*parts[:2], parts[2].lower(), *parts[3:]]) if len(parts) == 4 else value

    def fix(stmt: dict) -> dict:
        for op, pairs in (stmt.get("Condition") or {}).items():
            if "Arn" in op:
                stmt["Condition"][op] = {k: lower_service(v) if isinstance(v, str) else [lower_service(x) for x in v]
                                         for k, v in pairs.items()}
        return stmt

    changed = _map_statements(case, fix)
    return changed if changed != case else None


def _not_principal(case: Case, *, both_required: bool, boundary_counts: bool) -> Case | None:
    """Resolve each NotPrincipal Deny for this principal by a given reading: drop it if the
    principal escapes it, else make it a Deny for everyone."""
    if not case.policy or not any("NotPrincipal" in s for s in case.policy["Statement"]):
        return None

    def fix(stmt: dict) -> dict | None:
        if "NotPrincipal" not in stmt:
            return stmt
        listed = stmt["NotPrincipal"].get("AWS")
        listed = [listed] if isinstance(listed, str) else list(listed or [])
        own = case.arn in listed
        account = f"arn:aws:iam::{case.account}:root" in listed or case.account in listed
        spared = (own and account) if both_required else (own or account)
        if boundary_counts and case.boundary is not None:
            spared = False
        if spared:
            return None
        stmt.pop("NotPrincipal")
        stmt["Principal"] = "*"
        return stmt

    return replace(case, policy=_map_statements(case, fix).policy)


REWRITES: dict[str, Callable[[Case], Case | None]] = {
    "scp-levels-ored": scp_levels_ored,
    "arn-condition-service-case-insensitive": arn_service_case_insensitive,
    "notprincipal-arn-or-account-spares": lambda c: _not_principal(c, both_required=False, boundary_counts=True),
    "notprincipal-boundary-ignored": lambda c: _not_principal(c, both_required=True, boundary_counts=False),
    "notprincipal-arn-or-account-spares+notprincipal-boundary-ignored":
        lambda c: _not_principal(c, both_required=False, boundary_counts=False),
}


def cause(case: Case, action: str, our_outcome: str) -> str:
    """The smallest set of rewrites after which the reference says what we say."""
    names = list(REWRITES)
    for size in (1, 2, 3):
        for combo in itertools.combinations(names, size):
            parts = {p for name in combo for p in name.split("+")}
            if len(parts) != sum(len(n.split("+")) for n in combo):
                continue  # the same reading twice
            rewritten: Case | None = case
            for name in combo:
                rewritten = REWRITES[name](rewritten) if rewritten is not None else None
            if rewritten is not None and reference(replace(rewritten, actions=(action,)))[action] == our_outcome:
                return "+".join(sorted(parts))
    return "unexplained"


# -- the comparison --------------------------------------------------------------------------

@dataclass
class Report:
    compared: int = 0
    agreed: int = 0
    imprecise: int = 0  # ours conditional, the reference sure
    hard: Counter = field(default_factory=Counter)  # (cause, direction) -> count
    examples: dict = field(default_factory=lambda: defaultdict(list))

    def add(self, case: Case, catalogue: Any) -> None:
        mine, theirs = ours(case, catalogue), reference(case)
        for action in case.actions:
            self.compared += 1
            a, b = mine[action], theirs[action]
            if a == b:
                self.agreed += 1
            elif a == "conditional":
                self.imprecise += 1
                if len(self.examples["imprecise"]) < 3:
                    self.examples["imprecise"].append((case, action, a, b))
            else:
                key = (cause(case, action, a), "false-allow" if a == "allow" else "missed-allow")
                self.hard[key] += 1
                if len(self.examples[key]) < 2:
                    self.examples[key].append((case, action, a, b))

    def causes(self) -> set[str]:
        return {c for c, _ in self.hard}

    def text(self, examples: bool = True) -> str:
        lines = [f"compared {self.compared} (case, action) pairs: agreement {self.agreed / self.compared:.1%}, "
                 f"hard disagreements {sum(self.hard.values())} "
                 f"({sum(self.hard.values()) / self.compared:.1%}), ours conditional where the reference is sure "
                 f"{self.imprecise} ({self.imprecise / self.compared:.1%})"]
        for (why, direction), n in self.hard.most_common():
            lines.append(f"  {n:6d}  {direction:12s}  {why}")
            for case, action, a, b in self.examples[(why, direction)] if examples else ():
                lines.append(f"          e.g. {case.kind} {case.arn} {action} on {case.resource}: ours {a}, "
                             f"reference {b}")
        return "\n".join(lines)


def run(examples: int) -> Report:
    from agentreach.policy.aws import default_catalogue

    catalogue = default_catalogue()
    report = Report()

    @settings(max_examples=examples, derandomize=True, database=None, deadline=None,
              phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
    @given(cases())
    def collect(case: Case) -> None:
        report.add(case, catalogue)

    for case in DOCUMENTED:
        collect = example(case)(collect)
    collect()
    return report


def known_causes() -> dict[str, dict[str, Any]]:
    return {entry["cause"]: entry for entry in yaml.safe_load(KNOWN.read_text()) or []}


def test_our_evaluator_agrees_with_the_reference_except_for_documented_faults() -> None:
    report = run(EXAMPLES)
    print("\n" + report.text())
    known = known_causes()
    unexplained = {k: n for k, n in report.hard.items() if any(p not in known for p in k[0].split("+"))}
    assert not unexplained, "new disagreements with the reference evaluator:\n" + "\n".join(
        f"  {n} {direction} {why}: e.g. {report.examples[(why, direction)][0]}"
        for (why, direction), n in unexplained.items())
    seen = {p for c in report.causes() for p in c.split("+")}
    stale = sorted(set(known) - seen)
    assert not stale, f"no longer seen (fixed? remove from {KNOWN.name}): {stale}"


def test_every_known_disagreement_names_the_documentation() -> None:
    for cause_name, entry in known_causes().items():
        assert cause_name in REWRITES or any(cause_name in name.split("+") for name in REWRITES), cause_name
        assert entry.get("reason") and entry.get("documentation"), cause_name


def main() -> None:
    parser = argparse.ArgumentParser(description="AwsEvaluator against the reference IAM evaluator")
    parser.add_argument("--examples", type=int, default=20_000)
    args = parser.parse_args()
    print(run(args.examples).text())


if __name__ == "__main__":
    main()
