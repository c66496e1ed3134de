"""``python -m agentreach``: the same CLI as the ``agentreach`` script."""

from .cli import main

main()
