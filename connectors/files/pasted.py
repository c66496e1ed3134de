"""The files connector's detectors over a text that is not a file: a secret a responder
pastes (``show -``), a tag value or a description a cloud returned.

Both must yield the value exactly as a scan of files would have fingerprinted it (a PEM
key's normalised body, a service-account JSON's private key, a token without its ``KEY=``),
or the lookup by fingerprint misses. A paste is scanned as a whole file would be (PEM blocks,
service-account JSON and MCP structures included); cloud metadata, read once per object of
a large estate, by the line detectors alone.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from functools import cache
from pathlib import Path

from .detectors import Scanner
from .filescan import FileScan, Options
from .walk import Entry

PASTE_NAME = "pasted.env"  # an assignment-shaped name: KEY=value lines read as they do in a .env


@cache
def _filescan() -> FileScan:
    return FileScan(Options("keep", dt.datetime.now(dt.timezone.utc), file_timeout=10.0))


@cache
def _scanner() -> Scanner:
    return Scanner()


def secrets_in_paste(text: str) -> list[tuple[str, str]]:
    """(detector, value) of each secret in a pasted text, as a file scan finds them."""
    with tempfile.TemporaryDirectory(prefix="agentreach-paste-") as tmp:
        root = Path(tmp)
        path = root / PASTE_NAME
        path.write_text(text, encoding="utf-8")
        path.chmod(0o600)
        results = _filescan().scan_files(root, "paste", [Entry(PASTE_NAME, PASTE_NAME, path.stat().st_size)])
    return [(f.label or f.detector, f.value) for r in results for f in r.found]


def secrets_in_metadata(text: str) -> list[tuple[str, str]]:
    """(detector, value) of each secret in a short text (a ``KEY=value`` tag, a description).
    The multi-pattern prefilter decides first, so the detectors (and their settings, ~35 ms to
    set up) run only for the rare text that may hold a secret."""
    scanner = _scanner()
    if not scanner.candidates(text):
        return []
    with scanner.session():
        return [(h.label or h.secret_type, h.value) for h in scanner.scan_text(PASTE_NAME, text)]
