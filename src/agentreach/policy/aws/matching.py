"""Wildcard and ARN matching, the way IAM matches ``Action`` and ``Resource`` elements.

IAM wildcards are only ``*`` (any run, including empty) and ``?`` (exactly one character);
there are no character classes, so ``[`` is a literal.  Actions match case-insensitively;
resource ARNs match case-sensitively except their service segment.  Patterns are compiled
once to regular expressions and cached, because the evaluator calls these hundreds of
thousands of times per snapshot.

Patterns come from the scanned estate, so a hostile or careless one must not stall a scan:
the compiled form never backtracks across a ``*`` (see ``_compile``), which bounds a match
to O(len(pattern) * len(value)) instead of exponential.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable

__all__ = [
    "arn_match",
    "arn_service",
    "globs_intersect",
    "has_wildcard",
    "is_service_wide",
    "policy_variables",
    "resolve_variables",
    "split_arn",
    "strip_policy_variables",
    "wildcard_match",
]

_VARIABLE = re.compile(r"\$\{([^}]*)\}")
# ${*}, ${?} and ${$} are IAM's escapes for a literal *, ? and $: not variables.
_ESCAPES = {"*": "*", "?": "?", "$": "$"}


_STARS = re.compile(r"\*+")


def _chunk(text: str) -> str:
    """The regex of a run without ``*``: ``?`` is any one character, the rest literal."""
    return "".join("." if ch == "?" else re.escape(ch) for ch in text)


@lru_cache(maxsize=65536)
def _compile(pattern: str, case_sensitive: bool) -> re.Pattern[str]:
    """``a*b?c*d`` -> ``a(?>.*?b.c).*d``: each run between two stars is placed at its first
    fit, and that choice is never revisited (an atomic group).

    The first fit is always as good as any later one: a ``*`` follows the run, and it
    absorbs whatever an earlier placement leaves over.  The last run is anchored at the
    end.  So each run is tried at most once per position of the value, and a match costs
    O(len(pattern) * len(value)); the plain translation ``a.*b.c.*d`` retries every way of
    splitting the value between the stars, which is exponential in the number of stars
    (``*?`` eight times then ``!`` took half a minute over one service's actions).
    """
    runs = _STARS.split(pattern)
    if len(runs) == 1:
        body = _chunk(pattern)
    else:
        head, *middle, tail = runs
        body = _chunk(head) + "".join(f"(?>.*?{_chunk(run)})" for run in middle) + ".*" + _chunk(tail)
    flags = re.DOTALL if case_sensitive else re.DOTALL | re.IGNORECASE
    return re.compile(body, flags)


def wildcard_match(pattern: str, value: str, case_sensitive: bool = True) -> bool:
    """True when ``value`` matches the IAM wildcard ``pattern`` in full."""
    if pattern == "*":
        return True
    return _compile(pattern, case_sensitive).fullmatch(value) is not None


def has_wildcard(value: str) -> bool:
    return "*" in value or "?" in value


def split_arn(arn: str) -> list[str] | None:
    """``arn:partition:service:region:account:resource`` -> its six parts (resource keeps its colons)."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return None
    return parts


@lru_cache(maxsize=65536)
def arn_service(arn: str) -> str | None:
    parts = split_arn(arn)
    return parts[2].lower() if parts else None


@lru_cache(maxsize=262144)
def arn_match(pattern: str, arn: str) -> bool:
    """Match a ``Resource`` pattern against an ARN, segment by segment.

    Wildcards in the first five segments stay inside their segment (as IAM documents for
    ARN matching); the resource segment may contain ``:`` and ``/`` and ``*`` crosses both.
    The service segment is case-insensitive, everything else case-sensitive.  A pattern
    that is not a six-part ARN (``*``, or ``arn:aws:s3*``) is matched as a whole string.
    """
    if pattern == "*":
        return True
    p = split_arn(pattern)
    a = split_arn(arn)
    if p is None or a is None:
        return wildcard_match(pattern, arn, True)
    for i in range(6):
        if not wildcard_match(p[i], a[i], i != 2):
            return False
    return True


@lru_cache(maxsize=65536)
def globs_intersect(p: str, q: str, case_sensitive: bool = True) -> bool:
    """True when some string matches both wildcard patterns ``p`` and ``q``.

    Used when the *resource* is itself a pattern (``arn:aws:s3:::acme-pii/*`` standing for
    "the objects of acme-pii"): an Allow on ``acme-pii/public/*`` reaches some of them.
    """
    if not case_sensitive:
        p, q = p.lower(), q.lower()
    n, m = len(p), len(q)
    seen: set[tuple[int, int]] = set()
    stack = [(0, 0)]
    while stack:
        i, j = stack.pop()
        if (i, j) in seen:
            continue
        seen.add((i, j))
        if i == n and j == m:
            return True
        if i < n and p[i] == "*":
            stack.append((i + 1, j))
            if j < m:
                stack.append((i, j + 1))
        if j < m and q[j] == "*":
            stack.append((i, j + 1))
            if i < n:
                stack.append((i + 1, j))
        if i < n and j < m and p[i] != "*" and q[j] != "*" and (p[i] == "?" or q[j] == "?" or p[i] == q[j]):
            stack.append((i + 1, j + 1))
    return False


def policy_variables(value: str) -> tuple[str, ...]:
    """The condition keys named by ``${...}`` variables (``${aws:username}`` -> ``aws:username``)."""
    keys: list[str] = []
    for inner in _VARIABLE.findall(value):
        if inner in _ESCAPES:
            continue
        key = inner.split(",", 1)[0].strip()  # ${aws:username, 'default'}
        if key and key not in keys:
            keys.append(key)
    return tuple(keys)


def resolve_variables(value: str, lookup: Callable[[str], tuple[str, ...] | None]) -> str | None | bool:
    """``value`` with each ``${key}`` replaced by its value from ``lookup`` (lower-case key ->
    values, ``()`` known absent, None unknown): the resolved string; None when a variable
    is known to have no value (and no default), so the element matches nothing; False when
    some variable is not known. The escapes stand for their literal characters."""
    unknown = absent = False

    def repl(m: re.Match[str]) -> str:
        nonlocal unknown, absent
        inner = m.group(1)
        if inner in _ESCAPES:
            return _ESCAPES[inner]
        key, _, default = inner.partition(",")
        got = lookup(key.strip().lower())
        default = default.strip()
        if got is not None and len(got) == 1:
            return got[0]
        if len(default) >= 2 and default[0] == default[-1] == "'":
            return default[1:-1]
        if got is None:
            unknown = True
        else:
            absent = True
        return ""

    out = _VARIABLE.sub(repl, value)
    if unknown:
        return False
    return None if absent else out


def strip_policy_variables(value: str) -> str:
    """Replace each variable by ``*`` (it could be anything) and each escape by its literal."""

    def repl(m: re.Match[str]) -> str:
        inner = m.group(1)
        return _ESCAPES.get(inner, "*")

    return _VARIABLE.sub(repl, value)


def _wild_only(segment: str) -> bool:
    return segment != "" and set(segment) == {"*"}


def is_service_wide(pattern: str, service: str, account: str) -> bool:
    """True when a ``Resource`` pattern covers every resource of ``service`` in ``account``.

    ``*``, ``arn:aws:s3:::*``, ``arn:*:dynamodb:*:111122223333:*`` are service-wide;
    ``arn:aws:dynamodb:*:111122223333:table/*`` is only table-wide and is left to the
    per-resource evaluation.
    """
    if _wild_only(pattern):
        return True
    parts = split_arn(pattern)
    if parts is None:
        return False
    _, _, svc, region, acct, res = parts
    if not wildcard_match(svc, service, False):
        return False
    if region and not _wild_only(region):
        return False
    if acct and not (_wild_only(acct) or wildcard_match(acct, account, True)):
        return False
    return _wild_only(res)
