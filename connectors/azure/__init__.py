"""The Azure connector: Entra ID applications, service principals, managed identities and
Agent ID objects with their credentials, owners and sponsors (Microsoft Graph), and the
subscriptions, role assignments and reachable systems of Azure Resource Manager.
Read-only throughout; tokens from azure-identity, plain HTTPS through httpx.

Graph is read first, then ARM, and records are made after both: a service principal's
``granted_actions`` (what its role assignments let it do, which the classifier reads)
come from ARM, and ARM's role assignments name principals by the object ids Graph showed.
"""

from __future__ import annotations

from typing import Any, Iterator, Mapping

from agentreach import secretvalues
from agentreach.connector import Connector, ScanContext
from agentreach.model import CoverageGap, Record

from . import entra, keyvault, people, resources
from .arm import get_arm
from .auth import make_credential
from .config import AzureConfig
from .graph import AssignedRaw, get_assigned, get_entra
from .http import AzureHttp

__all__ = ["AzureConnector"]


class AzureConnector(Connector):
    name = "azure"
    version = "0.1.0"
    description = "Entra ID apps, service principals, Agent ID, credentials and Azure RBAC reach (read-only)"

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        self.cfg = AzureConfig.from_mapping(config)
        self.http: AzureHttp | None = None
        self.values = secretvalues.ValueStats()  # what match_secret_values read and cost

    def summary(self) -> dict[str, Any]:
        return {"secret_values": self.values.summary()} if self.cfg.match_secret_values else {}

    def summary_line(self) -> str:
        return self.values.line() if self.cfg.match_secret_values else ""

    def scan(self, ctx: ScanContext) -> Iterator[Record]:
        try:
            credential = make_credential(self.cfg)
        except Exception as exc:
            ctx.gaps.record(CoverageGap(connector="azure", operation="credential", error_code=type(exc).__name__,
                                        message=str(exc)[:500], account=self.cfg.tenant_id))
            return
        http = self.http = AzureHttp(self.cfg, credential, ctx)
        now = ctx.clock()
        task = ctx.progress.task("azure", total=2)
        try:
            raw = get_entra(http)
            task.advance()
            tenant = raw.tenant_id if raw else self.cfg.tenant_id
            subs = get_arm(http, tenant)
            if self.cfg.match_secret_values:
                keyvault.read_values(http, subs, self.values)
                ctx.log.info("azure: %s", self.values.line())
            task.advance()
            principals = entra.principal_ids(raw) if raw else {}
            users, groups = people.assigned(subs)
            assigned = get_assigned(http, tenant, users, groups) if raw is not None and (users or groups) \
                else AssignedRaw()
            problems: list[str] = []
            if raw is not None:
                yield from entra.transform(raw, now, resources.granted_actions(subs), problems,
                                           resources.identity_tags(subs))
            yield from people.transform(assigned, tenant, principals)
            principals = {**principals, **people.principal_ids(assigned)}
            emitted: set[str] = set()
            for sub in subs:
                yield from resources.transform(sub, tenant, principals, emitted, problems)
            if self.cfg.activity and raw is not None:
                from agentreach.activity import window_start

                from . import signins

                yield from signins.collect(http, tenant, window_start(now, self.cfg.activity_since))
            for problem in problems:
                ctx.gaps.record(CoverageGap(connector="azure", operation="transform", error_code="MalformedObject",
                                            message=problem[:500], account=tenant))
        finally:
            task.done()
            self.api_calls.update(http.counts)
            http.close()
            close = getattr(credential, "close", None)
            if callable(close):
                close()
