"""``agentreach demo``: the whole flow on the embedded estate."""

from __future__ import annotations

import click

from .. import app, exitcodes
from .base import Fail, session_command
from .main import main


@main.command()
@click.option("--cloud", "clouds", type=click.Choice(["aws", "azure", "gcp", "all"]), multiple=True,
              default=["all"], show_default=True, help="Which embedded clouds to serve and scan (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False))
@session_command
def demo(session: app.Session, clouds: tuple[str, ...], fmt: str, output: str | None) -> None:
    """Run the whole flow on an embedded estate (an AWS organization of two accounts, an Entra
    tenant with a subscription, a GCP project): no network, no cloud account."""
    from ..demo.run import CLOUDS, DemoUnavailable, run_demo

    chosen = CLOUDS if "all" in clouds else tuple(c for c in CLOUDS if c in clouds)
    try:
        code = run_demo(session, fmt=fmt, output=output, clouds=chosen)
    except DemoUnavailable as exc:
        raise Fail(str(exc), exitcodes.FAILED) from None
    click.get_current_context().exit(code)
