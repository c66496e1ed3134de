"""Service accounts, their keys and their own IAM policies, from the IAM admin API (gRPC).

``get_*`` call the API through :class:`GcpCalls` and return Google's REST JSON shapes
(camelCase, enum names), built field by field from the protobufs: the private key data a
key message can carry is never copied. ``transform_*`` are pure and tested on recorded
JSON shaped like the ``projects.serviceAccounts`` / ``keys`` reference.
"""

from __future__ import annotations

import datetime as dt
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping, Sequence

from agentreach.model import Credential, CredentialStatus, Edge, EdgeKind, Identity, Record, node_id

from .calls import GcpCalls
from .ids import NEVER, PROVIDER, SOURCE, parse_time, policy_dict, sa_id


@dataclass
class RawIam:
    project: str
    accounts: list[dict[str, Any]] = field(default_factory=list)
    keys: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # email -> keys (absent: not read)
    policies: dict[str, dict[str, Any]] = field(default_factory=dict)  # email -> its IAM policy


def _ts(value: Any) -> str | None:
    when = parse_time(value)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ") if when else None


def sa_json(sa: Any) -> dict[str, Any]:
    return {"name": sa.name, "projectId": sa.project_id, "uniqueId": sa.unique_id, "email": sa.email,
            "displayName": sa.display_name, "description": sa.description, "disabled": bool(sa.disabled),
            "oauth2ClientId": sa.oauth2_client_id}


def key_json(key: Any) -> dict[str, Any]:
    """A key as the REST reference spells it. Only public fields: ``private_key_data`` is
    never read (a list answer should not carry it; if one does, it stops here)."""
    return {"name": key.name, "keyAlgorithm": key.key_algorithm.name, "keyOrigin": key.key_origin.name,
            "keyType": key.key_type.name, "validAfterTime": _ts(key.valid_after_time),
            "validBeforeTime": _ts(key.valid_before_time), "disabled": bool(key.disabled)}


def get_iam(calls: GcpCalls, project: str) -> RawIam:
    """Every service account of a project (paged), each one's keys and IAM policy."""
    raw = RawIam(project)
    client = calls.iam()
    token = ""
    timeout = calls.cfg.timeout
    while True:
        page = calls.call("ListServiceAccounts", lambda t=token: client.list_service_accounts(
            request={"name": f"projects/{project}", "page_size": calls.cfg.page_size, "page_token": t},
            retry=None, timeout=timeout), project=project, service="iam")
        if page is None:
            break
        raw.accounts += [sa_json(sa) for sa in page.accounts]
        token = page.next_page_token
        if not token:
            break

    def per_account(sa: dict[str, Any]) -> None:
        """Keys and policy of one account: the API has no bulk form, so these run a few at a time."""
        name = sa["name"]
        resp = calls.call("ListServiceAccountKeys", lambda: client.list_service_account_keys(
            request={"name": name}, retry=None, timeout=timeout), project=project, service="iam")
        if resp is not None:
            raw.keys[sa["email"]] = [key_json(k) for k in resp.keys]
        pol = calls.call("GetIamPolicy", lambda: client.get_iam_policy(
            request={"resource": name, "options": {"requested_policy_version": 3}}, retry=None, timeout=timeout),
            project=project, service="iam")
        if pol is not None:
            raw.policies[sa["email"]] = policy_dict(pol)

    with ThreadPoolExecutor(max_workers=calls.cfg.workers, thread_name_prefix=f"gcp-sa-{project}") as pool:
        for future in [pool.submit(per_account, sa) for sa in raw.accounts]:
            future.result()
    return raw


def owners_from(text_fields: Sequence[tuple[str, str | None]], conventions: Sequence[str]) -> list[dict[str, Any]]:
    """Owners named by a description / display-name convention (``owner: alice@x``)."""
    for fname, text in text_fields:
        for pattern in conventions:
            m = re.search(pattern, text or "")
            if m and m.group("owner"):
                owner = m.group("owner").strip()
                return [{"name": owner, **({"email": owner} if "@" in owner else {}), "via": f"{fname} convention"}]
    return []


def key_id_of(name: str) -> str:
    return name.rstrip("/").rsplit("/", 1)[-1]


def key_status(key: Mapping[str, Any], expires: dt.datetime | None, now: dt.datetime) -> CredentialStatus:
    if key.get("disabled"):
        return CredentialStatus.DISABLED
    if expires is not None and expires <= now:
        return CredentialStatus.EXPIRED
    return CredentialStatus.ACTIVE


def transform(raw: RawIam, now: dt.datetime, *, conventions: Sequence[str] = (),
              sa_last_auth: Mapping[str, dt.datetime] | None = None,
              key_last_auth: Mapping[str, dt.datetime] | None = None,
              activity_source: str | None = None) -> Iterator[Record]:
    """Service accounts as ``gcp_sa`` identities, user-managed keys as ``gcp_sa_key``
    credentials that authenticate as them. ``*_last_auth`` come from Policy Analyzer;
    ``activity_source`` None means it was not read, so a missing time claims nothing."""
    sa_last_auth = sa_last_auth or {}
    key_last_auth = key_last_auth or {}
    for sa in raw.accounts:
        email = sa["email"]
        keys = raw.keys.get(email)
        user_keys = [k for k in keys or [] if k.get("keyType") == "USER_MANAGED"]
        attrs: dict[str, Any] = {
            "unique_id": sa.get("uniqueId"), "display_name": sa.get("displayName") or None,
            "description": sa.get("description") or None, "project": sa.get("projectId") or raw.project,
            "resource_name": sa.get("name"), "last_used_source": activity_source,
            "user_managed_keys": len(user_keys) if keys is not None else None,
            "system_managed_keys": (len([k for k in keys if k.get("keyType") == "SYSTEM_MANAGED"])
                                    if keys is not None else None),
            "default_service_account": email.endswith("-compute@developer.gserviceaccount.com")
                                       or email.endswith("@appspot.gserviceaccount.com"),
        }
        owners = owners_from([("description", sa.get("description")), ("display_name", sa.get("displayName"))],
                             conventions)
        if owners:
            attrs["owners"] = owners
        if email in raw.policies:
            attrs["resource_policy"] = raw.policies[email]
        last = sa_last_auth.get(email.lower())
        yield Identity(
            id=sa_id(email), provider=PROVIDER, source=SOURCE, type="gcp_sa", name=email.split("@", 1)[0],
            native_id=email,
            account=raw.project, enabled=not sa.get("disabled"), last_used=last,
            last_used_detail="last authentication (Policy Analyzer)" if last else None, attrs=attrs)
        for key in user_keys:
            yield from _key(key, email, raw.project, now, key_last_auth, activity_source)


def _key(key: Mapping[str, Any], email: str, project: str, now: dt.datetime,
         key_last_auth: Mapping[str, dt.datetime], activity_source: str | None) -> Iterator[Record]:
    kid = key_id_of(key["name"])
    created = parse_time(key.get("validAfterTime"))
    expires = parse_time(key.get("validBeforeTime"))
    if expires is not None and expires.year >= NEVER:
        expires = None
    last = key_last_auth.get(kid)
    cred = Credential(
        # Named short ("adk-agent key 3f1e0c7a9b2d") for tables; the full resource name is in
        # attrs.key_name and `show`/`reach` accept it.
        id=node_id(PROVIDER, "sa_key", kid), provider=PROVIDER, source=SOURCE, type="gcp_sa_key",
        name=f"{email.split('@', 1)[0]} key {kid[:12]}",
        native_id=kid, account=project, created=created, expires=expires, status=key_status(key, expires, now),
        last_used=last, last_used_detail="last authentication (Policy Analyzer)" if last else None,
        attrs={"service_account": email, "key_name": key["name"], "key_origin": key.get("keyOrigin"),
               "key_algorithm": key.get("keyAlgorithm"), "key_type": key.get("keyType"),
               "disable_reason": key.get("disableReason"), "extended_status": key.get("extendedStatus") or [],
               "last_used_source": activity_source})
    yield cred
    yield Edge(src=cred.id, dst=sa_id(email), kind=EdgeKind.AUTHENTICATES, source=SOURCE,
               attrs={"via": "user-managed service account key"})
