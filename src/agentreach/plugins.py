"""The registries through which a package adds what a built-in adds.

A connector package (ours or a third party's) declares, next to its code, one
:class:`Plugin`: the provider name its records carry, the signal kinds and reach derivers
it brings, the ``scan`` options that map to its config section, the node types that say
which accounts (subscriptions, projects) a scan covered, and any output formats, findings
rules or commands. Plugins are found through the entry-point group ``agentreach.plugins``;
the built-in connectors are registered there exactly as a third party's would be.

A plugin module must stay light: everything that costs an import (an evaluator, a
renderer, an SDK) is named by a ``"module:attribute"`` string and loaded only when used,
so ``agentreach --help`` does not import three cloud SDKs.
"""

from __future__ import annotations

import dataclasses
import importlib
import logging
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points
from typing import Any, Callable, Iterable, Literal, Mapping

PLUGIN_GROUP = "agentreach.plugins"
log = logging.getLogger("agentreach.plugins")


class PluginError(RuntimeError):
    """A plugin is malformed or names something that cannot be loaded; the message names it."""


def resolve(ref: str | Callable[..., Any], *, what: str) -> Any:
    """``"package.module:attribute"`` to the object, or the object itself."""
    if not isinstance(ref, str):
        return ref
    module, _, attr = ref.partition(":")
    if not module or not attr:
        raise PluginError(f"{what}: {ref!r} is not 'module:attribute'")
    try:
        obj: Any = importlib.import_module(module)
    except ImportError as exc:
        raise PluginError(f"{what}: cannot import {module} ({exc})") from None
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise PluginError(f"{what}: {module} has no {attr}") from None
    return obj


@dataclass(frozen=True)
class CliOption:
    """A ``scan`` option that sets one key of a connector's config section.

    ``kind``: ``text`` (a string), ``csv`` (comma-separated, becomes a list), ``flag`` (on
    when given), ``path`` (an existing directory; repeatable, becomes a list), ``int``.
    """

    flag: str
    key: str
    help: str
    kind: Literal["text", "csv", "flag", "path", "int"] = "text"
    section: str | None = None  # the connector section; default: the plugin's name

    @property
    def dest(self) -> str:
        """The click parameter name; unique per (section, key) so two plugins cannot clash silently."""
        return "opt_" + self.flag.lstrip("-").replace("-", "_")


@dataclass(frozen=True)
class SignalKind:
    """A kind of agent signal: how it matches (``matcher(signal, node, view)`` returns
    matches) and the YAML keys a signal of this kind must have."""

    matcher: str | Callable[..., Any]
    required: tuple[str, ...] = ()
    regex_keys: tuple[str, ...] = ()  # keys compiled as regular expressions


@dataclass(frozen=True)
class OutputFormat:
    """A report format: ``render(report_body) -> str``. ``commands`` it is offered on."""

    render: str | Callable[[Mapping[str, Any]], str]
    commands: tuple[str, ...] = ("report", "findings")
    description: str = ""


@dataclass(frozen=True)
class Plugin:
    name: str
    provider: str | None = None
    description: str = ""
    signal_kinds: Mapping[str, SignalKind] = field(default_factory=dict)
    signals: tuple[str, ...] = ()  # agent-signal YAML files shipped as "package:file.yaml"
    derivers: tuple[str | Callable[..., Any], ...] = ()
    cli_options: tuple[CliOption, ...] = ()
    scope_types: tuple[str, ...] = ()
    formats: Mapping[str, OutputFormat] = field(default_factory=dict)
    rules: tuple[str, ...] = ()  # modules whose import registers findings rules
    commands: tuple[str | Callable[..., Any], ...] = ()  # click commands added to the CLI
    origin: str = ""

    def section(self, option: CliOption) -> str:
        return option.section or self.name


@dataclass(frozen=True)
class Registry:
    """Every installed plugin, in load order (built-ins first, then by entry-point name)."""

    plugins: tuple[Plugin, ...]
    errors: tuple[str, ...] = ()

    def providers(self) -> frozenset[str]:
        return frozenset(p.provider for p in self.plugins if p.provider)

    def signal_kinds(self) -> dict[str, SignalKind]:
        return self._merged("signal_kinds")

    def formats(self, command: str | None = None) -> dict[str, OutputFormat]:
        found = self._merged("formats")
        return {k: f for k, f in found.items() if command is None or command in f.commands}

    def derivers(self) -> list[tuple[str, Callable[..., Any]]]:
        """(plugin name, derive function) in plugin order. Each reads the same view of what
        the connectors stated, so their order changes no edge."""
        out = []
        for p in self.plugins:
            for i, ref in enumerate(p.derivers):
                out.append((p.name, resolve(ref, what=f"plugin {p.name}: deriver #{i + 1}")))
        return out

    def cli_options(self) -> list[tuple[Plugin, CliOption]]:
        seen: dict[str, str] = {}
        out = []
        for p in self.plugins:
            for opt in p.cli_options:
                if opt.flag in seen:
                    log.warning("plugin %s: option %s already added by %s; ignored", p.name, opt.flag, seen[opt.flag])
                    continue
                seen[opt.flag] = p.name
                out.append((p, opt))
        return out

    def scope_types(self) -> frozenset[str]:
        return frozenset(t for p in self.plugins for t in p.scope_types)

    def rule_modules(self) -> list[str]:
        return [m for p in self.plugins for m in p.rules]

    def commands(self) -> list[Any]:
        return [resolve(ref, what=f"plugin {p.name}: command") for p in self.plugins for ref in p.commands]

    def _merged(self, attr: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for p in self.plugins:
            for key, value in getattr(p, attr).items():
                if key in out:
                    log.warning("plugin %s: %s %r already registered; ignored", p.name, attr, key)
                    continue
                out[key] = value
        return out


def _load(builtins: Iterable[Plugin]) -> Registry:
    plugins = list(builtins)
    errors: list[str] = []
    for ep in sorted(entry_points(group=PLUGIN_GROUP), key=lambda e: e.name):
        try:
            plugin = ep.load()
        except Exception as exc:  # noqa: BLE001  (a broken plugin must not break the tool)
            errors.append(f"plugin {ep.name} ({ep.value}) could not be loaded: {type(exc).__name__}: {exc}")
            continue
        if not isinstance(plugin, Plugin):
            errors.append(f"plugin {ep.name} ({ep.value}) is not an agentreach.plugins.Plugin")
            continue
        if any(p.name == plugin.name for p in plugins):
            errors.append(f"plugin {ep.name}: the name {plugin.name!r} is taken")
            continue
        plugins.append(dataclasses.replace(plugin, origin=ep.value))
    for err in errors:
        log.warning("%s", err)
    return Registry(tuple(plugins), tuple(errors))


@cache
def registry() -> Registry:
    """The installed plugins (loaded once per process; :func:`reload` after installing one)."""
    from .builtin import CORE

    return _load([CORE])


def reload() -> Registry:
    registry.cache_clear()
    return registry()
