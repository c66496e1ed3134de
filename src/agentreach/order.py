"""The orderings every layer shares: access levels, access classes and severities, weakest first.

Each is defined here once. Before, access levels were spelled four times in two orders and
two ``severity_rank`` functions ranked in opposite directions, so "strongest" meant
``min`` in one module and ``max`` in the next. Every rank here grows with strength and an
unknown value ranks below everything (``-1``), so ``max(..., key=rank)`` is always "the
strongest" and sorting by ``-rank`` is always "most serious first".
"""

from __future__ import annotations

from typing import Any, Iterable

# What a grant lets a principal do to a system, as AWS's action catalogue classifies
# actions (list < read < tagging < write < permissions-management).
ACCESS_LEVELS: tuple[str, ...] = ("list", "read", "tagging", "write", "permissions-management")

# What a grant lets a principal do in a responder's terms (config/access-classes.yaml says which
# actions give which): metadata and configuration first, then the data, then who may use it.
# ``admin`` holds everything or can manage IAM itself.
ACCESS_CLASSES: tuple[str, ...] = ("read-metadata", "write-config", "read-data", "write-data",
                                   "permissions-management", "admin")
# The classes that touch what a system holds: what "can reach the data" means.
DATA_CLASSES: frozenset[str] = frozenset({"read-data", "write-data"})

SEVERITIES: tuple[str, ...] = ("info", "low", "medium", "high", "critical")
# The order a reader wants: most serious first.
SEVERITIES_DESC: tuple[str, ...] = tuple(reversed(SEVERITIES))


def access_rank(level: Any) -> int:
    """0 for ``list`` up to 4 for ``permissions-management``; -1 for None or unknown."""
    return ACCESS_LEVELS.index(level) if level in ACCESS_LEVELS else -1


def strongest_access(levels: Iterable[Any]) -> str | None:
    """The strongest known level of ``levels``, None when none is known."""
    known = [lv for lv in levels if lv in ACCESS_LEVELS]
    return max(known, key=access_rank) if known else None


def class_rank(cls: Any) -> int:
    """0 for ``read-metadata`` up to 5 for ``admin``; -1 for None or unknown."""
    return ACCESS_CLASSES.index(cls) if cls in ACCESS_CLASSES else -1


def strongest_class(classes: Iterable[Any]) -> str | None:
    known = [c for c in classes if c in ACCESS_CLASSES]
    return max(known, key=class_rank) if known else None


def severity_rank(severity: Any) -> int:
    """0 for ``info`` up to 4 for ``critical``; -1 for None or unknown (case-insensitive)."""
    text = str(severity).lower() if severity is not None else ""
    return SEVERITIES.index(text) if text in SEVERITIES else -1


def shift(severity: str, steps: int) -> str:
    """``severity`` moved ``steps`` levels (negative: lower), kept within info..critical."""
    return SEVERITIES[max(0, min(len(SEVERITIES) - 1, severity_rank(severity) + steps))]


def most_serious_first(severity: Any) -> int:
    """A sort key: critical first, unknown last."""
    return -severity_rank(severity)
