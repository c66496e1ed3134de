"""The AWS evaluator decides conditions for a stated request context, SCPs per organization
level, NotPrincipal as documented, ARN conditions case-sensitively: each from the IAM User
Guide's or the Organizations User Guide's own rule, with a near-miss beside it."""

from __future__ import annotations

import datetime as dt

import pytest

from agentreach.model import Edge, EdgeKind, Identity, Policy, node_id
from agentreach.policy.aws import AwsEvaluator, PolicyRef, Principal, Resource
from agentreach.policy.aws.edges import principal_of, scp_levels
from agentreach.policy.context import DEFAULT, RequestContext, parse_context
from agentreach.view import SnapshotView

ACCT = "111122223333"
USER = f"arn:aws:iam::{ACCT}:user/alice"
ROLE = f"arn:aws:iam::{ACCT}:role/etl"
OBJECT = "arn:aws:s3:::acme-pii/exports/q1.csv"
SECRET = f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:prod/db-AbCdEf"
FULL = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}


def doc(*stmts: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(stmts)}


def who(*docs: dict, arn: str = USER, boundary: dict | None = None, levels=()) -> Principal:
    return Principal(arn=arn, account=ACCT,
                     identity_policies=tuple((PolicyRef("inline", f"p{i}", ""), d) for i, d in enumerate(docs)),
                     boundary=(PolicyRef("boundary", "b", ""), boundary) if boundary else None,
                     scp_levels=tuple(tuple((PolicyRef("scp", f"l{i}.{j}", ""), d) for j, d in enumerate(level))
                                      for i, level in enumerate(levels)))


def outcome(access, action: str) -> str:
    if access is None or action not in access.actions:
        return "deny"
    return "conditional" if action in access.conditional_actions else "allow"


# -- the stated request context ------------------------------------------------------------------

TLS_ONLY = doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"},
               {"Effect": "Deny", "Action": "s3:*", "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})
MFA = doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
           "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "true"}}})


def test_the_default_context_decides_tls_and_leaves_mfa_conditional() -> None:
    ev = AwsEvaluator(request=DEFAULT)
    assert outcome(ev.access(who(TLS_ONLY), Resource(OBJECT, ACCT)), "s3:GetObject") == "allow"
    assert outcome(AwsEvaluator().access(who(TLS_ONLY), Resource(OBJECT, ACCT)), "s3:GetObject") == "conditional"
    got = ev.access(who(MFA), Resource(OBJECT, ACCT))
    assert outcome(got, "s3:GetObject") == "conditional" and got.condition_keys == ("aws:MultiFactorAuthPresent",)


def test_a_stated_context_decides_its_keys() -> None:
    no_mfa = parse_context("aws:MultiFactorAuthPresent=false")
    assert outcome(AwsEvaluator(request=no_mfa).access(who(MFA), Resource(OBJECT, ACCT)), "s3:GetObject") == "deny"
    with_mfa = parse_context("aws:MultiFactorAuthPresent=true")
    assert outcome(AwsEvaluator().access(who(MFA), Resource(OBJECT, ACCT), with_mfa), "s3:GetObject") == "allow"
    plain_http = parse_context("aws:SecureTransport=false")
    assert outcome(AwsEvaluator(request=plain_http).access(who(TLS_ONLY), Resource(OBJECT, ACCT)),
                   "s3:GetObject") == "deny"


def test_parse_context_refuses_a_bad_pair_in_one_line() -> None:
    with pytest.raises(ValueError, match="not KEY=VALUE"):
        parse_context("aws:SecureTransport")
    with pytest.raises(ValueError, match="aws:currenttime"):
        parse_context("aws:CurrentTime=yesterday")
    ctx = parse_context("aws:TagKeys=a,aws:TagKeys=b,aws:SourceVpc=")
    assert ctx.stated("aws:tagkeys") == ("a", "b") and ctx.stated("aws:SourceVpc") == ()


def test_date_conditions_against_the_stated_time() -> None:
    until_2020 = doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
                      "Condition": {"DateLessThan": {"aws:CurrentTime": "2020-01-01T00:00:00Z"}}})
    then = RequestContext({}, dt.datetime(2019, 6, 1, tzinfo=dt.timezone.utc))
    now = RequestContext({}, dt.datetime(2025, 6, 1, tzinfo=dt.timezone.utc))
    assert outcome(AwsEvaluator(request=then).access(who(until_2020), Resource(OBJECT, ACCT)), "s3:GetObject") == "allow"
    assert outcome(AwsEvaluator(request=now).access(who(until_2020), Resource(OBJECT, ACCT)), "s3:GetObject") == "deny"
    assert outcome(AwsEvaluator().access(who(until_2020), Resource(OBJECT, ACCT)), "s3:GetObject") == "conditional"


def test_username_variable_and_qualifiers_on_known_keys() -> None:
    own = doc({"Effect": "Allow", "Action": "iam:CreateAccessKey", "Resource": f"arn:aws:iam::{ACCT}:user/${{aws:username}}"})
    ev = AwsEvaluator(request=DEFAULT)
    assert outcome(ev.access(who(own), Resource(USER, ACCT)), "iam:CreateAccessKey") == "allow"
    assert outcome(ev.access(who(own), Resource(f"arn:aws:iam::{ACCT}:user/bob", ACCT)), "iam:CreateAccessKey") == "deny"
    team = doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
                "Condition": {"ForAnyValue:StringEquals": {"aws:PrincipalTag/team": ["data", "ops"]}}})
    tagged = Principal(arn=USER, account=ACCT, identity_policies=((PolicyRef("inline", "t", ""), team),),
                       tags={"team": "data"})
    assert outcome(ev.access(tagged, Resource(OBJECT, ACCT)), "s3:GetObject") == "allow"
    assert outcome(ev.access(who(team), Resource(OBJECT, ACCT)), "s3:GetObject") == "deny"  # no tag: ForAnyValue fails


# -- ARN conditions: "Case-sensitive matching of the ARN. Each of the six colon-delimited components"

def test_arn_conditions_compare_the_service_case_sensitively() -> None:
    upper = doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
                 "Condition": {"ArnLike": {"aws:PrincipalArn": f"arn:aws:IAM::{ACCT}:user/*"}}})
    lower = doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
                 "Condition": {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCT}:user/*"}}})
    ev = AwsEvaluator()
    assert outcome(ev.access(who(upper), Resource(OBJECT, ACCT)), "s3:GetObject") == "deny"
    assert outcome(ev.access(who(lower), Resource(OBJECT, ACCT)), "s3:GetObject") == "allow"


# -- SCPs per level: "there must be an explicit Allow statement at every level" ---------------------

S3_ONLY = doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})


def test_every_organization_level_must_allow() -> None:
    ev = AwsEvaluator()
    ou_limits = who(FULL, arn=ROLE, levels=[[FULL], [S3_ONLY], [FULL]])
    assert ev.access(ou_limits, Resource(SECRET, ACCT)) is None
    assert outcome(ev.access(ou_limits, Resource(OBJECT, ACCT)), "s3:GetObject") == "allow"
    # the near-miss: the same SCPs at one level (what ORing the levels meant) allow the secret
    one_level = who(FULL, arn=ROLE, levels=[[FULL, S3_ONLY]])
    assert outcome(ev.access(one_level, Resource(SECRET, ACCT)), "secretsmanager:GetSecretValue") == "allow"


def test_scp_levels_come_from_where_each_scp_is_attached() -> None:
    account = node_id("aws", "account", ACCT)
    full = Policy(id="aws:scp:full", provider="aws", source="aws", type="aws_scp", name="FullAWSAccess", document=FULL)
    s3 = Policy(id="aws:scp:s3", provider="aws", source="aws", type="aws_scp", name="s3-only", document=S3_ONLY)
    path = ["r-root", "ou-data", ACCT]

    def attach(pol: Policy, via: str) -> dict:
        return Edge(src=account, dst=pol.id, kind=EdgeKind.HAS_POLICY, source="aws", key=f"scp:{via}",
                    attrs={"attachment": "scp", "via": via, "level": path.index(via), "path": path}).to_dict()

    role = Identity(id=node_id("aws", "iam_role", ROLE), provider="aws", source="aws", type="aws_iam_role", name="etl",
                    native_id=ROLE, account=ACCT, attrs={"inline_policies": [{"name": "all", "document": FULL}]})
    view = SnapshotView.build([full, s3, role], [attach(full, "r-root"), attach(s3, "ou-data"), attach(full, ACCT)])
    levels = scp_levels(view, ACCT)
    assert [[ref.name for ref, _ in level] for level in levels] == [
        ["FullAWSAccess (on r-root)"], ["s3-only (on ou-data)"], [f"FullAWSAccess (on {ACCT})"]]
    assert AwsEvaluator().access(principal_of(role, view), Resource(SECRET, ACCT)) is None


# -- NotPrincipal: "you must also specify the account ARN"; boundaries are always denied ----------

def bucket_denying_all_but(*listed: str) -> dict:
    return doc({"Effect": "Deny", "NotPrincipal": {"AWS": list(listed)}, "Action": "s3:*",
                "Resource": ["arn:aws:s3:::acme-pii", "arn:aws:s3:::acme-pii/*"]})


@pytest.mark.parametrize(("listed", "boundary", "expected"), [
    ((USER, f"arn:aws:iam::{ACCT}:root"), None, "allow"),  # both listed: spared
    ((USER,), None, "deny"),  # the ARN alone: denied through its account
    ((f"arn:aws:iam::{ACCT}:root",), None, "deny"),  # the account alone
    ((USER, f"arn:aws:iam::{ACCT}:root"), FULL, "deny"),  # a boundary: always denied
])
def test_not_principal_deny(listed: tuple[str, ...], boundary: dict | None, expected: str) -> None:
    got = AwsEvaluator().access(who(FULL, boundary=boundary), Resource(OBJECT, ACCT, bucket_denying_all_but(*listed)))
    assert outcome(got, "s3:GetObject") == expected
