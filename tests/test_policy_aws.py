"""AWS effective-permission evaluation, case by case, on documents shaped like AWS's own examples."""

from __future__ import annotations

import pytest

from agentreach.policy.aws import (
    Access,
    AwsEvaluator,
    PolicyRef,
    Principal,
    Resource,
    arn_match,
    default_catalogue,
    trusted_services,
    wildcard_match,
)

ACCT = "111122223333"
OTHER = "444455556666"
ROLE = f"arn:aws:iam::{ACCT}:role/agent"
USER = f"arn:aws:iam::{ACCT}:user/alice"
BUCKET = "arn:aws:s3:::acme-pii"
OBJECTS = "arn:aws:s3:::acme-pii/*"
KEY = f"arn:aws:kms:us-east-1:{ACCT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def doc(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action, resource="*", **extra) -> dict:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def deny(action, resource="*", **extra) -> dict:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def inline(name: str, *statements: dict) -> tuple[PolicyRef, dict]:
    return (PolicyRef("inline", name, ""), doc(*statements))


def principal(*policies, arn=ROLE, account=ACCT, boundary=None, scps=(), tags=None) -> Principal:
    return Principal(
        arn=arn, account=account, identity_policies=tuple(policies), boundary=boundary, scps=scps, tags=tags or {}
    )


def ref(kind: str, name: str, statement: str) -> PolicyRef:
    return PolicyRef(kind, name, statement)


@pytest.fixture(scope="module")
def ev() -> AwsEvaluator:
    return AwsEvaluator()


# --- catalogue --------------------------------------------------------------------------------


def test_catalogue_levels_and_types() -> None:
    cat = default_catalogue()
    assert cat.access_level("s3:GetObject") == "read"
    assert cat.access_level("s3:PutObject") == "write"
    assert cat.access_level("s3:ListBucket") == "list"
    assert cat.access_level("s3:PutObjectTagging") == "tagging"
    assert cat.access_level("iam:PutRolePolicy") == "permissions-management"
    assert cat.expand("S3:getobj*") >= {"s3:GetObject", "s3:GetObjectAcl", "s3:GetObjectTagging"}
    assert all(a.startswith("s3:Get") for a in cat.expand("s3:Get*"))
    assert "s3:GetObject" in cat.actions("s3")
    assert ("object", "arn:${Partition}:s3:::${BucketName}/${ObjectName}") in cat.resource_types("s3:GetObject")
    bucket_actions = cat.actions_for_arn(BUCKET)
    object_actions = cat.actions_for_arn(OBJECTS)
    assert "s3:ListBucket" in bucket_actions and "s3:GetObject" not in bucket_actions
    assert "s3:GetObject" in object_actions and "s3:ListBucket" not in object_actions
    assert cat.types_for_arn(f"arn:aws:dynamodb:us-east-1:{ACCT}:table/t/index/i") == ("index",)


# --- the table of cases ------------------------------------------------------------------------

CASES = [
    # (id, principal, resource, expected actions subset or None for no access, level, conditional, grants)
    pytest.param(
        principal(inline("ReadPii", allow("s3:GetObject", OBJECTS))),
        Resource(OBJECTS, ACCT),
        {"s3:GetObject"},
        "read",
        False,
        (ref("inline", "ReadPii", "#0"),),
        id="identity-allow-read",
    ),
    pytest.param(
        principal(inline("Write", allow(["s3:GetObject", "s3:PutObject"], OBJECTS, Sid="RW"))),
        Resource(OBJECTS, ACCT),
        {"s3:GetObject", "s3:PutObject"},
        "write",
        False,
        (ref("inline", "Write", "RW"),),
        id="put-object-is-write",
    ),
    pytest.param(
        principal(inline("P", allow("s3:*", "*")), inline("NoPii", deny("s3:*", [BUCKET, OBJECTS]))),
        Resource(OBJECTS, ACCT),
        None,
        None,
        None,
        None,
        id="explicit-deny-beats-allow",
    ),
    pytest.param(
        # AWS example: NotAction with Allow = everything except IAM.
        principal(inline("PowerUser", {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})),
        Resource(OBJECTS, ACCT),
        {"s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:PutObjectAcl"},
        "permissions-management",
        False,
        (ref("inline", "PowerUser", "#0"),),
        id="notaction-allow",
    ),
    pytest.param(
        principal(inline("PowerUser", {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})),
        Resource(f"arn:aws:iam::{ACCT}:role/admin", ACCT),
        None,
        None,
        None,
        None,
        id="notaction-excludes-iam",
    ),
    pytest.param(
        principal(
            inline("Everything", allow("*")),
            boundary=(
                PolicyRef("boundary", "NoS3", ""),
                doc({"Effect": "Allow", "NotAction": "s3:*", "Resource": "*"}),
            ),
        ),
        Resource(OBJECTS, ACCT),
        None,
        None,
        None,
        None,
        id="boundary-removes-s3",
    ),
    pytest.param(
        principal(inline("Lambda", allow("lambda:InvokeFunction"))),
        Resource(
            BUCKET,
            ACCT,
            doc(
                {
                    "Sid": "AgentList",
                    "Effect": "Allow",
                    "Principal": {"AWS": ROLE},
                    "Action": "s3:ListBucket",
                    "Resource": BUCKET,
                }
            ),
        ),
        {"s3:ListBucket"},
        "list",
        False,
        (ref("resource", "bucket policy of acme-pii", "AgentList"),),
        id="bucket-policy-only-same-account",
    ),
    pytest.param(
        principal(inline("Nothing", allow("lambda:InvokeFunction"))),
        Resource(
            BUCKET,
            ACCT,
            doc(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{ACCT}:root"},
                    "Action": "s3:ListBucket",
                    "Resource": BUCKET,
                }
            ),
        ),
        None,
        None,
        None,
        None,
        id="bucket-policy-to-account-root-needs-identity",
    ),
    pytest.param(
        principal(inline("CrossRead", allow("s3:GetObject", "arn:aws:s3:::partner-data/*"))),
        Resource("arn:aws:s3:::partner-data/*", OTHER),
        None,
        None,
        None,
        None,
        id="cross-account-identity-only",
    ),
    pytest.param(
        principal(inline("Nothing", allow("sqs:SendMessage"))),
        Resource(
            "arn:aws:s3:::partner-data/*",
            OTHER,
            doc(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": ROLE},
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::partner-data/*",
                }
            ),
        ),
        None,
        None,
        None,
        None,
        id="cross-account-resource-only",
    ),
    pytest.param(
        principal(inline("CrossRead", allow("s3:GetObject", "arn:aws:s3:::partner-data/*"))),
        Resource(
            "arn:aws:s3:::partner-data/*",
            OTHER,
            doc(
                {
                    "Sid": "Partner",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{ACCT}:root"},
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::partner-data/*",
                }
            ),
        ),
        {"s3:GetObject"},
        "read",
        False,
        (ref("inline", "CrossRead", "#0"), ref("resource", "bucket policy of partner-data", "Partner")),
        id="cross-account-both-sides",
    ),
    pytest.param(
        # AWS example key policy: "Allow use of the key" naming a role; identity grants nothing.
        principal(inline("Nothing", allow("sqs:SendMessage"))),
        Resource(
            KEY,
            ACCT,
            doc(
                {
                    "Sid": "Enable IAM User Permissions",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{ACCT}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                },
                {
                    "Sid": "Allow use of the key",
                    "Effect": "Allow",
                    "Principal": {"AWS": ROLE},
                    "Action": ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*"],
                    "Resource": "*",
                },
            ),
        ),
        {"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"},
        "write",
        False,
        (ref("resource", "key policy of key/1234abcd-12ab-34cd-56ef-1234567890ab", "Allow use of the key"),),
        id="kms-key-policy-names-role",
    ),
    pytest.param(
        principal(inline("KmsAll", allow("kms:*"))),
        Resource(
            KEY,
            ACCT,
            doc(
                {
                    "Sid": "OnlyAdmin",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{ACCT}:role/key-admin"},
                    "Action": "kms:*",
                    "Resource": "*",
                }
            ),
        ),
        None,
        None,
        None,
        None,
        id="kms-key-policy-without-root-identity-alone-nothing",
    ),
    pytest.param(
        principal(inline("KmsDecrypt", allow("kms:Decrypt", KEY))),
        Resource(
            KEY,
            ACCT,
            doc(
                {
                    "Sid": "Enable IAM User Permissions",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{ACCT}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                }
            ),
        ),
        {"kms:Decrypt"},
        "write",
        False,
        (
            ref("inline", "KmsDecrypt", "#0"),
            ref("resource", "key policy of key/1234abcd-12ab-34cd-56ef-1234567890ab", "Enable IAM User Permissions"),
        ),
        id="kms-key-policy-root-delegates-to-identity",
    ),
    pytest.param(
        principal(inline("AcmeBuckets", allow("s3:GetObject", "arn:aws:s3:::acme-*/*"))),
        Resource("arn:aws:s3:::acme-pii/reports/q3.csv", ACCT),
        {"s3:GetObject"},
        "read",
        False,
        (ref("inline", "AcmeBuckets", "#0"),),
        id="wildcard-resource",
    ),
    pytest.param(
        principal(inline("AcmeBuckets", allow("s3:GetObject", "arn:aws:s3:::acme-*/*"))),
        Resource("arn:aws:s3:::other-pii/x", ACCT),
        None,
        None,
        None,
        None,
        id="wildcard-resource-miss",
    ),
    pytest.param(
        principal(inline("AcmeBuckets", allow("s3:GetObject", "arn:aws:s3:::ACME-*/*"))),
        Resource("arn:aws:s3:::acme-pii/x", ACCT),
        None,
        None,
        None,
        None,
        id="resource-match-is-case-sensitive",
    ),
    pytest.param(
        # AWS example: require MFA / source IP: undecidable, kept and marked.
        principal(
            inline(
                "OfficeOnly",
                allow(
                    "s3:GetObject",
                    OBJECTS,
                    Sid="FromOffice",
                    Condition={
                        "IpAddress": {"aws:SourceIp": "203.0.113.0/24"},
                        "Bool": {"aws:MultiFactorAuthPresent": "true"},
                    },
                ),
            )
        ),
        Resource(OBJECTS, ACCT),
        {"s3:GetObject"},
        "read",
        True,
        (ref("inline", "OfficeOnly", "FromOffice"),),
        id="undecidable-condition-is-conditional",
    ),
    pytest.param(
        principal(
            inline(
                "TeamOnly",
                allow("s3:GetObject", OBJECTS, Condition={"StringEquals": {"aws:PrincipalTag/team": "data"}}),
            ),
            tags={"team": "web"},
        ),
        Resource(OBJECTS, ACCT),
        None,
        None,
        None,
        None,
        id="decidable-principal-tag-false",
    ),
    pytest.param(
        principal(
            inline(
                "TeamOnly",
                allow("s3:GetObject", OBJECTS, Condition={"StringEquals": {"aws:PrincipalTag/team": "data"}}),
            ),
            tags={"team": "data"},
        ),
        Resource(OBJECTS, ACCT),
        {"s3:GetObject"},
        "read",
        False,
        (ref("inline", "TeamOnly", "#0"),),
        id="decidable-principal-tag-true",
    ),
    pytest.param(
        # AWS example: home folder with ${aws:username}: the snapshot knows the user's name.
        principal(inline("HomeDir", allow("s3:GetObject", "arn:aws:s3:::acme-pii/home/${aws:username}/*")), arn=USER),
        Resource("arn:aws:s3:::acme-pii/home/alice/notes.txt", ACCT),
        {"s3:GetObject"},
        "read",
        False,
        (ref("inline", "HomeDir", "#0"),),
        id="policy-variable-username-is-decided",
    ),
    pytest.param(
        # A role session has no aws:username: the variable has no value and matches nothing.
        principal(inline("HomeDir", allow("s3:GetObject", "arn:aws:s3:::acme-pii/home/${aws:username}/*")), arn=ROLE),
        Resource("arn:aws:s3:::acme-pii/home/agent/notes.txt", ACCT),
        None,
        None,
        None,
        (),
        id="policy-variable-without-value-matches-nothing",
    ),
    pytest.param(
        # aws:userid is not in a snapshot: the match stays conditional on it.
        principal(inline("ById", allow("s3:GetObject", "arn:aws:s3:::acme-pii/by-id/${aws:userid}/*")), arn=USER),
        Resource("arn:aws:s3:::acme-pii/by-id/AIDAEXAMPLE/notes.txt", ACCT),
        {"s3:GetObject"},
        "read",
        True,
        (ref("inline", "ById", "#0"),),
        id="policy-variable-unknown-is-conditional",
    ),
    pytest.param(
        principal(
            inline("Everything", allow("*")),
            scps=((PolicyRef("scp", "DenyS3", ""), doc(allow("*"), deny("s3:*", Sid="NoS3"))),),
        ),
        Resource(OBJECTS, ACCT),
        None,
        None,
        None,
        None,
        id="scp-denies-service",
    ),
    pytest.param(
        principal(
            inline("S3Read", allow("s3:GetObject")),
            scps=((PolicyRef("scp", "OnlyEc2", ""), doc(allow("ec2:*"))),),
        ),
        Resource(OBJECTS, ACCT),
        None,
        None,
        None,
        None,
        id="scp-without-allow-denies",
    ),
    pytest.param(
        principal(inline("Pm", allow("iam:PutRolePolicy", f"arn:aws:iam::{ACCT}:role/*"))),
        Resource(
            f"arn:aws:iam::{ACCT}:role/admin",
            ACCT,
            doc({"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}),
        ),
        {"iam:PutRolePolicy"},
        "permissions-management",
        False,
        (ref("inline", "Pm", "#0"),),
        id="iam-put-role-policy-is-permissions-management",
    ),
    pytest.param(
        principal(inline("S3", allow("s3:*"))),
        Resource(
            BUCKET,
            ACCT,
            doc(
                {
                    "Sid": "MaybeDeny",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [BUCKET, OBJECTS],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ),
        ),
        {"s3:ListBucket", "s3:PutBucketPolicy"},
        "permissions-management",
        True,
        (ref("inline", "S3", "#0"),),
        id="undecidable-deny-keeps-allow-conditional",
    ),
]


@pytest.mark.parametrize(("who", "what", "actions", "level", "conditional", "grants"), CASES)
def test_access_cases(ev: AwsEvaluator, who, what, actions, level, conditional, grants) -> None:
    got = ev.access(who, what)
    if actions is None:
        assert got is None
        return
    assert got is not None
    assert actions <= got.actions
    assert got.level == level
    assert got.conditional is conditional
    assert got.grants == grants


def test_condition_keys_reported(ev: AwsEvaluator) -> None:
    p = principal(
        inline(
            "OfficeOnly",
            allow(
                "s3:GetObject",
                OBJECTS,
                Condition={
                    "IpAddress": {"aws:SourceIp": "203.0.113.0/24"},
                    "Bool": {"aws:MultiFactorAuthPresent": "true"},
                },
            ),
        )
    )
    got = ev.access(p, Resource(OBJECTS, ACCT))
    assert got is not None and got.condition_keys == ("aws:MultiFactorAuthPresent", "aws:SourceIp")
    assert got.conditional_actions == {"s3:GetObject"}


def test_policy_variable_keys(ev: AwsEvaluator) -> None:
    p = principal(inline("ById", allow("s3:GetObject", "arn:aws:s3:::acme-pii/by-id/${aws:userid}/*")), arn=USER)
    got = ev.access(p, Resource("arn:aws:s3:::acme-pii/by-id/AIDAX/notes.txt", ACCT))
    assert got is not None and got.condition_keys == ("aws:userid",)
    # Outside the tree the variable cannot make it match.
    assert ev.access(p, Resource("arn:aws:s3:::acme-pii/shared/x", ACCT)) is None
    # ${aws:username} is decided: alice's home only.
    home = principal(inline("HomeDir", allow("s3:GetObject", "arn:aws:s3:::acme-pii/home/${aws:username}/*")), arn=USER)
    assert ev.access(home, Resource("arn:aws:s3:::acme-pii/home/bob/notes.txt", ACCT)) is None
    mine = ev.access(home, Resource("arn:aws:s3:::acme-pii/home/alice/notes.txt", ACCT))
    assert mine is not None and not mine.conditional


def test_undecidable_deny_keys(ev: AwsEvaluator) -> None:
    p = principal(
        inline("S3", allow("s3:GetObject")),
        inline("D", deny("s3:GetObject", Condition={"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}})),
    )
    got = ev.access(p, Resource(OBJECTS, ACCT))
    assert got is not None and got.conditional and got.condition_keys == ("aws:SourceVpce",)


def test_decidable_deny_on_principal_arn(ev: AwsEvaluator) -> None:
    bucket_policy = doc(
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": OBJECTS},
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": OBJECTS,
            "Condition": {"ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCT}:role/ops-*"}},
        },
    )
    assert (
        ev.access(principal(inline("none", allow("sqs:SendMessage"))), Resource(OBJECTS, ACCT, bucket_policy)) is None
    )
    ops = principal(inline("none", allow("sqs:SendMessage")), arn=f"arn:aws:iam::{ACCT}:role/ops-agent")
    got = ev.access(ops, Resource(OBJECTS, ACCT, bucket_policy))
    assert got is not None and got.actions == {"s3:GetObject"} and not got.conditional


def test_trust_policy_names_role_arn(ev: AwsEvaluator) -> None:
    target = f"arn:aws:iam::{ACCT}:role/deployer"
    trust = doc(
        {"Sid": "Agent", "Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": ["sts:AssumeRole", "sts:TagSession"]}
    )
    got = ev.can_assume(principal(inline("none", allow("sqs:SendMessage"))), Resource(target, ACCT, trust))
    assert got is not None
    assert got.actions == {"sts:AssumeRole", "sts:TagSession"}
    assert got.grants == (ref("trust", "trust policy of role/deployer", "Agent"),)


def test_trust_policy_names_account_root(ev: AwsEvaluator) -> None:
    target = f"arn:aws:iam::{ACCT}:role/deployer"
    trust = doc(
        {
            "Sid": "Acct",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCT}:root"},
            "Action": "sts:AssumeRole",
        }
    )
    assert ev.can_assume(principal(inline("none", allow("sqs:SendMessage"))), Resource(target, ACCT, trust)) is None
    p = principal(inline("Assume", allow("sts:AssumeRole", target)))
    got = ev.can_assume(p, Resource(target, ACCT, trust))
    assert got is not None and got.actions == {"sts:AssumeRole"}
    assert got.grants == (ref("inline", "Assume", "#0"), ref("trust", "trust policy of role/deployer", "Acct"))


def test_trust_policy_required_even_with_identity(ev: AwsEvaluator) -> None:
    target = f"arn:aws:iam::{ACCT}:role/deployer"
    trust = doc({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"})
    assert ev.can_assume(principal(inline("Assume", allow("sts:AssumeRole"))), Resource(target, ACCT, trust)) is None
    assert trusted_services(trust) == ["lambda.amazonaws.com"]


def test_cross_account_assume_needs_both(ev: AwsEvaluator) -> None:
    target = f"arn:aws:iam::{OTHER}:role/partner"
    trust = doc({"Effect": "Allow", "Principal": {"AWS": ROLE}, "Action": "sts:AssumeRole"})
    assert ev.can_assume(principal(inline("none", allow("sqs:SendMessage"))), Resource(target, OTHER, trust)) is None
    got = ev.can_assume(principal(inline("Assume", allow("sts:AssumeRole", target))), Resource(target, OTHER, trust))
    assert got is not None


def test_boundary_and_resource_policy_user_vs_role(ev: AwsEvaluator) -> None:
    def bucket(who: str) -> dict:
        return doc({"Effect": "Allow", "Principal": {"AWS": who}, "Action": "s3:GetObject", "Resource": OBJECTS})

    boundary = (PolicyRef("boundary", "OnlyLambda", ""), doc(allow("lambda:*")))
    user = principal(inline("none", allow("sqs:SendMessage")), arn=USER, boundary=boundary)
    role = principal(inline("none", allow("sqs:SendMessage")), boundary=boundary)
    # AWS: a same-account grant to the user ARN is not limited by the boundary; to a role ARN it is.
    assert ev.access(user, Resource(OBJECTS, ACCT, bucket(USER))) is not None
    assert ev.access(role, Resource(OBJECTS, ACCT, bucket(ROLE))) is None


def test_admin_via_star(ev: AwsEvaluator) -> None:
    p = principal((PolicyRef("managed", "arn:aws:iam::aws:policy/AdministratorAccess", ""), doc(allow("*"))))
    got = ev.access(p, Resource(BUCKET, ACCT))
    assert got is not None and got.admin and got.level == "permissions-management"
    wide = ev.account_wide(p, ACCT, "iam")
    assert wide is not None and wide.admin and "iam:CreateAccessKey" in wide.actions
    assert wide.grants == (ref("managed", "arn:aws:iam::aws:policy/AdministratorAccess", "#0"),)


def test_passrole_is_not_admin_and_read_is_not(ev: AwsEvaluator) -> None:
    # iam:PassRole (or CreateAccessKey on every user) is an escalation edge of its own, never admin.
    passrole = principal(inline("PassAny", allow(["iam:PassRole", "iam:CreateAccessKey"])))
    wide = ev.account_wide(passrole, ACCT, "iam")
    assert wide is not None and not wide.admin and wide.level == "write"
    reader = principal(inline("ReadOnly", allow(["s3:Get*", "s3:List*"])))
    got = ev.access(reader, Resource(OBJECTS, ACCT))
    assert got is not None and not got.admin and got.level == "read"


def test_account_wide(ev: AwsEvaluator) -> None:
    p = principal(
        inline("S3All", allow("s3:*", "arn:aws:s3:::*")),
        inline("Tables", allow("dynamodb:GetItem", f"arn:aws:dynamodb:*:{ACCT}:table/orders")),
    )
    s3 = ev.account_wide(p, ACCT, "s3")
    assert s3 is not None and "s3:GetObject" in s3.actions
    assert "s3:ListAllMyBuckets" not in s3.actions  # no resource-level permissions: only Resource "*" grants it
    assert ev.account_wide(p, ACCT, "dynamodb") is None  # only one table: that is a resource node
    assert ev.account_wide(p, OTHER, "s3") is None
    star = principal(inline("List", allow("s3:ListAllMyBuckets")))
    lst = ev.account_wide(star, ACCT, "s3")
    assert lst is not None and lst.actions == {"s3:ListAllMyBuckets"} and lst.level == "list"


def test_bucket_vs_object_actions(ev: AwsEvaluator) -> None:
    p = principal(inline("S3", allow("s3:*", [BUCKET, OBJECTS])))
    b = ev.access(p, Resource(BUCKET, ACCT))
    o = ev.access(p, Resource(OBJECTS, ACCT))
    assert b is not None and o is not None
    assert "s3:ListBucket" in b.actions and "s3:GetObject" not in b.actions
    assert "s3:GetObject" in o.actions and "s3:ListBucket" not in o.actions


def test_not_resource_and_not_principal(ev: AwsEvaluator) -> None:
    p = principal(inline("AllButPii", {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": OBJECTS}))
    assert ev.access(p, Resource(OBJECTS, ACCT)) is None
    assert ev.access(p, Resource("arn:aws:s3:::public/x", ACCT)) is not None
    policy = doc(
        {
            "Effect": "Deny",
            "NotPrincipal": {"AWS": [ROLE, f"arn:aws:iam::{ACCT}:root"]},
            "Action": "s3:*",
            "Resource": OBJECTS,
        }
    )
    reader = principal(inline("S3", allow("s3:GetObject")))
    assert ev.access(reader, Resource(OBJECTS, ACCT, policy)) is not None
    other = principal(inline("S3", allow("s3:GetObject")), arn=f"arn:aws:iam::{OTHER}:role/x", account=OTHER)
    assert ev.access(other, Resource(OBJECTS, ACCT, policy)) is None


def test_kms_key_without_stored_policy_assumes_default(ev: AwsEvaluator) -> None:
    got = ev.access(principal(inline("KmsDecrypt", allow("kms:Decrypt"))), Resource(KEY, ACCT))
    assert got is not None and got.actions == {"kms:Decrypt"}
    assert got.grants[0] == ref("inline", "KmsDecrypt", "#0")
    assert "assumed" in got.grants[1].name


def test_other_resource_kinds(ev: AwsEvaluator) -> None:
    secret = f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:prod/db-AbCdEf"
    fn = f"arn:aws:lambda:us-east-1:{ACCT}:function:summarise"
    table = f"arn:aws:dynamodb:us-east-1:{ACCT}:table/orders"
    p = principal(
        inline(
            "Agent",
            allow("secretsmanager:GetSecretValue", f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:prod/*"),
            allow("lambda:InvokeFunction", fn),
            allow(["dynamodb:GetItem", "dynamodb:Query"], table),
        )
    )
    got = ev.access(p, Resource(secret, ACCT))
    assert got is not None and got.actions == {"secretsmanager:GetSecretValue"} and got.level == "read"
    got = ev.access(p, Resource(fn, ACCT))
    assert got is not None and got.actions == {"lambda:InvokeFunction"}
    got = ev.access(p, Resource(table, ACCT))
    assert got is not None and got.actions == {"dynamodb:GetItem", "dynamodb:Query"}


def test_malformed_documents_never_raise() -> None:
    ev = AwsEvaluator()
    p = principal(
        (
            PolicyRef("inline", "Broken", ""),
            {"Statement": [{"Effect": "Allow", "Action": 5, "Resource": "*"}, allow("s3:GetObject", OBJECTS)]},
        ),
        (PolicyRef("managed", "NotADoc", ""), ["nonsense"]),
        (PolicyRef("inline", "BadEffect", ""), doc({"Effect": "Permit", "Action": "s3:*", "Resource": "*"})),
        (
            PolicyRef("inline", "AsString", ""),
            '{"Statement": {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}}',
        ),
    )
    got = ev.access(p, Resource(OBJECTS, ACCT))
    assert got is not None and {"s3:GetObject", "s3:PutObject"} <= got.actions
    assert len(ev.problems) == 3
    assert any("'Broken'" in line and "#0" in line for line in ev.problems)
    ev.access(p, Resource(OBJECTS, ACCT))
    assert len(ev.problems) == 3  # compiled once, reported once


def test_matchers() -> None:
    assert wildcard_match("s3:get*", "S3:GetObject", case_sensitive=False)
    assert not wildcard_match("s3:Get?", "s3:GetObject")
    assert arn_match("arn:aws:S3:::acme-*/*", "arn:aws:s3:::acme-pii/a/b")
    assert not arn_match("arn:aws:s3:::Acme-*", "arn:aws:s3:::acme-pii")
    assert not arn_match("arn:aws:iam::*:role/x", "arn:aws:iam::1:role/x/y")
    assert not arn_match("arn:aws:s3:*:*:b", "arn:aws:s3:::a:b")  # segment wildcards stay in their segment
    assert arn_match("arn:aws:*", "arn:aws:s3:::b")  # not a six-part ARN: matched as one string


def test_access_record_is_frozen() -> None:
    a = Access(frozenset({"s3:GetObject"}), "read", False, False, (), ())
    with pytest.raises(AttributeError):
        a.level = "write"  # type: ignore[misc]
