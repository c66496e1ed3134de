"""What a package declares to add what a built-in adds (the registry that collects the
declarations is :mod:`agentreach.registry`).

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

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Mapping


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
class ShardDimension:
    """What ``scan --run NAME --shard DIMENSION=V1,V2`` sets in the plugin's connector section:
    ``key`` becomes the list of values, so the worker scans only its shard, and ``also`` is
    set beside it so that nothing widens the scan again (AWS: ``organization: false``, or the
    Organization's other accounts would come back). ``accounts``: the values are what the
    connector's records carry as ``account`` (a gap for a missing shard then names it)."""

    key: str
    help: str = ""
    also: Mapping[str, Any] = field(default_factory=dict)
    accounts: bool = False


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
    # Shard dimensions (``accounts``, ``subscriptions``, ``projects``, ``paths``) a sharded run
    # may split this plugin's connector along; each shard of a run runs only its connector.
    shards: Mapping[str, ShardDimension] = field(default_factory=dict)
    formats: Mapping[str, OutputFormat] = field(default_factory=dict)
    rules: tuple[str, ...] = ()  # modules whose import registers findings rules
    commands: tuple[str | Callable[..., Any], ...] = ()  # click commands added to the CLI
    # Checks the connector's config section (``check(section)``, raising ValueError naming
    # ``connectors.<name>.<key>``) when a config is loaded, before anything runs.
    config: str | Callable[[Mapping[str, Any]], Any] | None = None
    # Finds the secrets in a text (``scan(text) -> iterable of (detector, value)``), the way the
    # plugin's connector finds them in files: a pasted secret is then fingerprinted exactly as a
    # found one was (``show -``), and secrets in cloud metadata (tags, descriptions) are caught.
    secret_scanner: str | Callable[[str], Any] | None = None
    # The same for short texts read once per object (tags, descriptions): must be cheap when
    # nothing is there. Defaults to ``secret_scanner``.
    metadata_scanner: str | Callable[[str], Any] | None = None
    origin: str = ""

    def section(self, option: CliOption) -> str:
        return option.section or self.name
