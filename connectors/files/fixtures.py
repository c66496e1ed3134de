"""Test-fixture heuristics: a secret under ``tests/`` or ``examples/``, or one whose value is
plainly made up (``sk-test-…``, ``aaaaaa``, ``abcdef123456``), is most likely not a live key.

It is still reported by default (a real key pasted into a test is a real leak), only marked
``attrs.likely_test_fixture`` with the reason, so the findings rules keep it low. A value a
detector's entropy floor drops never gets here: forty ``a``s under ``aws_secret_access_key``
are noise, not a fixture (the gate blocks found secrets at any severity, so a marked filler
value in a template would fail commits). The rules are data (``test_fixtures:`` in
config/secret-detectors.yaml); these functions are pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .detectors import detectors_file

MODES = ("downgrade", "drop", "keep")
MAX_BODY = 256
# A word this long is looked for in a body of any length: in random base64 a given 6-letter,
# case-sensitive word turns up by chance about once in 64**6 / len positions (~1 in 17,000 for a
# 4 KB session token), so AWS's documented 400-character session token "...wEXAMPLEtc764..." is
# marked while "test" in a PEM body is not.
LONG_WORD = 6


@dataclass(frozen=True)
class FixtureRules:
    paths: tuple[re.Pattern[str], ...]
    words: tuple[str, ...]
    repeated_run: int
    sequential_run: int
    max_distinct: int
    weak: tuple[re.Pattern[str], ...] = ()  # noise.weak_values: placeholder words, default passwords

    @classmethod
    @lru_cache(maxsize=1)
    def load(cls) -> "FixtureRules":
        data = detectors_file().get("test_fixtures") or {}
        weak = (detectors_file().get("noise") or {}).get("weak_values") or ()
        return cls(paths=tuple(re.compile(p, re.I) for p in data.get("paths") or ()),
                   words=tuple(str(w) for w in data.get("value_words") or ()),
                   repeated_run=int(data.get("repeated_run") or 6),
                   sequential_run=int(data.get("sequential_run") or 6),
                   max_distinct=int(data.get("max_distinct") or 4),
                   weak=tuple(re.compile(p, re.I) for p in weak))


def path_reason(rel: str, rules: FixtureRules) -> str | None:
    """Why a path looks like test or example code, or None."""
    for pattern in rules.paths:
        m = pattern.search(rel)
        if m:
            return f"path {m.group(0).strip('/')!r} looks like tests or examples"
    return None


def _run(body: str, step: int, length: int) -> str | None:
    """The first run of ``length`` characters each ``step`` code points after the last."""
    start = 0
    for i in range(1, len(body) + 1):
        if i == len(body) or ord(body[i]) - ord(body[i - 1]) != step or not body[i].isalnum():
            if i - start >= length:
                return body[start:i]
            start = i
    return None


def value_reason(body: str, rules: FixtureRules) -> str | None:
    """Why a secret body is an obvious fixture, or None. Words are matched case-sensitively
    in a few spellings so that a random key contains one only by a negligible chance; the
    reason never quotes the value. Bodies longer than ``MAX_BODY`` (PEM keys) are machine-made:
    over thousands of characters a short word would turn up by chance, so only words of
    ``LONG_WORD`` letters or more are looked for there."""
    long_body = len(body) > MAX_BODY
    for word in rules.words:
        if word in body and (not long_body or len(word) >= LONG_WORD):
            return f"value contains {word.lower()!r}"
    if long_body:
        return None
    if _run(body, 0, rules.repeated_run):
        return "value repeats one character"
    if _run(body, 1, rules.sequential_run) or _run(body, -1, rules.sequential_run):
        return "value has a sequential run"
    if len(body) >= 16 and len(set(body)) <= rules.max_distinct:
        return f"value uses {len(set(body))} distinct characters"
    if any(p.search(body) for p in rules.weak):
        return "value looks like a placeholder or a default password"
    return None
