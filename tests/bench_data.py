"""What the tests of the benchmark sets built from others' tests share: reading a committed
lock file (ids, sources and digests; never a value) and skipping, with the command that brings
it, a test that needs a mirror this machine does not have."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


def lock_rows(lock: Path) -> list[dict[str, str]]:
    """The rows of a tab-separated lock file, by its header's column names."""
    lines = lock.read_text().rstrip("\n").split("\n")
    head = lines[0].split("\t")
    return [dict(zip(head, line.split("\t"), strict=True)) for line in lines[1:]]


def needs_mirror(source: Any) -> pytest.MarkDecorator:
    """Skip unless ``source``'s git mirror is present, saying how to fetch it."""
    return pytest.mark.skipif(
        not source.git_dir.exists(),
        reason=f"no mirror of {source.repo} at {source.git_dir} "
               f"(bring it with the search tool: fetch github:{source.repo})")
