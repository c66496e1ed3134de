"""Properties of the AWS evaluator: the matcher is a glob, Deny only removes, Allow only adds."""

from __future__ import annotations

import fnmatch

from hypothesis import given, settings, strategies as st

from agentreach.policy.aws import AwsEvaluator, PolicyRef, Principal, Resource, arn_match, wildcard_match
from agentreach.policy.aws.matching import globs_intersect

ACCT = "111122223333"
ROLE = f"arn:aws:iam::{ACCT}:role/agent"
FAST = settings(max_examples=200, deadline=None)

patterns = st.text(alphabet="ab*?:/A", max_size=8)
strings = st.text(alphabet="abA:/", max_size=8)


@FAST
@given(patterns, strings)
def test_wildcard_is_a_glob(pattern: str, value: str) -> None:
    assert wildcard_match(pattern, value) == fnmatch.fnmatchcase(value, pattern)
    assert wildcard_match(pattern, value, case_sensitive=False) == fnmatch.fnmatchcase(value.lower(), pattern.lower())


@FAST
@given(patterns, patterns, strings)
def test_intersection_is_sound_and_exact_on_literals(p: str, q: str, value: str) -> None:
    if wildcard_match(p, value) and wildcard_match(q, value):
        assert globs_intersect(p, q)
    assert globs_intersect(p, value) == wildcard_match(p, value)


@FAST
@given(st.text(alphabet="ab*?/-", max_size=10), st.text(alphabet="ab/-", min_size=1, max_size=10))
def test_arn_match_case_rules(resource_pattern: str, resource: str) -> None:
    arn = f"arn:aws:s3:::{resource}"
    base = arn_match(f"arn:aws:s3:::{resource_pattern}", arn)
    assert base == fnmatch.fnmatchcase(resource, resource_pattern)
    assert arn_match(f"arn:aws:S3:::{resource_pattern}", arn) == base  # service part ignores case
    if resource != resource.upper():
        assert not arn_match(f"arn:aws:s3:::{resource.upper()}", arn)  # the rest does not


ACTIONS = ["s3:GetObject", "s3:PutObject", "s3:Get*", "s3:*", "s3:List*", "*", "s3:DeleteObject", "s3:PutBucketPolicy"]
RESOURCES = [
    "*",
    "arn:aws:s3:::acme-pii/*",
    "arn:aws:s3:::acme-*/*",
    "arn:aws:s3:::acme-pii",
    "arn:aws:s3:::other/*",
    "arn:aws:s3:::acme-pii/home/${aws:username}/*",
]
CONDITIONS = [
    None,
    {"Bool": {"aws:SecureTransport": "true"}},  # undecidable
    {"StringEquals": {"aws:PrincipalAccount": ACCT}},  # decidably true
    {"StringEquals": {"aws:PrincipalTag/team": "nobody"}},  # decidably false
]
TARGETS = [
    Resource("arn:aws:s3:::acme-pii/*", ACCT),
    Resource("arn:aws:s3:::acme-pii", ACCT),
    Resource("arn:aws:s3:::acme-pii/home/alice/x", ACCT),
]


@st.composite
def statements(draw: st.DrawFn, effect: str | None = None) -> dict:
    stmt: dict = {"Effect": effect or draw(st.sampled_from(["Allow", "Deny"]))}
    stmt["NotAction" if draw(st.booleans()) and draw(st.booleans()) else "Action"] = draw(
        st.lists(st.sampled_from(ACTIONS), min_size=1, max_size=3)
    )
    stmt["NotResource" if draw(st.integers(0, 5)) == 0 else "Resource"] = draw(
        st.lists(st.sampled_from(RESOURCES), min_size=1, max_size=2)
    )
    condition = draw(st.sampled_from(CONDITIONS))
    if condition:
        stmt["Condition"] = condition
    return stmt


def resource_statement(stmt: dict, who: str) -> dict:
    return {**stmt, "Principal": "*" if who == "*" else {"AWS": who}}


@st.composite
def setups(draw: st.DrawFn, effect: str | None = None) -> tuple[list[dict], list[dict] | None, list[dict]]:
    identity = draw(st.lists(statements(effect), max_size=4))
    boundary = draw(st.none() | st.lists(statements(effect), max_size=2))
    who = draw(st.sampled_from([ROLE, f"arn:aws:iam::{ACCT}:root", "*"]))
    resource = [resource_statement(s, who) for s in draw(st.lists(statements(effect), max_size=2))]
    return identity, boundary, resource


def evaluate(identity: list[dict], boundary: list[dict] | None, resource: list[dict]) -> list[frozenset[str]]:
    ev = AwsEvaluator()
    p = Principal(
        arn=ROLE,
        account=ACCT,
        identity_policies=((PolicyRef("inline", "P", ""), {"Statement": list(identity)}),),
        boundary=(PolicyRef("boundary", "B", ""), {"Statement": list(boundary)}) if boundary is not None else None,
        tags={"team": "data"},
    )
    out = []
    for target in TARGETS:
        got = ev.access(p, Resource(target.arn, target.account, {"Statement": list(resource)} if resource else None))
        out.append(got.actions if got else frozenset())
    return out


WHERE = st.sampled_from(["identity", "boundary", "resource"])


def add(setup: tuple, where: str, stmt: dict) -> tuple:
    identity, boundary, resource = setup
    if where == "identity":
        return identity + [stmt], boundary, resource
    if where == "boundary":
        return identity, (boundary or []) + [stmt] if boundary is not None else None, resource
    return identity, boundary, resource + [resource_statement(stmt, "*")]


@FAST
@given(setups(), statements("Deny"), WHERE)
def test_adding_a_deny_never_increases_access(setup: tuple, extra: dict, where: str) -> None:
    before = evaluate(*setup)
    after = evaluate(*add(setup, where, extra))
    for b, a in zip(before, after, strict=True):
        assert a <= b


@FAST
@given(setups("Allow"), statements("Allow"), WHERE)
def test_adding_an_allow_never_decreases_access(setup: tuple, extra: dict, where: str) -> None:
    before = evaluate(*setup)
    after = evaluate(*add(setup, where, extra))
    for b, a in zip(before, after, strict=True):
        assert a >= b
