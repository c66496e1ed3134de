"""Service-principal and managed-identity sign-ins (Microsoft Graph beta ``auditLogs/signIns``)
as activity: which workload identity signed in with which credential, to which resource API,
when, from where and with what outcome. Read-only (``AuditLog.Read.All``).

Get: ``GET /beta/auditLogs/signIns`` filtered on ``createdDateTime ge <window start>`` and on
``signInEventTypes`` (service principal and managed identity: Graph returns interactive user
sign-ins only unless the types are asked for), page by page through ``@odata.nextLink``; each
page is folded into the aggregator before the next is read, and 429/503 are retried after
``Retry-After`` by :class:`AzureHttp`. A failure keeps what was read and is a coverage gap.

Transform (pure): a sign-in into an :class:`agentreach.activity.ActivityEvent` whose identity
is the service principal (or managed identity) node, whose credential is the key the sign-in
names (``servicePrincipalCredentialKeyId``: a client secret's or certificate's keyId), whose
action is ``entra:SignIn`` and whose resource is the resource API's app id.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterator, Mapping

from agentreach.activity import MAX_TEXT, ActivityAggregate, ActivityEvent, Aggregator

from .http import AzureHttp, CallFailed
from .ids import PROVIDER, credential_id, mi_id, sp_id

EVENT_TYPES = ("servicePrincipal", "managedIdentity")
OPERATION = "GET auditLogs/signIns"
ACTION = "entra:SignIn"
_CREDENTIAL_KINDS = {"clientSecret": "client_secret", "certificate": "certificate",
                     "federatedIdentityCredential": "federated_credential"}


def sign_in_filter(since: dt.datetime) -> str:
    start = since.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    types = " or ".join(f"signInEventTypes/any(t: t eq '{t}')" for t in EVENT_TYPES)
    return f"createdDateTime ge {start} and ({types})"


def event_of(item: Mapping[str, Any], tenant: str | None) -> ActivityEvent | None:
    """One sign-in as an event; None when it names no principal or no time."""
    principal = str(item.get("servicePrincipalId") or "")
    when = item.get("createdDateTime")
    if not principal or not isinstance(when, str):
        return None
    types = set(item.get("signInEventTypes") or ())
    managed = "managedIdentity" in types or bool(item.get("managedIdentityType") not in (None, "", "none"))
    identity = mi_id(principal) if managed else sp_id(principal)
    key = str(item.get("servicePrincipalCredentialKeyId") or "")
    kind = _CREDENTIAL_KINDS.get(str(item.get("clientCredentialType") or ""), "client_secret")
    status = item.get("status") or {}
    code = status.get("errorCode")
    outcome = "success" if code in (None, 0, "0") else "denied" if str(code) in _DENIED else "error"
    ua = item.get("userAgent")
    ip = item.get("ipAddress")
    when = when if when.endswith("Z") else when.replace("+00:00", "Z")
    return ActivityEvent(
        identity=identity, action=ACTION, resource=str(item.get("resourceId") or ""), time=when[:19] + "Z",
        outcome=outcome, credential=credential_id(kind, key) if key and not managed else None,
        principal=str(item.get("servicePrincipalName") or item.get("appDisplayName") or principal),
        source_ip=str(ip)[:MAX_TEXT] if ip else None, user_agent=str(ua)[:MAX_TEXT] if ua else None,
        provider=PROVIDER, account=tenant, source="signins",
        error_code=None if outcome == "success" else str(code))


# AADSTS codes that mean the credential or the principal was refused (bad or expired secret or
# certificate, disabled application, principal not found, access blocked by policy).
_DENIED = frozenset({"7000215", "7000222", "700027", "7000112", "700016", "53003", "50053", "50057", "7000218"})


def collect(http: AzureHttp, tenant: str | None, since: dt.datetime, max_keys: int = 200_000
            ) -> Iterator[ActivityAggregate]:
    """The tenant's workload sign-ins since ``since`` as aggregates, drained whenever the
    aggregator fills and at the end."""
    cfg = http.cfg
    agg = Aggregator(max_keys)
    url: str | None = cfg.graph_url("/auditLogs/signIns", True)
    params: dict[str, str] | None = {"$filter": sign_in_filter(since), "$top": "999"}
    while url:
        try:
            page = http.get(url, cfg.graph_scope, OPERATION, params)
        except CallFailed as exc:
            if not exc.reported:
                http.gap(OPERATION, exc.code, exc.message, account=tenant, service="graph")
            break
        for item in page.get("value") or []:
            if isinstance(item, dict):
                ev = event_of(item, tenant)
                if ev is not None:
                    agg.add(ev)
        if agg.full:
            yield from agg.drain()
        url, params = page.get("@odata.nextLink"), None
    yield from agg.drain()
