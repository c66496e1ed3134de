"""IAM wildcards: hostile patterns finish, and every pattern means what it meant before (issue 20, item 5).

Two references: the matcher as it was before the linear one (kept in bench/wildcards.py as the
bench's old side; it is the semantics the evaluator's other tests pin), and ``fnmatch`` with
``[`` made literal, which is IAM's documented glob (``*`` any run, ``?`` one character).  The hostile
cases are asserted for their answers only; how long they take is printed by bench/wildcards.py.
"""

from __future__ import annotations

import fnmatch

from hypothesis import given, settings, strategies as st

from agentreach.policy.aws import AwsEvaluator, PolicyRef, Principal, Resource, arn_match, default_catalogue
from agentreach.policy.aws.matching import globs_intersect, wildcard_match
from bench.wildcards import old_match

ACCT = "111122223333"
PROPERTY = settings(max_examples=400, deadline=None, derandomize=True)


def glob(pattern: str, value: str) -> bool:
    """IAM's glob through fnmatch: ``[`` written as the class ``[[]`` is a literal ``[``."""
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))


# Small alphabets so that matches happen; "\n" checks that ? and * cross line ends, the
# Kelvin sign and long s check that case folding is the same as before (re's, not str.lower).
PATTERN_CHARS = "ab*?:/A[]." + "\n" + "kK\u212as\u017f"
VALUE_CHARS = "abA:/[]." + "\n" + "kK\u212as\u017f"
patterns = st.text(alphabet=PATTERN_CHARS, max_size=10)
values = st.text(alphabet=VALUE_CHARS, max_size=10)


@PROPERTY
@given(patterns, values)
def test_same_answers_as_the_old_matcher(pattern: str, value: str) -> None:
    assert wildcard_match(pattern, value) == old_match(pattern, value)
    assert wildcard_match(pattern, value, case_sensitive=False) == old_match(pattern, value, case_sensitive=False)


@PROPERTY
@given(patterns, values)
def test_same_answers_as_the_documented_glob(pattern: str, value: str) -> None:
    assert wildcard_match(pattern, value) == glob(pattern, value)


@PROPERTY
@given(st.text(alphabet="a*?b", max_size=12), st.text(alphabet="ab", max_size=14))
def test_star_heavy_patterns(pattern: str, value: str) -> None:
    """Runs of ``*`` and ``?`` between letters: where the placement of each run matters most."""
    assert wildcard_match(pattern, value) == glob(pattern, value)


segments = st.text(alphabet="ab*?-/", max_size=4)
arn_values = st.text(alphabet="ab-/", max_size=4)


@PROPERTY
@given(st.lists(segments, min_size=6, max_size=6), st.lists(arn_values, min_size=6, max_size=6),
       st.text(alphabet=":a*", max_size=4))
def test_arn_match_is_per_segment(pattern_parts: list[str], value_parts: list[str], extra: str) -> None:
    """Six-part patterns match segment by segment, the service without case, the rest with it;
    the resource segment may carry colons, which only its own wildcards cross."""
    pattern_parts = ["arn", *pattern_parts[1:5], pattern_parts[5] + extra]
    value_parts = ["arn", *value_parts[1:5], value_parts[5] + extra.replace("*", "x")]
    pattern, arn = ":".join(pattern_parts), ":".join(value_parts)
    expected = all(
        glob(p.lower(), v.lower()) if i == 2 else glob(p, v)
        for i, (p, v) in enumerate(zip(pattern.split(":", 5), arn.split(":", 5), strict=True))
    )
    assert arn_match(pattern, arn) == expected


# --- hostile patterns: correct answers, and they come back --------------------------------------

HOSTILE_8 = "*?" * 8 + "!"
HOSTILE_50 = "*?" * 50 + "!"


def test_hostile_patterns_answer() -> None:
    assert not wildcard_match(HOSTILE_8, "s3:GetObjectVersionTagging", case_sensitive=False)
    assert not wildcard_match(HOSTILE_50, "x" * 2000)
    assert not wildcard_match(HOSTILE_50, "x" * 49 + "!")  # 50 ? need 50 characters before the !
    assert wildcard_match(HOSTILE_50, "x" * 50 + "!")
    assert wildcard_match(HOSTILE_50, "!" * 51)
    assert not wildcard_match("*a" * 60 + "b", "a" * 5000)
    assert wildcard_match("*a" * 60 + "b", "a" * 5000 + "b")


def test_hostile_action_patterns_expand_exactly() -> None:
    cat = default_catalogue()
    assert cat.expand("s3:" + HOSTILE_8) == set()
    eight_then_t = cat.expand("s3:" + "*?" * 8 + "t")
    assert eight_then_t == {a for a in cat.actions("s3") if len(a.split(":", 1)[1]) >= 9 and a.lower().endswith("t")}
    assert "s3:GetObject" in eight_then_t and "s3:ListBucket" in eight_then_t and "s3:PutObjectAcl" not in eight_then_t


def principal(*statements: dict, arn: str = f"arn:aws:iam::{ACCT}:role/agent", tags: dict | None = None) -> Principal:
    doc = {"Version": "2012-10-17", "Statement": list(statements)}
    return Principal(arn=arn, account=ACCT, identity_policies=((PolicyRef("inline", "P", ""), doc),), tags=tags or {})


LONG_KEY = "arn:aws:s3:::acme-pii-data-lake/" + "reports/quarterly/" * 50 + "q3.csv"


def test_one_question_with_a_hostile_action_or_resource_is_answered() -> None:
    ev = AwsEvaluator()
    target = Resource(LONG_KEY, ACCT)
    for k in (8, 10, 50):
        stars = "*?" * k
        assert ev.access(principal({"Effect": "Allow", "Action": f"s3:{stars}!", "Resource": "*"}), target) is None
        denied_resource = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{stars}!"}
        assert ev.access(principal(denied_resource), target) is None
        allowed = ev.access(principal({"Effect": "Allow", "Action": "s3:GetObject",
                                       "Resource": f"arn:aws:s3:::{stars}.csv"}), target)
        assert allowed is not None and allowed.actions == frozenset({"s3:GetObject"})


def test_hostile_condition_values_are_decided() -> None:
    ev = AwsEvaluator()
    target = Resource("arn:aws:s3:::acme-pii/x", ACCT)
    name = "agent-" + "x" * 60
    arn = f"arn:aws:iam::{ACCT}:role/{name}"
    stars = "*?" * 30

    def ask(condition: dict) -> frozenset[str] | None:
        stmt = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": condition}
        got = ev.access(principal(stmt, arn=arn, tags={"team": name}), target)
        return None if got is None else got.actions

    assert ask({"StringLike": {"aws:PrincipalTag/team": stars + "!"}}) is None
    assert ask({"StringLike": {"aws:PrincipalTag/team": stars + "x"}}) == {"s3:GetObject"}
    assert ask({"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::*:role/{stars}!"}}) is None
    assert ask({"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::*:role/{stars}x"}}) == {"s3:GetObject"}


def test_long_resources_against_star_heavy_patterns() -> None:
    assert not arn_match("arn:aws:s3:::" + "*a" * 40 + "b", "arn:aws:s3:::" + "a" * 2000)
    assert arn_match("arn:aws:s3:::" + "*a" * 40 + "b", "arn:aws:s3:::" + "a" * 2000 + "b")
    assert not arn_match(f"arn:aws:s3:::{HOSTILE_50}", LONG_KEY)
    assert arn_match("arn:aws:s3:::acme-*/*?*?*?*?*?*?*?*?.csv", LONG_KEY)


def test_hostile_patterns_against_resource_patterns() -> None:
    """When the resource is itself a pattern (the objects of a bucket), the intersection test."""
    assert globs_intersect(f"arn:aws:s3:::acme/{HOSTILE_50}", "arn:aws:s3:::acme/*")
    assert not globs_intersect(f"arn:aws:s3:::acme/{HOSTILE_50}", "arn:aws:s3:::acme/" + "x" * 300)
