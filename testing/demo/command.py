"""The ``agentreach demo`` click command. Imports nothing heavy: ``agentreach --help`` lists
it without loading moto, the fakes or the demo runner."""

from __future__ import annotations

import click

from agentreach.cli.base import Fail, session_command


@click.command()
@click.option("--cloud", "clouds", type=click.Choice(["aws", "azure", "gcp", "all"]), multiple=True,
              default=["all"], show_default=True, help="Which embedded clouds to serve and scan (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False))
@session_command
def demo(session: object, clouds: tuple[str, ...], fmt: str, output: str | None) -> None:
    """Run the whole flow on an embedded estate (an AWS organization of two accounts, an Entra
    tenant with a subscription, a GCP project): no network, no cloud account."""
    from agentreach import exitcodes

    from .run import CLOUDS, DemoUnavailable, run_demo

    chosen = CLOUDS if "all" in clouds else tuple(c for c in CLOUDS if c in clouds)
    try:
        code = run_demo(session, fmt=fmt, output=output, clouds=chosen)  # type: ignore[arg-type]
    except DemoUnavailable as exc:
        raise Fail(str(exc), exitcodes.FAILED) from None
    click.get_current_context().exit(code)
