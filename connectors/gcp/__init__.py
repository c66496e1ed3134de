"""The GCP connector: service accounts and their keys, service agents and agent principals,
Workload Identity Federation, API keys, Vertex AI Agent Engine, Cloud Run services, and the IAM policies of the
organization, folders, projects, service accounts, buckets, secrets and datasets, with the
roles and deny policies that give those policies meaning. Read-only throughout.

Projects run in parallel on a bounded pool. A call that fails (403 on one project, an API
not enabled, throttling past the retries) becomes a coverage gap and the scan goes on.
Identities that exist only as policy members (service agents, agent principals) and the
roles the bindings use are emitted once, after every project has been read.
"""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

from agentreach import secretvalues
from agentreach.connector import Connector, ScanCancelled, ScanContext
from agentreach.model import CoverageGap, Edge, Identity, Record, System

from . import activity, apikeys, cloudrun, groups, hierarchy, iam_admin, policies, resources, vertex, wif
from .calls import GcpCalls, make_credentials
from .config import GcpConfig
from .members import policy_member_identities, roles_of

__all__ = ["GcpConnector"]


@dataclass
class ProjectResult:
    records: list[Record] = field(default_factory=list)
    policies: list[Mapping[str, Any]] = field(default_factory=list)
    emails: set[str] = field(default_factory=set)
    pools: set[str] = field(default_factory=set)


def policies_in(records: list[Record]) -> list[Mapping[str, Any]]:
    """Every IAM policy a batch of records carries (systems' and service accounts' own)."""
    out: list[Mapping[str, Any]] = []
    for r in records:
        if isinstance(r, System) and r.resource_policy:
            out.append(r.resource_policy)
        elif isinstance(r, Identity) and r.attrs.get("resource_policy"):
            out.append(r.attrs["resource_policy"])
    return out


class GcpConnector(Connector):
    name = "gcp"
    version = "0.1.0"
    description = "GCP service accounts, keys, agents, federation and IAM reach (google-cloud-iam, read-only)"

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        self.cfg = GcpConfig.from_mapping(config)
        self.values = secretvalues.ValueStats()  # what match_secret_values read and cost

    def summary(self) -> dict[str, Any]:
        return {"secret_values": self.values.summary()} if self.cfg.match_secret_values else {}

    def summary_line(self) -> str:
        return self.values.line() if self.cfg.match_secret_values else ""

    def scan(self, ctx: ScanContext) -> Iterator[Record]:
        try:
            credentials = make_credentials(self.cfg)
        except Exception as exc:  # noqa: BLE001 - no credentials: nothing to see, say why
            ctx.gaps.record(CoverageGap(connector="gcp", operation="Credentials", error_code=type(exc).__name__,
                                        message=str(exc).splitlines()[0][:500] if str(exc) else ""))
            return
        calls = GcpCalls(self.cfg, ctx, credentials)
        try:
            yield from self._scan(calls, ctx)
        finally:
            self.api_calls.update(calls.counts)
            calls.close()
        if self.cfg.match_secret_values:
            ctx.log.info("gcp: %s", self.values.line())

    def _scan(self, calls: GcpCalls, ctx: ScanContext) -> Iterator[Record]:
        cfg = self.cfg
        now = ctx.clock()
        org_id = cfg.organization_id
        seen_policies: list[Mapping[str, Any]] = []
        if org_id:
            data, pol = hierarchy.get_org(calls, org_id)
            org = hierarchy.transform_org(org_id, data, pol)
            seen_policies += policies_in([org])
            yield org
            yield from policies.transform_deny(policies.get_deny(calls, f"organizations/{org_id}", org_id),
                                               f"organizations/{org_id}", org_id)
        projects = hierarchy.list_projects(calls, cfg.projects, org_id)
        folders: dict[str, System | None] = {}
        for project in projects:
            parent = project.get("parent")
            while parent and parent.startswith("folders/") and parent not in folders:
                data, pol = hierarchy.get_folder(calls, parent, org_id)
                folders[parent] = hierarchy.transform_folder(data, pol, org_id) if data else None
                if folders[parent] is not None:
                    seen_policies += policies_in([folders[parent]])
                    yield folders[parent]
                    yield from policies.transform_deny(policies.get_deny(calls, parent, org_id), parent, org_id)
                parent = (data or {}).get("parent")
        number_to_project = {str(p.get("name", "")).removeprefix("projects/"): p["projectId"]
                             for p in projects if p.get("name")}
        known_emails: set[str] = set()
        known_pools: set[str] = set()
        emitted: set[str] = set()
        task = ctx.progress.task("gcp projects", total=len(projects))
        with ThreadPoolExecutor(max_workers=cfg.workers, thread_name_prefix="gcp-project") as pool:
            futures = {pool.submit(self._project, calls, p, org_id, now, number_to_project): p["projectId"]
                       for p in projects if not p.get("unreadable")}
            for future in as_completed(futures):
                pid = futures[future]
                try:
                    result = future.result()
                except ScanCancelled:
                    raise
                except Exception as exc:  # noqa: BLE001 - one project's surprise is its gap
                    ctx.log.exception("gcp project %s failed", pid)
                    ctx.gaps.record(CoverageGap(connector="gcp", operation="ScanProject", account=pid,
                                                error_code=type(exc).__name__, message=str(exc)[:500]))
                    continue
                finally:
                    task.advance()
                seen_policies += result.policies
                known_emails |= result.emails
                known_pools |= result.pools
                emitted |= {r.id for r in result.records if isinstance(r, Identity)}
                yield from result.records
        task.done()
        members = policy_member_identities(seen_policies, known_emails, number_to_project, known_pools)
        # A service agent or agent principal a reasoning engine runs as is already out.
        yield from (m for m in members.values() if m.id not in emitted)
        # Google groups in bindings, with their members where the directory is readable.
        yield from groups.transform(groups.get(calls, groups.group_emails(seen_policies)), known_emails)
        roles = policies.RoleCache().get(calls, {r for p in seen_policies for r in roles_of(p)})
        yield from policies.transform_roles(roles)

    def _project(self, calls: GcpCalls, data: Mapping[str, Any], org_id: str | None, now: dt.datetime,
                 number_to_project: Mapping[str, str]) -> ProjectResult:
        """Everything of one project; each API's failure is its own gap."""
        cfg = self.cfg
        pid = data["projectId"]
        number = str(data.get("name", "")).removeprefix("projects/") or None
        out = ProjectResult()
        out.records.append(hierarchy.transform_project(data, hierarchy.get_project_policy(calls, pid)))
        out.records += policies.transform_deny(policies.get_deny(calls, f"projects/{pid}", pid), f"projects/{pid}",
                                               pid)
        raw = iam_admin.get_iam(calls, pid)
        last = activity.LastAuth()
        if cfg.last_used and raw.accounts:
            got = activity.get(calls, pid)
            if got is not None:
                last = activity.transform(*got)
        out.records += iam_admin.transform(raw, now, conventions=cfg.owner_conventions, sa_last_auth=last.accounts,
                                           key_last_auth=last.keys, activity_source=last.source)
        out.emails = {sa["email"].lower() for sa in raw.accounts}
        out.records += apikeys.transform(apikeys.get(calls, pid), pid)
        pools = wif.get(calls, pid)
        out.pools = {pool["name"] for pool, _ in pools}
        out.records += wif.transform(pools, pid)
        engines = vertex.get(calls, pid, cfg.vertex_locations)
        engine_records = list(vertex.transform(engines, pid, number, org_id, out.emails, number_to_project))
        out.records += engine_records
        service_records = list(cloudrun.transform(cloudrun.get(calls, pid, cfg.run_locations), pid, number,
                                                  out.emails, number_to_project))
        out.records += service_records
        out.records += resources.transform(pid, resources.get_buckets(calls, pid),
                                           resources.get_secrets(calls, pid, self.values),
                                           resources.get_datasets(calls, pid))
        if cfg.activity:
            from agentreach.activity import window_start

            from . import audit

            out.records += list(audit.collect(calls, pid, window_start(now, cfg.activity_since)))
        out.policies = policies_in(out.records)
        # Service accounts engines and services run as but no listing produced: named like policy members.
        runs_as = [e.attrs.get("runs_as_member") for e in engine_records + service_records
                   if not isinstance(e, Edge) and e.attrs.get("runs_as_member")]
        if runs_as:
            out.policies.append({"bindings": [{"role": "", "members": runs_as}]})
        return out
