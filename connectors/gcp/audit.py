"""Cloud Audit Logs of service accounts as activity (the GCP connector's ``activity`` option):
admin-activity and data-access entries whose principal is a service account. Read-only
(``logging.logEntries.list``; data-access logs also need ``logging.privateLogEntries.list``).

Get: ``POST /v2/entries:list`` for one project with a filter on the window, on the audit log
names and on service-account principals, oldest first, page by page through
``nextPageToken``; each page is folded into the aggregator before the next is read.

Transform (pure): an entry's ``protoPayload`` (an ``AuditLog``) into an
:class:`agentreach.activity.ActivityEvent`: identity the service account of
``authenticationInfo.principalEmail``, credential its key where
``authenticationInfo.serviceAccountKeyName`` names one, action ``methodName``, resource
``resourceName`` (``projects/_/buckets/B/objects/O`` counts for the bucket), address
``requestMetadata.callerIp``, user agent ``requestMetadata.callerSuppliedUserAgent``, outcome
from ``status.code`` (7 PERMISSION_DENIED and 16 UNAUTHENTICATED are denied). Request and
response bodies (``request``, ``response``, ``metadata``) are never read into the event.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterator, Mapping

from agentreach.activity import MAX_TEXT, ActivityAggregate, ActivityEvent, Aggregator
from agentreach.model import node_id

from .calls import GcpCalls
from .ids import PROVIDER, sa_id

OPERATION = "entries.list"
AUDIT_LOGS = ("activity", "data_access")
_DENIED = {7, 16}


def entries_filter(project: str, since: dt.datetime) -> str:
    start = since.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    logs = " OR ".join(f'logName="projects/{project}/logs/cloudaudit.googleapis.com%2F{name}"' for name in AUDIT_LOGS)
    return (f'timestamp>="{start}" AND ({logs}) AND '
            'protoPayload.authenticationInfo.principalEmail:"gserviceaccount.com"')


def event_of(entry: Mapping[str, Any], project: str) -> ActivityEvent | None:
    payload = entry.get("protoPayload") or {}
    auth = payload.get("authenticationInfo") or {}
    email = str(auth.get("principalEmail") or "").lower()
    when = entry.get("timestamp")
    method = payload.get("methodName")
    if not email.endswith(".gserviceaccount.com") or not isinstance(when, str) or not method:
        return None
    key_name = auth.get("serviceAccountKeyName")
    key = str(key_name).rstrip("/").rsplit("/", 1)[-1] if key_name else None
    status = payload.get("status") or {}
    code = status.get("code")
    outcome = "success" if not code else "denied" if int(code) in _DENIED else "error"
    meta = payload.get("requestMetadata") or {}
    ua, ip = meta.get("callerSuppliedUserAgent"), meta.get("callerIp")
    return ActivityEvent(
        identity=sa_id(email), action=str(method), resource=str(payload.get("resourceName") or ""),
        time=when[:19] + "Z", outcome=outcome, credential=node_id(PROVIDER, "sa_key", key) if key else None,
        principal=email, source_ip=str(ip)[:MAX_TEXT] if ip else None, user_agent=str(ua)[:MAX_TEXT] if ua else None,
        provider=PROVIDER, account=project, source="audit_logs", error_code=None if not code else str(code))


def collect(calls: GcpCalls, project: str, since: dt.datetime, max_keys: int = 200_000
            ) -> Iterator[ActivityAggregate]:
    agg = Aggregator(max_keys)
    body: dict[str, Any] = {"resourceNames": [f"projects/{project}"], "filter": entries_filter(project, since),
                            "orderBy": "timestamp asc", "pageSize": calls.cfg.page_size}
    while True:
        page = calls.rest_post("logging", "/v2/entries:list", body, operation=OPERATION, project=project)
        if page is None:
            break
        for entry in page.get("entries") or []:
            if isinstance(entry, dict):
                ev = event_of(entry, project)
                if ev is not None:
                    agg.add(ev)
        if agg.full:
            yield from agg.drain()
        token = page.get("nextPageToken")
        if not token:
            break
        body = {**body, "pageToken": token}
    yield from agg.drain()
