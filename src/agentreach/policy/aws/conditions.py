"""Condition blocks: decide what the snapshot can decide, report the rest as undecidable.

Decidable keys are facts about the principal and the resource that a stored snapshot
holds: ``aws:PrincipalArn``, ``aws:PrincipalAccount``, ``aws:PrincipalType``,
``aws:PrincipalTag/<k>`` and ``aws:ResourceAccount``.  Everything else (source IP, MFA,
request tags, ``kms:ViaService``, ``s3:prefix``, dates, ``aws:SourceArn``/``aws:SourceAccount``
which only appear when a service acts on someone's behalf) depends on the request, so the
statement is kept and the result is marked conditional with those keys.  The set
qualifiers ``ForAnyValue:``/``ForAllValues:`` and policy variables inside values are also
undecidable: the evaluator never guesses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from .matching import arn_match, wildcard_match

__all__ = ["FALSE", "TRUE", "CondResult", "ConditionContext", "compile_condition", "evaluate_condition"]

TRUE = 2
UNKNOWN = 1
FALSE = 0

_DECIDABLE = {"aws:principalarn", "aws:principalaccount", "aws:principaltype", "aws:resourceaccount"}
_TAG_PREFIX = "aws:principaltag/"
_STRING_OPS = {
    "stringequals",
    "stringnotequals",
    "stringequalsignorecase",
    "stringnotequalsignorecase",
    "stringlike",
    "stringnotlike",
    "arnequals",
    "arnlike",
    "arnnotequals",
    "arnnotlike",
    "bool",
    "null",
}


@dataclass(frozen=True, slots=True)
class CondResult:
    state: int  # TRUE / UNKNOWN / FALSE
    keys: tuple[str, ...] = ()


ALWAYS = CondResult(TRUE)
NEVER = CondResult(FALSE)


@dataclass(frozen=True, slots=True)
class Clause:
    operator: str  # lowercased, without IfExists
    if_exists: bool
    key: str  # as written
    values: tuple[str, ...]
    decidable: bool


@dataclass(frozen=True, slots=True)
class CompiledCondition:
    clauses: tuple[Clause, ...]
    constant: CondResult | None  # set when no clause needs the context


class ConditionContext:
    """The decidable facts of one (principal, resource) pair."""

    __slots__ = ("_tags", "_values")

    def __init__(self, values: Mapping[str, str], tags: Mapping[str, str]) -> None:
        self._values = {k.lower(): v for k, v in values.items()}
        self._tags = {k.lower(): v for k, v in tags.items()}

    def get(self, key: str) -> str | None:
        low = key.lower()
        if low.startswith(_TAG_PREFIX):
            return self._tags.get(low[len(_TAG_PREFIX) :])
        return self._values.get(low)


def _is_decidable_key(key: str) -> bool:
    low = key.lower()
    return low in _DECIDABLE or (low.startswith(_TAG_PREFIX) and len(low) > len(_TAG_PREFIX))


def compile_condition(block: Any) -> CompiledCondition:
    """Parse a ``Condition`` element; raises ValueError on a malformed one."""
    if block is None:
        return CompiledCondition((), ALWAYS)
    if not isinstance(block, dict):
        raise ValueError("Condition is not an object")
    clauses: list[Clause] = []
    for op_raw, body in block.items():
        if not isinstance(op_raw, str) or not isinstance(body, dict):
            raise ValueError(f"Condition operator {op_raw!r} is not an object")
        op = op_raw.lower()
        qualified = op.startswith("foranyvalue:") or op.startswith("forallvalues:")
        if_exists = op.endswith("ifexists") and op != "null"
        base = op[: -len("ifexists")] if if_exists else op
        for key, raw in body.items():
            if not isinstance(key, str):
                raise ValueError("Condition key is not a string")
            vals = raw if isinstance(raw, list) else [raw]
            if not all(isinstance(v, (str, bool, int, float)) for v in vals):
                raise ValueError(f"Condition values for {key} are not scalars")
            values = tuple(str(v).lower() if isinstance(v, bool) else str(v) for v in vals)
            decidable = (
                not qualified and base in _STRING_OPS and _is_decidable_key(key) and not any("${" in v for v in values)
            )
            clauses.append(Clause(base, if_exists, key, values, decidable))
    if all(not c.decidable for c in clauses):
        keys = _keys(clauses)
        return CompiledCondition(tuple(clauses), CondResult(UNKNOWN, keys) if clauses else ALWAYS)
    return CompiledCondition(tuple(clauses), None)


def _keys(clauses: list[Clause] | tuple[Clause, ...]) -> tuple[str, ...]:
    out: list[str] = []
    for c in clauses:
        if not c.decidable and c.key not in out:
            out.append(c.key)
    return tuple(out)


def _clause(c: Clause, ctx: ConditionContext) -> bool:
    actual = ctx.get(c.key)
    op = c.operator
    if op == "null":
        want_absent = any(v.lower() == "true" for v in c.values)
        return (actual is None) == want_absent
    negated = "not" in op
    if actual is None:
        # IAM: an absent key fails a positive operator and satisfies a negated one; IfExists passes.
        return True if c.if_exists else negated
    if op == "bool":
        return actual.lower() in {v.lower() for v in c.values}
    if op.startswith("arn"):
        hit = any(arn_match(v, actual) for v in c.values)
    elif op.startswith("stringlike") or op.startswith("stringnotlike"):
        hit = any(wildcard_match(v, actual, True) for v in c.values)
    elif op.endswith("ignorecase"):
        hit = actual.lower() in {v.lower() for v in c.values}
    else:
        hit = actual in c.values
    return not hit if negated else hit


def evaluate_condition(cond: CompiledCondition, ctx: ConditionContext) -> CondResult:
    """All clauses must hold: a decided false wins over any undecidable clause."""
    if cond.constant is not None:
        return cond.constant
    for c in cond.clauses:
        if c.decidable and not _clause(c, ctx):
            return NEVER
    keys = _keys(cond.clauses)
    return CondResult(UNKNOWN, keys) if keys else ALWAYS
