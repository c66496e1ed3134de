"""The GCP part of ``agentreach demo``: one project served by the shipped fakes.

``demo_project(now)`` starts the gRPC IAM fake and the REST fake over
``gcp_estate.yaml`` (dates relative to ``now``) and yields the ``connectors.gcp`` config
section that points the ordinary connector at them: anonymous credentials and plaintext
loopback gRPC, which exist for this and for tests only. Nothing leaves the machine.
"""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from importlib import resources
from typing import Any, Iterator

import yaml


def load_estate() -> dict[str, Any]:
    """The shipped demo estate as data (dates still relative)."""
    return yaml.safe_load(resources.files("agentreach_testing.demo").joinpath("gcp_estate.yaml").read_text("utf-8"))


@contextmanager
def demo_project(now: dt.datetime) -> Iterator[dict[str, Any]]:
    """Serve the demo estate; yield the config to put under ``connectors.gcp``."""
    from ..gcp_fake import start_fakes

    fakes = start_fakes(load_estate(), now)
    try:
        yield fakes.config()
    finally:
        fakes.stop()
