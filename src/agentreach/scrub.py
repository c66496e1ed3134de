"""Secrets written into cloud metadata, caught before anything stores or prints them.

A tag ``OPENAI_API_KEY=sk-proj-…`` on a role, a token pasted into a service principal's
description or an application's notes: the source returns the value with the metadata, and
every later layer would store it, print it in ``inventory`` and ``show`` and put it in every
report. So each record a connector yields passes through :func:`scrub` first. The free text
of its tags and of the attributes named below is run through the secret scanners plugins
declare (the files connector's detectors), each secret found is replaced by its redacted
preview, and the record keeps what the finding needs: where it was, which detector, the
store's salted fingerprint and the preview, never the value.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Iterable, Mapping

from .model import Node

# Free-text attributes a source fills from what people typed.
TEXT_ATTRS: tuple[str, ...] = ("description", "notes", "display_description", "comment", "purpose")
FOUND_ATTR = "secrets_in_metadata"

Scanner = Callable[[str], Iterable[tuple[str, str]]]  # text -> (detector, value) pairs


def preview(value: str) -> str:
    """What stands in a field instead of the secret: enough to recognise, never to use."""
    return f"{value[:4]}…{value[-2:]}" if len(value) >= 12 else "…"


def scrub(node: Node, scanners: Iterable[Scanner], fingerprint: Callable[[str], str]) -> Node:
    """``node`` with every secret in its tags and free-text attributes redacted, and what was
    found listed in ``attrs.secrets_in_metadata`` (field, detector, fingerprint, preview)."""
    scanners = list(scanners)
    if not scanners:
        return node
    found: list[dict[str, Any]] = []
    changes: dict[str, Any] = {}
    tags = getattr(node, "tags", None)
    if isinstance(tags, Mapping) and tags:
        clean_tags = {}
        for key, value in tags.items():
            # scanned as KEY=VALUE so that detectors that need the assignment context see it
            text = f"{key}={value}" if value else str(key)
            secrets = _secrets(text, scanners)
            new_key, new_value = str(key), str(value or "")
            for detector, secret in secrets:
                found.append(_record(f"tags.{key}", detector, secret, fingerprint))
                shown = preview(secret)
                new_key, new_value = new_key.replace(secret, shown), new_value.replace(secret, shown)
            clean_tags[new_key] = new_value
        if found:
            changes["tags"] = clean_tags
    attrs = dict(node.attrs)
    for name in TEXT_ATTRS:
        value = attrs.get(name)
        if not isinstance(value, str) or not value:
            continue
        for detector, secret in _secrets(value, scanners):
            found.append(_record(f"attrs.{name}", detector, secret, fingerprint))
            value = value.replace(secret, preview(secret))
        attrs[name] = value
    if not found:
        return node
    attrs[FOUND_ATTR] = [*attrs.get(FOUND_ATTR, []), *found]
    changes["attrs"] = attrs
    return dataclasses.replace(node, **changes)


def _secrets(text: str, scanners: list[Scanner]) -> list[tuple[str, str]]:
    out: dict[str, str] = {}
    for scan in scanners:
        for detector, value in scan(text) or ():
            if value and value in text:
                out.setdefault(str(value), str(detector))
    return sorted(((d, v) for v, d in out.items()), key=lambda dv: -len(dv[1]))  # longest first


def _record(where: str, detector: str, secret: str, fingerprint: Callable[[str], str]) -> dict[str, Any]:
    return {"field": where, "detector": detector, "fingerprint": fingerprint(secret), "preview": preview(secret)}
