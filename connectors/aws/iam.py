"""IAM: users, groups, roles, managed policies, access keys, console passwords,
service-specific credentials (Bedrock API keys) and server certificates.

Bulk first. ``GetAccountAuthorizationDetails`` gives every principal with its policies,
trust policy, tags, instance profiles, boundary and role last-use in a handful of pages;
the credential report gives every user's key age and last use in one CSV. Per-identity
calls are made only for what neither holds: the access key *ids* (``ListAccessKeys``, only
for users the report shows holding a key) and, when the report cannot be had, the keys'
last use. API calls therefore grow with pages, not with identities.

``get_*`` functions talk to AWS (through :class:`AwsCalls`); ``transform`` is pure.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Iterator

from agentreach.model import (
    Credential,
    CredentialStatus,
    Edge,
    EdgeKind,
    Identity,
    Policy,
    Record,
    node_id,
    parse_datetime,
)

from .acm import thumbprints
from .calls import AwsCalls
from .ids import SOURCE, identity_id, tags_dict
from .policies import parse_policy
from .replies import MALFORMED

REPORT_COLUMNS_KEY = ("access_key_1_last_rotated", "access_key_2_last_rotated")


@dataclass
class IamRaw:
    """What the IAM API said, untouched, so that transform can be tested on recorded data."""

    account: str
    users: list[dict[str, Any]] = field(default_factory=list)
    groups: list[dict[str, Any]] = field(default_factory=list)
    roles: list[dict[str, Any]] = field(default_factory=list)
    policies: list[dict[str, Any]] = field(default_factory=list)
    report: list[dict[str, str]] | None = None  # credential report rows
    report_generated: dt.datetime | None = None
    access_keys: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # user -> keys
    key_last_used: dict[str, dict[str, Any]] = field(default_factory=dict)  # key id -> AccessKeyLastUsed
    keys_unlisted: set[str] = field(default_factory=set)  # users whose ListAccessKeys failed
    service_credentials: list[dict[str, Any]] = field(default_factory=list)
    server_certificates: list[dict[str, Any]] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)


# -- get ------------------------------------------------------------------------------------

GAAD = "GetAccountAuthorizationDetails"
# The fields transform indexes, per list of GetAccountAuthorizationDetails, and those of the
# lists nested in its items: an item lacking one is skipped with a ResponseMalformed gap.
GAAD_NEEDS = {"UserDetailList": ("Arn", "UserName"), "GroupDetailList": ("Arn", "GroupName"),
              "RoleDetailList": ("Arn", "RoleName"), "Policies": ("Arn",)}
NESTED_NEEDS = {"AttachedManagedPolicies": ("PolicyArn",), "InstanceProfileList": ("Arn",)}


def get_iam(calls: AwsCalls) -> IamRaw:
    raw = IamRaw(account=calls.account)
    lists = {"UserDetailList": raw.users, "GroupDetailList": raw.groups, "RoleDetailList": raw.roles,
             "Policies": raw.policies}
    for page in _gaad_pages(calls):
        for key, into in lists.items():
            into += [_nested_checked(calls, item)
                     for item in calls.keep(page.get(key) or [], GAAD_NEEDS[key], "iam", GAAD)]
    raw.aliases = list(calls.paginate("iam", "ListAccountAliases", "AccountAliases"))
    raw.report, raw.report_generated = get_credential_report(calls)
    _get_access_keys(calls, raw)
    _get_role_last_used(calls, raw)
    _get_role_descriptions(calls, raw)
    raw.service_credentials = list(calls.paginate(
        "iam", "ListServiceSpecificCredentials", "ServiceSpecificCredentials", AllUsers=True,
        need=("ServiceSpecificCredentialId",)))
    raw.server_certificates = list(calls.paginate(
        "iam", "ListServerCertificates", "ServerCertificateMetadataList", need=("Arn", "ServerCertificateName")))
    for cert in raw.server_certificates:
        # The certificate body is public (the private key is never returned): thumbprints only.
        got = calls.call("iam", "GetServerCertificate", ServerCertificateName=cert["ServerCertificateName"])
        body = ((got or {}).get("ServerCertificate") or {}).get("CertificateBody")
        cert.update(thumbprints(body))
    return raw


def _nested_checked(calls: AwsCalls, item: dict[str, Any]) -> dict[str, Any]:
    """``item`` with the entries of its nested lists that lack a needed field left out (each a gap)."""
    out = dict(item)
    for key, need in NESTED_NEEDS.items():
        if key in out:
            out[key] = calls.keep(out[key] or [], need, "iam", GAAD)
    return out


def _gaad_pages(calls: AwsCalls) -> Iterator[dict[str, Any]]:
    # Paginated by hand, not through paginate(), because each page holds four lists.
    client = calls.client("iam")
    paginator = client.get_paginator("get_account_authorization_details")
    pages = iter(paginator.paginate(Filter=["User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy"]))
    while True:
        calls.ctx.check_cancelled()
        calls.counts["iam:GetAccountAuthorizationDetails"] += 1
        try:
            yield next(pages)
        except StopIteration:
            calls.counts["iam:GetAccountAuthorizationDetails"] -= 1
            return
        except Exception as exc:
            calls._handle(exc, "iam", None, GAAD, frozenset())
            return


def get_credential_report(calls: AwsCalls) -> tuple[list[dict[str, str]] | None, dt.datetime | None]:
    """Generate (or reuse, AWS keeps one for 4 hours) and read the credential report."""
    deadline = time.monotonic() + calls.cfg.credential_report_timeout
    delay = 0.2
    while True:
        state = calls.call("iam", "GenerateCredentialReport")
        if state is None:
            return None, None
        if state.get("State") == "COMPLETE":
            break
        if time.monotonic() > deadline:
            calls._gap("iam", None, "GenerateCredentialReport", "Timeout",
                       "credential report not ready in time")
            return None, None
        time.sleep(delay)
        delay = min(delay * 2, 5.0)
    report = calls.call("iam", "GetCredentialReport", need=("Content",))
    if report is None:
        return None, None
    text = report["Content"].decode("utf-8", "replace") if isinstance(report["Content"], bytes) else report["Content"]
    reader = csv.DictReader(io.StringIO(text))
    if "user" not in (reader.fieldnames or ()):
        calls._gap("iam", None, "GetCredentialReport", MALFORMED, "the credential report has no 'user' column")
        return None, None
    return [row for row in reader if row.get("user")], parse_datetime(report.get("GeneratedTime"))


def _users_holding_keys(raw: IamRaw) -> list[str]:
    """Users who may hold a key: from the report when we have it, else every user."""
    if raw.report is None:
        return [u["UserName"] for u in raw.users]
    holders = {row["user"] for row in raw.report
               if any(_present(row.get(col)) for col in REPORT_COLUMNS_KEY)}
    return [u["UserName"] for u in raw.users if u["UserName"] in holders]


def _get_access_keys(calls: AwsCalls, raw: IamRaw) -> None:
    users = _users_holding_keys(raw)

    def list_keys(user: str) -> tuple[str, list[dict[str, Any]] | None]:
        resp = calls.call("iam", "ListAccessKeys", UserName=user, absent=frozenset())
        return user, None if resp is None else calls.keep(resp.get("AccessKeyMetadata") or [], ("AccessKeyId",),
                                                          "iam", "ListAccessKeys")

    with ThreadPoolExecutor(max_workers=calls.cfg.key_workers) as pool:
        for user, keys in pool.map(list_keys, users):
            if keys is None:
                raw.keys_unlisted.add(user)
            else:
                raw.access_keys[user] = keys
    if raw.report is not None:
        return
    # No report: last use is only to be had key by key.
    key_ids = [k["AccessKeyId"] for keys in raw.access_keys.values() for k in keys]

    def last_used(key_id: str) -> tuple[str, dict[str, Any] | None]:
        resp = calls.call("iam", "GetAccessKeyLastUsed", AccessKeyId=key_id)
        return key_id, None if resp is None else resp.get("AccessKeyLastUsed", {})

    with ThreadPoolExecutor(max_workers=calls.cfg.key_workers) as pool:
        for key_id, info in pool.map(last_used, key_ids):
            if info is not None:
                raw.key_last_used[key_id] = info


def _get_role_last_used(calls: AwsCalls, raw: IamRaw) -> None:
    """GAAD carries RoleLastUsed; ``get_role`` is the per-role fallback for what lacks it."""
    mode = calls.cfg.role_last_used
    if mode == "gaad":
        return
    todo = [r for r in raw.roles if mode == "get_role" or "RoleLastUsed" not in r]

    def fetch(role: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
        resp = calls.call("iam", "GetRole", RoleName=role["RoleName"], need=("Role",))
        return role, None if resp is None else resp["Role"].get("RoleLastUsed", {})

    with ThreadPoolExecutor(max_workers=calls.cfg.key_workers) as pool:
        for role, last in pool.map(fetch, todo):
            if last is not None:
                role["RoleLastUsed"] = last


def _get_role_descriptions(calls: AwsCalls, raw: IamRaw) -> None:
    """GAAD's RoleDetail has no Description and no MaxSessionDuration; ListRoles has both, a
    page per 1,000 roles. A description is where people say what a role is for ("execution role
    of the support agent"), which the classifier reads; a failed page is a gap and leaves the
    roles it did not reach without one."""
    if not raw.roles:
        return
    listed = {r["Arn"]: r for r in calls.paginate("iam", "ListRoles", "Roles", need=("Arn",),
                                                     PaginationConfig={"PageSize": 1000})}
    for role in raw.roles:
        got = listed.get(role.get("Arn"))
        if got is None:
            continue
        for key in ("Description", "MaxSessionDuration"):
            if key in got and key not in role:
                role[key] = got[key]


# -- transform (pure) -------------------------------------------------------------------------

def transform(raw: IamRaw, now: dt.datetime | None = None) -> Iterator[Record]:
    """``now`` only turns a certificate past its expiry into ``expired`` (a fact, not a verdict)."""
    account = raw.account
    report = {row["user"]: row for row in raw.report or []}
    policy_ids = {p["Arn"]: node_id("aws", "iam_policy", p["Arn"]) for p in raw.policies}

    for pol in raw.policies:
        if pol.get("AttachmentCount", 1) == 0 and ":aws:policy/" in pol["Arn"]:
            continue  # AWS's own unattached policies: 1,500 documents nobody uses
        yield Policy(
            id=policy_ids[pol["Arn"]], provider="aws", source=SOURCE, type="aws_iam_policy",
            name=pol.get("PolicyName") or pol["Arn"].rsplit("/", 1)[-1], native_id=pol["Arn"],
            account=None if ":aws:policy/" in pol["Arn"] else account,
            created=parse_datetime(pol.get("CreateDate")),
            document=_default_version(pol),
            attrs={"path": pol.get("Path"), "aws_managed": ":aws:policy/" in pol["Arn"],
                   "attachment_count": pol.get("AttachmentCount"),
                   "default_version": pol.get("DefaultVersionId"),
                   "version_count": len(pol.get("PolicyVersionList") or []) or None},
        )

    for group in raw.groups:
        gid = identity_id(group["Arn"], "iam_group")
        yield Identity(
            id=gid, provider="aws", source=SOURCE, type="aws_iam_group", name=group["GroupName"],
            native_id=group["Arn"], account=account, created=parse_datetime(group.get("CreateDate")),
            attrs={"path": group.get("Path"), "group_id": group.get("GroupId"),
                   "inline_policies": _inline(group.get("GroupPolicyList"), group["Arn"])},
        )
        yield from _policy_edges(gid, group.get("AttachedManagedPolicies"), None, policy_ids)

    group_ids = {g["GroupName"]: identity_id(g["Arn"], "iam_group") for g in raw.groups}
    for user in raw.users:
        yield from _user(user, account, report.get(user["UserName"]), raw, group_ids, policy_ids)

    for role in raw.roles:
        yield from _role(role, account, policy_ids)

    if "<root_account>" in report:
        yield from _root(report["<root_account>"], account)

    users_by_name = {u["UserName"]: u for u in raw.users}
    for cred in raw.service_credentials:
        yield from _service_credential(cred, account, users_by_name)

    for cert in raw.server_certificates:
        expires = parse_datetime(cert.get("Expiration"))
        yield Credential(
            id=node_id("aws", "server_certificate", cert["Arn"]), provider="aws", source=SOURCE,
            type="aws_iam_server_certificate", name=cert["ServerCertificateName"], native_id=cert["Arn"],
            account=account, created=parse_datetime(cert.get("UploadDate")),
            expires=expires,
            status=CredentialStatus.EXPIRED if expires and now and expires < now else CredentialStatus.ACTIVE,
            attrs={"certificate_id": cert.get("ServerCertificateId"), "path": cert.get("Path"),
                   **{k: cert[k] for k in ("thumbprint_sha1", "thumbprint_sha256") if cert.get(k)}},
        )


def _user(user: dict[str, Any], account: str, row: dict[str, str] | None, raw: IamRaw,
          group_ids: dict[str, str], policy_ids: dict[str, str]) -> Iterator[Record]:
    uid = identity_id(user["Arn"], "iam_user")
    name = user["UserName"]
    password_last_used = parse_datetime(row.get("password_last_used")) if row else None
    keys = list(_access_keys(user, account, uid, row, raw))
    last_uses = [(c.last_used, f"access key {c.name}") for c in keys
                 if isinstance(c, Credential) and c.last_used]
    if password_last_used:
        last_uses.append((password_last_used, "console sign-in"))
    last, detail = max(last_uses, default=(None, None), key=lambda t: t[0])
    yield Identity(
        id=uid, provider="aws", source=SOURCE, type="aws_iam_user", name=name, native_id=user["Arn"],
        account=account, created=parse_datetime(user.get("CreateDate")), last_used=last,
        last_used_detail=detail, tags=tags_dict(user.get("Tags")),
        attrs={
            "path": user.get("Path"), "user_id": user.get("UserId"),
            "inline_policies": _inline(user.get("UserPolicyList"), user["Arn"]),
            "groups": list(user.get("GroupList", [])),
            "permissions_boundary": (user.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn"),
            "password_enabled": _flag(row, "password_enabled"),
            "mfa_active": _flag(row, "mfa_active"),
            "last_used_source": "credential_report" if row else ("access_key_last_used" if keys else None),
        },
    )
    for group in user.get("GroupList", []):
        if group in group_ids:
            yield Edge(src=uid, dst=group_ids[group], kind=EdgeKind.MEMBER_OF, source=SOURCE)
    yield from _policy_edges(uid, user.get("AttachedManagedPolicies"), user.get("PermissionsBoundary"), policy_ids)
    yield from keys
    if row and _flag(row, "password_enabled"):
        cid = node_id("aws", "console_password", user["Arn"])
        yield Credential(
            id=cid, provider="aws", source=SOURCE, type="aws_console_password", name=f"{name} (console)",
            native_id=user["Arn"], account=account,
            created=parse_datetime(row.get("password_last_changed")), last_used=password_last_used,
            last_used_detail="console sign-in" if password_last_used else None,
            rotation={"last_rotated": _iso(parse_datetime(row.get("password_last_changed"))),
                      "next_rotation": _iso(parse_datetime(row.get("password_next_rotation")))},
            attrs={"user": name, "mfa_active": _flag(row, "mfa_active")},
        )
        yield Edge(src=cid, dst=uid, kind=EdgeKind.AUTHENTICATES, source=SOURCE)


def _access_keys(user: dict[str, Any], account: str, uid: str, row: dict[str, str] | None,
                 raw: IamRaw) -> Iterator[Record]:
    name = user["UserName"]
    slots = _report_slots(row)
    if name in raw.keys_unlisted:
        # The key ids could not be read; the report still proves the keys exist.
        for slot, info in slots.items():
            cid = node_id("aws", "access_key", f"{user['Arn']}#{slot}")
            yield Credential(
                id=cid, provider="aws", source=SOURCE, type="aws_access_key", name=f"{name} key {slot}",
                account=account, created=info["created"], last_used=info["last_used"],
                last_used_detail=info["detail"], status=info["status"],
                attrs={"user": name, "slot": slot, "key_id_unknown": True,
                       "last_used_source": "credential_report"},
            )
            yield Edge(src=cid, dst=uid, kind=EdgeKind.AUTHENTICATES, source=SOURCE)
        return
    for key in raw.access_keys.get(name, []):
        key_id = key["AccessKeyId"]
        created = parse_datetime(key.get("CreateDate"))
        slot = _match_slot(created, slots)
        if slot is not None:
            info = slots.pop(slot)
            last_used, detail, source = info["last_used"], info["detail"], "credential_report"
        else:
            lu = raw.key_last_used.get(key_id, {})
            last_used = parse_datetime(lu.get("LastUsedDate"))
            detail = _where(lu.get("ServiceName"), lu.get("Region")) if last_used else None
            source = "access_key_last_used" if key_id in raw.key_last_used else None
        cid = node_id("aws", "access_key", key_id)
        yield Credential(
            id=cid, provider="aws", source=SOURCE, type="aws_access_key", name=key_id, native_id=key_id,
            account=account, created=created, last_used=last_used, last_used_detail=detail,
            status=CredentialStatus.ACTIVE if key.get("Status") == "Active" else CredentialStatus.DISABLED,
            rotation={"last_rotated": _iso(created)},
            attrs={"user": name, "user_arn": user["Arn"], "slot": slot, "last_used_source": source},
        )
        yield Edge(src=cid, dst=uid, kind=EdgeKind.AUTHENTICATES, source=SOURCE)


def _report_slots(row: dict[str, str] | None) -> dict[int, dict[str, Any]]:
    """The report's key_1 / key_2 columns, for keys that exist."""
    slots: dict[int, dict[str, Any]] = {}
    for n in (1, 2):
        if not row or not _present(row.get(f"access_key_{n}_last_rotated")):
            continue
        last_used = parse_datetime(row.get(f"access_key_{n}_last_used_date"))
        slots[n] = {
            "created": parse_datetime(row[f"access_key_{n}_last_rotated"]),
            "last_used": last_used,
            "detail": _where(row.get(f"access_key_{n}_last_used_service"),
                             row.get(f"access_key_{n}_last_used_region")) if last_used else None,
            "status": CredentialStatus.ACTIVE if row.get(f"access_key_{n}_active") == "true"
            else CredentialStatus.DISABLED,
        }
    return slots


def _match_slot(created: dt.datetime | None, slots: dict[int, dict[str, Any]]) -> int | None:
    """The report names a key only by its slot; its last_rotated is the key's CreateDate."""
    if created is None:
        return None
    for slot, info in slots.items():
        if info["created"] and abs((info["created"] - created).total_seconds()) < 2:
            return slot
    return None


def _role(role: dict[str, Any], account: str, policy_ids: dict[str, str]) -> Iterator[Record]:
    rid = identity_id(role["Arn"], "iam_role")
    last = role.get("RoleLastUsed") or {}
    last_used = parse_datetime(last.get("LastUsedDate"))
    yield Identity(
        id=rid, provider="aws", source=SOURCE, type="aws_iam_role", name=role["RoleName"],
        native_id=role["Arn"], account=account, created=parse_datetime(role.get("CreateDate")),
        last_used=last_used,
        last_used_detail=f"assumed, last in {last.get('Region')}" if last_used and last.get("Region") else None,
        tags=tags_dict(role.get("Tags")),
        attrs={
            "path": role.get("Path"), "role_id": role.get("RoleId"),
            "description": role.get("Description"),
            "trust_policy": parse_policy(role.get("AssumeRolePolicyDocument"), f"trust policy of {role['Arn']}") or {},
            "inline_policies": _inline(role.get("RolePolicyList"), role["Arn"]),
            "instance_profiles": [p["Arn"] for p in role.get("InstanceProfileList", [])],
            "permissions_boundary": (role.get("PermissionsBoundary") or {}).get("PermissionsBoundaryArn"),
            "max_session_duration": role.get("MaxSessionDuration"),
            "service_linked": str(role.get("Path", "")).startswith("/aws-service-role/"),
            "last_used_source": "role_last_used" if "RoleLastUsed" in role else None,
        },
    )
    yield from _policy_edges(rid, role.get("AttachedManagedPolicies"), role.get("PermissionsBoundary"), policy_ids)


def _root(row: dict[str, str], account: str) -> Iterator[Record]:
    """The root user: its access keys are the worst credential an account can have, and
    their ids are invisible to anyone but root, so they are keyed by slot."""
    arn = row.get("arn") or f"arn:aws:iam::{account}:root"
    rid = identity_id(arn, "root")
    slots = _report_slots(row)
    yield Identity(
        id=rid, provider="aws", source=SOURCE, type="aws_root_user", name=f"root ({account})",
        native_id=arn, account=account, created=parse_datetime(row.get("user_creation_time")),
        last_used=parse_datetime(row.get("password_last_used")),
        attrs={"mfa_active": _flag(row, "mfa_active"), "password_enabled": _flag(row, "password_enabled")},
    )
    for slot, info in slots.items():
        cid = node_id("aws", "access_key", f"{arn}#{slot}")
        yield Credential(
            id=cid, provider="aws", source=SOURCE, type="aws_access_key", name=f"root key {slot}",
            account=account, created=info["created"], last_used=info["last_used"],
            last_used_detail=info["detail"], status=info["status"],
            attrs={"user": "<root_account>", "slot": slot, "key_id_unknown": True,
                   "last_used_source": "credential_report"},
        )
        yield Edge(src=cid, dst=rid, kind=EdgeKind.AUTHENTICATES, source=SOURCE)


def _service_credential(cred: dict[str, Any], account: str,
                        users: dict[str, dict[str, Any]]) -> Iterator[Record]:
    cred_id = cred["ServiceSpecificCredentialId"]
    cid = node_id("aws", "service_credential", cred_id)
    service = cred.get("ServiceName", "")
    yield Credential(
        id=cid, provider="aws", source=SOURCE,
        type="aws_bedrock_api_key" if service.startswith("bedrock") else "aws_service_specific_credential",
        name=cred.get("ServiceCredentialAlias") or cred.get("ServiceUserName") or cred_id,
        native_id=cred_id, account=account, created=parse_datetime(cred.get("CreateDate")),
        expires=parse_datetime(cred.get("ExpirationDate")),
        status=CredentialStatus.ACTIVE if cred.get("Status") == "Active" else CredentialStatus.DISABLED,
        attrs={"service": service, "user": cred.get("UserName"),
               "service_user_name": cred.get("ServiceUserName"),
               "last_used_source": None},  # IAM exposes no last use for these
    )
    user = users.get(cred.get("UserName", ""))
    if user:
        yield Edge(src=cid, dst=identity_id(user["Arn"], "iam_user"), kind=EdgeKind.AUTHENTICATES, source=SOURCE)


def _policy_edges(src: str, attached: list[dict[str, Any]] | None, boundary: dict[str, Any] | None,
                  policy_ids: dict[str, str]) -> Iterator[Edge]:
    for pol in attached or []:
        arn = pol["PolicyArn"]
        yield Edge(src=src, dst=policy_ids.get(arn) or node_id("aws", "iam_policy", arn),
                   kind=EdgeKind.HAS_POLICY, source=SOURCE, key="managed",
                   attrs={"attachment": "managed", "policy_arn": arn})
    if boundary and boundary.get("PermissionsBoundaryArn"):
        arn = boundary["PermissionsBoundaryArn"]
        yield Edge(src=src, dst=policy_ids.get(arn) or node_id("aws", "iam_policy", arn),
                   kind=EdgeKind.HAS_POLICY, source=SOURCE, key="boundary",
                   attrs={"attachment": "boundary", "policy_arn": arn})


def _default_version(pol: dict[str, Any]) -> dict[str, Any]:
    for version in pol.get("PolicyVersionList", []):
        if version.get("IsDefaultVersion"):
            return parse_policy(version.get("Document"), f"policy {pol['Arn']}") or {}
    return {}


def _inline(items: list[dict[str, Any]] | None, owner: str) -> list[dict[str, Any]]:
    return [{"name": p.get("PolicyName"),
             "document": parse_policy(p.get("PolicyDocument"), f"inline policy {p.get('PolicyName')} of {owner}") or {}}
            for p in items or []]


def _present(value: str | None) -> bool:
    return bool(value) and value not in ("N/A", "not_supported", "no_information")


def _flag(row: dict[str, str] | None, col: str) -> bool | None:
    if not row or row.get(col) in (None, "not_supported"):
        return None
    return row[col] == "true"


def _where(service: str | None, region: str | None) -> str | None:
    parts = [p for p in (service, region) if _present(p)]
    return " in ".join(parts) if parts else None


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None
