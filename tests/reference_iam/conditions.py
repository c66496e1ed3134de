"""The Condition element, from the IAM User Guide (reference_policies_elements_condition,
…_condition_operators, …_multi-value-conditions / condition-logic-multiple-context-keys-or-values):

- operators in one block, and keys under one operator, are ANDed; the values of one key are
  ORed, and for a negated operator (StringNotEquals, ArnNotLike …) NORed;
- "If the key that you specify in a policy condition is not present in the request context,
  the values do not match and the condition is false. If the policy condition requires that
  the key is not matched, such as StringNotLike or ArnNotLike, and the right key is not
  present, the condition is true. This logic applies to all condition operators except
  ...IfExists and Null check";
- ``...IfExists``: a missing key makes the condition true; ``Null``: ``true`` means absent;
- ``ForAllValues``: true if every request value matches some policy value, and true when
  the key is missing or empty; ``ForAnyValue``: true if some request value matches some
  policy value, false when missing or empty;
- String operators and ARN operators take policy variables; ArnEquals and ArnLike behave
  identically (case-sensitive, per colon-delimited component); date values are ISO 8601 or
  epoch seconds; IpAddress takes CIDR blocks.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
from typing import Any, Callable, Mapping

from .matching import Context, arn_like, as_list, glob, tokens

NEGATED = frozenset({
    "StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "NumericNotEquals", "DateNotEquals",
    "NotIpAddress", "ArnNotEquals", "ArnNotLike",
})
WITH_VARIABLES = frozenset({
    "StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "StringLike",
    "StringNotLike", "ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike",
})


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def _date(value: str) -> float | None:
    text = str(value).strip()
    try:
        return float(text)  # epoch seconds
    except ValueError:
        pass
    try:
        parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.timezone.utc)
    return parsed.timestamp()


def _compare(parse: Callable[[str], float | None], test: Callable[[float, float], bool]) -> Callable[..., bool]:
    def match(have: str, want: str, ctx: Context | None) -> bool:
        a, b = parse(have), parse(want)
        return a is not None and b is not None and test(a, b)
    return match


def _literal_equal(have: str, want: str, ctx: Context | None, *, ignore_case: bool = False) -> bool:
    toks = tokens(want, ctx, wildcards=False)
    if toks is None:
        return False
    text = "".join(t for _, t in toks)
    return have.lower() == text.lower() if ignore_case else have == text


def _ip(have: str, want: str, ctx: Context | None) -> bool:
    try:
        return ipaddress.ip_address(have) in ipaddress.ip_network(want, strict=False)
    except ValueError:
        return False


def _binary(have: str, want: str, ctx: Context | None) -> bool:
    try:
        return base64.b64decode(have) == base64.b64decode(want)
    except ValueError:
        return False


# Each base operator as "does one request value match one policy value" (before negation).
_BASE: dict[str, Callable[..., bool]] = {
    "StringEquals": _literal_equal,
    "StringEqualsIgnoreCase": lambda h, w, c: _literal_equal(h, w, c, ignore_case=True),
    "StringLike": lambda h, w, c: glob(w, h, c),
    "NumericEquals": _compare(_number, lambda a, b: a == b),
    "NumericLessThan": _compare(_number, lambda a, b: a < b),
    "NumericLessThanEquals": _compare(_number, lambda a, b: a <= b),
    "NumericGreaterThan": _compare(_number, lambda a, b: a > b),
    "NumericGreaterThanEquals": _compare(_number, lambda a, b: a >= b),
    "DateEquals": _compare(_date, lambda a, b: a == b),
    "DateLessThan": _compare(_date, lambda a, b: a < b),
    "DateLessThanEquals": _compare(_date, lambda a, b: a <= b),
    "DateGreaterThan": _compare(_date, lambda a, b: a > b),
    "DateGreaterThanEquals": _compare(_date, lambda a, b: a >= b),
    "Bool": lambda h, w, c: h.lower() == w.lower(),
    "BinaryEquals": _binary,
    "IpAddress": _ip,
    "ArnEquals": lambda h, w, c: arn_like(w, h, c),
    "ArnLike": lambda h, w, c: arn_like(w, h, c),
}
_POSITIVE_OF = {
    "StringNotEquals": "StringEquals", "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
    "StringNotLike": "StringLike", "NumericNotEquals": "NumericEquals", "DateNotEquals": "DateEquals",
    "NotIpAddress": "IpAddress", "ArnNotEquals": "ArnEquals", "ArnNotLike": "ArnLike",
}


class UnknownOperator(ValueError):
    """A condition operator the User Guide does not define (AWS refuses such a policy)."""


def parse_operator(name: str) -> tuple[str | None, str, bool]:
    """``ForAnyValue:StringLikeIfExists`` -> ("ForAnyValue", "StringLike", True)."""
    qualifier, _, op = name.rpartition(":")
    if qualifier not in ("", "ForAnyValue", "ForAllValues"):
        raise UnknownOperator(name)
    if_exists = op.endswith("IfExists") and op != "IfExists"
    base = op[: -len("IfExists")] if if_exists else op
    if base != "Null" and base not in _BASE and base not in _POSITIVE_OF:
        raise UnknownOperator(name)
    return qualifier or None, base, if_exists


def key_matches(operator: str, key: str, policy_values: Any, ctx: Context, variables: Context | None) -> bool:
    """One ``"Operator": {"key": values}`` pair against the request context."""
    qualifier, base, if_exists = parse_operator(operator)
    wanted = [_text(v) for v in as_list(policy_values)]
    have = [str(v) for v in ctx.get(key.lower(), ())]
    if base == "Null":
        absent = not have
        return any((w == "true") == absent for w in wanted)
    if not have:
        if if_exists:
            return True
        if qualifier == "ForAllValues":
            return True
        if qualifier == "ForAnyValue":
            return False
        return base in NEGATED
    negated = base in NEGATED
    match = _BASE[_POSITIVE_OF.get(base, base)]
    var_ctx = variables if base in WITH_VARIABLES else None

    def one(value: str) -> bool:  # this request value satisfies the operator
        hit = any(match(value, w, var_ctx) for w in wanted)
        return not hit if negated else hit

    if qualifier == "ForAllValues":
        return all(one(v) for v in have)
    if qualifier == "ForAnyValue":
        return any(one(v) for v in have)
    return all(one(v) for v in have) if negated else any(one(v) for v in have)


def condition_matches(block: Mapping[str, Any] | None, ctx: Context, variables: Context | None) -> bool:
    """A whole Condition element: every operator and every key under it must hold."""
    for operator, pairs in (block or {}).items():
        for key, values in (pairs or {}).items():
            if not key_matches(operator, key, values, ctx, variables):
                return False
    return True
