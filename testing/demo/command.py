"""The ``agentreach demo`` click command. Imports nothing heavy: ``agentreach --help`` lists
it without loading moto, the fakes or the demo runner."""

from __future__ import annotations

import click


@click.command()
@click.option("--cloud", "clouds", type=click.Choice(["aws", "azure", "gcp", "all"]), multiple=True,
              default=["all"], show_default=True, help="Which embedded clouds to serve and scan (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False))
@click.pass_context
def demo(ctx: click.Context, clouds: tuple[str, ...], fmt: str, output: str | None) -> None:
    """Run the whole flow on an embedded estate (an AWS organization of two accounts, an Entra
    tenant with a subscription, a GCP project): no network, no cloud account."""
    from agentreach import exitcodes
    from agentreach.cli import Fail

    from .run import CLOUDS, DemoUnavailable, run_demo

    chosen = CLOUDS if "all" in clouds else tuple(c for c in CLOUDS if c in clouds)
    try:
        run_demo(ctx, fmt=fmt, output=output, clouds=chosen)
    except DemoUnavailable as exc:
        raise Fail(str(exc), exitcodes.FAILED) from None
