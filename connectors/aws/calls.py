"""The one place the AWS connector talks to AWS: client creation and failure handling.

Every collector goes through :class:`AwsCalls`, so that retries, timeouts, endpoints, call
counting and the translation of a failed call into a coverage gap happen the same way for
every operation. A failed call never raises into a collector: it returns ``None`` (or
stops a pagination, keeping what was already read) and records the gap.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Iterable, Iterator, Sequence

from agentreach.connector import CallLedger, ScanCancelled, ScanContext, first_line

from .config import AwsConfig
from .replies import MALFORMED, MalformedResponse, check_body, describe, missing

# Answers that mean "there is nothing here", not "we could not look".
ABSENT_CODES = frozenset({
    "NoSuchBucketPolicy", "NoSuchTagSet", "NoSuchTagSetError", "ResourceNotFoundException",
    "NoSuchEntity", "ReportNotPresent", "PolicyNotFoundException",
})

# botocore's own names for services whose regions it cannot list (endpoint rule sets only).
# An unreachable endpoint for them in one region means "not offered there", not a gap.
_REGION_PROBED_SERVICES = frozenset({"bedrock-agent", "bedrock-agentcore-control", "apprunner"})


class AwsCalls(CallLedger):
    """Clients and safe calls for one account (one boto3 session). Retries are botocore's
    own (``retry_mode``, ``max_attempts``); counts and gaps are the shared ledger's."""

    def __init__(self, session: Any, account: str, cfg: AwsConfig, ctx: ScanContext,
                 connector: str = "aws") -> None:
        super().__init__(ctx, connector)
        self.session = session
        self.account = account
        self.cfg = cfg
        self._clients: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    def client(self, service: str, region: str | None = None) -> Any:
        region = region or self.cfg.default_region
        key = (service, region)
        with self._lock:
            if key not in self._clients:
                self._clients[key] = make_client(self.session, service, region, self.cfg)
            return self._clients[key]

    def _gap(self, service: str, region: str | None, operation: str, code: str, message: str) -> None:
        self.gap(operation, code, message, account=self.account, region=region, service=service)

    def call(self, service: str, operation: str, *, region: str | None = None,
             absent: frozenset[str] | set[str] = ABSENT_CODES, need: Sequence[str] = (),
             **params: Any) -> dict[str, Any] | None:
        """Call one operation. ``None`` when it failed (gap recorded) or the thing is absent,
        or when the answer lacks a field of ``need`` (a ``ResponseMalformed`` gap)."""
        self.ctx.check_cancelled()
        client = self.client(service, region)
        self.count(f"{service}:{operation}")
        try:
            resp = getattr(client, _snake(operation))(**params)
        except Exception as exc:
            self._handle(exc, service, region, operation, absent)
            return None
        lacks = missing(resp, need)
        if lacks:
            self._gap(service, region, operation, MALFORMED, f"the answer lacks {', '.join(lacks)}")
            return None
        return resp

    def attempt(self, service: str, operation: str, *, region: str | None = None, subject: str = "",
                **params: Any) -> tuple[dict[str, Any] | None, str | None]:
        """Call one operation: ``(answer, None)``, ``(None, None)`` when the thing is absent,
        or ``(None, code)`` when the call failed (the gap recorded, its message prefixed with
        ``subject``: per-object calls name the object they were about)."""
        self.ctx.check_cancelled()
        client = self.client(service, region)
        self.count(f"{service}:{operation}")
        try:
            return getattr(client, _snake(operation))(**params), None
        except Exception as exc:
            return None, self._handle(exc, service, region, operation, ABSENT_CODES, subject=subject)

    def keep(self, items: Iterable[Any], need: Sequence[str], service: str, operation: str,
             region: str | None = None) -> list[Any]:
        """The items that carry every field of ``need``; each other one is a
        ``ResponseMalformed`` gap naming it, so one odd item never costs its siblings."""
        out = []
        for item in items:
            lacks = missing(item, need)
            if lacks:
                self._gap(service, region, operation, MALFORMED, f"{describe(item)} lacks {', '.join(lacks)}: skipped")
            else:
                out.append(item)
        return out

    def paginate(self, service: str, operation: str, result_key: str, *, region: str | None = None,
                 need: Sequence[str] = (), **params: Any) -> Iterator[Any]:
        """Yield items page by page; a failure mid-way keeps what was read and records a gap.
        Items lacking a field of ``need`` are skipped, each with a gap."""
        client = self.client(service, region)
        if client.can_paginate(_snake(operation)):
            pages = iter(client.get_paginator(_snake(operation)).paginate(**params))
        else:
            pages = _marker_pages(client, _snake(operation), params)
        while True:
            self.ctx.check_cancelled()
            self.count(f"{service}:{operation}")
            try:
                page = next(pages)
            except StopIteration:
                self.count(f"{service}:{operation}", -1)
                return
            except Exception as exc:
                self._handle(exc, service, region, operation, ABSENT_CODES)
                return
            items = page.get(result_key) or []
            yield from self.keep(items, need, service, operation, region) if need else items

    def _handle(self, exc: Exception, service: str, region: str | None, operation: str,
                absent: frozenset[str] | set[str], subject: str = "") -> str | None:
        """Record the gap a failed call is; its code, or None when it means "absent"."""
        from botocore.exceptions import ClientError, EndpointConnectionError
        from botocore.parsers import ResponseParserError

        prefix = f"{subject}: " if subject else ""
        if isinstance(exc, (MalformedResponse, ResponseParserError)):
            # A reply cut short or garbled on the way: the call was answered, not refused.
            self._gap(service, region, operation, MALFORMED, prefix + first_line(exc))
            return MALFORMED
        if isinstance(exc, ClientError):
            err = exc.response.get("Error", {})
            code = str(err.get("Code") or exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode"))
            if code in absent:
                return None
            self._gap(service, region, operation, code, prefix + str(err.get("Message") or exc))
            return code
        if isinstance(exc, EndpointConnectionError) and service in _REGION_PROBED_SERVICES:
            self.ctx.log.debug("%s not offered in %s: %s", service, region, exc)
            return None
        if isinstance(exc, ScanCancelled):
            raise exc
        # Timeouts, connection failures, unparseable answers (a 500 page from a proxy):
        # all of them mean "could not look", which is what a gap records.
        self._gap(service, region, operation, type(exc).__name__,
                  prefix + (first_line(exc) if str(exc).strip() else ""))
        return type(exc).__name__


def _marker_pages(client: Any, method: str, params: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """IAM-style Marker/IsTruncated paging for operations botocore has no paginator for
    (ListServiceSpecificCredentials is one)."""
    params = dict(params)
    while True:
        page = getattr(client, method)(**params)
        yield page
        if not page.get("IsTruncated") or not page.get("Marker"):
            return
        params["Marker"] = page["Marker"]


def make_client(session: Any, service: str, region: str, cfg: AwsConfig) -> Any:
    """A boto3 client with our retry, timeout and endpoint policy.

    ``endpoint_url`` from config wins; otherwise botocore itself honours
    ``AWS_ENDPOINT_URL`` and ``AWS_ENDPOINT_URL_<SERVICE>``.
    """
    from botocore.config import Config

    from agentreach import __version__

    config = Config(
        retries={"mode": cfg.retry_mode, "total_max_attempts": cfg.max_attempts},
        connect_timeout=cfg.connect_timeout, read_timeout=cfg.read_timeout,
        user_agent_extra=f"agentreach/{__version__}", max_pool_connections=max(10, cfg.key_workers * 2),
    )
    kwargs: dict[str, Any] = {"region_name": region, "config": config}
    if cfg.endpoint_url:
        kwargs["endpoint_url"] = cfg.endpoint_url
    client = session.client(service, **kwargs)
    client.meta.events.register("before-parse", check_body)
    if _wire.isEnabledFor(logging.DEBUG):
        client.meta.events.register("before-call", _started)
        client.meta.events.register("after-call", _log_call)
    return client


# Our own request lines at -vv (botocore's wire log, which prints bodies, stays off).
_wire = logging.getLogger("agentreach.aws.calls")


def _started(context: dict[str, Any], **_: Any) -> None:
    context["agentreach_started"] = time.monotonic()


def _log_call(http_response: Any, parsed: Any, model: Any, context: dict[str, Any], **_: Any) -> None:
    """service operation, HTTP status, duration and request id: never a header or a body."""
    took = (time.monotonic() - context.get("agentreach_started", time.monotonic())) * 1000
    meta = parsed.get("ResponseMetadata", {}) if isinstance(parsed, dict) else {}
    _wire.debug("%s %s -> HTTP %s in %.0f ms, request id %s", model.service_model.service_name, model.name,
                getattr(http_response, "status_code", "?"), took, meta.get("RequestId") or "-")


def _snake(operation: str) -> str:
    from botocore import xform_name

    return xform_name(operation)
