"""Odd IAM policy documents, and one AWS account that holds them beside a clean estate.

The cases follow the grammar of the IAM JSON policy language (AWS IAM User Guide, "Grammar
of the IAM JSON policy language", docs.aws.amazon.com/IAM/latest/UserGuide/
reference_policies_grammar.html): for each element a document may hold (Version, Statement,
Sid, Effect, Principal / NotPrincipal, Action / NotAction, Resource / NotResource,
Condition) a value of a type the grammar does not allow there (a number, a boolean, null, a
list of nulls, an object where a string belongs, nested lists, empty values), the way a
hand-edited document, an old tool or a hostile one hands it over. Each case says which of
its statements are well formed (and must still be evaluated) and which are not (and must be
named in a gap with the reason).

Documents reach the records as the AWS connector hands them over: JSON text through its
``parse_policy`` (a document that is not a JSON object becomes its "unparsed" marker).
Every odd document sits on its own user (inline), a managed policy, a role's trust policy or
a bucket's resource policy of the account ODD; a clean twin of the estate (the same clean
principals without the odd documents) gives the edges a scan must still find.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Iterator

from agentreach_connectors.aws.policies import parse_policy

from agentreach.model import Edge, EdgeKind, Identity, Policy, Record, System, node_id

ODD = "666655554444"
GOOD_STATEMENT = {"Sid": "StillEvaluated", "Effect": "Allow", "Action": "s3:GetObject",
                  "Resource": "arn:aws:s3:::odd-crown-jewels/*"}


@dataclass(frozen=True)
class Case:
    name: str
    document: Any
    bad: tuple[str, ...]  # labels (Sid or #index) of the statements a gap must name; ("*",): the document
    good: tuple[str, ...] = ()  # Sids that must still grant


def _allow(**extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", **extra}


def _with_good(bad: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [bad, GOOD_STATEMENT]}


def _doc(*statements: Any) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


# Values the grammar never allows where a string (or a list of strings) belongs.
WRONG_SCALARS: list[tuple[str, Any]] = [("int", 5), ("float", 1.5), ("true", True), ("null", None),
                                        ("object", {"a": "b"}), ("list-of-null", [None]), ("list-of-int", [5, 6]),
                                        ("nested-list", [["s3:GetObject"]]), ("empty-list", []), ("empty-string", "")]


def identity_cases() -> list[Case]:
    """Documents on users (inline) and managed policies: every element in turn."""
    cases = [
        Case("statement-is-a-string", {"Version": "2012-10-17", "Statement": "Allow everything"}, ("*",)),
        Case("statement-is-a-number", {"Version": "2012-10-17", "Statement": 7}, ("*",)),
        Case("statement-is-null", {"Version": "2012-10-17", "Statement": None}, ("*",)),
        Case("statement-missing", {"Version": "2012-10-17"}, ("*",)),
        Case("document-is-a-list", [_allow()], ("*",)),
        Case("statement-entry-is-a-string", _doc("s3:GetObject", GOOD_STATEMENT), ("#0",), ("StillEvaluated",)),
        Case("statement-entry-is-null", _doc(None, GOOD_STATEMENT), ("#0",), ("StillEvaluated",)),
        Case("statement-entry-is-a-list", _doc([_allow()], GOOD_STATEMENT), ("#0",), ("StillEvaluated",)),
        Case("effect-1", _with_good({"Effect": 1, "Action": "s3:GetObject", "Resource": "*"}), ("#0",),
             ("StillEvaluated",)),
        Case("effect-lowercase", _with_good({"Effect": "allow", "Action": "s3:*", "Resource": "*"}), ("#0",),
             ("StillEvaluated",)),
        Case("effect-missing", _with_good({"Action": "s3:*", "Resource": "*"}), ("#0",), ("StillEvaluated",)),
        Case("action-and-notaction", _with_good({"Effect": "Allow", "Action": "s3:*", "NotAction": "iam:*",
                                                 "Resource": "*"}), ("#0",), ("StillEvaluated",)),
        Case("no-action", _with_good({"Effect": "Allow", "Resource": "*"}), ("#0",), ("StillEvaluated",)),
        Case("resource-and-notresource", _with_good({"Effect": "Allow", "Action": "s3:*", "Resource": "*",
                                                     "NotResource": "arn:aws:s3:::x"}), ("#0",), ("StillEvaluated",)),
        Case("sid-is-a-number", _doc({"Sid": 12, "Effect": "Allow", "Action": 5, "Resource": "*"}, GOOD_STATEMENT),
             ("#0",), ("StillEvaluated",)),
        Case("condition-is-a-string", _with_good(_allow(Condition="aws:SecureTransport")), ("#0",),
             ("StillEvaluated",)),
        Case("condition-values-are-objects", _with_good(_allow(Condition={"StringEquals": {"aws:PrincipalTag/t": {
            "x": 1}}})), ("#0",), ("StillEvaluated",)),
        Case("condition-operator-is-a-list", _with_good(_allow(Condition={"StringEquals": ["aws:username"]})),
             ("#0",), ("StillEvaluated",)),
    ]
    for label, value in WRONG_SCALARS:
        cases.append(Case(f"action-{label}", _with_good({"Effect": "Allow", "Action": value, "Resource": "*"}),
                          ("#0",), ("StillEvaluated",)))
        cases.append(Case(f"resource-{label}", _with_good({"Effect": "Allow", "Action": "s3:*", "Resource": value}),
                          ("#0",), ("StillEvaluated",)))
    return cases


def trust_cases() -> list[Case]:
    """Trust policies of roles: the Principal element in turn."""
    assume = {"Effect": "Allow", "Action": "sts:AssumeRole"}
    good = {"Sid": "StillEvaluated", "Effect": "Allow", "Action": "sts:AssumeRole",
            "Principal": {"AWS": f"arn:aws:iam::{ODD}:user/clean-reader"}}
    return [
        Case("principal-aws-int", _doc({**assume, "Principal": {"AWS": 5}}, good), ("#0",), ("StillEvaluated",)),
        Case("principal-is-a-list", _doc({**assume, "Principal": ["*"]}, good), ("#0",), ("StillEvaluated",)),
        Case("principal-aws-list-of-null", _doc({**assume, "Principal": {"AWS": [None]}}, good), ("#0",),
             ("StillEvaluated",)),
        Case("principal-service-object", _doc({**assume, "Principal": {"Service": {"x": "y"}}}, good), ("#0",),
             ("StillEvaluated",)),
        Case("notprincipal-number", _doc({**assume, "NotPrincipal": 0}, good), ("#0",), ("StillEvaluated",)),
        Case("principal-federated-int", _doc({**assume, "Principal": {"Federated": 5}}, good), ("#0",),
             ("StillEvaluated",)),
        Case("trust-condition-is-a-string", _doc({**assume, "Principal": {"Service": "lambda.amazonaws.com"},
                                                  "Condition": "aws:SourceArn"}, good), ("#0",), ("StillEvaluated",)),
        Case("trust-statement-is-a-number", {"Version": "2012-10-17", "Statement": 5}, ("*",)),
    ]


def resource_cases() -> list[Case]:
    """Bucket policies (resource policies: a Principal is required)."""
    good = {"Sid": "StillEvaluated", "Effect": "Allow", "Action": "s3:GetObject",
            "Principal": {"AWS": f"arn:aws:iam::{ODD}:user/clean-reader"}, "Resource": "arn:aws:s3:::odd-{}/*"}
    return [
        Case("bucket-policy-principal-true", _doc({"Effect": "Allow", "Action": "s3:*", "Principal": True,
                                                    "Resource": "*"}, good), ("#0",), ("StillEvaluated",)),
        Case("bucket-policy-statement-string", {"Version": "2012-10-17", "Statement": "public"}, ("*",)),
        Case("bucket-policy-action-null", _doc({"Effect": "Allow", "Action": None, "Principal": "*",
                                                 "Resource": "*"}, good), ("#0",), ("StillEvaluated",)),
    ]


def all_cases() -> dict[str, list[Case]]:
    return {"inline": identity_cases(), "trust": trust_cases(), "resource": resource_cases()}


def estate(with_odd: bool = True) -> Iterator[Record]:
    """The account: clean principals that reach a crown-jewel bucket, and (``with_odd``) one
    user per odd identity document (inline), a managed policy attached to a user for a few of
    them, one role per odd trust policy and one bucket per odd bucket policy."""
    arn = f"arn:aws:iam::{ODD}"
    yield System(id=node_id("aws", "account", ODD), provider="aws", source="aws", type="aws_account", name="odd",
                 native_id=ODD, account=ODD)
    jewels = "arn:aws:s3:::odd-crown-jewels"
    yield System(id=node_id("aws", "s3_bucket", jewels), provider="aws", source="aws", type="aws_s3_bucket",
                 name="odd-crown-jewels", native_id=jewels, account=ODD, region="us-east-1")
    reader = _user("clean-reader", [{"name": "read-jewels", "document": _doc(GOOD_STATEMENT)}])
    yield reader
    yield _role("clean-role", _doc({"Effect": "Allow", "Action": "sts:AssumeRole",
                                    "Principal": {"AWS": f"{arn}:user/clean-reader"}}), [
        {"name": "all-s3", "document": _doc({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})}])
    if not with_odd:
        return
    for i, case in enumerate(all_cases()["inline"]):
        user = _user(f"odd-{case.name}", [{"name": f"odd-{case.name}", "document": _as_read(case.document)}])
        yield user
        if i % 6 == 0:  # the same document as a managed policy, attached to the user too
            pol_arn = f"{arn}:policy/managed-{case.name}"
            pid = node_id("aws", "iam_policy", pol_arn)
            yield Policy(id=pid, provider="aws", source="aws", type="aws_iam_policy", name=f"managed-{case.name}",
                         native_id=pol_arn, account=ODD, document=_as_read(case.document))
            yield Edge(src=user.id, dst=pid, kind=EdgeKind.HAS_POLICY, source="aws", key="managed",
                       attrs={"attachment": "managed", "policy_arn": pol_arn})
    for case in all_cases()["trust"]:
        yield _role(f"odd-{case.name}", _as_read(case.document), [])
    for case in all_cases()["resource"]:
        bucket = f"arn:aws:s3:::odd-{case.name}"
        doc = _as_read(_replace(case.document, "{}", case.name))
        yield System(id=node_id("aws", "s3_bucket", bucket), provider="aws", source="aws", type="aws_s3_bucket",
                     name=f"odd-{case.name}", native_id=bucket, account=ODD, region="us-east-1", resource_policy=doc)


def odd_users() -> list[str]:
    return [f"odd-{c.name}" for c in all_cases()["inline"]]


def _user(name: str, inline: list[dict[str, Any]]) -> Identity:
    arn = f"arn:aws:iam::{ODD}:user/{name}"
    return Identity(id=node_id("aws", "iam_user", arn), provider="aws", source="aws", type="aws_iam_user", name=name,
                    native_id=arn, account=ODD, attrs={"inline_policies": inline})


def _role(name: str, trust: Any, inline: list[dict[str, Any]]) -> Identity:
    arn = f"arn:aws:iam::{ODD}:role/{name}"
    return Identity(id=node_id("aws", "iam_role", arn), provider="aws", source="aws", type="aws_iam_role", name=name,
                    native_id=arn, account=ODD, attrs={"trust_policy": trust, "inline_policies": inline})


def _as_read(document: Any) -> Any:
    """The document as the AWS connector stores it: its JSON text parsed by ``parse_policy``."""
    return parse_policy(json.dumps(document), "the odd estate")


def _replace(value: Any, old: str, new: str) -> Any:
    if isinstance(value, str):
        return value.replace(old, new)
    if isinstance(value, list):
        return [_replace(v, old, new) for v in value]
    if isinstance(value, dict):
        return {k: _replace(v, old, new) for k, v in value.items()}
    return value
