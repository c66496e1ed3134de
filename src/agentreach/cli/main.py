"""The ``agentreach`` group: the global options, the Session every command is handed, and
the commands plugins bring (from the registry), beside the built-in ones."""

from __future__ import annotations

import click

from .. import __version__
from ..app import Session
from .base import configure_logging
from .group import PluginGroup


@click.group(cls=PluginGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="agentreach")
@click.option("--db", "db", envvar="AGENTREACH_DB", type=click.Path(dir_okay=False),
              help="Store: a SQLite file or SQLAlchemy URL [env AGENTREACH_DB; default: user data dir].")
@click.option("--config", "config_path", envvar="AGENTREACH_CONFIG", type=click.Path(dir_okay=False),
              help="YAML config merged over the shipped defaults [env AGENTREACH_CONFIG].")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars or notes on stderr (for CI).")
@click.option("-v", "--verbose", count=True, help="More logging on stderr (-vv for debug).")
@click.pass_context
def main(ctx: click.Context, db: str | None, config_path: str | None, quiet: bool, verbose: int) -> None:
    """Find the credentials AI agents run on, who owns them, and what each one can reach."""
    ctx.obj = Session(db=db, config_path=config_path, quiet=quiet, verbose=verbose)
    configure_logging(ctx.obj)
