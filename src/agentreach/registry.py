"""The registry: every installed plugin's declarations, collected once per process.

Plugins are found through the entry-point group ``agentreach.plugins``; the core's own
declarations (:mod:`agentreach.builtin`) come first. A plugin that cannot be loaded is left
out with a warning naming it, never a traceback: a broken third-party package must not
break the tool.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from typing import Any, Callable, Iterable

from .plugins import CliOption, OutputFormat, Plugin, SignalKind, resolve

PLUGIN_GROUP = "agentreach.plugins"
log = logging.getLogger("agentreach.plugins")


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
        """One entry per flag, for the command line (the first plugin to declare it)."""
        firsts: dict[str, tuple[Plugin, CliOption]] = {}
        for p, opt in self.cli_option_targets():
            firsts.setdefault(opt.flag, (p, opt))
        return list(firsts.values())

    def cli_option_targets(self) -> list[tuple[Plugin, CliOption]]:
        """Every (plugin, option) a flag sets. Plugins may share a flag when they declare it
        alike (same key and kind: ``--match-secret-values`` turns the option on for every cloud
        connector); a flag declared otherwise by a second plugin is ignored with a warning."""
        seen: dict[str, tuple[str, CliOption]] = {}
        out = []
        for p in self.plugins:
            for opt in p.cli_options:
                first = seen.get(opt.flag)
                if first is not None and (first[1].key, first[1].kind) != (opt.key, opt.kind):
                    log.warning("plugin %s: option %s already added by %s; ignored", p.name, opt.flag, first[0])
                    continue
                seen.setdefault(opt.flag, (p.name, opt))
                out.append((p, opt))
        return out

    def scope_types(self) -> frozenset[str]:
        return frozenset(t for p in self.plugins for t in p.scope_types)

    def secret_scanners(self) -> list[Callable[[str], Any]]:
        """``scan(text) -> [(detector, value)]`` for a pasted secret (thorough)."""
        return [resolve(p.secret_scanner, what=f"plugin {p.name}: secret scanner")
                for p in self.plugins if p.secret_scanner is not None]

    def metadata_scanners(self) -> list[Callable[[str], Any]]:
        """``scan(text) -> [(detector, value)]`` for tags and descriptions (cheap when clean)."""
        return [resolve(p.metadata_scanner or p.secret_scanner, what=f"plugin {p.name}: metadata scanner")
                for p in self.plugins if (p.metadata_scanner or p.secret_scanner) is not None]

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
