"""agentreach: the credentials AI agents run on, who owns them, what each can reach."""
__version__ = "0.1.0"
