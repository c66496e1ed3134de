"""Every rule, grouped by theme; importing this package registers them in ``RULES``.

- :mod:`.owners`: ownerless and orphaned agent identities and credentials (NHI1)
- :mod:`.lifecycle`: stale, long-lived, two active keys, expiring or expired (NHI1, NHI7)
- :mod:`.access`: over-privileged agents, agents reaching sensitive systems (NHI5)
- :mod:`.usage`: one identity used by several agents, humans using an agent identity (NHI9, NHI10)
- :mod:`.trust`: service trust without confused-deputy conditions, trust to unscanned accounts (NHI6, NHI3)
- :mod:`.apikeys`: API keys usable from anywhere or for any API (NHI7)
- :mod:`.federation`: federated trust any workload of a public OIDC issuer can satisfy (NHI6)
- :mod:`.secrets`: secrets found in files, and those that match a live credential (NHI2)
- :mod:`.profiles`: profiles: static drift, no profile, review overdue, past retirement (NHI5, NHI1, NHI7)
- :mod:`.runtime`: activity against profiles, owners and sensitivity (NHI5, NHI1, NHI7)
"""

from . import access, apikeys, federation, lifecycle, owners, profiles, runtime, secrets, trust, usage  # noqa: F401

__all__ = ["access", "apikeys", "federation", "lifecycle", "owners", "profiles", "runtime", "secrets", "trust",
           "usage"]
