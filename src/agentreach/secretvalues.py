"""A cloud secret's current value, named the way a secret found in a file is named.

With ``match_secret_values`` on, a cloud connector that may read secret values (Secrets
Manager ``GetSecretValue``, Secret Manager ``versions.access``, Key Vault ``secrets/get``)
hands each current value to :func:`identities` and keeps only what comes back: the value's
shared identity (``ScanContext.secret_id``, scrypt under the scheme the snapshot records,
the same function the files connector names a found secret with), so that the link deriver
(:mod:`agentreach.graph.links`) can join a file secret to the cloud secret it is by
comparing ids. The value itself lives only in this call's frame: it is never stored, logged,
returned or put in an exception.

A value usually is not what a file holds whole: a JSON secret (Secrets Manager's
``{"username": .., "password": ..}``) ends up in a ``.env`` as its password alone. So its
top-level string fields are named too (at most :data:`MAX_FIELDS`), and what the installed
secret scanners find in the value (a PEM key's body, a token after ``KEY=``: the form a file
secret's value takes). Each candidate costs one scrypt (~0.15 s at the default cost), which
is also what a guess costs whoever reads the stored identity.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

MAX_FIELDS = 16  # top-level string fields of a JSON value that are named
MAX_FOUND = 8  # values the secret scanners find in it
MAX_CANDIDATES = 1 + 1 + MAX_FIELDS + MAX_FOUND
MAX_VALUE = 64 * 1024  # Secrets Manager's and Key Vault's ceilings; Secret Manager's payload limit
MIN_FIELD = 8  # a shorter field (a port, a short user name) is no secret a file leaks
# Fields that name where or who, not the secret: Secrets Manager's database secret structure
# (https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_secret_json_structure.html:
# engine, host, username, password, dbname, port, masterarn, dbInstanceIdentifier,
# dbClusterIdentifier) and a service-account key file's public fields. Skipping them saves a
# scrypt each (and stores no guessable name of a host or user).
NOT_SECRET_FIELDS = frozenset({
    "engine", "host", "hostname", "username", "user", "dbname", "database", "port", "masterarn",
    "dbinstanceidentifier", "dbclusteridentifier", "region", "type", "project_id", "private_key_id",
    "client_email", "client_id", "auth_uri", "token_uri", "auth_provider_x509_cert_url",
    "client_x509_cert_url", "universe_domain", "account", "email", "name", "description",
})
# The one flag every cloud connector that can read secret values declares alike (the registry
# lets plugins share a flag so declared), setting ``connectors.<name>.match_secret_values``.
OPTION_KEY = "match_secret_values"
OPTION_FLAG = "--match-secret-values"
OPTION_HELP = ("Read each cloud secret's current value (Secrets Manager, Secret Manager, Key Vault), name it in "
               "memory as a file secret is named, and link the files that hold it; the value is never kept. "
               "Needs read permission on secret values; ~0.15 s of scrypt per value.")
_SCANNING = threading.Lock()
ATTR = "value_identities"  # on the cloud secret: [{identity, part}]
READ_ATTR = "value_read"  # on the cloud secret: {status, operation, version, reason?, identities?}


def candidates(value: str, scanners: Iterable[Callable[[str], Any]] = ()) -> list[tuple[str, str]]:
    """(part, text) pairs a file may hold of ``value``: the value (stripped too), or for a JSON
    object each top-level string field that may be a secret (``field <name>``: at most
    :data:`MAX_FIELDS`, none of :data:`NOT_SECRET_FIELDS`, none under :data:`MIN_FIELD`
    characters; the document itself is no value a file secret has), then what ``scanners``
    find in it (``found <detector>``); each text once, at most :data:`MAX_CANDIDATES`. Pure."""
    out: dict[str, str] = {}

    def add(part: str, text: str) -> None:
        if text and text not in out and len(out) < MAX_CANDIDATES:
            out[text] = part

    try:
        doc = json.loads(value) if value.lstrip().startswith("{") else None
    except ValueError:
        doc = None
    if isinstance(doc, dict):
        named = 0
        for key, item in doc.items():
            if named >= MAX_FIELDS:
                break
            if isinstance(item, str) and len(item.strip()) >= MIN_FIELD \
                    and str(key).lower() not in NOT_SECRET_FIELDS:
                add(f"field {str(key)[:64]}", item)
                add(f"field {str(key)[:64]}", item.strip())
                named += 1
    else:
        add("value", value)
        add("value", value.strip())
    # The detectors run only where they may find a form the texts above are not: a text with
    # structure (a PEM block, KEY=value, a connection string, a nested document). On a bare
    # token they could find only the token (~0.2 s saved per value: they cost about a scrypt).
    nested = isinstance(doc, dict) and any(isinstance(v, (dict, list)) for v in doc.values())
    texts = [value] if nested else [t for t in list(out) if _STRUCTURE.search(t)]
    found = 0
    for scan in scanners:
        for text_in in texts:
            try:
                # One at a time: the files connector's detectors run on detect-secrets, whose
                # settings are process-global (two threads in it at once leave them wrong for
                # the next scan in the process).
                with _SCANNING:
                    finds = list(scan(text_in) or ())
            except Exception:  # noqa: BLE001 - a scanner's error text may quote the value: never raise it
                finds = []
            for detector, text in finds:
                if found >= MAX_FOUND:
                    break
                if text and str(text) not in out:
                    add(f"found {detector}", str(text))
                    found += 1
    return [(part, text) for text, part in out.items()]


_STRUCTURE = re.compile(r"[\s=:'\"{}<>,;]")


def identities(value: str | bytes, derive: Callable[[str], str],
               scanners: Iterable[Callable[[str], Any]] = ()) -> tuple[list[dict[str, str]], str | None]:
    """The identities of ``value``'s candidates as ``[{identity, part}]``, or ``([], reason)``
    when it cannot be named (bytes that are not UTF-8 text: no file secret is such a value;
    a value over :data:`MAX_VALUE`)."""
    if isinstance(value, (bytes, bytearray)):
        try:
            value = bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return [], "binary value that is not UTF-8 text (no file secret can be such a value)"
    if len(value) > MAX_VALUE:
        return [], f"value over {MAX_VALUE // 1024} KiB"
    out = []
    for part, text in candidates(value, scanners):
        ident = derive(text)
        if not any(o["identity"] == ident for o in out):
            out.append({"identity": ident, "part": part})
    return out, None


def secret_scanners() -> list[Callable[[str], Any]]:
    """The installed plugins' secret scanners (the files connector's detectors), the way a
    pasted secret is read (``show -``); none when a plugin cannot give them."""
    try:
        from .registry import registry

        return registry().secret_scanners()
    except Exception:  # noqa: BLE001 - naming the whole value still works without them
        return []


@dataclass
class ValueStats:
    """What reading secret values cost and gave, for the connector's summary line: values read,
    identities derived (one scrypt each) and their seconds, values denied and skipped."""

    counts: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, status: str, derived: int = 0, seconds: float = 0.0) -> None:
        with self._lock:
            self.counts[status] += 1
            self.counts["identities"] += derived
            self.seconds += seconds

    def summary(self) -> dict[str, Any]:
        c = self.counts
        return {"read": c["read"], "identities": c["identities"], "scrypt_seconds": round(self.seconds, 2),
                "denied": c["denied"], "failed": c["failed"], "skipped": c["skipped"], "absent": c["absent"]}

    def line(self) -> str:
        s = self.summary()
        return (f"secret values: {s['read']} read, {s['identities']} identities derived "
                f"({s['scrypt_seconds']:.1f} s of scrypt), {s['denied']} denied, {s['failed']} failed, "
                f"{s['skipped']} skipped, {s['absent']} without a current version")


def failure_status(code: str) -> str:
    """``denied`` for a refusal (AccessDenied…, PERMISSION_DENIED, Forbidden), else ``failed``
    (a disabled version, a bad checksum, a timeout): both are coverage gaps."""
    return "denied" if "denied" in code.lower() or code in ("Forbidden", "403") else "failed"


def read_record(status: str, operation: str, version: str, *, reason: str | None = None,
                version_id: str | None = None) -> dict[str, Any]:
    """The ``value_read`` attr: how the value was read (or why not), never the value."""
    out: dict[str, Any] = {"status": status, "operation": operation, "version": version}
    if version_id:
        out["version_id"] = version_id
    if reason:
        out["reason"] = reason
    return out


def named_record(value: str | bytes, ctx: Any, scanners: Iterable[Callable[[str], Any]], stats: Any,
                 operation: str, version: str, version_id: str | None) -> dict[str, Any]:
    """Name one value read (the scan's secret-id scheme, else its fingerprint), count it in
    ``stats``, and return the ``value_read`` record with its identities; the value itself goes
    no further than here."""
    found, reason, took = timed_identities(value, ctx.secret_id or ctx.fingerprint, scanners)
    if reason:
        stats.add("skipped")
        return read_record("skipped", operation, version, version_id=version_id, reason=reason)
    stats.add("read", len(found), took)
    return {**read_record("read", operation, version, version_id=version_id), "identities": found}


def timed_identities(value: str | bytes, derive: Callable[[str], str],
                     scanners: Iterable[Callable[[str], Any]] = ()) -> tuple[list[dict[str, str]], str | None, float]:
    """:func:`identities` and the seconds it took. A surprise while naming (a scheme's memory
    bound, a scanner's bug) skips this one value with the error's class as the reason, never its
    text (which may quote the value), and costs no other secret its read."""
    t0 = time.perf_counter()
    try:
        found, reason = identities(value, derive, scanners)
    except Exception as exc:  # noqa: BLE001
        found, reason = [], f"could not be named ({type(exc).__name__})"
    return found, reason, time.perf_counter() - t0


def matches(attrs: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(identity, part) pairs a cloud secret's attrs record (:data:`ATTR`)."""
    for item in attrs.get(ATTR) or ():
        if isinstance(item, dict) and isinstance(item.get("identity"), str) and item["identity"]:
            yield item["identity"], str(item.get("part") or "value")
