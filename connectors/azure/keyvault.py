"""Key Vault secret values, read only with ``match_secret_values`` (off by default).

For each vault ARM listed with a ``vaultUri``, the data plane (its own token audience,
``vault_scope``): ``GET {vaultUri}secrets`` (ids and attributes, no values; the
``secrets/list`` permission) and, for each enabled secret that is not a certificate's
(``managed``), ``GET {vaultUri}secrets/{name}`` (the current version's value; ``secrets/get``).
Each value is named in memory (:mod:`agentreach.secretvalues`) and dropped; the identities go
on the vault's node, each tagged with its secret's name, so the link deriver can say which
file holds which secret of which vault. A refused list or get is a coverage gap naming the
vault and the secret; the scan goes on.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterable, Sequence

from agentreach import secretvalues

from .arm import SubscriptionRaw
from .http import AzureHttp, CallFailed

API_VERSION = "7.4"
LIST_OPERATION = "secrets/list"
GET_OPERATION = "secrets/get"
VERSION = "current"


def read_values(http: AzureHttp, subs: Iterable[SubscriptionRaw], stats: secretvalues.ValueStats) -> None:
    """Put ``ValueRead`` on every vault of ``subs`` whose ``vaultUri`` is known."""
    scanners = secretvalues.secret_scanners()
    for sub in subs:
        for vault in sub.lists.get("vaults") or []:
            uri = str((vault.get("properties") or {}).get("vaultUri") or "")
            if uri.startswith("https://"):
                vault["ValueRead"] = get_vault(http, sub.id, str(vault.get("name") or uri), uri, scanners, stats)


def get_vault(http: AzureHttp, sid: str, name: str, uri: str, scanners: Sequence[Any],
              stats: secretvalues.ValueStats) -> dict[str, Any]:
    """The ``value_read`` record of one vault: identities tagged ``secret <name>``, and what
    became of each secret; no value in it."""
    base = uri.rstrip("/")
    listing = http.list_all(f"{base}/secrets", http.cfg.vault_scope, "GET secrets (Key Vault)", sid,
                            {"api-version": API_VERSION}, service="keyvault")
    if not listing.ok:
        status = secretvalues.failure_status(listing.error_code or "")
        stats.add(status)
        return secretvalues.read_record(status, LIST_OPERATION, VERSION,
                                        reason=f"{listing.error_code} listing the vault's secrets (coverage gap)")
    per_secret: dict[str, dict[str, Any]] = {}
    wanted = []
    for item in listing.items:
        sname = str(item.get("id") or "").rstrip("/").rsplit("/secrets/", 1)[-1]
        if not sname or "/" in sname:
            continue
        if not (item.get("attributes") or {}).get("enabled", True):
            stats.add("skipped")
            per_secret[sname] = {"status": "skipped", "reason": "disabled"}
        elif item.get("managed"):
            stats.add("skipped")
            per_secret[sname] = {"status": "skipped", "reason": "a certificate's secret (managed by Key Vault)"}
        else:
            wanted.append(sname)
    with ThreadPoolExecutor(max_workers=http.cfg.value_workers, thread_name_prefix="azure-values") as pool:
        reads = list(pool.map(lambda s: _secret(http, sid, name, base, s, scanners, stats), wanted))
    identities: list[dict[str, str]] = []
    for sname, (found, state) in zip(wanted, reads, strict=True):
        per_secret[sname] = state
        for item in found:
            part = item["part"]
            identities.append({"identity": item["identity"],
                               "part": f"secret {sname}" + ("" if part == "value" else f" {part}")})
    read = any(s.get("status") == "read" for s in per_secret.values())
    record = secretvalues.read_record("read" if read else "none read", GET_OPERATION, VERSION)
    record["secrets"] = dict(sorted(per_secret.items()))
    record["identities"] = identities
    return record


def _secret(http: AzureHttp, sid: str, vault: str, base: str, sname: str, scanners: Sequence[Any],
            stats: secretvalues.ValueStats) -> tuple[list[dict[str, str]], dict[str, Any]]:
    """One secret's current value, named in memory: (identities, what became of it)."""
    try:
        body = http.get(f"{base}/secrets/{sname}", http.cfg.vault_scope, "GET secret (Key Vault)",
                        {"api-version": API_VERSION})
    except CallFailed as exc:
        if not exc.reported:
            http.gap("sign-in (Key Vault)" if exc.sign_in else GET_OPERATION, exc.code,
                     f"secret {sname} in vault {vault}: {exc.message}"[:500], account=sid, service="keyvault")
        status = secretvalues.failure_status(exc.code)
        stats.add(status)
        return [], {"status": status, "reason": f"{exc.code} (coverage gap)"}
    version = str(body.get("id") or "").rstrip("/").rsplit("/", 1)[-1] or None
    value = body.get("value")
    body.clear()
    del body
    if not isinstance(value, str):
        stats.add("absent")
        return [], {"status": "absent", "reason": "the answer holds no value"}
    found, reason, took = secretvalues.timed_identities(value, http.ctx.secret_id or http.ctx.fingerprint, scanners)
    del value
    if reason:
        stats.add("skipped")
        return [], {"status": "skipped", "reason": reason, "version_id": version}
    stats.add("read", len(found), took)
    return found, {"status": "read", "version_id": version}
