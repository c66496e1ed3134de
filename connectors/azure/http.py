"""The one place the Azure connector talks HTTP: tokens, retries, paging and gaps.

Graph and ARM share a wire format for what matters here: collections are ``value`` plus
an absolute next link (``@odata.nextLink`` / ``nextLink``) that already carries the
query, errors are ``{"error": {"code", "message"}}``, and throttling is 429 (or 503) with
``Retry-After`` in seconds. So one pager serves both. A failed call never raises into a
collector: it records a coverage gap and the listing says it is incomplete, keeping what
was read before the failure.
"""

from __future__ import annotations

import datetime as dt
import logging
import ssl
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import httpx

from agentreach.connector import CallLedger, ScanContext, first_line

from .config import AzureConfig

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Our own request lines at -vv (httpx's and azure-identity's loggers, which print headers, stay off).
_wire = logging.getLogger("agentreach.azure.http")


@dataclass
class Listing:
    """What a paged GET returned. ``ok`` False: a gap was recorded and ``items`` may be partial."""

    items: list[dict[str, Any]] = field(default_factory=list)
    ok: bool = True
    error_code: str | None = None


class CallFailed(Exception):
    """A call that failed for good. ``reported``: its gap is already recorded (a sign-in
    failure is one gap per API, not one per call)."""

    def __init__(self, code: str, message: str, status: int | None = None, reported: bool = False,
                 sign_in: bool = False) -> None:
        super().__init__(f"{code}: {message}")
        self.code, self.message, self.status, self.reported, self.sign_in = code, message, status, reported, sign_in


class AzureHttp(CallLedger):
    """An httpx client with bearer tokens from an azure-identity credential."""

    def __init__(self, cfg: AzureConfig, credential: Any, ctx: ScanContext,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(ctx, "azure", sleep=sleep)
        self.cfg = cfg
        self.credential = credential
        verify: ssl.SSLContext | bool = ssl.create_default_context(cafile=cfg.ca_bundle) if cfg.ca_bundle else True
        self.client = httpx.Client(verify=verify, timeout=cfg.timeout, follow_redirects=False,
                                   headers={"User-Agent": "agentreach-azure", "Accept": "application/json"})
        self._tokens: dict[str, tuple[str, float]] = {}
        self._token_failed: dict[str, CallFailed] = {}
        self._lock = threading.Lock()  # tokens

    def close(self) -> None:
        self.client.close()

    # -- tokens ---------------------------------------------------------------------------

    def token(self, scope: str) -> str:
        """A bearer token for ``scope``; a sign-in failure is raised once and remembered, so
        a tenant we cannot sign in to costs one gap, not one per call."""
        with self._lock:
            if scope in self._token_failed:
                first = self._token_failed[scope]
                raise CallFailed(first.code, first.message, reported=True, sign_in=True)
            cached = self._tokens.get(scope)
            if cached and cached[1] - 120 > time.time():
                return cached[0]
            try:
                tok = self.credential.get_token(scope)
            except Exception as exc:  # azure-identity raises ClientAuthenticationError and friends
                failed = CallFailed(type(exc).__name__, (first_line(exc) if str(exc).strip() else "")[:500],
                                    sign_in=True)
                self._token_failed[scope] = failed
                raise failed from None
            self._tokens[scope] = (tok.token, float(tok.expires_on))
            return tok.token

    def sign_in_failed(self, scope: str) -> bool:
        with self._lock:
            return scope in self._token_failed

    # -- calls ----------------------------------------------------------------------------

    def get(self, url: str, scope: str, operation: str, params: Mapping[str, str] | None = None,
            headers: Mapping[str, str] | None = None) -> dict[str, Any]:
        """One GET with retries; raises :class:`CallFailed` with the service's error code."""
        attempt = 0
        while True:
            attempt += 1
            self.ctx.check_cancelled()
            token = self.token(scope)
            self.count(operation)
            started = time.monotonic()
            try:
                resp = self.client.get(url, params=params, headers={"Authorization": f"Bearer {token}",
                                                                    **(headers or {})})
                _wire.debug("azure %s -> HTTP %s in %.0f ms, request id %s", operation, resp.status_code,
                            (time.monotonic() - started) * 1000,
                            resp.headers.get("x-ms-request-id") or resp.headers.get("request-id") or "-")
            except httpx.TransportError as exc:
                if attempt < self.cfg.max_attempts:
                    self._pause(operation, None, attempt)
                    continue
                raise CallFailed(type(exc).__name__, str(exc)[:500]) from None
            if resp.status_code == 200:
                try:
                    return resp.json()
                except ValueError:
                    raise CallFailed("InvalidJson", f"{url}: the answer is not JSON", 200) from None
            code, message = _error_of(resp)
            if resp.status_code in RETRY_STATUSES and attempt < self.cfg.max_attempts:
                self._pause(operation, resp.headers.get("Retry-After"), attempt)
                continue
            raise CallFailed(code, message, resp.status_code)

    def _pause(self, operation: str, retry_after: str | None, attempt: int) -> None:
        """Honour Retry-After (seconds or an HTTP date), capped by max_retry_after; without
        one, back off exponentially under the same cap."""
        self.backoff(operation, attempt, retry_after=_retry_after_seconds(retry_after), cap=self.cfg.max_retry_after)

    def list_all(self, url: str, scope: str, operation: str, account: str | None,
                 params: Mapping[str, str] | None = None, service: str | None = None,
                 headers: Mapping[str, str] | None = None, absent: frozenset[int] = frozenset()) -> Listing:
        """Every item of a collection, following next links verbatim (they carry the query).
        ``absent`` statuses mean "nothing here" (no gap)."""
        out = Listing()
        next_url: str | None = url
        next_params = dict(params or {})
        while next_url:
            try:
                page = self.get(next_url, scope, operation, next_params or None, headers)
            except CallFailed as exc:
                if exc.status in absent:
                    return out
                if not exc.reported:
                    self.gap(f"sign-in ({scope})" if exc.sign_in else operation, exc.code, exc.message,
                             account=account, service=service)
                out.ok, out.error_code = False, exc.code
                return out
            out.items.extend(v for v in page.get("value") or [] if isinstance(v, dict))
            next_url = page.get("@odata.nextLink") or page.get("nextLink")
            next_params = {}
        return out



def _error_of(resp: httpx.Response) -> tuple[str, str]:
    """(code, message) from Graph's / ARM's error body, or from MSAL-style OAuth errors."""
    try:
        body = resp.json()
    except ValueError:
        return f"HTTP{resp.status_code}", resp.text[:300]
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict):
        return str(err.get("code") or f"HTTP{resp.status_code}"), str(err.get("message") or "")
    if isinstance(err, str):
        return err, str(body.get("error_description") or "")
    return f"HTTP{resp.status_code}", str(body)[:300]


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        from email.utils import parsedate_to_datetime

        when = parsedate_to_datetime(value)
        return max(0.0, (when - dt.datetime.now(dt.timezone.utc)).total_seconds())
    except (TypeError, ValueError):
        return None
