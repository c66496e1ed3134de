"""The demo as a plugin: ``agentreach demo`` is added to the CLI through the registry
(entry point ``agentreach.plugins: demo``), so the product names no stand-in. Light on
purpose: the command module imports click only; moto and the fakes load when it runs."""

from agentreach.plugins import Plugin

PLUGIN = Plugin(
    name="demo",
    description="agentreach demo: a scan of embedded AWS, Azure and GCP estates served by local stand-ins",
    commands=("agentreach_testing.demo.command:demo",),
)
