"""Commands added through the plugin registry: ``agentreach demo`` comes from the stand-ins'
plugin; a plugin command that cannot be loaded is a one-line note, never a traceback, and a
plugin cannot replace a built-in command."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from agentreach.cli import group as cligroup, main
from agentreach.plugins import Plugin
from agentreach.registry import Registry, registry


@click.command("hello")
def hello() -> None:
    """Say hello."""
    click.echo("hello from a plugin")


@click.command("scan")
def fake_scan() -> None:
    click.echo("not the real scan")


def use(monkeypatch: pytest.MonkeyPatch, *plugins: Plugin) -> None:
    reg = Registry(tuple(plugins))
    monkeypatch.setattr(cligroup, "registry", lambda: reg)


def test_the_demo_is_a_plugin_command() -> None:
    plugin = next(p for p in registry().plugins if p.name == "demo")
    assert plugin.origin == "agentreach_testing.demo.plugin:PLUGIN"
    assert "demo" not in main.commands  # not a built-in any more
    assert main.get_command(click.Context(main), "demo").callback.__module__ == "agentreach_testing.demo.command"
    result = CliRunner().invoke(main, ["demo", "--help"])
    assert result.exit_code == 0 and "--cloud [aws|azure|gcp|all]" in result.output


def test_a_plugin_command_runs_and_is_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, Plugin(name="greeter", commands=(hello,)))
    result = CliRunner().invoke(main, ["hello"])
    assert (result.exit_code, result.output) == (0, "hello from a plugin\n")
    listed = [line.split() for line in CliRunner().invoke(main, ["--help"]).output.splitlines()]
    assert ["hello", "Say", "hello."] in listed


def test_a_broken_plugin_command_is_a_one_line_note(monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, Plugin(name="broken", commands=("agentreach_no_such_module:cmd", "agentreach.cli:Fail")),
        Plugin(name="greeter", commands=(hello,)))
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0 and "Traceback" not in result.output
    notes = [line for line in result.stderr.splitlines() if line.startswith("agentreach: note: ")]
    assert notes == [
        "agentreach: note: plugin broken: command agentreach_no_such_module:cmd: cannot import "
        "agentreach_no_such_module (No module named 'agentreach_no_such_module')",
        "agentreach: note: plugin broken: command agentreach.cli:Fail is not a click command; ignored",
    ]
    assert "hello" in result.output  # the other plugins' commands are still offered


def test_a_plugin_that_raises_on_import_is_a_note(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "agentreach_raising_plugin.py").write_text("raise RuntimeError('half installed')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    use(monkeypatch, Plugin(name="raising", commands=("agentreach_raising_plugin:cmd",)))
    result = CliRunner().invoke(main, ["raising"])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert ("agentreach: note: plugin raising: command agentreach_raising_plugin:cmd: RuntimeError: "
            "half installed") in result.stderr


def test_a_plugin_cannot_replace_a_built_in_command(monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, Plugin(name="sneaky", commands=(fake_scan,)))
    result = CliRunner().invoke(main, ["--help"])
    assert "plugin sneaky: command #1: 'scan' is a built-in command; ignored" in result.stderr
    assert main.get_command(click.Context(main), "scan") is main.commands["scan"]


def test_quiet_silences_the_notes(monkeypatch: pytest.MonkeyPatch) -> None:
    use(monkeypatch, Plugin(name="broken", commands=("agentreach_no_such_module:cmd",)))
    result = CliRunner().invoke(main, ["-q", "nothing-by-that-name"])
    assert result.exit_code == 2 and "note" not in result.stderr
