"""Policy documents as AWS hands them over: a JSON string, sometimes URL-encoded.

A document that does not parse is kept as a marker naming the object it came from, so
the scan goes on, nothing gathered is lost, and a later layer can report it in one line.
"""

from __future__ import annotations

import json
import urllib.parse
from typing import Any


def parse_policy(doc: Any, where: str) -> dict[str, Any] | None:
    if doc is None or doc == "":
        return None
    if isinstance(doc, dict):
        return doc
    text = str(doc)
    for candidate in (text, urllib.parse.unquote(text)):
        try:
            value = json.loads(candidate)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return {"_unparsed": True, "_error": f"malformed policy document on {where}"}
