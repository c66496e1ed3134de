"""The ``agentreach`` command line: argument handling and presentation only. Every command
parses its options, calls :mod:`agentreach.app` and prints what comes back; commands that
plugins bring (``agentreach demo`` among them) are added from the plugin registry."""

from __future__ import annotations

from . import activity, findings, graph, inventory, profile, reach, run, scan, triage  # noqa: F401  (each adds its commands to main)
from .base import Fail
from .main import main

__all__ = ["Fail", "main"]
