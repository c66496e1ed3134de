"""Identities that appear only as members of IAM policies: Google-managed service agents
(``service-N@gcp-sa-*.iam.gserviceaccount.com``, the Agent Engine one among them), agent
principals (``principal://agents.global.org-N.system.id.goog/...``), other principals and
service accounts of projects that were not scanned. People (``user:``, ``group:``) are
not identities here; ``domain:`` / ``allUsers`` are exposure, kept on the resource.
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator, Mapping

from agentreach.model import Identity

from .ids import (
    POOL,
    PROVIDER,
    SOURCE,
    is_service_agent,
    principal_id,
    sa_id,
    service_agent_id,
    service_agent_parts,
    split_member,
)


def members_of(policy: Mapping[str, Any] | None) -> Iterator[str]:
    for binding in (policy or {}).get("bindings") or []:
        yield from binding.get("members") or []


def roles_of(policy: Mapping[str, Any] | None) -> Iterator[str]:
    for binding in (policy or {}).get("bindings") or []:
        if binding.get("role"):
            yield binding["role"]


def member_identity(member: str, known_emails: set[str], number_to_project: Mapping[str, str]
                    ) -> tuple[Identity | None, str] | None:
    """(node to emit or None when it exists already, its id) for a policy member; None
    for people, groups and public members."""
    kind, value = split_member(member)
    if kind == "serviceAccount":
        email = value.lower()
        if email in known_emails:
            return None, sa_id(email)
        if is_service_agent(email):
            service, number = service_agent_parts(email)
            project = number_to_project.get(number or "", number)
            return Identity(id=service_agent_id(email), provider=PROVIDER, source=SOURCE, type="gcp_service_agent",
                            name=email, native_id=email, account=project,
                            attrs={"service": service, "project_number": number, "managed_by": "google",
                                   "seen_in": "iam policy members"}), service_agent_id(email)
        project = email.split("@", 1)[1].split(".", 1)[0] if email.endswith(".iam.gserviceaccount.com") else None
        return Identity(id=sa_id(email), provider=PROVIDER, source=SOURCE, type="gcp_sa", name=email, native_id=email,
                        account=project, attrs={"project": project, "seen_only_in_policy": True,
                                                "last_used_source": None}), sa_id(email)
    if kind in ("principal", "principalSet"):
        agent = ".system.id.goog/" in value and "://agents." in value
        return Identity(id=principal_id(value), provider=PROVIDER, source=SOURCE, type="gcp_principal", name=value,
                        native_id=value, account=_principal_project(value, number_to_project),
                        attrs={"principal_kind": "agent_identity" if agent else
                               ("workload_identity_pool" if POOL.match(value) else kind),
                               "seen_in": "iam policy members"}), principal_id(value)
    return None


def _principal_project(uri: str, number_to_project: Mapping[str, str]) -> str | None:
    parts = uri.split("/")
    if "projects" in parts:
        number = parts[parts.index("projects") + 1]
        return number_to_project.get(number, number)
    return None


def policy_member_identities(policies: Iterable[Mapping[str, Any] | None], known_emails: set[str],
                             number_to_project: Mapping[str, str], known_pools: set[str]) -> dict[str, Identity]:
    """Every identity the policies name that no listing produced. Members inside a known
    workload identity pool are the pool's principalSet, which the pool listing emits."""
    out: dict[str, Identity] = {}
    for policy in policies:
        for member in members_of(policy):
            m = POOL.match(member)
            if m and f"projects/{m['num']}/locations/global/workloadIdentityPools/{m['pool']}" in known_pools:
                continue
            got = member_identity(member, known_emails, number_to_project)
            if got and got[0] is not None:
                out.setdefault(got[1], got[0])
    return out
