"""The one place the GCP connector talks to Google: clients, retries and coverage gaps.

Every collector goes through :class:`GcpCalls`, so retries (429 / 503 / RESOURCE_EXHAUSTED
/ UNAVAILABLE, with backoff), timeouts, endpoints, call counting and the translation of a
failed call into a coverage gap happen the same way for the gRPC IAM admin API, the REST
GAPIC Resource Manager clients and the plain REST APIs. A failed call never raises into a
collector: it returns ``None`` (or ends a pagination, keeping the pages already read).

The GAPIC clients' own retries are switched off (``retry=None``): their defaults retry
UNAVAILABLE for up to 60 s, which would hide a throttled API for a minute per call.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable, Iterator, Mapping

from agentreach.connector import CallLedger, ScanCancelled, ScanContext, first_line

from .config import GcpConfig

SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
# Our own request lines at -vv (google-auth's, urllib3's and grpc's loggers stay off).
_wire = logging.getLogger("agentreach.gcp.calls")
RETRY_STATUSES = frozenset({"RESOURCE_EXHAUSTED", "UNAVAILABLE", "429", "503", "502", "504"})
ABSENT_STATUSES = frozenset({"NOT_FOUND", "404"})


class ApiError(Exception):
    """A failed Google call, whatever the transport: HTTP code and Google status name."""

    def __init__(self, code: str, status: str, message: str) -> None:
        super().__init__(f"{code} {status}: {message}")
        self.code = code
        self.status = status
        self.message = message

    @property
    def retryable(self) -> bool:
        return self.status in RETRY_STATUSES or self.code in RETRY_STATUSES


def as_api_error(exc: Exception) -> ApiError | None:
    """Google's error from a GAPIC exception (gRPC or REST transport), or None."""
    from google.api_core import exceptions as gexc

    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, gexc.GoogleAPICallError):
        grpc_code = getattr(exc, "grpc_status_code", None)
        status = grpc_code.name if grpc_code is not None else _HTTP_STATUS.get(int(exc.code or 0), str(exc.code))
        return ApiError(str(exc.code), status, exc.message or str(exc))
    return None


_HTTP_STATUS = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
                409: "ABORTED", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE",
                504: "DEADLINE_EXCEEDED"}


def make_credentials(cfg: GcpConfig) -> Any:
    """Application Default Credentials unless told otherwise; anonymous for the fakes."""
    if cfg.anonymous:
        from google.auth.credentials import AnonymousCredentials

        return AnonymousCredentials()
    if cfg.credentials == "adc":
        import google.auth

        creds, _ = google.auth.default(scopes=list(SCOPES))
        return creds
    from google.oauth2 import service_account

    return service_account.Credentials.from_service_account_file(cfg.credentials, scopes=list(SCOPES))


class GcpCalls(CallLedger):
    """Clients and safe calls for one scan. Thread-safe: projects run in parallel."""

    def __init__(self, cfg: GcpConfig, ctx: ScanContext, credentials: Any,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__(ctx, "gcp", sleep=sleep)
        self.cfg = cfg
        self.credentials = credentials
        self._lock = threading.Lock()
        self._clients: dict[str, Any] = {}
        self._local = threading.local()
        self._sessions: list[Any] = []

    # -- clients ---------------------------------------------------------------------
    def _client(self, name: str, build: Callable[[], Any]) -> Any:
        with self._lock:
            if name not in self._clients:
                self._clients[name] = build()
            return self._clients[name]

    def iam(self) -> Any:
        """iam_admin_v1.IAMClient: gRPC only. With ``grpc_insecure`` an explicit plaintext
        channel is given (the local fake); otherwise TLS with the credentials."""
        def build() -> Any:
            from google.cloud import iam_admin_v1

            target = self.cfg.endpoints["iam"]
            if self.cfg.grpc_insecure:
                import grpc
                from google.cloud.iam_admin_v1.services.iam.transports import IAMGrpcTransport

                return iam_admin_v1.IAMClient(transport=IAMGrpcTransport(channel=grpc.insecure_channel(target)))
            return iam_admin_v1.IAMClient(credentials=self.credentials, client_options={"api_endpoint": target})
        return self._client("iam", build)

    def crm(self, kind: str) -> Any:
        """A Resource Manager v3 client (``projects``, ``folders``, ``organizations``), REST."""
        def build() -> Any:
            from google.cloud import resourcemanager_v3

            cls = {"projects": resourcemanager_v3.ProjectsClient, "folders": resourcemanager_v3.FoldersClient,
                   "organizations": resourcemanager_v3.OrganizationsClient}[kind]
            return cls(transport="rest", credentials=self.credentials,
                       client_options={"api_endpoint": self.cfg.endpoints["resourcemanager"]})
        return self._client(f"crm:{kind}", build)

    def _session(self) -> Any:
        session = getattr(self._local, "session", None)
        if session is None:
            from google.auth.transport.requests import AuthorizedSession

            session = self._local.session = AuthorizedSession(self.credentials)
            with self._lock:
                self._sessions.append(session)
        return session

    def close(self) -> None:
        """Close channels and sessions (a scan leaves no connection behind)."""
        with self._lock:
            clients, sessions = list(self._clients.values()), list(self._sessions)
            self._clients.clear()
            self._sessions.clear()
        for client in clients:
            try:
                client.transport.close()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass
        for session in sessions:
            session.close()

    # -- calls -----------------------------------------------------------------------
    def call(self, operation: str, fn: Callable[[], Any], *, project: str | None, service: str,
             absent_ok: bool = True, errors: list[str] | None = None) -> Any:
        """Run ``fn`` with retries; ``None`` when it failed (gap recorded, its status appended
        to ``errors`` when given: a per-object call tells denied from absent) or found nothing."""
        for attempt in range(self.cfg.max_attempts):
            self.ctx.check_cancelled()
            self.count(f"{service}:{operation}")
            started = time.monotonic()
            try:
                result = fn()
                _wire.debug("gcp %s %s -> ok in %.0f ms", service, operation, (time.monotonic() - started) * 1000)
                return result
            except ScanCancelled:
                raise
            except Exception as exc:  # noqa: BLE001 - every failure is a gap, never a dead scan
                err = as_api_error(exc) or _transport_error(exc)
                _wire.debug("gcp %s %s -> %s in %.0f ms", service, operation,
                            err.status if err else type(exc).__name__, (time.monotonic() - started) * 1000)
                if err is None:
                    self._gap(operation, type(exc).__name__, first_line(exc), project, service)
                    if errors is not None:
                        errors.append(type(exc).__name__)
                    return None
                if err.status in ABSENT_STATUSES and absent_ok:
                    return None
                if err.retryable and attempt + 1 < self.cfg.max_attempts:
                    self.backoff(operation, attempt + 1, base=self.cfg.retry_base_delay, jitter=True)
                    continue
                self._gap(operation, err.status, f"HTTP {err.code}: {err.message}", project, service)
                if errors is not None:
                    errors.append(err.status)
                return None
        return None

    def rest(self, api: str, path: str, params: Mapping[str, Any] | None = None, *, operation: str,
             project: str | None, base: str | None = None, errors: list[str] | None = None) -> dict[str, Any] | None:
        """GET one REST resource as JSON (``None`` on failure, with the gap recorded)."""
        url = (base or self.cfg.endpoints[api]).rstrip("/") + path

        def get() -> dict[str, Any]:
            resp = self._session().get(url, params=dict(params or {}), timeout=self.cfg.timeout)
            if resp.status_code >= 400:
                raise _rest_error(resp)
            return resp.json() if resp.content else {}
        return self.call(operation, get, project=project, service=api, errors=errors)

    def rest_post(self, api: str, path: str, body: Mapping[str, Any], *, operation: str,
                  project: str | None) -> dict[str, Any] | None:
        """POST a JSON body (a query such as ``entries:list``), the answer as JSON or ``None``."""
        url = self.cfg.endpoints[api].rstrip("/") + path

        def post() -> dict[str, Any]:
            resp = self._session().post(url, json=dict(body), timeout=self.cfg.timeout)
            if resp.status_code >= 400:
                raise _rest_error(resp)
            return resp.json() if resp.content else {}
        return self.call(operation, post, project=project, service=api)

    def rest_pages(self, api: str, path: str, key: str, params: Mapping[str, Any] | None = None, *,
                   operation: str, project: str | None, base: str | None = None,
                   size_param: str = "pageSize") -> Iterator[dict[str, Any]]:
        """Items of a ``nextPageToken``-paged REST list; a failure mid-way keeps what was read."""
        query = {**(params or {}), size_param: self.cfg.page_size}
        while True:
            body = self.rest(api, path, query, operation=operation, project=project, base=base)
            if body is None:
                return
            yield from body.get(key) or []
            token = body.get("nextPageToken")
            if not token:
                return
            query["pageToken"] = token

    def _gap(self, operation: str, code: str, message: str, project: str | None, service: str) -> None:
        self.gap(operation, code, message, account=project, service=service)


def _rest_error(resp: Any) -> ApiError:
    try:
        err = resp.json().get("error") or {}
    except ValueError:
        err = {}
    if not isinstance(err, Mapping):
        err = {"message": str(err)}
    status = str(err.get("status") or _HTTP_STATUS.get(resp.status_code, resp.status_code))
    # "API not enabled in this project" is a 403 too; its ErrorInfo reason says which it is.
    reasons = [d.get("reason") for d in err.get("details") or [] if isinstance(d, Mapping) and d.get("reason")]
    if "SERVICE_DISABLED" in reasons:
        status = "SERVICE_DISABLED"
    return ApiError(str(resp.status_code), status, str(err.get("message") or resp.reason or ""))


def _transport_error(exc: Exception) -> ApiError | None:
    """Connection failures and timeouts: retried, then a gap named after the failure."""
    import requests

    if isinstance(exc, (requests.ConnectionError, requests.Timeout)):
        return ApiError("0", "UNAVAILABLE", first_line(exc))
    return None
