"""Condition blocks: decide what is known, report the rest as undecidable with its keys.

Known are the facts a snapshot holds about the principal and the resource
(``aws:PrincipalArn``, ``aws:PrincipalAccount``, ``aws:PrincipalType``, ``aws:PrincipalTag/<k>``,
``aws:username`` for an IAM user, ``aws:ResourceAccount``) and what the request context
states (:class:`agentreach.policy.context.RequestContext`: ``aws:SecureTransport`` by default,
``aws:MultiFactorAuthPresent`` or ``aws:SourceIp`` when a user says so, the current time
for ``aws:CurrentTime`` / ``aws:EpochTime``). Everything else (``kms:ViaService``,
``s3:prefix``, ``aws:SourceArn`` …) depends on a request nobody described, so the
statement is kept and the result is conditional with those keys. The evaluator never guesses.

The semantics are the IAM User Guide's (reference_policies_elements_condition_operators,
reference_policies_condition-single-vs-multi-valued-context-keys, reference_policies_variables):

- operators in a block and keys under an operator are ANDed, a key's values ORed (NORed
  for a negated operator);
- a key absent from the request fails a positive operator and satisfies a negated one;
  ``...IfExists`` is true when it is absent; ``Null: true`` means absent;
- ``ForAllValues:`` holds when every request value matches (and when the key is absent),
  ``ForAnyValue:`` when some does (never when absent);
- ARN operators (``ArnEquals``/``ArnLike`` and negations) compare each of the six
  colon-separated components on its own, case-sensitively, the service too;
- string and ARN operators resolve policy variables (``${aws:username}``,
  ``${aws:PrincipalTag/team, 'default'}``, ``${*}``) in policies of version 2012-10-17; a
  variable without a value makes that value match nothing.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Mapping

from ..context import RequestContext

__all__ = ["FALSE", "TRUE", "UNKNOWN", "CondResult", "ConditionContext", "compile_condition", "evaluate_condition",
           "SNAPSHOT_KEYS"]

TRUE = 2
UNKNOWN = 1
FALSE = 0

# Keys every (principal, resource) pair of a snapshot answers.
SNAPSHOT_KEYS = frozenset({"aws:principalarn", "aws:principalaccount", "aws:principaltype", "aws:resourceaccount",
                           "aws:username"})
TAG_PREFIX = "aws:principaltag/"
TIME_KEYS = frozenset({"aws:currenttime", "aws:epochtime"})
_VAR = re.compile(r"\$\{([^}]*)\}")
_ESCAPES = {"*": "*", "?": "?", "$": "$"}
_NEGATED_OF = {
    "stringnotequals": "stringequals", "stringnotequalsignorecase": "stringequalsignorecase",
    "stringnotlike": "stringlike", "numericnotequals": "numericequals", "datenotequals": "dateequals",
    "notipaddress": "ipaddress", "arnnotequals": "arnequals", "arnnotlike": "arnlike",
}
_WITH_VARIABLES = frozenset({"stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike"})


@dataclass(frozen=True, slots=True)
class CondResult:
    state: int  # TRUE / UNKNOWN / FALSE
    keys: tuple[str, ...] = ()


ALWAYS = CondResult(TRUE)
NEVER = CondResult(FALSE)


@dataclass(frozen=True, slots=True)
class Clause:
    qualifier: str | None  # "foranyvalue" | "forallvalues" | None
    base: str  # lower-case positive operator (StringNotLike -> stringlike), or "null"
    negated: bool
    if_exists: bool
    key: str  # as written
    lkey: str
    values: tuple[str, ...]
    variables: tuple[str, ...]  # lower-case keys named by ${...} in the values (resolved)
    supported: bool  # an operator the IAM User Guide defines


@dataclass(frozen=True, slots=True)
class CompiledCondition:
    clauses: tuple[Clause, ...]
    keys: frozenset[str]  # every lower-case key a clause reads (variables included)
    # The answer when nothing about the request is stated: ALWAYS for no condition, UNKNOWN
    # with its keys when no clause reads a snapshot fact, else None (decide per pair).
    constant: CondResult | None


class ConditionContext:
    """What is known for one (principal, resource) pair and one request: lower-case key ->
    values (``()``: known to be absent); a key not known at all is undecidable."""

    __slots__ = ("_request", "_tags", "_values", "request_keys")

    def __init__(self, values: Mapping[str, str | None], tags: Mapping[str, str],
                 request: RequestContext | None = None) -> None:
        self._values = {k.lower(): (() if v is None else (str(v),)) for k, v in values.items()}
        self._tags = {k.lower(): str(v) for k, v in tags.items()}
        self._request = request
        self.request_keys = request.decided_keys if request is not None else frozenset()

    def lookup(self, lkey: str) -> tuple[str, ...] | None:
        if lkey in self._values:
            return self._values[lkey]
        if lkey.startswith(TAG_PREFIX) and len(lkey) > len(TAG_PREFIX):
            tag = self._tags.get(lkey[len(TAG_PREFIX):])
            return () if tag is None else (tag,)
        request = self._request
        if request is None:
            return None
        stated = request.stated(lkey)
        if stated is not None:
            return stated
        if request.now is not None and lkey in TIME_KEYS:
            now = request.now
            return (now.isoformat().replace("+00:00", "Z"),) if lkey == "aws:currenttime" \
                else (str(int(now.timestamp())),)
        return None


def _known_from_snapshot(lkey: str) -> bool:
    return lkey in SNAPSHOT_KEYS or (lkey.startswith(TAG_PREFIX) and len(lkey) > len(TAG_PREFIX))


def variable_keys(value: str) -> tuple[str, ...]:
    """Lower-case keys named by ``${...}`` variables (escapes left out)."""
    out: list[str] = []
    for inner in _VAR.findall(value):
        key = inner.split(",", 1)[0].strip()
        if key and key not in _ESCAPES and key.lower() not in out:
            out.append(key.lower())
    return tuple(out)


def compile_condition(block: Any, variables: bool = True) -> CompiledCondition:
    """Parse a ``Condition`` element; raises ValueError on a malformed one. ``variables``:
    the policy's version substitutes policy variables (2012-10-17)."""
    if block is None:
        return CompiledCondition((), frozenset(), ALWAYS)
    if not isinstance(block, dict):
        raise ValueError("Condition is not an object")
    clauses: list[Clause] = []
    for op_raw, body in block.items():
        if not isinstance(op_raw, str) or not isinstance(body, dict):
            raise ValueError(f"Condition operator {op_raw!r} is not an object")
        qualifier, _, op = op_raw.lower().rpartition(":")
        if qualifier not in ("", "foranyvalue", "forallvalues"):
            qualifier, op = "", op_raw.lower()
        if_exists = op.endswith("ifexists") and op != "ifexists"
        base = op[: -len("ifexists")] if if_exists else op
        negated = base in _NEGATED_OF
        positive = _NEGATED_OF.get(base, base)
        supported = positive == "null" or positive in _MATCH
        for key, raw in body.items():
            if not isinstance(key, str):
                raise ValueError("Condition key is not a string")
            vals = raw if isinstance(raw, list) else [raw]
            if not all(isinstance(v, (str, bool, int, float)) for v in vals):
                raise ValueError(f"Condition values for {key} are not scalars")
            values = tuple(str(v).lower() if isinstance(v, bool) else str(v) for v in vals)
            names: tuple[str, ...] = ()
            if variables and positive in _WITH_VARIABLES:
                names = tuple(dict.fromkeys(k for v in values for k in variable_keys(v)))
            clauses.append(Clause(qualifier or None, positive, negated, if_exists, key, key.lower(), values, names,
                                  supported))
    keys = frozenset(k for c in clauses for k in (c.lkey, *c.variables))
    if not clauses:
        return CompiledCondition((), keys, ALWAYS)
    if not any(_known_from_snapshot(k) for k in keys):
        return CompiledCondition(tuple(clauses), keys, CondResult(UNKNOWN, _unknown_keys(clauses, None)))
    return CompiledCondition(tuple(clauses), keys, None)


def _unknown_keys(clauses: tuple[Clause, ...] | list[Clause], ctx: ConditionContext | None) -> tuple[str, ...]:
    out: list[str] = []
    for c in clauses:
        for k, lk in ((c.key, c.lkey), *((v, v) for v in c.variables)):
            unknown = ctx is None or ctx.lookup(lk) is None or (not c.supported and lk == c.lkey)
            if unknown and k not in out:
                out.append(k)
    return tuple(out)


# -- matching one request value against one policy value --------------------------------------

def _resolve(value: str, ctx: ConditionContext) -> list[tuple[bool, str]] | None:
    """The value as (is_literal, text) pieces with variables substituted; None when a
    variable has no value."""
    out: list[tuple[bool, str]] = []
    pos = 0
    for m in _VAR.finditer(value):
        if m.start() > pos:
            out.append((False, value[pos:m.start()]))
        key, _, default = m.group(1).partition(",")
        key = key.strip()
        if key in _ESCAPES:
            out.append((True, _ESCAPES[key]))
        else:
            got = ctx.lookup(key.lower())
            default = default.strip()
            if got and len(got) == 1:
                out.append((True, got[0]))
            elif len(default) >= 2 and default[0] == default[-1] == "'":
                out.append((True, default[1:-1]))
            else:
                return None
        pos = m.end()
    if pos < len(value):
        out.append((False, value[pos:]))
    return out


def _tokens(pieces: list[tuple[bool, str]], wildcards: bool) -> list[tuple[str, str]]:
    """(kind, char) with kind ``lit``, ``star`` or ``one``; a variable's value is all literal."""
    out: list[tuple[str, str]] = []
    for literal, text in pieces:
        for ch in text:
            if wildcards and not literal and ch == "*":
                out.append(("star", ch))
            elif wildcards and not literal and ch == "?":
                out.append(("one", ch))
            else:
                out.append(("lit", ch))
    return out


def _safe_regex(tokens: list[tuple[str, str]]) -> str:
    """The glob as a regex that never backtracks across a ``*`` (as matching._compile does):
    each run between two stars is placed at its first fit inside an atomic group, so a
    hostile value such as ``*?*?*?…!`` costs O(len(pattern) * len(value))."""
    runs: list[list[tuple[str, str]]] = [[]]
    for kind, ch in tokens:
        if kind == "star":
            runs.append([])
        else:
            runs[-1].append((kind, ch))

    def chunk(run: list[tuple[str, str]]) -> str:
        return "".join("." if kind == "one" else re.escape(ch) for kind, ch in run)

    if len(runs) == 1:
        return chunk(runs[0])
    head, *middle, tail = runs
    return chunk(head) + "".join(f"(?>.*?{chunk(run)})" for run in middle) + ".*" + chunk(tail)


@lru_cache(maxsize=16384)
def _plain(value: str, wildcards: bool, ignore_case: bool) -> re.Pattern[str]:
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile(_safe_regex(_tokens([(False, value)], wildcards)), flags)


def _pieces_match(pieces: list[tuple[bool, str]], have: str, wildcards: bool, ignore_case: bool) -> bool:
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.fullmatch(_safe_regex(_tokens(pieces, wildcards)), have, flags) is not None


def _string(want: str, have: str, ctx: ConditionContext, variables: bool, wildcards: bool, ignore_case: bool) -> bool:
    if not variables or "${" not in want:
        if not wildcards:
            return have.lower() == want.lower() if ignore_case else have == want
        return _plain(want, True, ignore_case).fullmatch(have) is not None
    pieces = _resolve(want, ctx)
    return pieces is not None and _pieces_match(pieces, have, wildcards, ignore_case)


def arn_like(want: str, have: str, ctx: ConditionContext | None = None, variables: bool = False) -> bool:
    """ArnLike / ArnEquals: each of the six components glob-matched on its own, case-sensitive
    (the service component too). Only the policy value's own colons separate components; a
    variable's value is one literal."""
    if want == "*":
        return True
    if variables and ctx is not None and "${" in want:
        pieces = _resolve(want, ctx)
        if pieces is None:
            return False
    else:
        pieces = [(False, want)]
    segments: list[list[tuple[bool, str]]] = [[]]
    for literal, text in pieces:
        if literal:
            segments[-1].append((True, text))
            continue
        for i, chunk in enumerate(text.split(":")):
            if i and len(segments) < 6:
                segments.append([])
            elif i:
                segments[-1].append((False, ":"))
            if chunk:
                segments[-1].append((False, chunk))
    h = have.split(":", 5)
    if len(segments) != 6 or len(h) != 6:
        return False
    return all(re.fullmatch(_safe_regex(_tokens(seg, True)), part, re.DOTALL) is not None
               for seg, part in zip(segments, h, strict=True))


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None


def _date(value: str) -> float | None:
    text = str(value).strip()
    try:
        return float(text)
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
    def match(want: str, have: str, ctx: ConditionContext, variables: bool) -> bool:
        a, b = parse(have), parse(want)
        return a is not None and b is not None and test(a, b)
    return match


def _ip(want: str, have: str, ctx: ConditionContext, variables: bool) -> bool:
    try:
        return ipaddress.ip_address(have) in ipaddress.ip_network(want, strict=False)
    except ValueError:
        return False


def _binary(want: str, have: str, ctx: ConditionContext, variables: bool) -> bool:
    try:
        return base64.b64decode(have) == base64.b64decode(want)
    except ValueError:
        return False


_MATCH: dict[str, Callable[[str, str, ConditionContext, bool], bool]] = {
    "stringequals": lambda w, h, c, v: _string(w, h, c, v, False, False),
    "stringequalsignorecase": lambda w, h, c, v: _string(w, h, c, v, False, True),
    "stringlike": lambda w, h, c, v: _string(w, h, c, v, True, False),
    "arnequals": lambda w, h, c, v: arn_like(w, h, c, v),
    "arnlike": lambda w, h, c, v: arn_like(w, h, c, v),
    "bool": lambda w, h, c, v: h.lower() == w.lower(),
    "numericequals": _compare(_number, lambda a, b: a == b),
    "numericlessthan": _compare(_number, lambda a, b: a < b),
    "numericlessthanequals": _compare(_number, lambda a, b: a <= b),
    "numericgreaterthan": _compare(_number, lambda a, b: a > b),
    "numericgreaterthanequals": _compare(_number, lambda a, b: a >= b),
    "dateequals": _compare(_date, lambda a, b: a == b),
    "datelessthan": _compare(_date, lambda a, b: a < b),
    "datelessthanequals": _compare(_date, lambda a, b: a <= b),
    "dategreaterthan": _compare(_date, lambda a, b: a > b),
    "dategreaterthanequals": _compare(_date, lambda a, b: a >= b),
    "ipaddress": _ip,
    "binaryequals": _binary,
}


def _clause(c: Clause, have: tuple[str, ...], ctx: ConditionContext) -> bool:
    """One ``"Operator": {"key": values}`` pair against the key's known request values."""
    if c.base == "null":
        absent = not have
        return any((w.lower() == "true") == absent for w in c.values)
    if not have:
        if c.if_exists or c.qualifier == "forallvalues":
            return True
        if c.qualifier == "foranyvalue":
            return False
        return c.negated
    match = _MATCH[c.base]
    variables = bool(c.variables)

    def one(value: str) -> bool:
        hit = any(match(w, value, ctx, variables) for w in c.values)
        return not hit if c.negated else hit

    if c.qualifier == "forallvalues":
        return all(one(v) for v in have)
    if c.qualifier == "foranyvalue":
        return any(one(v) for v in have)
    return all(one(v) for v in have) if c.negated else any(one(v) for v in have)


def evaluate_condition(cond: CompiledCondition, ctx: ConditionContext) -> CondResult:
    """All clauses must hold: a decided false wins over any undecidable clause."""
    if cond.constant is not None and (cond.constant.state == TRUE or cond.keys.isdisjoint(ctx.request_keys)):
        return cond.constant
    unknown: list[Clause] = []
    for c in cond.clauses:
        have = ctx.lookup(c.lkey)
        if have is None or not c.supported or any(ctx.lookup(v) is None for v in c.variables):
            unknown.append(c)
            continue
        if not _clause(c, have, ctx):
            return NEVER
    return CondResult(UNKNOWN, _unknown_keys(unknown, ctx)) if unknown else ALWAYS
