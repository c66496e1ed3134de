"""Which environment variable values a connector may keep: the few non-secret ones that say
which model or agent framework a workload uses (``MODEL_ID``, ``AGENT_FRAMEWORK``,
``LLM_PROVIDER`` ...), and only when the value itself looks like a model id or a framework
name. Every other value is dropped where it is read, as before: a connector calls
``readable_values`` at its edge and stores what comes back (``attrs.env_values``).

The allow-list is data: ``readable_env`` in ``config/agent-signals.yaml``.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Mapping

from ..config import ConfigError, shipped_data

MAX_VALUE = 120  # a model id or a framework name is short; anything longer is not one


@functools.lru_cache(maxsize=1)
def _policy() -> tuple[re.Pattern[str], re.Pattern[str]]:
    from .signals import _vocabularies, expand_vocabulary

    data = shipped_data("agent-signals.yaml") or {}
    section = data.get("readable_env") or {}
    vocab = _vocabularies(data, "agent-signals.yaml")
    try:
        return (re.compile(str(section["names"])),
                re.compile(expand_vocabulary(str(section["values"]), vocab)))
    except (KeyError, re.error) as exc:
        raise ConfigError(f"agent-signals.yaml: readable_env needs names and values regexes ({exc})") from None


def readable_values(env: Mapping[str, Any] | None) -> dict[str, str]:
    """The allow-listed variables whose values match the model-id / framework pattern."""
    names, values = _policy()
    out = {}
    for name, value in (env or {}).items():
        text = str(value) if value is not None else ""
        if names.fullmatch(str(name)) and 0 < len(text) <= MAX_VALUE and values.fullmatch(text):
            out[str(name)] = text
    return out
