"""agentreach: the credentials AI agents run on, who owns them, what each can reach."""
__version__ = "0.2.0"  # pyproject.toml's version; releases are tagged v<version> (tests/test_release.py)
