"""Matching a request against one statement's Action, Resource and Principal elements, and
resolving policy variables. Written from the IAM User Guide's element pages, not from
agentreach's evaluator:

- Action: "The prefix and the action name are case insensitive" (IAM JSON policy elements:
  Action, reference_policies_elements_action).
- Resource (…_elements_resource, current page): wildcards "within the individual segments
  of an ARN (the parts separated by colons)"; "If the wildcard (*) is the last character of a
  resource ARN segment, it can expand to match beyond colon boundaries"; "*" "can expand to
  replace everything within a segment, including characters like a forward slash (/)";
  "In the Resource element, the IAM user name is case sensitive".
- ARN condition operators: "ArnEquals, ArnLike: Case-sensitive matching of the ARN. Each of
  the six colon-delimited components of the ARN is checked separately and each can include
  multi-character match wildcards (*) or single-character match wildcards (?)"
  (reference_policies_elements_condition_operators).
- Principal: an account id and ``arn:aws:iam::ACCOUNT:root`` "behave the same way. Both
  delegate permissions to the account"; "You cannot use a wildcard to match part of a
  principal name or ARN" (reference_policies_elements_principal).
- Policy variables (reference_policies_variables): ``${key}`` and ``${key, 'default'}``,
  key names case-insensitive, ``${*}``, ``${?}``, ``${$}`` for literal characters; only
  with ``"Version": "2012-10-17"``; a variable with no value makes the element not match.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Iterable, Mapping, Sequence

Context = Mapping[str, Sequence[str]]  # lower-case key -> values

_VAR = re.compile(r"\$\{([^}]*)\}")
_SPECIAL = {"*": "*", "?": "?", "$": "$"}

# A pattern is a list of tokens: ("lit", text) | ("star", "") | ("one", "").
Token = tuple[str, str]


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def tokens(pattern: str, ctx: Context | None, *, wildcards: bool = True) -> list[Token] | None:
    """The pattern as tokens, variables resolved (``ctx`` None: no variables, as in a
    policy of version 2008-10-17). None when a variable has no value."""
    out: list[Token] = []
    pos = 0
    while pos < len(pattern):
        m = _VAR.match(pattern, pos) if ctx is not None else None
        if m:
            value = resolve(m.group(1), ctx)
            if value is None:
                return None
            out.append(("lit", value))
            pos = m.end()
            continue
        ch = pattern[pos]
        if wildcards and ch == "*":
            out.append(("star", ""))
        elif wildcards and ch == "?":
            out.append(("one", ""))
        else:
            out.append(("lit", ch))
        pos += 1
    return out


def resolve(body: str, ctx: Context) -> str | None:
    """``aws:username`` or ``aws:PrincipalTag/team, 'company-wide'`` -> its value."""
    key, _, default = body.partition(",")
    key = key.strip()
    if key in _SPECIAL:
        return _SPECIAL[key]
    values = ctx.get(key.lower())
    if values and len(values) == 1:
        return values[0]
    default = default.strip()
    if len(default) >= 2 and default[0] == default[-1] == "'":
        return default[1:-1]
    return None


def to_regex(toks: Iterable[Token], *, ignore_case: bool = False) -> re.Pattern[str]:
    parts = [".*" if k == "star" else "." if k == "one" else re.escape(t) for k, t in toks]
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def glob(pattern: str, value: str, ctx: Context | None, *, ignore_case: bool = False) -> bool:
    if ctx is None or "${" not in pattern:
        return _plain_glob(pattern, ignore_case).fullmatch(value) is not None
    toks = tokens(pattern, ctx)
    return toks is not None and to_regex(toks, ignore_case=ignore_case).fullmatch(value) is not None


@lru_cache(maxsize=8192)
def _plain_glob(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """A pattern without variables compiles once (the same policies are asked about often)."""
    return to_regex(tokens(pattern, None) or [], ignore_case=ignore_case)


def _segments(toks: list[Token]) -> list[list[Token]]:
    """Split on the first five literal colons: an ARN has six components, the last of
    which may itself hold colons."""
    segs: list[list[Token]] = [[]]
    for kind, text in toks:
        if kind == "lit" and text == ":" and len(segs) < 6:
            segs.append([])
        else:
            segs[-1].append((kind, text))
    return segs


def arn_like(pattern: str, arn: str, ctx: Context | None) -> bool:
    """ArnLike / ArnEquals: six components, each glob-matched on its own, case-sensitive."""
    toks = tokens(pattern, ctx)
    if toks is None:
        return False
    if toks == [("star", "")]:
        return True
    want = _segments(toks)
    have = arn.split(":", 5)
    if len(want) != 6 or len(have) != 6:
        return False
    return all(to_regex(w).fullmatch(h) is not None for w, h in zip(want, have, strict=True))


def resource_like(pattern: str, arn: str, ctx: Context | None) -> bool:
    """The Resource element: ``*`` and ``?`` stay within a colon-separated segment, except a
    ``*`` that ends a segment, which may run on past colons. Case-sensitive."""
    if ctx is None or "${" not in pattern:
        return _plain_resource(pattern).fullmatch(arn) is not None
    toks = tokens(pattern, ctx)
    return toks is not None and _resource_regex(toks).fullmatch(arn) is not None


@lru_cache(maxsize=8192)
def _plain_resource(pattern: str) -> re.Pattern[str]:
    return _resource_regex(tokens(pattern, None) or [])


def _resource_regex(toks: list[Token]) -> re.Pattern[str]:
    parts = []
    for i, (kind, text) in enumerate(toks):
        if kind == "star":
            ends_segment = i + 1 == len(toks) or toks[i + 1] == ("lit", ":")
            parts.append(".*" if ends_segment else "[^:]*")
        else:
            parts.append("[^:]" if kind == "one" else re.escape(text))
    return re.compile("".join(parts), re.DOTALL)


def action_matches(patterns: Iterable[str], action: str) -> bool:
    return any(glob(p, action, None, ignore_case=True) for p in patterns)


def resource_matches(patterns: Iterable[str], arn: str, ctx: Context | None) -> bool:
    return any(resource_like(p, arn, ctx) for p in patterns)


def account_of(value: str) -> str | None:
    """``123456789012`` or ``arn:aws:iam::123456789012:root`` -> the account; else None."""
    if re.fullmatch(r"\d{12}", value):
        return value
    m = re.fullmatch(r"arn:aws:iam::(\d{12}):root", value)
    return m.group(1) if m else None


def principal_values(spec: Any) -> list[str]:
    """The AWS principals a Principal/NotPrincipal element names ("*" for everyone)."""
    if spec == "*":
        return ["*"]
    if isinstance(spec, Mapping):
        return [str(v) for v in as_list(spec.get("AWS"))]
    return []
