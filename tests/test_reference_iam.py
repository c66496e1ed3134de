"""The reference IAM evaluator (tests/reference_iam) against the IAM User Guide's and the AWS
Organizations User Guide's own worked examples. Each test names the page it comes from
(IAM User Guide text at awsdocs/iam-user-guide 651083f41c013ac329a0a69cf37be3b368dd0fc2, or the
current page where marked), so that the reference is judged by the documentation, not by us."""

from __future__ import annotations

import pytest

from tests.reference_iam import Principal, Request, Resource, UnknownOperator, evaluate, key_matches

V = "2012-10-17"
A, B = "111111111111", "222222222222"


def doc(*stmts: dict) -> dict:
    return {"Version": V, "Statement": list(stmts)}


def allow(action, resource="*", **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action, resource="*", **extra) -> dict:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def user(name="carlossalazar", account="123456789012", **kw) -> Principal:
    return Principal(arn=f"arn:aws:iam::{account}:user/{name}", kind="user", **kw)


def role(name="examplerole", account="123456789012", **kw) -> Principal:
    return Principal(arn=f"arn:aws:iam::{account}:role/{name}", kind="role", **kw)


def bucket(name: str, account="123456789012", policy=None, key: str | None = None, **kw) -> Resource:
    return Resource(arn=f"arn:aws:s3:::{name}" + (f"/{key}" if key else ""), account=account, policy=policy, **kw)


def allowed(principal: Principal, action: str, resource: Resource, **context) -> bool:
    return evaluate(Request(principal, action, resource, context)).allowed


# -- reference_policies_evaluation-logic.md, "Example identity-based and resource-based policy evaluation"

CARLOS_POLICY = doc(
    {"Sid": "AllowS3ListRead", "Effect": "Allow", "Action": ["s3:GetBucketLocation", "s3:GetAccountPublicAccessBlock",
                                                             "s3:ListAccessPoints", "s3:ListAllMyBuckets"],
     "Resource": "arn:aws:s3:::*"},
    {"Sid": "AllowS3Self", "Effect": "Allow", "Action": "s3:*",
     "Resource": ["arn:aws:s3:::carlossalazar/*", "arn:aws:s3:::carlossalazar"]},
    {"Sid": "DenyS3Logs", "Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::*log*"},
)
CARLOS_BUCKET_POLICY = doc({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/carlossalazar"},
                            "Action": "s3:*",
                            "Resource": ["arn:aws:s3:::carlossalazar/*", "arn:aws:s3:::carlossalazar"]})


def test_carlos_is_denied_the_logs_bucket_by_his_own_explicit_deny() -> None:
    carlos = user(identity_policies=[CARLOS_POLICY])
    decision = evaluate(Request(carlos, "s3:PutObject", bucket("carlossalazar-logs")))
    assert not decision.allowed and decision.explicit_deny


def test_carlos_may_save_to_his_bucket_where_both_policies_allow() -> None:
    carlos = user(identity_policies=[CARLOS_POLICY])
    assert allowed(carlos, "s3:PutObject", bucket("carlossalazar", policy=CARLOS_BUCKET_POLICY, key="f.txt"))


def test_either_policy_alone_allows_within_one_account() -> None:
    """"If either the identity-based policy or the resource-based policy within the same account
    allows the request and the other doesn't, the request is still allowed.\""""
    assert allowed(user(), "s3:PutObject", bucket("carlossalazar", policy=CARLOS_BUCKET_POLICY, key="f"))
    assert allowed(user(identity_policies=[CARLOS_POLICY]), "s3:PutObject", bucket("carlossalazar", key="f"))
    assert not allowed(user(), "s3:PutObject", bucket("carlossalazar", key="f"))


# -- reference_policies_evaluation-logic.md, "The difference between explicit and implicit denies"

def test_get_and_list_allowed_create_implicitly_denied_reports_explicitly_denied() -> None:
    p = user(identity_policies=[doc(allow(["iam:Get*", "iam:List*"]), deny("iam:*Report"))])
    iam = Resource(arn="arn:aws:iam::123456789012:user/x", account="123456789012")
    assert allowed(p, "iam:GetUser", iam)
    created = evaluate(Request(p, "iam:CreatePolicy", iam))
    assert not created.allowed and not created.explicit_deny
    report = evaluate(Request(p, "iam:GetOrganizationsAccessReport", iam))
    assert not report.allowed and report.explicit_deny


# -- reference_policies_elements_action.md: "The prefix and the action name are case insensitive"

def test_action_names_are_case_insensitive() -> None:
    p = user(identity_policies=[doc(allow("iam:ListAccessKeys"))])
    assert allowed(p, "IAM:listaccesskeys", Resource(arn="arn:aws:iam::123456789012:user/x", account="123456789012"))


# -- reference_policies_evaluation-logic-cross-account.md, "Example cross-account policy evaluation"

CARLOS_A = doc(
    {"Sid": "AllowS3ListRead", "Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"},
    {"Sid": "AllowS3ProductionObjectActions", "Effect": "Allow", "Action": "s3:*Object*",
     "Resource": "arn:aws:s3:::Production/*"},
    {"Sid": "DenyS3Logs", "Effect": "Deny", "Action": "s3:*", "Resource": ["arn:aws:s3:::*log*", "arn:aws:s3:::*log*/*"]},
)
PRODUCTION_POLICY = doc({"Effect": "Allow", "Action": ["s3:GetObject*", "s3:PutObject*", "s3:ReplicateObject",
                                                       "s3:RestoreObject"],
                         "Principal": {"AWS": f"arn:aws:iam::{A}:user/carlossalazar"},
                         "Resource": "arn:aws:s3:::Production/*"})


def test_cross_account_put_to_production_logs_is_denied_in_the_trusted_account() -> None:
    carlos = user(account=A, identity_policies=[CARLOS_A])
    decision = evaluate(Request(carlos, "s3:PutObject", bucket("Production-logs", account=B, key="f")))
    assert not decision.allowed and decision.explicit_deny


def test_cross_account_put_to_production_is_allowed_by_both_accounts() -> None:
    carlos = user(account=A, identity_policies=[CARLOS_A])
    production = bucket("Production", account=B, policy=PRODUCTION_POLICY, key="f")
    assert allowed(carlos, "s3:PutObject", production)
    assert not allowed(carlos, "s3:DeleteObject", production)  # "He can create and edit, but not delete"


def test_cross_account_needs_both_sides() -> None:
    """"The request is allowed only if both evaluations return a decision of Allow.\""""
    production = bucket("Production", account=B, policy=PRODUCTION_POLICY, key="f")
    assert not allowed(user(account=A), "s3:PutObject", production)  # no identity policy in A
    assert not allowed(user(account=A, identity_policies=[CARLOS_A]), "s3:PutObject",
                       bucket("Production", account=B, key="f"))  # no bucket policy in B


def test_naming_the_account_delegates_to_its_identity_policies() -> None:
    """reference_policies_elements_principal.md: account principals "delegate permissions to the account"."""
    to_a = doc({"Effect": "Allow", "Principal": {"AWS": A}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::x/*"})
    obj = bucket("x", account=B, policy=to_a, key="k")
    assert not allowed(user(account=A), "s3:GetObject", obj)
    assert allowed(user(account=A, identity_policies=[doc(allow("s3:GetObject"))]), "s3:GetObject", obj)
    same = bucket("x", account=A, policy=to_a, key="k")  # in its own account the delegation grants nothing more
    assert not allowed(user(account=A), "s3:GetObject", same)


# -- reference_policies_evaluation-logic.md, step "Resource-based policies" and access_policies_boundaries.md

READ_BOUNDARY = doc(allow("s3:ListBucket"))


def test_a_grant_to_the_user_arn_is_not_limited_by_identity_policies_or_the_boundary() -> None:
    p = user(boundary=READ_BOUNDARY)
    policy = doc({"Effect": "Allow", "Principal": {"AWS": p.arn}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"})
    assert allowed(p, "s3:GetObject", bucket("b", policy=policy, key="k"))


def test_a_grant_to_the_role_arn_is_limited_by_the_boundary_and_the_session_policy() -> None:
    r = role()
    policy = doc({"Effect": "Allow", "Principal": {"AWS": r.arn}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"})
    obj = bucket("b", policy=policy, key="k")
    assert allowed(r, "s3:GetObject", obj)  # no identity policy needed
    assert not allowed(role(boundary=READ_BOUNDARY), "s3:GetObject", obj)
    assert not allowed(role(session_policy=READ_BOUNDARY), "s3:GetObject", obj)


def test_a_grant_to_the_role_session_arn_is_not_limited_by_the_boundary_or_session_policy() -> None:
    r = role(boundary=READ_BOUNDARY, session_policy=READ_BOUNDARY, session_name="examplerolesessionname")
    assert r.session_arn == "arn:aws:sts::123456789012:assumed-role/examplerole/examplerolesessionname"
    policy = doc({"Effect": "Allow", "Principal": {"AWS": r.session_arn}, "Action": "s3:GetObject",
                  "Resource": "arn:aws:s3:::b/*"})
    assert allowed(r, "s3:GetObject", bucket("b", policy=policy, key="k"))


def test_identity_policy_and_boundary_intersect() -> None:
    p = user(identity_policies=[doc(allow("s3:*"))], boundary=doc(allow("s3:GetObject")))
    assert allowed(p, "s3:GetObject", bucket("b", key="k"))
    assert not allowed(p, "s3:PutObject", bucket("b", key="k"))
    assert not allowed(user(boundary=doc(allow("s3:*"))), "s3:GetObject", bucket("b", key="k"))  # a boundary grants nothing


def test_an_explicit_deny_in_the_boundary_denies() -> None:
    p = user(identity_policies=[doc(allow("s3:*"))], boundary=doc(allow("s3:*"), deny("s3:GetObject")))
    decision = evaluate(Request(p, "s3:GetObject", bucket("b", key="k")))
    assert not decision.allowed and decision.explicit_deny


def test_a_role_session_without_a_session_policy_is_allowed_by_its_role_policy() -> None:
    """Step "Session policies": "If there is no session policy, the code checks whether the principal
    is a role session. If the principal is a role session, then the request is Allowed.\""""
    assert allowed(role(identity_policies=[doc(allow("s3:GetObject"))]), "s3:GetObject", bucket("b", key="k"))
    limited = role(identity_policies=[doc(allow("s3:*"))], session_policy=doc(allow("s3:ListBucket")))
    assert not allowed(limited, "s3:GetObject", bucket("b", key="k"))


# -- KMS key policies and role trust policies "must explicitly allow access for principals"

def key(policy) -> Resource:
    return Resource(arn="arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
                    account="123456789012", policy=policy)


def test_a_key_policy_that_does_not_name_the_account_makes_iam_policies_useless() -> None:
    admin = user(identity_policies=[doc(allow("kms:*"))])
    only_bob = doc({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/bob"},
                    "Action": "kms:*", "Resource": "*"})
    assert not allowed(admin, "kms:Decrypt", key(only_bob))
    assert allowed(user("bob"), "kms:Decrypt", key(only_bob))


def test_the_default_key_policy_enables_iam_policies() -> None:
    """KMS Developer Guide, "Default key policy": the statement that allows the account enables IAM policies."""
    default = doc({"Sid": "Enable IAM User Permissions", "Effect": "Allow",
                   "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "kms:*", "Resource": "*"})
    assert allowed(user(identity_policies=[doc(allow("kms:Decrypt"))]), "kms:Decrypt", key(default))
    assert not allowed(user(), "kms:Decrypt", key(default))


def test_assuming_a_role_needs_its_trust_policy() -> None:
    target = Resource(arn="arn:aws:iam::123456789012:role/target", account="123456789012",
                      policy=doc({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                                  "Action": "sts:AssumeRole"}))
    may = user(identity_policies=[doc(allow("sts:AssumeRole", "arn:aws:iam::123456789012:role/target"))])
    assert allowed(may, "sts:AssumeRole", target)
    assert not allowed(user(), "sts:AssumeRole", target)  # the account is trusted, but this user's policies say nothing
    untrusted = Resource(arn="arn:aws:iam::123456789012:role/target", account="123456789012",
                         policy=doc({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                     "Action": "sts:AssumeRole"}))
    assert not allowed(may, "sts:AssumeRole", untrusted)


# -- reference_policies_elements_notprincipal.md

BOB = "arn:aws:iam::444455556666:user/Bob"


def not_principal_bucket(values: list[str], account: str = "123456789012") -> Resource:
    policy = doc({"Effect": "Deny", "NotPrincipal": {"AWS": values}, "Action": "s3:*",
                  "Resource": ["arn:aws:s3:::BUCKETNAME", "arn:aws:s3:::BUCKETNAME/*"]},
                 {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::BUCKETNAME/*"})
    return bucket("BUCKETNAME", account=account, policy=policy, key="k")


def test_not_principal_deny_spares_bob_when_his_account_is_listed_too() -> None:
    bob = Principal(arn=BOB, identity_policies=[doc(allow("s3:GetObject"))])
    assert allowed(bob, "s3:GetObject", not_principal_bucket([BOB, "arn:aws:iam::444455556666:root"]))
    assert not allowed(user("alice", account="444455556666", identity_policies=[doc(allow("s3:GetObject"))]),
                       "s3:GetObject", not_principal_bucket([BOB, "arn:aws:iam::444455556666:root"]))


def test_not_principal_deny_naming_only_bob_may_deny_bob_through_his_account() -> None:
    """"If the NotPrincipal element contained only Bob's ARN, the effect of the policy might be to
    explicitly deny access to the AWS account that contains the user Bob.\""""
    bob = Principal(arn=BOB, identity_policies=[doc(allow("s3:GetObject"))])
    assert not allowed(bob, "s3:GetObject", not_principal_bucket([BOB]))


def test_not_principal_deny_for_a_role_needs_the_role_and_its_account() -> None:
    audit = Principal(arn="arn:aws:iam::444455556666:role/cross-account-read-only-role", kind="role",
                      session_name="cross-account-audit-app", identity_policies=[doc(allow("s3:GetObject"))])
    full = [audit.session_arn, audit.arn, "arn:aws:iam::444455556666:root"]
    assert allowed(audit, "s3:GetObject", not_principal_bucket(full))
    assert not allowed(audit, "s3:GetObject", not_principal_bucket([audit.session_arn, "arn:aws:iam::444455556666:root"]))
    assert not allowed(audit, "s3:GetObject", not_principal_bucket([audit.session_arn, audit.arn]))


def test_not_principal_deny_always_denies_a_principal_with_a_boundary() -> None:
    """access_policies_boundaries (current page): "will always deny any IAM principal that has a
    permissions boundary policy attached, regardless of the values specified in the NotPrincipal element"."""
    bob = Principal(arn=BOB, identity_policies=[doc(allow("s3:GetObject"))], boundary=doc(allow("s3:*")))
    assert not allowed(bob, "s3:GetObject", not_principal_bucket([BOB, "arn:aws:iam::444455556666:root"]))


# -- AWS Organizations User Guide, orgs_manage_policies_scps_evaluation

FULL = doc(allow("*"))
S3_ONLY = doc(allow("s3:*"))


def scp_user(*levels: list[dict]) -> Principal:
    return user(account=B, identity_policies=[FULL], scps=[list(level) for level in levels])


def test_an_action_needs_an_scp_allow_at_the_root_every_ou_and_the_account() -> None:
    obj = bucket("b", account=B, key="k")
    assert allowed(scp_user([FULL], [FULL], [FULL]), "s3:GetObject", obj)
    assert not allowed(scp_user([FULL], [], [FULL]), "s3:GetObject", obj)  # FullAWSAccess removed from the OU
    # the OU allows only S3: the account's own FullAWSAccess cannot add EC2 back
    assert allowed(scp_user([FULL], [S3_ONLY], [FULL]), "s3:GetObject", obj)
    assert not allowed(scp_user([FULL], [S3_ONLY], [FULL]), "ec2:RunInstances",
                       Resource(arn=f"arn:aws:ec2:us-east-1:{B}:instance/i-1", account=B))


def test_an_scp_deny_at_any_level_denies_below_it() -> None:
    decision = evaluate(Request(scp_user([FULL, doc(deny("s3:*"))], [FULL], [FULL]), "s3:GetObject",
                                bucket("b", account=B, key="k")))
    assert not decision.allowed and decision.explicit_deny


def test_scps_limit_what_a_resource_policy_grants_to_a_member_account_principal() -> None:
    p = user(account=B, scps=[[S3_ONLY]])
    secret = Resource(arn=f"arn:aws:secretsmanager:us-east-1:{B}:secret:s-AbCdEf", account=B,
                      policy=doc({"Effect": "Allow", "Principal": {"AWS": p.arn}, "Action": "secretsmanager:*",
                                  "Resource": "*"}))
    assert not allowed(p, "secretsmanager:GetSecretValue", secret)


# -- reference_policies_elements_condition_operators.md and the multi-value pages

def test_string_equals_on_a_principal_tag() -> None:
    policy = doc(allow("iam:*AccessKey*", "arn:aws:iam::123456789012:user/*",
                       Condition={"StringEquals": {"aws:PrincipalTag/job-category": "iamuser-admin"}}))
    target = Resource(arn="arn:aws:iam::123456789012:user/x", account="123456789012")
    assert allowed(user(identity_policies=[policy], tags={"job-category": "iamuser-admin"}), "iam:CreateAccessKey", target)
    assert not allowed(user(identity_policies=[policy]), "iam:CreateAccessKey", target)  # key not present: false


def test_a_missing_key_makes_a_negated_operator_true_and_a_positive_one_false() -> None:
    assert key_matches("StringNotLike", "aws:SourceVpc", ["vpc-1*"], {}, {})
    assert not key_matches("StringLike", "aws:SourceVpc", ["vpc-1*"], {}, {})
    assert key_matches("StringLikeIfExists", "ec2:InstanceType", ["t1.*"], {}, {})
    assert not key_matches("StringLikeIfExists", "ec2:InstanceType", ["t1.*"], {"ec2:instancetype": ["m5.large"]}, {})


def test_null_checks_whether_a_key_is_absent() -> None:
    assert key_matches("Null", "aws:TokenIssueTime", "true", {}, {})
    assert not key_matches("Null", "aws:TokenIssueTime", "true", {"aws:tokenissuetime": ["2024-01-01T00:00:00Z"]}, {})
    assert key_matches("Null", "aws:TokenIssueTime", False, {"aws:tokenissuetime": ["2024-01-01T00:00:00Z"]}, {})


def test_set_operators_with_missing_keys() -> None:
    """ForAllValues "also returns true if there are no keys in the request"; ForAnyValue "For no
    matching key or a null dataset, the condition returns false"."""
    assert key_matches("ForAllValues:StringEquals", "aws:TagKeys", ["env", "team"], {}, {})
    assert not key_matches("ForAnyValue:StringEquals", "aws:TagKeys", ["env", "team"], {}, {})
    ctx = {"aws:tagkeys": ["env", "cost"]}
    assert not key_matches("ForAllValues:StringEquals", "aws:TagKeys", ["env", "team"], ctx, {})
    assert key_matches("ForAnyValue:StringEquals", "aws:TagKeys", ["env", "team"], ctx, {})


def test_values_are_ored_and_negated_values_nored() -> None:
    ctx = {"aws:principalaccount": ["111122223333"]}
    assert key_matches("StringEquals", "aws:PrincipalAccount", ["444455556666", "111122223333"], ctx, {})
    assert not key_matches("StringNotEquals", "aws:PrincipalAccount", ["444455556666", "111122223333"], ctx, {})
    assert key_matches("StringNotEquals", "aws:PrincipalAccount", ["444455556666"], ctx, {})


def test_operators_of_every_family() -> None:
    ctx = {"aws:multifactorauthage": ["1200"], "aws:currenttime": ["2020-04-01T00:00:00Z"],
           "aws:securetransport": ["true"], "aws:sourceip": ["203.0.113.7"],
           "aws:sourcearn": ["arn:aws:sns:us-east-1:123456789012:topic-1"]}
    assert key_matches("NumericLessThan", "aws:MultiFactorAuthAge", "3600", ctx, {})
    assert not key_matches("NumericGreaterThan", "aws:MultiFactorAuthAge", "3600", ctx, {})
    assert key_matches("DateGreaterThan", "aws:CurrentTime", "2020-01-01T00:00:01Z", ctx, {})
    assert key_matches("DateLessThan", "aws:CurrentTime", "1600000000", ctx, {})  # epoch form
    assert key_matches("Bool", "aws:SecureTransport", "true", ctx, {})
    assert key_matches("IpAddress", "aws:SourceIp", ["203.0.113.0/24"], ctx, {})
    assert not key_matches("NotIpAddress", "aws:SourceIp", ["203.0.113.0/24"], ctx, {})
    assert key_matches("ArnLike", "aws:SourceArn", "arn:aws:sns:*:123456789012:topic-*", ctx, {})
    assert key_matches("ArnEquals", "aws:SourceArn", "arn:aws:sns:*:123456789012:topic-*", ctx, {})  # "behave identically"
    assert not key_matches("ArnLike", "aws:SourceArn", "arn:aws:SNS:*:123456789012:topic-*", ctx, {})  # case-sensitive
    assert not key_matches("StringEquals", "aws:SourceArn", "arn:aws:sns:*:123456789012:topic-*", ctx, {})


def test_an_unknown_operator_is_refused() -> None:
    with pytest.raises(UnknownOperator):
        key_matches("StringSortOf", "aws:SourceIp", "x", {}, {})


# -- reference_policies_variables.md

HOME = doc(allow("s3:*", ["arn:aws:s3:::amzn-s3-demo-bucket/home/${aws:username}",
                          "arn:aws:s3:::amzn-s3-demo-bucket/home/${aws:username}/*"]))


def test_a_user_reaches_only_the_home_folder_named_after_them() -> None:
    assert allowed(user("david", identity_policies=[HOME]), "s3:GetObject", bucket("amzn-s3-demo-bucket", key="home/david/x"))
    assert not allowed(user("david", identity_policies=[HOME]), "s3:GetObject",
                       bucket("amzn-s3-demo-bucket", key="home/mary/x"))
    # a role session has no aws:username: the element does not match
    assert not allowed(role("david", identity_policies=[HOME]), "s3:GetObject",
                       bucket("amzn-s3-demo-bucket", key="home/david/x"))


def test_variables_are_literal_text_in_a_2008_policy() -> None:
    old = {"Version": "2008-10-17", "Statement": HOME["Statement"]}
    assert not allowed(user("david", identity_policies=[old]), "s3:GetObject", bucket("amzn-s3-demo-bucket", key="home/david/x"))


def test_a_default_value_stands_in_for_a_missing_tag() -> None:
    team = doc(allow("s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket-${aws:PrincipalTag/team, 'company-wide'}/*"))
    assert allowed(user(identity_policies=[team], tags={"team": "yellow"}), "s3:GetObject",
                   bucket("amzn-s3-demo-bucket-yellow", key="x"))
    assert allowed(user(identity_policies=[team]), "s3:GetObject", bucket("amzn-s3-demo-bucket-company-wide", key="x"))
    assert not allowed(user(identity_policies=[team]), "s3:GetObject", bucket("amzn-s3-demo-bucket-yellow", key="x"))


def test_special_variables_stand_for_literal_characters() -> None:
    star = doc(allow("s3:GetObject", "arn:aws:s3:::b/${*}"))
    assert allowed(user(identity_policies=[star]), "s3:GetObject", bucket("b", key="*"))
    assert not allowed(user(identity_policies=[star]), "s3:GetObject", bucket("b", key="anything"))


def test_resource_wildcards_stay_within_a_segment_unless_they_end_it() -> None:
    """reference_policies_elements_resource (current page): "*" "can expand to replace everything within
    a segment, including characters like a forward slash"; "If the wildcard (*) is the last character of
    a resource ARN segment, it can expand to match beyond colon boundaries"."""
    p = user(identity_policies=[doc(allow("s3:GetObject", "arn:aws:s3:::b/*"))])
    assert allowed(p, "s3:GetObject", bucket("b", key="a/b/c"))
    cross = user(identity_policies=[doc(allow("sqs:SendMessage", "arn:aws:sqs:*:123456789012:q"))])
    assert allowed(cross, "sqs:SendMessage", Resource(arn="arn:aws:sqs:us-east-1:123456789012:q", account="123456789012"))
    assert not allowed(cross, "sqs:SendMessage",
                       Resource(arn="arn:aws:sqs:us-east-1:999999999999:q", account="123456789012"))
    table = Resource(arn="arn:aws:dynamodb:us-east-1:123456789012:table/t", account="123456789012")
    assert allowed(user(identity_policies=[doc(allow("dynamodb:GetItem", "arn:aws:dynamodb:*"))]), "dynamodb:GetItem", table)
    mid = user(identity_policies=[doc(allow("dynamodb:GetItem", "arn:aws:dynamodb:us-*1:123456789012:table/t"))])
    assert allowed(mid, "dynamodb:GetItem", table)
    crossing = user(identity_policies=[doc(allow("dynamodb:GetItem", "arn:aws:dynamodb:us-*:table/t"))])
    assert allowed(crossing, "dynamodb:GetItem", table)  # a segment-final "*" may cross colons
    assert not allowed(user(identity_policies=[doc(allow("dynamodb:GetItem", "arn:aws:dynamodb:u?-east-1?:*"))]),
                       "dynamodb:GetItem", table)  # "?" is one character within the segment


# -- the reach benchmark's hand-written AWS labels (bench/reach_eval/aws/estate.yaml), read from the
#    managed policies' real documents and the documentation's resource policies

def test_the_reference_agrees_with_the_benchmarks_hand_written_aws_labels() -> None:
    from bench.reach_eval import aws, check

    estate = aws.load()
    assert len(estate.principals) > 50 and any(estate.expect.values())
    assert check.disagreements(estate) == []
