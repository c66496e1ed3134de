"""JSON parsed within bounds. Generated JSON nested thousands deep makes ``json.loads`` raise
RecursionError (or, with a raised recursion limit, overflow the C stack); a structure past
the bounds is refused before it is parsed, and the caller falls back to matching its lines."""

from __future__ import annotations

import json
import re
from typing import Any

_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


class Refused(ValueError):
    """The structure is past a bound (``code`` says which); nothing was parsed."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def depth(text: str, limit: int) -> int:
    """The nesting depth of the JSON arrays and objects in ``text``, counting no further than
    ``limit + 1`` (strings are skipped, so brackets inside them do not count)."""
    level = deepest = 0
    for m in _TOKENS.finditer(text):
        c = m.group()
        if c in "[{":
            level += 1
            if level > deepest:
                deepest = level
                if deepest > limit:
                    return deepest
        elif c in "]}":
            level -= 1
    return deepest


def load_json(text: str, max_bytes: int, max_depth: int) -> Any:
    """``json.loads`` when the text is within both bounds; Refused when not, ValueError when
    it is not JSON."""
    if len(text) > max_bytes:
        raise Refused("TooLarge", f"{len(text)} characters > max_parse_bytes {max_bytes}")
    if depth(text, max_depth) > max_depth:
        raise Refused("TooDeep", f"nested deeper than max_parse_depth {max_depth}")
    try:
        return json.loads(text)
    except RecursionError:  # a bound above what this interpreter's stack allows
        raise Refused("TooDeep", "nested deeper than the parser's recursion limit") from None
