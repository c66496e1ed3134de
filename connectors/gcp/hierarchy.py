"""Organization, folders and projects (Resource Manager v3, REST GAPIC) with their IAM
policies at version 3, so that conditional bindings come back with their CEL conditions.

Each becomes a System whose ``resource_policy`` is the policy and whose ``attrs.parent``
is its parent's resource name (``organizations/1``, ``folders/2``): the reach deriver
walks that chain to inherit bindings downward.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

from agentreach.model import System, node_id

from .calls import GcpCalls
from .ids import PROVIDER, SOURCE, labels, parse_time, policy_dict, public_members

CRM = "//cloudresourcemanager.googleapis.com/"


def _json(message: Any) -> dict[str, Any]:
    return json.loads(type(message).to_json(message))


def _policy(calls: GcpCalls, kind: str, resource: str, project: str | None) -> dict[str, Any] | None:
    client = calls.crm(kind)
    pol = calls.call(f"{kind}.getIamPolicy", lambda: client.get_iam_policy(
        request={"resource": resource, "options": {"requested_policy_version": 3}}, retry=None,
        timeout=calls.cfg.timeout), project=project, service="resourcemanager")
    return policy_dict(pol) if pol is not None else None


def get_org(calls: GcpCalls, org_id: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    client = calls.crm("organizations")
    org = calls.call("organizations.get", lambda: client.get_organization(
        name=f"organizations/{org_id}", retry=None, timeout=calls.cfg.timeout), project=org_id,
        service="resourcemanager")
    data = _json(org) if org is not None else {"name": f"organizations/{org_id}"}
    return data, _policy(calls, "organizations", f"organizations/{org_id}", org_id)


def get_folder(calls: GcpCalls, name: str, org_id: str | None) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    client = calls.crm("folders")
    folder = calls.call("folders.get", lambda: client.get_folder(name=name, retry=None, timeout=calls.cfg.timeout),
                        project=org_id, service="resourcemanager")
    if folder is None:
        return None, None
    return _json(folder), _policy(calls, "folders", name, org_id)


def list_projects(calls: GcpCalls, wanted: tuple[str, ...], org_id: str | None) -> list[dict[str, Any]]:
    """The configured projects (each looked up), or every project the caller can see."""
    client = calls.crm("projects")
    out: list[dict[str, Any]] = []
    if wanted:
        for pid in wanted:
            p = calls.call("projects.get", lambda pid=pid: client.get_project(
                name=f"projects/{pid}", retry=None, timeout=calls.cfg.timeout), project=pid,
                service="resourcemanager")
            out.append(_json(p) if p is not None else {"projectId": pid, "name": "", "unreadable": True})
        return out
    token = ""
    query = ""  # every project the caller may see: "parent:" would miss projects nested in folders
    while True:
        page = calls.call("projects.search", lambda t=token: client.search_projects(
            request={"query": query, "page_token": t, "page_size": calls.cfg.page_size}, retry=None,
            timeout=calls.cfg.timeout), project=org_id, service="resourcemanager")
        if page is None:
            break
        out += [_json(p) for p in page.projects if p.state.name in ("ACTIVE", "STATE_UNSPECIFIED")]
        token = page.next_page_token
        if not token:
            break
    return out


def get_project_policy(calls: GcpCalls, project: str) -> dict[str, Any] | None:
    return _policy(calls, "projects", f"projects/{project}", project)


def _system(type_: str, short: str, native: str, name: str, account: str | None, data: Mapping[str, Any],
            policy: Mapping[str, Any] | None, extra: Mapping[str, Any]) -> System:
    parent = data.get("parent") or None
    attrs: dict[str, Any] = {"parent": parent, "parent_full": f"{CRM}{parent}" if parent else None,
                             "full_resource_name": f"{CRM}{native}", "state": data.get("state"),
                             "policy_readable": policy is not None, **extra}
    if policy is not None:
        attrs["public_members"] = public_members(policy)
    return System(id=node_id(PROVIDER, type_, short), provider=PROVIDER, source=SOURCE, type=f"gcp_{type_}",
                  name=name, native_id=native, account=account, created=parse_time(data.get("createTime")),
                  resource_policy=dict(policy) if policy is not None else None, tags=labels(data.get("labels")),
                  attrs=attrs)


def transform_org(org_id: str, data: Mapping[str, Any], policy: Mapping[str, Any] | None) -> System:
    return _system("organization", org_id, f"organizations/{org_id}", data.get("displayName") or org_id, org_id,
                   data, policy, {"directory_customer_id": data.get("directoryCustomerId")})


def transform_folder(data: Mapping[str, Any], policy: Mapping[str, Any] | None, org_id: str | None) -> System:
    name = data["name"]
    return _system("folder", name.split("/", 1)[1], name, data.get("displayName") or name, org_id or name, data,
                   policy, {})


def transform_project(data: Mapping[str, Any], policy: Mapping[str, Any] | None) -> System:
    pid = data["projectId"]
    number = str(data.get("name", "")).removeprefix("projects/") or None
    return _system("project", pid, f"projects/{pid}", pid, pid, data, policy,
                   {"number": number, "display_name": data.get("displayName")})
