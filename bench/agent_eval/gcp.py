"""GCP cases as the GCP connector sees them: Resource Manager project data with its IAM
policy, IAM admin service accounts (with their own policies and keys), Workload Identity
pools and providers, API keys, Vertex AI reasoning engines and Cloud Run services (v2
answers, reduced by the connector's own ``service_view``), run through the connector's
own pure transforms; identities named only in policies (service agents, principals) come
out as the connector's final pass makes them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import Any, Mapping

from agentreach_connectors.gcp import apikeys, cloudrun, hierarchy, iam_admin, vertex, wif
from agentreach_connectors.gcp.ids import is_service_agent, principal_id, sa_id, service_agent_id
from agentreach_connectors.gcp.members import policy_member_identities

from agentreach.model import Identity, Record, Workload

from .cases import Case, CaseError, check_record_keys

READ = frozenset({"project", "project_iam", "service_accounts", "wif_pools", "reasoning_engines", "api_keys",
                  "cloud_run_services"})
UNREAD: frozenset[str] = frozenset()

ORG = "901234567890"
T0 = dt.datetime(2025, 3, 1, tzinfo=dt.timezone.utc)
DEFAULT_PROJECT = "agents-bench-prod"


def number_of(project: str) -> str:
    return str(100000000000 + int(hashlib.sha256(project.encode()).hexdigest(), 16) % 900000000000)


def expand(value: Any, project: str) -> Any:
    """``{project}`` / ``{number}`` / ``{org}`` in any string of a spec."""
    if isinstance(value, str):
        return value.replace("{project}", project).replace("{number}", number_of(project)).replace("{org}", ORG)
    if isinstance(value, list):
        return [expand(v, project) for v in value]
    if isinstance(value, dict):
        return {k: expand(v, project) for k, v in value.items()}
    return value


@dataclass
class Project:
    project_id: str
    bindings: dict[str, set[str]] = field(default_factory=dict)
    raw: iam_admin.RawIam | None = None
    pools: list[tuple[dict[str, Any], list[dict[str, Any]]]] = field(default_factory=list)
    engines: list[dict[str, Any]] = field(default_factory=list)
    keys: list[dict[str, Any]] = field(default_factory=list)
    services: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class GcpEstate:
    projects: dict[str, Project] = field(default_factory=dict)

    def project(self, pid: str) -> Project:
        if pid not in self.projects:
            self.projects[pid] = Project(pid, raw=iam_admin.RawIam(pid))
        return self.projects[pid]

    def add(self, case: Case) -> None:
        check_record_keys(case, case.records, READ, UNREAD)
        pid = case.records.get("project", DEFAULT_PROJECT)
        rec = expand(case.records, pid)
        proj = self.project(pid)
        assert proj.raw is not None
        for b in rec.get("project_iam", []):
            proj.bindings.setdefault(b["role"], set()).update(b["members"])
        for sa in rec.get("service_accounts", []):
            email = sa.get("email") or f"{sa['account_id']}@{pid}.iam.gserviceaccount.com"
            uid = str(int(hashlib.sha256(email.encode()).hexdigest(), 16) % 10**21)
            proj.raw.accounts.append({"name": f"projects/{pid}/serviceAccounts/{email}", "projectId": pid,
                                      "uniqueId": uid, "email": email, "displayName": sa.get("display_name", ""),
                                      "description": sa.get("description", ""), "disabled": False,
                                      "oauth2ClientId": uid})
            proj.raw.keys[email] = [{"name": f"projects/{pid}/serviceAccounts/{email}/keys/"
                                             f"{hashlib.sha1(f'{email}{i}'.encode()).hexdigest()}",
                                     "keyAlgorithm": "KEY_ALG_RSA_2048", "keyOrigin": "GOOGLE_PROVIDED",
                                     "keyType": "USER_MANAGED", "validAfterTime": T0.isoformat(),
                                     "validBeforeTime": "9999-12-31T23:59:59Z", "disabled": False}
                                    for i in range(int(sa.get("keys", 0)))]
            if sa.get("iam"):
                proj.raw.policies[email] = {"version": 1, "bindings": [
                    {"role": b["role"], "members": sorted(b["members"])} for b in sa["iam"]]}
        for pool in rec.get("wif_pools", []):
            name = f"projects/{number_of(pid)}/locations/global/workloadIdentityPools/{pool['pool_id']}"
            providers = [{"name": f"{name}/providers/{p['provider_id']}", "displayName": p.get("display_name"),
                          "state": "ACTIVE", "oidc": {"issuerUri": p["issuer"]},
                          "attributeMapping": p.get("attribute_mapping", {}),
                          "attributeCondition": p.get("attribute_condition")} for p in pool.get("providers", [])]
            proj.pools.append(({"name": name, "displayName": pool.get("display_name"), "state": "ACTIVE"}, providers))
        for eng in rec.get("reasoning_engines", []):
            body = {"name": f"projects/{number_of(pid)}/locations/{eng.get('location', 'us-central1')}/"
                            f"reasoningEngines/{eng['id']}", "displayName": eng.get("display_name"),
                    "createTime": T0.isoformat(), "spec": eng.get("spec", {}), "labels": eng.get("labels", {})}
            if eng.get("description"):
                body["description"] = eng["description"]
            proj.engines.append(body)
        for svc in rec.get("cloud_run_services", []):
            # A v2 Service as projects.locations.services.list returns it; args stay out (the
            # connector keeps image and env, not the command line).
            container = {"image": svc["image"]} if svc.get("image") else {}
            if svc.get("env"):
                container["env"] = [{"name": k, "value": v} if isinstance(item, Mapping) else {"name": item}
                                    for item in svc["env"]
                                    for k, v in (item.items() if isinstance(item, Mapping) else [(item, None)])]
            body = {"name": f"projects/{pid}/locations/{svc.get('location', 'us-central1')}/services/{svc['name']}",
                    "uid": hashlib.sha1(f"{pid}{svc['name']}".encode()).hexdigest(), "createTime": T0.isoformat(),
                    "labels": svc.get("labels", {}),
                    "template": {"containers": [container] if container else []}}
            if svc.get("service_account"):
                body["template"]["serviceAccount"] = svc["service_account"]
            proj.services.append(cloudrun.service_view(body))
        for key in rec.get("api_keys", []):
            uid = hashlib.sha1(f"{pid}{key['display_name']}".encode()).hexdigest()[:24]
            proj.keys.append({"name": f"projects/{number_of(pid)}/locations/global/keys/{uid}", "uid": uid,
                              "displayName": key["display_name"], "createTime": T0.isoformat(),
                              "restrictions": {"apiTargets": [{"service": t} for t in key.get("targets", [])]},
                              **({"serviceAccountEmail": key["service_account"]}
                                 if key.get("service_account") else {})})

    def records(self) -> list[Record]:
        out: list[Record] = []
        number_to_project = {number_of(p): p for p in self.projects}
        emails: set[str] = set()
        pools: set[str] = set()
        policies: list[Mapping[str, Any]] = []
        for pid, proj in sorted(self.projects.items()):
            assert proj.raw is not None
            policy = {"version": 1, "bindings": [{"role": r, "members": sorted(m)}
                                                  for r, m in sorted(proj.bindings.items())]}
            out.append(hierarchy.transform_project({"projectId": pid, "name": f"projects/{number_of(pid)}",
                                                    "parent": f"organizations/{ORG}", "state": "ACTIVE",
                                                    "createTime": T0.isoformat()}, policy))
            policies.append(policy)
            policies += list(proj.raw.policies.values())
            mine = {sa["email"].lower() for sa in proj.raw.accounts}
            emails |= mine
            out += iam_admin.transform(proj.raw, T0)
            out += apikeys.transform(proj.keys, pid)
            out += wif.transform(proj.pools, pid)
            pools |= {p["name"] for p, _ in proj.pools}
            engine_records = list(vertex.transform(proj.engines, pid, number_of(pid), ORG, mine, number_to_project))
            out += engine_records
            service_records = list(cloudrun.transform(proj.services, pid, number_of(pid), mine, number_to_project))
            out += service_records
            runs_as = [r.attrs["runs_as_member"] for r in engine_records + service_records
                       if isinstance(r, Workload) and r.attrs.get("runs_as_member")]
            if runs_as:
                policies.append({"bindings": [{"role": "", "members": runs_as}]})
        emitted = {r.id for r in out if isinstance(r, Identity)}
        members = policy_member_identities(policies, emails, number_to_project, pools)
        out += [m for m in members.values() if m.id not in emitted]
        return out

    def subject_id(self, case: Case) -> str:
        kind, _, value = case.subject.partition(":")
        pid = case.records.get("project", DEFAULT_PROJECT)
        value = expand(value, pid)
        if kind == "sa":
            return service_agent_id(value) if is_service_agent(value) else sa_id(value)
        if kind == "principal":
            return principal_id(value)
        raise CaseError(f"{case.file}: case {case.id}: subject {case.subject!r} is not sa:EMAIL or principal:URI")
