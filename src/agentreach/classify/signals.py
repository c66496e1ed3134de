"""Agent signals as data: loading, merging a user's file over the shipped one, validating.

A signal is a few lines of YAML (like a detect-secrets plugin): which matcher, which
pattern, how much it weighs, how strong it is. Everything a verdict says comes from here,
so a bad signal fails loudly with its id and file, before any scan runs.

Vocabularies (``vocabularies:``, name -> regular-expression alternatives) keep the lists
several signals share in one place, as data: the agent frameworks, the AI coding agents.
A pattern names one as ``<<frameworks>>``; a user file's vocabulary of the same name
replaces the shipped one, a new name adds one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Mapping

import yaml

from ..config import ConfigError, shipped_data
from ..plugins import PluginError, resolve
from ..registry import registry

STRENGTHS = ("strong", "medium", "weak")
_VOCAB_REF = re.compile(r"<<([a-z_][a-z0-9_]*)>>")
ROLES = frozenset({"agent_runtime", "agent_tool", "ai_consumer", "agent_credential", "agent_reachable", "trap"})
_COMMON = {"id", "provider", "applies_to", "kind", "weight", "strength", "role", "why", "enabled", "counts"}


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
    counts: bool = True  # false: a part of an all_of signal only, never evidence on its own
    # The kind's matcher, from the registry: ``matcher(signal, node, view) -> [Match]``.
    matcher: Callable[..., Any] = field(default=lambda *_: [], compare=False, repr=False)

    def applies(self, kind: str, provider: str) -> bool:
        return kind in self.applies_to and self.provider in ("any", provider)


def load_signals(user_file: str | Path | None = None) -> list[Signal]:
    """The shipped signals, then those plugins ship, with a user's file merged over them by id."""
    merged: dict[str, tuple[dict[str, Any], str]] = {}
    vocab: dict[str, str] = {}
    for data, origin, merge in _sources(user_file):
        vocab.update(_vocabularies(data, origin))
        for item in _items(data, origin):
            base = merged.get(item["id"], ({}, ""))[0] if merge else {}
            merged[item["id"]] = ({**base, **item}, origin)
    signals = []
    for item, origin in merged.values():
        if item.get("enabled", True) is False:
            continue
        signals.append(_build(item, origin, vocab))
    _link_components(signals)
    return signals


def _link_components(signals: list[Signal]) -> None:
    """Give each ``all_of`` signal the signals it combines. Each item of its ``signals`` is a
    signal id, or a list of ids of which any one will do; every id names an enabled signal
    of another kind that is not a trap. A ``counts: false`` signal must be part of one."""
    by_id = {s.id: s for s in signals}
    used: set[str] = set()
    for sig in signals:
        if sig.kind != "all_of":
            continue
        items = sig.params.get("signals")
        if not (isinstance(items, list) and len(items) >= 2):
            raise ConfigError(f"signal {sig.id!r} ({sig.origin}): signals must list two or more parts")
        parts = []
        for item in items:
            ids = item if isinstance(item, list) else [item]
            group = []
            for sid in ids:
                part = by_id.get(sid) if isinstance(sid, str) else None
                if part is None:
                    raise ConfigError(f"signal {sig.id!r} ({sig.origin}): combines {sid!r}, which is not an enabled "
                                      "signal")
                if part.kind == "all_of" or part.weight < 0:
                    raise ConfigError(f"signal {sig.id!r} ({sig.origin}): {sid!r} must be a positive signal of "
                                      "another kind")
                group.append(part)
                used.add(sid)
            parts.append(tuple(group))
        sig.params["_components"] = tuple(parts)  # type: ignore[index]
    for sig in signals:
        if not sig.counts and sig.id not in used:
            raise ConfigError(f"signal {sig.id!r} ({sig.origin}): counts is false but no all_of signal uses it")


def _sources(user_file: str | Path | None) -> list[tuple[Any, str, bool]]:
    """Each signals document with the name it is known by (shipped, plugins', the user's)
    and whether its signals merge over those of the same id (the user's) or replace them."""
    out: list[tuple[Any, str, bool]] = [(shipped_data("agent-signals.yaml"), "shipped", False)]
    for plugin in registry().plugins:
        for ref in plugin.signals:
            package, _, name = ref.partition(":")
            try:
                text = resources.files(package).joinpath(name).read_text(encoding="utf-8")
            except (ModuleNotFoundError, OSError) as exc:
                raise ConfigError(f"plugin {plugin.name}: signals file {ref}: {exc}") from None
            out.append((yaml.safe_load(text), f"plugin {plugin.name} {ref}", False))
    if user_file:
        path = Path(user_file).expanduser()
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"signals file {path}: {exc.strerror}") from None
        except yaml.YAMLError as exc:
            raise ConfigError(f"signals file {path}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
        out.append((data, str(path), True))
    return out


def _vocabularies(data: Any, where: str) -> dict[str, str]:
    """``vocabularies:`` of one document as name -> one regex group of its alternatives."""
    raw = data.get("vocabularies") if isinstance(data, Mapping) else None
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ConfigError(f"signals file {where}: 'vocabularies' must map a name to a list of patterns")
    out = {}
    for name, alternatives in raw.items():
        if not (isinstance(name, str) and _VOCAB_REF.fullmatch(f"<<{name}>>")):
            raise ConfigError(f"signals file {where}: vocabulary name {name!r} must be lower_case_words")
        if not (isinstance(alternatives, list) and alternatives and all(isinstance(a, str) for a in alternatives)):
            raise ConfigError(f"signals file {where}: vocabulary {name!r} must be a non-empty list of patterns")
        for alt in alternatives:
            try:
                re.compile(alt)
            except re.error as exc:
                raise ConfigError(f"signals file {where}: vocabulary {name!r}: {alt!r} is not a valid regular "
                                  f"expression ({exc})") from None
        out[name] = "(?:" + "|".join(alternatives) + ")"
    return out


def expand_vocabulary(pattern: str, vocab: Mapping[str, str]) -> str:
    """``<<name>>`` replaced by the vocabulary's alternatives (which may name other
    vocabularies in turn); an unknown name is a KeyError naming it, a cycle a ValueError."""
    def one(m: re.Match[str]) -> str:
        if m.group(1) not in vocab:
            raise KeyError(m.group(1))
        return vocab[m.group(1)]
    for _ in range(8):
        expanded = _VOCAB_REF.sub(one, pattern)
        if expanded == pattern:
            return expanded
        pattern = expanded
    raise ValueError("vocabularies name each other in a cycle")


def _items(data: Any, where: str) -> list[dict[str, Any]]:
    if isinstance(data, Mapping) and data.get("signals") is None and "vocabularies" in data:
        return []  # a file of vocabularies only
    if not isinstance(data, Mapping) or not isinstance(data.get("signals"), list):
        raise ConfigError(f"signals file {where}: needs a top-level 'signals:' list")
    items = []
    for i, item in enumerate(data["signals"]):
        if not isinstance(item, Mapping) or not isinstance(item.get("id"), str):
            raise ConfigError(f"signals file {where}: signal #{i + 1} needs an 'id'")
        items.append(dict(item))
    return items


def _build(item: dict[str, Any], origin: str, vocab: Mapping[str, str] | None = None) -> Signal:
    sid = item["id"]

    def bad(message: str) -> ConfigError:
        return ConfigError(f"signal {sid!r} ({origin}): {message}")

    kinds = registry().signal_kinds()
    kind = item.get("kind")
    if kind not in kinds:
        raise bad(f"unknown kind {kind!r} (known: {', '.join(sorted(kinds))})")
    counts = item.get("counts", True)
    if not isinstance(counts, bool):
        raise bad("counts must be true or false")
    try:
        weight = float(item.get("weight", 0.0 if not counts else None))
    except (TypeError, ValueError):
        raise bad("weight must be a number between -1 and 1") from None
    if counts and (not -1 < weight < 1 or weight == 0):
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
                regex[key] = re.compile(expand_vocabulary(str(params[key]), vocab or {}))
            except KeyError as exc:
                raise bad(f"{key}: no vocabulary named {exc.args[0]!r}") from None
            except ValueError as exc:
                raise bad(f"{key}: {exc}") from None
            except re.error as exc:
                raise bad(f"{key}: not a valid regular expression ({exc})") from None
    _require(kind, spec.required, params, bad)
    try:
        matcher = resolve(spec.matcher, what=f"signal kind {kind}")
    except PluginError as exc:
        raise bad(str(exc)) from None
    return Signal(id=sid, provider=provider, kind=kind, weight=weight, strength=strength, role=role,
                  why=str(item.get("why", "")), applies_to=applies, params=params, regex=regex, origin=origin,
                  counts=counts, matcher=matcher)


def _require(kind: str, required: tuple[str, ...], params: Mapping[str, Any], bad: Any) -> None:
    missing = [k for k in required if k not in params]
    if missing:
        raise bad(f"kind {kind} needs {', '.join(missing)}")
    if kind == "tag" and not ({"key", "value"} & set(params)):
        raise bad("kind tag needs key or value")
    if kind in ("policy_action", "granted_action") and not (isinstance(params["actions"], list) and params["actions"]):
        raise bad("actions must be a non-empty list")
    if kind == "words":
        for key in ("fields", "workloads"):
            if key in params and not (isinstance(params[key], list) and all(isinstance(f, str) for f in params[key])):
                raise bad(f"{key} must be a list of field names")
        if not (params.get("fields") or params.get("workloads")):
            raise bad("kind words needs fields or workloads (the fields of what runs as it)")
    if kind == "federation_subject" and not ({"subject", "issuer"} & set(params) or params.get("self_issued")):
        raise bad("kind federation_subject needs subject, issuer or self_issued")
    if kind == "vendor_trust" and not (params.get("accounts") or "description" in params):
        raise bad("kind vendor_trust needs accounts or description")
