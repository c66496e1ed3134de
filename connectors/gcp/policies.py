"""Roles and deny policies: the documents the reach deriver evaluates bindings with.

* Roles (IAM admin ``GetRole``, gRPC): predefined and custom, each read once per scan and
  kept as a ``gcp_role`` Policy whose document is ``{includedPermissions}``.
* Deny policies (IAM v2 REST): listed per attachment point (organization, folder,
  project), each read whole (the list omits rules), kept as ``gcp_deny_policy`` Policies
  with ``attrs.attachment_point`` and the rules as the document.
"""

from __future__ import annotations

import threading
import urllib.parse
from typing import Any, Iterable, Iterator, Mapping

from agentreach.model import Policy, node_id

from .calls import GcpCalls
from .ids import PROVIDER, SOURCE

CRM_ATTACH = "cloudresourcemanager.googleapis.com/"


class RoleCache:
    """Role name -> role JSON (or None when unreadable), fetched at most once per scan."""

    def __init__(self) -> None:
        self._roles: dict[str, dict[str, Any] | None] = {}
        self._lock = threading.Lock()

    def get(self, calls: GcpCalls, names: Iterable[str]) -> dict[str, dict[str, Any] | None]:
        client = calls.iam()
        for name in sorted(set(names)):
            with self._lock:
                if name in self._roles:
                    continue
                self._roles[name] = None
            project = name.split("/")[1] if name.startswith("projects/") else None
            role = calls.call("GetRole", lambda n=name: client.get_role(request={"name": n}, retry=None,
                                                                          timeout=calls.cfg.timeout),
                              project=project, service="iam")
            if role is not None:
                with self._lock:
                    self._roles[name] = {"name": role.name, "title": role.title,
                                         "includedPermissions": list(role.included_permissions),
                                         "stage": role.stage.name, "deleted": bool(role.deleted)}
        with self._lock:
            return dict(self._roles)


def transform_roles(roles: Mapping[str, Mapping[str, Any] | None]) -> Iterator[Policy]:
    for name, role in sorted(roles.items()):
        if role is None:
            continue
        account = name.split("/")[1] if name.startswith(("projects/", "organizations/")) else None
        yield Policy(id=node_id(PROVIDER, "role", name), provider=PROVIDER, source=SOURCE, type="gcp_role", name=name,
                     native_id=name, account=account,
                     document={"includedPermissions": sorted(role.get("includedPermissions") or [])},
                     attrs={"title": role.get("title"), "stage": role.get("stage"),
                            "custom": not name.startswith("roles/"), "deleted": role.get("deleted", False)})


def attachment_point(resource: str) -> str:
    """``projects/p`` -> ``cloudresourcemanager.googleapis.com/projects/p``."""
    return f"{CRM_ATTACH}{resource}"


def get_deny(calls: GcpCalls, resource: str, project: str | None) -> list[dict[str, Any]]:
    """Deny policies attached to one organization, folder or project, with their rules."""
    encoded = urllib.parse.quote(attachment_point(resource), safe="")
    out = []
    for item in calls.rest_pages("iam_v2", f"/v2/policies/{encoded}/denypolicies", "policies",
                                 operation="denypolicies.list", project=project):
        full = calls.rest("iam_v2", f"/v2/{item['name']}", operation="denypolicies.get", project=project)
        if full is not None:
            out.append(full)
    return out


def transform_deny(policies: list[Mapping[str, Any]], resource: str, account: str | None) -> Iterator[Policy]:
    for pol in policies:
        rules = []
        for rule in pol.get("rules") or []:
            deny = rule.get("denyRule") or {}
            rules.append({"description": rule.get("description"),
                          "deniedPrincipals": list(deny.get("deniedPrincipals") or []),
                          "exceptionPrincipals": list(deny.get("exceptionPrincipals") or []),
                          "deniedPermissions": list(deny.get("deniedPermissions") or []),
                          "exceptionPermissions": list(deny.get("exceptionPermissions") or []),
                          "denialCondition": deny.get("denialCondition") or None})
        name = urllib.parse.unquote(pol["name"])
        yield Policy(id=node_id(PROVIDER, "deny_policy", name), provider=PROVIDER, source=SOURCE,
                     type="gcp_deny_policy", name=pol.get("displayName") or name.rsplit("/", 1)[-1],
                     native_id=name, account=account, document={"rules": rules},
                     attrs={"attachment_point": attachment_point(resource), "attached_to": resource,
                            "uid": pol.get("uid")})
