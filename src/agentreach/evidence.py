"""The one shape of "where a fact was read", shared by every verdict's evidence.

An agent signal's match, an owner's source and anything later layers cite all say the same
four things (what matched, in which field, of which object, by which name) and, when the
fact came from a neighbour, along which edge. Each verdict adds its own facts to this
record (a signal's weight, an owner source's kind) rather than spelling the five again.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any


@dataclass(frozen=True, kw_only=True)
class Sighting:
    """``matched`` was found in ``field`` of ``object`` (named ``object_name``); ``via`` names
    the edge that carried it to the object it is evidence for, when it came from another."""

    matched: str
    field: str
    object: str
    object_name: str
    via: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}
