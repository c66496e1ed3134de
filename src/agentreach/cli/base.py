"""What every command shares: one-line failures with a chosen exit code, the global options
(accepted before the subcommand and after it), the immutable :class:`~agentreach.app.Session`
each command is handed, logging, and the ``--snapshot/--format/--output`` trio."""

from __future__ import annotations

import dataclasses
import functools
import logging
from typing import Any, Callable

import click

from .. import exitcodes, logsafe
from ..app import AppError, Session
from ..store import StoreError
from ..textsafe import escape_keeping_lines

F = Callable[..., Any]


class Fail(click.ClickException):
    """A one-line error with a chosen exit code; never a traceback."""

    def __init__(self, message: str, code: int = exitcodes.USAGE) -> None:
        super().__init__(message)
        self.exit_code = code

    def show(self, file: Any = None) -> None:
        # the message may quote a name or an id from the estate or the command line: no raw
        # control reaches the terminal (a config error's own lines stay lines)
        click.echo(f"agentreach: error: {escape_keeping_lines(self.format_message())}", err=True)


def configure_logging(session: Session) -> None:
    """-q: errors only; default: warnings; -v: info; -vv: debug (our own request lines, never
    an SDK's wire log); always through the redacting handler of :mod:`agentreach.logsafe`."""
    quiet, verbose = session.quiet, session.verbose
    level = logging.ERROR if quiet else (logging.DEBUG if verbose > 1 else logging.INFO if verbose else logging.WARNING)
    logsafe.configure(level, verbose=verbose)


_GLOBAL_HELP = {
    "db": "Store: a SQLite file or SQLAlchemy URL [env AGENTREACH_DB; default: user data dir].",
    "config": "YAML config merged over the shipped defaults [env AGENTREACH_CONFIG].",
    "quiet": "No progress bars or notes on stderr (for CI).",
    "verbose": "More logging on stderr (-vv for debug).",
}


def global_options(fn: F) -> F:
    """--db, --config, -q and -v (the group's, repeated here so that ``agentreach scan --db X``
    works as well as ``agentreach --db X scan``)."""
    fn = click.option("-v", "--verbose", "g_verbose", count=True, help=_GLOBAL_HELP["verbose"])(fn)
    fn = click.option("-q", "--quiet", "g_quiet", is_flag=True, default=None, help=_GLOBAL_HELP["quiet"])(fn)
    fn = click.option("--config", "g_config", type=click.Path(dir_okay=False), help=_GLOBAL_HELP["config"])(fn)
    return click.option("--db", "g_db", type=click.Path(dir_okay=False), help=_GLOBAL_HELP["db"])(fn)


def session_command(fn: F) -> F:
    """Give the command its Session (the group's, with any global option given after the
    subcommand on top) as first argument, and turn an AppError into a one-line failure."""

    @functools.wraps(fn)
    def run(*args: Any, g_db: str | None = None, g_config: str | None = None, g_quiet: bool | None = None,
            g_verbose: int = 0, **kwargs: Any) -> Any:
        base = click.get_current_context().find_root().obj
        session = base if isinstance(base, Session) else Session()
        given = {k: v for k, v in (("db", g_db), ("config_path", g_config), ("quiet", g_quiet)) if v is not None}
        if given or g_verbose:
            session = dataclasses.replace(session, **given, verbose=session.verbose + g_verbose)
            configure_logging(session)
        try:
            if session.config_path:
                session.config()  # a named config file that is missing or wrong fails every command, read ones too
            return fn(session, *args, **kwargs)
        except AppError as exc:
            raise Fail(str(exc), exc.code) from None
        except StoreError as exc:  # the store failed mid-command (a server restart, a row it refuses)
            raise Fail(str(exc), exitcodes.FAILED) from None

    return global_options(run)


def snapshot_options(formats: list[str]) -> Callable[[F], F]:
    """--snapshot, --format and --output, the same on every command that reads a snapshot."""
    def decorate(fn: F) -> F:
        fn = click.option("--output", "-o", type=click.Path(dir_okay=False),
                          help="Write the result here instead of stdout.")(fn)
        fn = click.option("--format", "fmt", type=click.Choice(formats), default=formats[0], show_default=True)(fn)
        return click.option("--snapshot", type=int, help="Snapshot id (default: the latest completed).")(fn)
    return decorate


def csv_list(value: str | None) -> list[str] | None:
    return [v.strip() for v in value.split(",") if v.strip()] if value else None
