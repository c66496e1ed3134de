"""``agentreach demo``: the whole flow on embedded estates of three clouds, served by the
stand-ins of :mod:`agentreach_testing` (see :mod:`.run`); registered by :mod:`.plugin`."""
