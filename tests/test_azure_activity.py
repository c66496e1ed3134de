"""Entra workload sign-ins as activity, through the TLS Graph fake with the real credential and
httpx: the beta ``auditLogs/signIns`` filter (window and event types), ``@odata.nextLink``
paging and 429 with ``Retry-After``. The sign-ins follow Microsoft Graph's beta signIn resource
(https://learn.microsoft.com/en-us/graph/api/resources/signin?view=graph-rest-beta: servicePrincipalId,
servicePrincipalCredentialKeyId, clientCredentialType, resourceId, ipAddress, status.errorCode,
signInEventTypes, managedIdentityType) and its "List service principal sign-ins" example
filter (https://learn.microsoft.com/en-us/graph/api/signin-list?view=graph-rest-beta)."""

from __future__ import annotations

import copy
import datetime as dt
import re
from typing import Any, Iterator

import pytest
from agentreach_connectors.azure import AzureConnector, signins
from agentreach_testing.azure_fake import AzureFake
from agentreach_testing.demo.azure import load_estate
from agentreach_testing.faults import Fault

from agentreach.activity import ActivityAggregate
from agentreach.connector import ScanContext

from .test_azure_connector import CLIENT_ID, ENV, SECRET, config

NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
RESEARCH_SP = "33333333-0000-4000-8000-000000000002"
RESEARCH_KEY = "55555555-0000-4000-8000-000000000002"
MI = "33333333-0000-4000-8000-0000000000c1"
GRAPH_APP = "00000003-0000-0000-c000-000000000000"
VAULT_APP = "cfa8b339-82a2-471a-a3c9-0fc0be7a4093"  # Azure Key Vault's first-party app id


def _t(days: float) -> str:
    return (NOW - dt.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:23] + "Z"


def sign_in(n: int, when: str, *, sp: str = RESEARCH_SP, key: str | None = RESEARCH_KEY,
            kinds: tuple[str, ...] = ("servicePrincipal",), resource: str = GRAPH_APP, code: int = 0,
            **extra: Any) -> dict[str, Any]:
    return {"id": f"66ea54eb-6301-4ee5-be62-ff5a759b{n:04d}", "createdDateTime": when,
            "appId": "a2a2a2a2-0000-4000-8000-000000000002", "appDisplayName": "research-agent",
            "servicePrincipalId": sp, "servicePrincipalName": "research-agent",
            "servicePrincipalCredentialKeyId": key, "clientCredentialType": "clientSecret" if key else "managedIdentity",
            "resourceDisplayName": "Microsoft Graph", "resourceId": resource, "ipAddress": "203.0.113.7",
            "status": {"errorCode": code, "failureReason": "Other." if not code else "Invalid client secret."},
            "signInEventTypes": list(kinds), "isInteractive": False, "userAgent": None, **extra}


@pytest.fixture(scope="module")
def fake() -> Iterator[AzureFake]:
    estate = copy.deepcopy(load_estate(NOW))
    estate["graph"]["signIns"] = [
        *[sign_in(i, _t(1 + i)) for i in range(3)],
        sign_in(10, _t(2), code=7000215),  # AADSTS7000215: invalid client secret
        sign_in(11, _t(1), sp=MI, key=None, kinds=("managedIdentity",), resource=VAULT_APP,
                managedIdentityType="systemAssigned", resourceDisplayName="Azure Key Vault"),
        sign_in(12, _t(120)),  # before the window
        sign_in(13, _t(1), kinds=("interactiveUser",)),  # a person's sign-in: never asked for
    ]
    server = AzureFake(estate, page_size=2, clients={CLIENT_ID: SECRET})
    server.start()
    yield server
    server.stop()


def _scan(fake: AzureFake, monkeypatch: pytest.MonkeyPatch) -> tuple[list[ActivityAggregate], Any, Any]:
    monkeypatch.setenv(ENV, SECRET)
    connector = AzureConnector(config(fake, activity=True, activity_since="30d"))
    ctx = ScanContext(clock=lambda: NOW)
    records = list(connector.scan(ctx))
    return [r for r in records if isinstance(r, ActivityAggregate)], ctx, connector


def test_workload_sign_ins_become_aggregates(fake: AzureFake, monkeypatch: pytest.MonkeyPatch) -> None:
    fake.requests.clear()
    aggs, ctx, connector = _scan(fake, monkeypatch)
    assert ctx.gaps.gaps == []
    got = {(a.identity, a.credential, a.resource, a.outcome): a for a in aggs}
    ok = got[(f"azure:sp:{RESEARCH_SP}", f"azure:client_secret:{RESEARCH_KEY}", GRAPH_APP, "success")]
    assert ok.count == 3 and ok.action == "entra:SignIn" and ok.source_ips == ("203.0.113.7",)
    assert ok.last_seen.strftime("%Y-%m-%dT%H:%M:%S") == _t(1)[:19]
    denied = got[(f"azure:sp:{RESEARCH_SP}", f"azure:client_secret:{RESEARCH_KEY}", GRAPH_APP, "denied")]
    assert denied.error_codes == ("7000215",)
    assert (f"azure:managed_identity:{MI}", None, VAULT_APP, "success") in got
    assert sum(a.count for a in aggs) == 5  # neither the old sign-in nor the person's
    asked = [r for r in fake.requests if r.path.endswith("/auditLogs/signIns")]
    assert asked[0].path.startswith("/beta/")
    flt = asked[0].query["$filter"]
    assert re.search(r"createdDateTime ge \d{4}-\d\d-\d\dT", flt) and "t eq 'managedIdentity'" in flt
    assert len(asked) == 3  # five sign-ins in the window, two a page
    assert connector.api_calls[signins.OPERATION] == 3


def test_throttled_sign_ins_retry_after_and_a_denied_log_is_a_gap(fake: AzureFake,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    fake.clear_rules()
    fake.add(Fault("throttle", api="graph", operation=re.compile(r"/auditLogs/signIns$"), times=1, retry_after=1))
    aggs, ctx, connector = _scan(fake, monkeypatch)
    assert ctx.gaps.gaps == [] and sum(a.count for a in aggs) == 5
    assert connector.http.retried[signins.OPERATION] == 1
    fake.clear_rules()
    fake.add(Fault("deny", api="graph", operation=re.compile(r"/auditLogs/signIns$")))
    aggs, ctx, _ = _scan(fake, monkeypatch)
    assert aggs == []
    assert [(g.operation, g.error_code) for g in ctx.gaps.gaps][0][0] == signins.OPERATION
    fake.clear_rules()
