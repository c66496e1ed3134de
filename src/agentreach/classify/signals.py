"""Agent signals as data: loading, merging a user's file over the shipped one, validating.

A signal is a few lines of YAML (like a detect-secrets plugin): which matcher, which
pattern, how much it weighs, how strong it is. Everything a verdict says comes from here,
so a bad signal fails loudly with its id and file, before any scan runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Mapping

import yaml

from ..config import ConfigError, shipped
from ..plugins import PluginError, resolve
from ..registry import registry

STRENGTHS = ("strong", "medium", "weak")
ROLES = frozenset({"agent_runtime", "agent_tool", "ai_consumer", "agent_credential", "agent_reachable", "trap"})
_COMMON = {"id", "provider", "applies_to", "kind", "weight", "strength", "role", "why", "enabled"}


@dataclass(frozen=True)
class Signal:
    id: str
    provider: str
    kind: str
    weight: float
    strength: str
    role: str
    why: str
    applies_to: tuple[str, ...] = ("identity", "credential")
    params: Mapping[str, Any] = field(default_factory=dict)
    regex: Mapping[str, re.Pattern[str]] = field(default_factory=dict)
    origin: str = "shipped"
    # The kind's matcher, from the registry: ``matcher(signal, node, view) -> [Match]``.
    matcher: Callable[..., Any] = field(default=lambda *_: [], compare=False, repr=False)

    def applies(self, kind: str, provider: str) -> bool:
        return kind in self.applies_to and self.provider in ("any", provider)


def load_signals(user_file: str | Path | None = None) -> list[Signal]:
    """The shipped signals, then those plugins ship, with a user's file merged over them by id."""
    merged: dict[str, tuple[dict[str, Any], str]] = {}
    for item in _items(yaml.safe_load(shipped("agent-signals.yaml")), "agent-signals.yaml"):
        merged[item["id"]] = (item, "shipped")
    for plugin in registry().plugins:
        for ref in plugin.signals:
            package, _, name = ref.partition(":")
            try:
                text = resources.files(package).joinpath(name).read_text(encoding="utf-8")
            except (ModuleNotFoundError, OSError) as exc:
                raise ConfigError(f"plugin {plugin.name}: signals file {ref}: {exc}") from None
            for item in _items(yaml.safe_load(text), f"plugin {plugin.name} {ref}"):
                merged[item["id"]] = (item, f"plugin {plugin.name}")
    if user_file:
        path = Path(user_file).expanduser()
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"signals file {path}: {exc.strerror}") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"signals file {path}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
        for item in _items(data, str(path)):
            base = merged.get(item["id"], ({}, ""))[0]
            merged[item["id"]] = ({**base, **item}, str(path))
    signals = []
    for item, origin in merged.values():
        if item.get("enabled", True) is False:
            continue
        signals.append(_build(item, origin))
    return signals


def _items(data: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(data, Mapping) or not isinstance(data.get("signals"), list):
        raise ConfigError(f"signals file {where}: needs a top-level 'signals:' list")
    items = []
    for i, item in enumerate(data["signals"]):
        if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
            raise ConfigError(f"signals file {where}: signal #{i + 1} needs an 'id'")
        items.append(dict(item))
    return items


def _build(item: dict[str, Any], origin: str) -> Signal:
    sid = item["id"]

    def bad(message: str) -> ConfigError:
        return ConfigError(f"signal {sid!r} ({origin}): {message}")

    kinds = registry().signal_kinds()
    kind = item.get("kind")
    if kind not in kinds:
        raise bad(f"unknown kind {kind!r} (known: {', '.join(sorted(kinds))})")
    try:
        weight = float(item.get("weight"))
    except (TypeError, ValueError):
        raise bad("weight must be a number between -1 and 1") from None
    if not -1 < weight < 1 or weight == 0:
        raise bad("weight must be between -1 and 1 (exclusive) and not 0")
    strength = item.get("strength", "weak")
    if strength not in STRENGTHS:
        raise bad(f"strength must be one of {', '.join(STRENGTHS)}")
    role = item.get("role", "trap" if weight < 0 else "agent_runtime")
    if role not in ROLES:
        raise bad(f"role must be one of {', '.join(sorted(ROLES))}")
    provider = item.get("provider", "any")
    providers = registry().providers()
    if provider not in providers:
        raise bad(f"provider must be one of {', '.join(sorted(providers))}")
    applies = item.get("applies_to", ["identity", "credential"])
    applies = (applies,) if isinstance(applies, str) else tuple(applies)
    if not set(applies) <= {"identity", "credential"}:
        raise bad("applies_to may name identity and credential")
    params = {k: v for k, v in item.items() if k not in _COMMON}
    spec = kinds[kind]
    regex = {}
    for key in spec.regex_keys:
        if key in params:
            try:
                regex[key] = re.compile(str(params[key]))
            except re.error as exc:
                raise bad(f"{key}: not a valid regular expression ({exc})") from None
    _require(kind, spec.required, params, bad)
    try:
        matcher = resolve(spec.matcher, what=f"signal kind {kind}")
    except PluginError as exc:
        raise bad(str(exc)) from None
    return Signal(id=sid, provider=provider, kind=kind, weight=weight, strength=strength, role=role,
                  why=str(item.get("why", "")), applies_to=applies, params=params, regex=regex, origin=origin,
                  matcher=matcher)


def _require(kind: str, required: tuple[str, ...], params: Mapping[str, Any], bad: Any) -> None:
    missing = [k for k in required if k not in params]
    if missing:
        raise bad(f"kind {kind} needs {', '.join(missing)}")
    if kind == "tag" and not ({"key", "value"} & set(params)):
        raise bad("kind tag needs key or value")
    if kind == "policy_action" and not (isinstance(params["actions"], list) and params["actions"]):
        raise bad("actions must be a non-empty list")
