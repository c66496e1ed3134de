"""Text as the word-based signals read it: names, tags, labels and descriptions reduced to
lower-case words, so that one pattern matches every way owners spell the same thing.

``AgentTaskRole``, ``agent_task_role``, ``agent-task-role`` and ``agent.task.role`` all read
``agent task role``; ``call-center`` reads ``call center``. Digits stay attached to their
word (``gpt4o``), and a version after a hyphen (``gpt-4o``) becomes its own word, so a
pattern says ``gpt\\w*`` or ``gpt( \\d\\w*)?`` as it means.
"""

from __future__ import annotations

import re
from typing import Any, Iterator, Mapping

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SEPARATORS = re.compile(r"[^A-Za-z0-9]+")
TRUE_VALUES = frozenset({"true", "yes", "1", "on", "enabled", ""})


def words(text: Any) -> str:
    """``text`` as lower-case words separated by single spaces."""
    spaced = _CAMEL.sub(" ", str(text or ""))
    return " ".join(w for w in _SEPARATORS.split(spaced) if w).lower()


def split_tag(key: str, value: str | None) -> tuple[str, str]:
    """(key, value) of a tag as its owner meant it. Entra keeps tags as bare strings (the
    value is empty): ``ai-agent`` is a bare tag, ``azd-env-name:dev`` / ``team=x`` carry their
    value after the first ``:`` or ``=``."""
    if value:
        return key, value
    for sep in (":", "="):
        if sep in key:
            k, _, v = key.partition(sep)
            return k, v
    return key, ""


def tag_items(tags: Mapping[str, Any] | None) -> Iterator[tuple[str, str]]:
    for key, value in (tags or {}).items():
        yield split_tag(str(key), None if value is None else str(value))
