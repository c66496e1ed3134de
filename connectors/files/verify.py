"""Live verification of found secrets (``connectors.files.verify``, ``agentreach scan --verify``).

Off by default and never in CI: it sends a found secret to the API it belongs to, which is a
use of that secret. A verifier is data (``verifiers:`` in config/secret-detectors.yaml): an
HTTP method, the provider's API root (overridable per verifier in
``connectors.files.verify_endpoints``), a path, header templates with ``{secret}``, and the
status codes that mean valid or invalid. Everything else is ``unknown``: 429, 5xx, other
codes, redirects (never followed, so the secret cannot travel to another host), timeouts and
network errors, and detectors without a verifier.

The value is used only to build the request headers in memory; results, errors and log lines
carry the verifier id, the status code and the exception class, never the value or headers.
"""

from __future__ import annotations

import datetime as dt
import urllib.error
import urllib.request
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Mapping, Protocol

from .detectors import detectors_file

VALID, INVALID, UNKNOWN = "valid", "invalid", "unknown"
DEFAULT_TIMEOUT = 10.0


class Verifier(Protocol):
    """Checks one secret against its provider; returns ``(result, detail)``."""

    id: str

    def check(self, value: str) -> tuple[str, str]: ...


@dataclass(frozen=True)
class HttpVerifier:
    """One provider API call, described by data."""

    id: str
    detectors: tuple[str, ...]
    method: str
    base: str
    path: str
    headers: Mapping[str, str]
    valid: frozenset[int]
    invalid: frozenset[int]
    timeout: float = DEFAULT_TIMEOUT

    def url(self) -> str:
        return self.base.rstrip("/") + self.path

    def check(self, value: str) -> tuple[str, str]:
        headers = {k: v.replace("{secret}", value) for k, v in self.headers.items()}
        headers.setdefault("User-Agent", "agentreach-verify")
        request = urllib.request.Request(self.url(), method=self.method, headers=headers)
        try:
            with _OPENER.open(request, timeout=self.timeout) as response:
                status = int(response.status)
        except urllib.error.HTTPError as exc:
            status = int(exc.code)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            return UNKNOWN, f"request failed: {type(getattr(exc, 'reason', exc)).__name__}"
        finally:
            del headers, request
        if status in self.valid:
            return VALID, f"HTTP {status}"
        if status in self.invalid:
            return INVALID, f"HTTP {status}"
        return UNKNOWN, f"HTTP {status}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is answered, not followed: following would resend the secret elsewhere."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


@lru_cache(maxsize=1)
def _entries() -> tuple[dict[str, Any], ...]:
    data = detectors_file()
    return tuple(dict(v) for v in data.get("verifiers") or ())


def verifier_ids() -> list[str]:
    return [str(e["id"]) for e in _entries()]


def load_verifiers(endpoints: Mapping[str, str] | None = None,
                   timeout: float = DEFAULT_TIMEOUT) -> dict[str, HttpVerifier]:
    """secret_type -> verifier, with ``endpoints`` (verifier id -> API root) applied."""
    endpoints = endpoints or {}
    out: dict[str, HttpVerifier] = {}
    for e in _entries():
        v = HttpVerifier(id=str(e["id"]), detectors=tuple(e.get("detectors") or ()), method=str(e.get("method", "GET")),
                         base=str(endpoints.get(e["id"]) or e["base"]), path=str(e.get("path") or ""),
                         headers={str(k): str(h) for k, h in (e.get("headers") or {}).items()},
                         valid=frozenset(int(c) for c in e.get("valid") or ()),
                         invalid=frozenset(int(c) for c in e.get("invalid") or ()), timeout=timeout)
        for detector in v.detectors:
            out.setdefault(detector, v)
    return out


class Verification:
    """One scan's verifications: at most one request per distinct secret (by fingerprint)."""

    def __init__(self, verifiers: Mapping[str, Verifier], clock: Callable[[], dt.datetime]) -> None:
        self.verifiers = verifiers
        self.clock = clock
        self.results: dict[str, dict[str, Any]] = {}
        self.counts: dict[str, int] = {VALID: 0, INVALID: 0, UNKNOWN: 0}

    def verify(self, fingerprint: str, detector: str, value: str) -> dict[str, Any]:
        """``attrs.verified`` of the secret: result, verifier, at, detail."""
        if fingerprint in self.results:
            return self.results[fingerprint]
        verifier = self.verifiers.get(detector)
        at = self.clock().isoformat().replace("+00:00", "Z")
        if verifier is None:
            out = {"result": UNKNOWN, "verifier": None, "at": at, "detail": "no verifier for this detector"}
        else:
            result, detail = verifier.check(value)
            out = {"result": result, "verifier": verifier.id, "at": at, "detail": detail}
        self.counts[out["result"]] += 1
        self.results[fingerprint] = out
        return out
