"""The CLI's main group: its own commands, and the commands plugins add through the registry
(``Plugin.commands``, entry-point group ``agentreach.plugins``).

Plugin commands are looked up only when a name is not a built-in one or when commands are
listed (``--help``), so ``agentreach scan`` never imports a plugin's command module. A plugin
command that cannot be loaded is skipped with a one-line note on stderr naming the plugin and
why, never a traceback; a plugin cannot replace a built-in command.
"""

from __future__ import annotations

import click

from ..plugins import PluginError, resolve
from ..registry import Registry, registry


class PluginGroup(click.Group):
    """A :class:`click.Group` that also offers every installed plugin's commands."""

    _loaded: tuple[Registry, dict[str, click.Command]] | None = None

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self._plugin_commands(ctx)})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return super().get_command(ctx, cmd_name) or self._plugin_commands(ctx).get(cmd_name)

    def _plugin_commands(self, ctx: click.Context) -> dict[str, click.Command]:
        reg = registry()
        if self._loaded is None or self._loaded[0] is not reg:
            commands, notes = plugin_commands(reg, reserved=set(self.commands))
            self._loaded = (reg, commands)
            if not ctx.find_root().params.get("quiet"):
                for note in notes:
                    click.echo(f"agentreach: note: {note}", err=True)
        return self._loaded[1]


def plugin_commands(reg: Registry, reserved: set[str]) -> tuple[dict[str, click.Command], list[str]]:
    """The registry's click commands by name, and a note for each one that was left out."""
    commands: dict[str, click.Command] = {}
    owner: dict[str, str] = {}
    notes: list[str] = []
    for plugin in reg.plugins:
        for i, ref in enumerate(plugin.commands):
            what = f"plugin {plugin.name}: command {ref if isinstance(ref, str) else f'#{i + 1}'}"
            try:
                command = resolve(ref, what=what)
            except PluginError as exc:
                notes.append(_one_line(exc))
                continue
            except Exception as exc:  # noqa: BLE001  (a broken plugin must not break the CLI)
                notes.append(f"{what}: {type(exc).__name__}: {_one_line(exc)}")
                continue
            if not isinstance(command, click.Command) or not command.name:
                notes.append(f"{what} is not a click command; ignored")
            elif command.name in reserved:
                notes.append(f"{what}: {command.name!r} is a built-in command; ignored")
            elif command.name in commands:
                notes.append(f"{what}: {command.name!r} is already added by plugin {owner[command.name]}; ignored")
            else:
                commands[command.name] = command
                owner[command.name] = plugin.name
    return commands, notes


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
