"""The configuration every command runs with: shipped defaults, the user's file over them,
flags over both (:func:`agentreach.config.load_config`), then checked as a whole against
:mod:`agentreach.config_schema` and by each layer and connector that owns a section.

Errors name where to look: ``config file F line N: scan.batch_size: Input should be greater
than or equal to 1``. A key the user did not write (a default, a flag) is named without a
line.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Callable, Mapping

from pydantic import ValidationError

from .config import ENV_CONFIG, ConfigError, load_config
from .config_schema import LifecycleSection, OwnershipSection, TopLevel, key_lines, line_of, pydantic_problem

_KEY_AT_START = re.compile(r"^([A-Za-z_][\w.\[\]-]*?)(?::|\s)")
_UNKNOWN_KEYS = re.compile(r"^([A-Za-z_][\w.-]*): unknown key\(s\) ([\w-]+)")


def load_settings(path: str | Path | None = None, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The merged config, checked; raise ConfigError naming the file, key and line."""
    import os

    path = path or os.environ.get(ENV_CONFIG)
    config = load_config(path, overrides)
    if not path and not overrides:
        return config  # the shipped defaults alone: checked by the tests, not on every command
    text = Path(path).expanduser().read_text(encoding="utf-8") if path else ""
    lines = key_lines(text) if text else {}
    user_sections = set(lines_top(lines)) | set(overrides or {})
    try:
        validate(config, user_sections, user_connectors(lines, overrides))
    except ConfigError as exc:
        raise ConfigError(_located(str(exc), path, lines)) from None
    return config


def lines_top(lines: Mapping[tuple[str, ...], int]) -> list[str]:
    return [k[0] for k in lines if len(k) == 1]


def user_connectors(lines: Mapping[tuple[str, ...], int], overrides: Mapping[str, Any] | None) -> set[str]:
    named = {k[1] for k in lines if len(k) == 2 and k[0] == "connectors"}
    return named | set(((overrides or {}).get("connectors") or {}))


def _located(message: str, path: str | Path | None, lines: Mapping[tuple[str, ...], int]) -> str:
    """Prefix the file and the line of the key the message starts with, when the user wrote it."""
    if not path or message.startswith("config file "):
        return message
    m = _UNKNOWN_KEYS.match(message) or _KEY_AT_START.match(message)
    line = line_of(lines, ".".join(g for g in m.groups() if g)) if m else None
    if line is None:
        return message
    return f"config file {path} line {line}: {message}"


def validate(config: Mapping[str, Any], sections: set[str] | None = None,
             connectors: set[str] | None = None) -> None:
    """Check the whole config. ``connectors``: the connector sections to check with their
    connector's validator (those the user wrote; the shipped ones are known good)."""
    try:
        TopLevel.model_validate(dict(config))
    except ValidationError as exc:
        key, what = pydantic_problem(exc)
        raise ConfigError(f"{key}: {what}") from None
    for name, model, loader in _LAYERS:
        try:
            model.model_validate(dict(_section(name, config)))
        except ValidationError as exc:
            key, what = pydantic_problem(exc, name)
            raise ConfigError(f"{key}: {what}") from None
        loader(config)
    _check_layers(config)
    _check_connectors(config, connectors or set())


def _section(name: str, config: Mapping[str, Any]) -> Mapping[str, Any]:
    from .ownership import section

    return section(config, name)


def _owners(config: Mapping[str, Any]) -> None:
    from .ownership import load_inputs, load_owner_config

    load_inputs(load_owner_config(config))


def _lifecycle(config: Mapping[str, Any]) -> None:
    from .lifecycle import load_lifecycle_config

    load_lifecycle_config(config)


_LAYERS: tuple[tuple[str, Any, Callable[[Mapping[str, Any]], None]], ...] = (
    ("ownership", OwnershipSection, _owners),
    ("lifecycle", LifecycleSection, _lifecycle),
)


def _check_layers(config: Mapping[str, Any]) -> None:
    from .classify import signals_for
    from .findings import RULES, findings_config
    from .sensitivity import load_rules

    findings_config(config)
    signals_for(config)
    load_rules((config.get("sensitivity") or {}).get("rules_file"))
    known = {r.id for r in RULES}
    bad = sorted(set((config.get("gate") or {}).get("block_rules") or ()) - known)
    if bad:
        raise ConfigError(f"gate.block_rules: unknown rule id(s) {', '.join(bad)} (known: {', '.join(sorted(known))})")


def _check_connectors(config: Mapping[str, Any], names: set[str]) -> None:
    from .connector import discover_connectors
    from .plugins import PluginError, resolve
    from .registry import registry

    installed = set(discover_connectors())
    plugins = {p.name: p for p in registry().plugins}
    for name in (config.get("scan") or {}).get("connectors") or ():
        if name not in installed:
            raise ConfigError(f"scan.connectors: no connector named {name!r} is installed "
                              f"(installed: {', '.join(sorted(installed)) or 'none'})")
    sections = config.get("connectors") or {}
    for name in sorted(names):
        if name not in installed and name not in plugins:
            raise ConfigError(f"connectors.{name}: no connector named {name!r} is installed "
                              f"(installed: {', '.join(sorted(installed)) or 'none'})")
        plugin = plugins.get(name)
        if plugin is None or plugin.config is None:
            continue
        try:
            check = resolve(plugin.config, what=f"plugin {name}: config")
        except PluginError as exc:
            raise ConfigError(str(exc)) from None
        try:
            check(dict(sections.get(name) or {}))
        except ValueError as exc:  # ConnectorConfigError is a ValueError naming connectors.<name>.<key>
            raise ConfigError(str(exc)) from None
        except Exception as exc:  # noqa: BLE001  (a validator's own bug must not become a traceback)
            raise ConfigError(f"connectors.{name}: {type(exc).__name__}: {exc}") from None
