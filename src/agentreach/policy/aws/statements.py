"""Policy documents compiled once into statements the evaluator can test quickly.

A document is parsed, validated and indexed by service prefix the first time it is seen,
so the evaluator's per-(principal, resource) work is a few set operations.  A malformed
statement is skipped and described in ``problems`` rather than raising: a scan of a large
estate must not lose everything it gathered because one policy is odd.

Each document is validated on its own (:func:`validate_document`), whatever the evaluation
later asks of it: a deriver validates every document of a snapshot up front, so a statement
no question ever reaches is still named (its policy, its owner, its Sid or index, and why),
and the readers that only skim documents (:func:`statement_list`, :func:`strings`) never
trip over a value of the wrong type.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .conditions import CompiledCondition, compile_condition
from .matching import policy_variables, strip_policy_variables, wildcard_match
from .model import PolicyRef

__all__ = [
    "CompiledDocument",
    "DocumentProblem",
    "PrincipalSpec",
    "Statement",
    "compile_document",
    "statement_list",
    "strings",
    "trusted_services",
    "validate_document",
]

STAR = "star"  # Principal "*": anyone, our principal included
ARN = "arn"  # names this principal's ARN
ACCOUNT = "account"  # names this principal's account (root ARN or bare id)


@dataclass(frozen=True, slots=True)
class PrincipalSpec:
    """The AWS part of a ``Principal``/``NotPrincipal``; services and federations kept apart."""

    star: bool = False
    aws: frozenset[str] = frozenset()
    services: tuple[str, ...] = ()
    federated: tuple[str, ...] = ()

    def match(self, arn: str, account: str) -> str | None:
        """How this spec names the principal: STAR, ARN, ACCOUNT or None."""
        if self.star:
            return STAR
        if arn in self.aws:
            return ARN
        if account in self.aws or f"arn:aws:iam::{account}:root" in self.aws:
            return ACCOUNT
        for entry in self.aws:  # other partitions: arn:aws-cn:iam::ACCT:root
            if entry.endswith(f":iam::{account}:root"):
                return ACCOUNT
        return None

    def spares(self, arn: str, account: str) -> bool:
        """Does a ``NotPrincipal`` of this spec leave the principal out? Only when it lists
        both the principal's own ARN and its account (IAM User Guide, NotPrincipal: "you must
        also specify the account ARN of the not-denied principal"; for a role "both the ARN
        for a role and the ARN for the account containing that role"), or everyone."""
        if self.star:
            return True
        if arn not in self.aws:
            return False
        return account in self.aws or any(e.endswith(f":iam::{account}:root") for e in self.aws)


@dataclass(slots=True)
class Statement:
    ref: PolicyRef
    allow: bool
    actions: tuple[str, ...]  # lowercased patterns
    not_action: bool
    resources: tuple[str, ...] | None  # None: element absent (trust policies)
    not_resource: bool
    resource_keys: tuple[str, ...]  # policy variables found in the resource patterns
    resource_patterns: tuple[tuple[str, bool], ...]  # (pattern with variables as "*", had variables)
    raw_resources: tuple[str, ...]  # the patterns as written, variables unresolved
    principal: PrincipalSpec | None  # None: element absent (identity policies)
    not_principal: bool
    condition: CompiledCondition
    star_star: bool  # Allow "*" on "*"
    star_resource: bool  # Resource is "*" (what actions without resource-level permissions need)
    action_cache: dict[str, frozenset[str]] = field(default_factory=dict)

    def relevant_to(self, service: str) -> bool:
        if self.not_action:
            return True
        for pattern in self.actions:
            svc = pattern.partition(":")[0]
            if pattern.strip("*") == "" or wildcard_match(svc, service, False):
                return True
        return False


@dataclass(slots=True)
class CompiledDocument:
    statements: tuple[Statement, ...]
    by_service: dict[str, tuple[Statement, ...]] = field(default_factory=dict)

    def for_service(self, service: str) -> tuple[Statement, ...]:
        hit = self.by_service.get(service)
        if hit is None:
            hit = tuple(s for s in self.statements if s.relevant_to(service))
            self.by_service[service] = hit
        return hit


def _strings(value: Any, what: str) -> tuple[str, ...]:
    vals = value if isinstance(value, list) else [value]
    if not vals or not all(isinstance(v, str) and v for v in vals):
        odd = value if not isinstance(value, list) or not value else next(
            (v for v in value if not (isinstance(v, str) and v)), value)
        what_is = "an empty list" if value == [] else "an empty string" if odd == "" else _kind(odd)
        held = "holds" if isinstance(value, list) and value else "is"
        raise ValueError(f"{what} {held} {what_is}, not a string or a list of strings")
    return tuple(vals)


def _principal(value: Any, what: str = "Principal") -> PrincipalSpec:
    if value == "*":
        return PrincipalSpec(star=True)
    if not isinstance(value, dict):
        raise ValueError(f'{what} is {_kind(value)}, not "*" or an object')
    star = False
    aws: set[str] = set()
    services: list[str] = []
    federated: list[str] = []
    for kind, raw in value.items():
        vals = _strings(raw, f"{what}.{kind}")
        if kind == "AWS":
            for v in vals:
                if v == "*":
                    star = True
                else:
                    aws.add(v)
        elif kind == "Service":
            services.extend(vals)
        elif kind == "Federated":
            federated.extend(vals)
        # CanonicalUser and others never name an IAM user or role.
    return PrincipalSpec(star, frozenset(aws), tuple(services), tuple(federated))


def _statement(raw: Any, ref: PolicyRef, variables: bool = True) -> Statement:
    if not isinstance(raw, dict):
        raise ValueError(f"the statement is {_kind(raw)}, not an object")
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise ValueError(f"Effect is {effect!r}, not Allow or Deny" if "Effect" in raw else "it has no Effect")
    if "Sid" in raw and not isinstance(raw["Sid"], str):
        raise ValueError(f"Sid is {_kind(raw['Sid'])}, not a string")
    if ("Action" in raw) == ("NotAction" in raw):
        raise ValueError("it needs exactly one of Action and NotAction")
    not_action = "NotAction" in raw
    actions = tuple(a.lower() for a in _strings(raw["NotAction" if not_action else "Action"], "Action"))
    if "Resource" in raw and "NotResource" in raw:
        raise ValueError("it has both Resource and NotResource")
    not_resource = "NotResource" in raw
    resources: tuple[str, ...] | None = None
    keys: list[str] = []
    if "Resource" in raw or not_resource:
        patterns = _strings(raw["NotResource" if not_resource else "Resource"], "Resource")
        resources = tuple(patterns)
        for p in patterns if variables else ():
            for k in policy_variables(p):
                if k not in keys:
                    keys.append(k)
    if "Principal" in raw and "NotPrincipal" in raw:
        raise ValueError("it has both Principal and NotPrincipal")
    not_principal = "NotPrincipal" in raw
    principal = None
    if "Principal" in raw or not_principal:
        element = "NotPrincipal" if not_principal else "Principal"
        principal = _principal(raw[element], element)
    condition = compile_condition(raw.get("Condition"), variables)
    star_star = (
        effect == "Allow"
        and not not_action
        and any(a.strip("*") in ("", ":") for a in actions)
        and not not_resource
        and resources is not None
        and "*" in resources
        and condition.constant is not None
        and condition.constant.state == 2
    )
    return Statement(
        ref=ref,
        allow=effect == "Allow",
        actions=actions,
        not_action=not_action,
        resources=resources,
        not_resource=not_resource,
        resource_keys=tuple(keys),
        resource_patterns=tuple((strip_policy_variables(p), bool(policy_variables(p))) if variables else (p, False)
                                for p in resources or ()),
        raw_resources=tuple(resources or ()),
        principal=principal,
        not_principal=not_principal,
        condition=condition,
        star_star=star_star,
        star_resource=resources is not None and not not_resource and any(p.strip("*") == "" for p in resources),
    )


class DocumentProblem(str):
    """One line naming a malformed document or statement and why it was skipped. A deriver
    that validated every document up front (:func:`validate_document`, with the owner named)
    leaves the evaluator's own copies of these lines out."""


def _statements_of(document: Any) -> list[Any]:
    if isinstance(document, str):
        document = json.loads(document)
    if not isinstance(document, dict):
        raise ValueError(f"the document is {_kind(document)}, not an object")
    if document.get("_unparsed"):  # the connector's marker for text that did not parse
        raise ValueError("its text is not a JSON object")
    body = document.get("Statement")
    if isinstance(body, dict):
        return [body]
    if isinstance(body, list):
        return body
    if "Statement" not in document:
        raise ValueError("it has no Statement")
    raise ValueError(f"Statement is {_kind(body)}, not an object or a list")


def _kind(value: Any) -> str:
    """``a string``, ``the number 5``, ``null``: what a value is, in a problem line."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, (int, float)):
        return f"the number {value!r}"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an object" if isinstance(value, dict) else type(value).__name__


def _where(ref: PolicyRef, owner: str) -> str:
    """The policy as a problem line names it: its kind and name, and whose it is."""
    if ref.kind in ("trust", "resource"):
        return ref.name + (f" ({owner})" if owner and owner not in ref.name else "")
    kind = ref.kind.replace("-", " ")
    return f"{kind} policy {ref.name!r}" + (f" of {owner}" if owner else "")


def compile_document(ref: PolicyRef, document: Any, problems: list[str], owner: str = "") -> CompiledDocument:
    """Compile every well-formed statement; describe each malformed one in ``problems``
    (naming ``owner``, the principal or resource the document belongs to, when given)."""
    where = _where(ref, owner)
    try:
        raws = _statements_of(document)
    except (ValueError, TypeError) as exc:
        problems.append(DocumentProblem(f"{where}: skipped: {exc}"))
        return CompiledDocument(())
    out: list[Statement] = []
    # Policy variables are substituted only in policies of version 2012-10-17 (reference_policies_variables).
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            pass
    variables = isinstance(document, dict) and document.get("Version") == "2012-10-17"
    for index, raw in enumerate(raws):
        sid = raw.get("Sid") if isinstance(raw, dict) else None
        label = sid if isinstance(sid, str) and sid else f"#{index}"
        sref = PolicyRef(ref.kind, ref.name, label)
        try:
            out.append(_statement(raw, sref, variables))
        except (ValueError, TypeError, AttributeError) as exc:
            problems.append(DocumentProblem(f"{where}: statement {label} skipped: {exc}"))
        except Exception as exc:  # noqa: BLE001 - one odd statement never costs the others
            problems.append(DocumentProblem(f"{where}: statement {label} skipped: {type(exc).__name__}: {exc}"))
    return CompiledDocument(tuple(out))


def validate_document(ref: PolicyRef, document: Any, owner: str = "") -> list[str]:
    """The problem lines of one document, on its own: what :func:`compile_document` skips."""
    problems: list[str] = []
    compile_document(ref, document, problems, owner)
    return problems


def statement_list(document: Any) -> list[dict[str, Any]]:
    """The statements of a document that are objects, for readers that only skim (which
    services a policy names, which principals); never raises, whatever the document holds."""
    body = document.get("Statement") if isinstance(document, dict) else None
    entries = [body] if isinstance(body, dict) else body if isinstance(body, list) else []
    return [s for s in entries if isinstance(s, dict)]


def strings(value: Any) -> list[str]:
    """The strings of a string-or-list element (Action, Resource, Principal.AWS); values of
    another type are left out (the statement holding them is skipped when compiled)."""
    items = value if isinstance(value, list) else [value]
    return [v for v in items if isinstance(v, str)]


def trusted_services(policy: Any) -> list[str]:
    """Service principals (``lambda.amazonaws.com``) an Allow in a trust/resource policy names."""
    out: list[str] = []
    try:
        raws = _statements_of(policy)
    except (ValueError, TypeError):
        return out
    for raw in raws:
        if not isinstance(raw, dict) or raw.get("Effect") != "Allow" or not isinstance(raw.get("Principal"), dict):
            continue
        raw_services = raw["Principal"].get("Service")
        try:
            services = _strings(raw_services, "Service") if raw_services else ()
        except ValueError:
            continue
        for s in services:
            if s not in out:
                out.append(s)
    return out
