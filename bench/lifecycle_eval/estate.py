"""One case's records as the connectors emit them: API-shaped answers (IAM credential report
rows, GAAD users and roles, Lambda functions; Graph applications, service principals, users
and credential sign-ins; IAM admin service accounts and keys, Policy Analyzer last
authentication, Cloud Run services, API keys) run through the connectors' own pure
transforms, so a case measures what a scan would decide.

Dates in a case are ISO strings or relative to the case's ``now``: ``-100d`` (100 days
before), ``+15d``, ``now``. Sources state most of their fixtures that way ("now - 100 days").
Object ids are derived from names, so a case is the same on every load.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import uuid
from typing import Any, Callable, Iterable, Mapping

from agentreach_connectors.aws import functions, iam
from agentreach_connectors.aws.ids import identity_id
from agentreach_connectors.azure import entra
from agentreach_connectors.azure.graph import EntraRaw
from agentreach_connectors.azure.ids import app_id, credential_id, sp_id
from agentreach_connectors.gcp import apikeys, cloudrun, iam_admin
from agentreach_connectors.gcp.config import DEFAULT_OWNER_CONVENTIONS
from agentreach_connectors.gcp.ids import sa_id

from agentreach.model import Record, node_id

from .cases import Case, CaseError

ACCOUNT = "123456789012"
REGION = "us-east-1"
TENANT = "5f0c2d1e-3b4a-4c6d-8e9f-0a1b2c3d4e5f"
PROJECT = "lifecycle-bench"
NS = uuid.UUID("6a1c0e2b-9d3f-4e5a-8b7c-1d2e3f4a5b6c")
RELATIVE = re.compile(r"^(?:now)?([+-]\d+)d$|^now$")
REPORT_COLUMNS = ("password_enabled", "password_last_used", "password_last_changed", "password_next_rotation",
                  "mfa_active", *(f"access_key_{n}_{c}" for n in (1, 2) for c in (
                      "active", "last_rotated", "last_used_date", "last_used_region", "last_used_service")))
KEYS = {"aws": frozenset({"users", "roles", "lambdas"}),
        "azure": frozenset({"users", "applications", "service_principals", "credential_sign_ins", "sp_sign_ins"}),
        "gcp": frozenset({"service_accounts", "activity", "cloud_run_services", "api_keys"})}


def when(value: Any, now: dt.datetime) -> Any:
    """``-100d`` / ``+15d`` / ``now`` as an ISO instant; anything else unchanged."""
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    if not isinstance(value, str):
        return value
    m = RELATIVE.match(value.strip())
    if not m:
        return value
    days = int(m.group(1)) if m.group(1) else 0
    return (now + dt.timedelta(days=days)).isoformat().replace("+00:00", "Z")


def dates(value: Any, now: dt.datetime) -> Any:
    """Every relative date of a spec, resolved."""
    if isinstance(value, list):
        return [dates(v, now) for v in value]
    if isinstance(value, dict):
        return {k: dates(v, now) for k, v in value.items()}
    return when(value, now)


def oid(*parts: str) -> str:
    return str(uuid.uuid5(NS, "/".join(parts)))


def _digits(seed: str, n: int, alphabet: str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") -> str:
    return "".join(alphabet[b % len(alphabet)] for b in hashlib.sha256(seed.encode()).digest())[:n]


# -- AWS ------------------------------------------------------------------------------------

def _user_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:user/{name}"


def _role_arn(name: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def key_id(user: str, slot: int) -> str:
    return "AKIA" + _digits(f"{_user_arn(user)}#{slot}", 16)


def _tags(tags: Mapping[str, Any] | None) -> list[dict[str, str]]:
    return [{"Key": str(k), "Value": "" if v is None else str(v)} for k, v in (tags or {}).items()]


def _aws_user(raw: iam.IamRaw, user: Mapping[str, Any]) -> None:
    """A GAAD user, its credential-report row (every column the source leaves out is N/A,
    as in a real report) and ListAccessKeys, which lists the keys the row shows."""
    name, arn = user["name"], _user_arn(user["name"])
    created = user.get("created", "2020-01-01T00:00:00Z")
    raw.users.append({"UserName": name, "Arn": arn, "UserId": "AIDA" + _digits(arn, 17), "Path": "/",
                      "CreateDate": created, "GroupList": [], "AttachedManagedPolicies": [],
                      "UserPolicyList": [], "Tags": _tags(user.get("tags"))})
    row = {"user": name, "arn": arn, "user_creation_time": created, **{c: "N/A" for c in REPORT_COLUMNS},
           "password_enabled": "false", "mfa_active": "false", "access_key_1_active": "false",
           "access_key_2_active": "false", **{k: str(v) for k, v in (user.get("report") or {}).items()}}
    raw.report = (raw.report or []) + [row]
    keys = []
    for slot in (1, 2):
        rotated = row[f"access_key_{slot}_last_rotated"]
        if rotated not in ("N/A", ""):
            keys.append({"AccessKeyId": key_id(name, slot), "CreateDate": rotated,
                         "Status": "Active" if row[f"access_key_{slot}_active"] == "true" else "Inactive"})
    raw.access_keys[name] = keys


LAMBDA_TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                        "Principal": {"Service": "lambda.amazonaws.com"}}]}


def _aws_role(raw: iam.IamRaw, role: Mapping[str, Any]) -> None:
    arn = _role_arn(role["name"])
    detail = {"RoleName": role["name"], "Arn": arn, "Path": "/", "RoleId": "AROA" + _digits(arn, 17),
              "CreateDate": role.get("created", "2020-01-01T00:00:00Z"),
              "AssumeRolePolicyDocument": json.dumps(role.get("trust") or LAMBDA_TRUST), "RolePolicyList": [],
              "AttachedManagedPolicies": [], "Tags": _tags(role.get("tags")), "InstanceProfileList": [],
              "MaxSessionDuration": 3600}
    if "last_used" in role:  # GetRole's RoleLastUsed: empty when the role was never used (in the window)
        detail["RoleLastUsed"] = {"LastUsedDate": role["last_used"], "Region": REGION} if role["last_used"] else {}
    raw.roles.append(detail)


def aws_records(rec: Mapping[str, Any], now: dt.datetime) -> list[Record]:
    raw = iam.IamRaw(account=ACCOUNT, report=[])
    for user in rec.get("users", []):
        _aws_user(raw, user)
    for role in rec.get("roles", []):
        _aws_role(raw, role)
    fns = [{"FunctionName": fn["name"], "FunctionArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{fn['name']}",
            "Role": _role_arn(fn["role"]), "Runtime": "python3.12", "Handler": "index.handler",
            "LastModified": "2024-01-01T00:00:00Z", "Tags": dict(fn.get("tags") or {})}
           for fn in rec.get("lambdas", [])]
    return [*iam.transform(raw, now), *functions.transform(fns, ACCOUNT, REGION)]


def aws_subject(subject: str) -> str:
    kind, _, name = subject.partition(":")
    if kind == "user":
        return identity_id(_user_arn(name), "iam_user")
    if kind == "role":
        return identity_id(_role_arn(name), "iam_role")
    if kind == "key":
        user, _, slot = name.partition("#")
        return node_id("aws", "access_key", key_id(user, int(slot or 1)))
    if kind == "console":
        return node_id("aws", "console_password", _user_arn(name))
    raise ValueError(f"subject {subject!r} is not user:N, role:N, key:USER#SLOT or console:USER")


# -- Azure ----------------------------------------------------------------------------------

def _owner_link(ref: str) -> dict[str, Any]:
    """A directoryObject of an /owners listing: ``user:NAME`` or ``sp:NAME``."""
    kind, _, name = ref.partition(":")
    if kind == "user":
        return {"@odata.type": "#microsoft.graph.user", "id": oid("user", name), "displayName": name}
    if kind == "sp":
        return {"@odata.type": "#microsoft.graph.servicePrincipal", "id": oid("sp", name), "displayName": name}
    raise ValueError(f"owner {ref!r} is not user:NAME or sp:NAME")


def _azure_creds(holder: str, spec: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """passwordCredentials / keyCredentials as Graph lists them (no secret text, ever)."""
    out: dict[str, list[dict[str, Any]]] = {"passwordCredentials": [], "keyCredentials": []}
    for field_, kind in (("secrets", "passwordCredentials"), ("certificates", "keyCredentials")):
        for cred in spec.get(field_, []):
            body = {"keyId": oid(holder, "cred", cred["name"]), "displayName": cred["name"],
                    "startDateTime": cred.get("start"), "endDateTime": cred.get("end")}
            if kind == "passwordCredentials":
                body["hint"] = "abc"
            else:
                body.update(type="AsymmetricX509Cert", usage="Verify")
            out[kind].append(body)
    return out


def azure_records(rec: Mapping[str, Any], now: dt.datetime) -> list[Record]:
    raw = EntraRaw(tenant_id=TENANT, tenant_name="Contoso")
    for user in rec.get("users", []):
        uid = oid("user", user["name"])
        raw.users[uid] = {"id": uid, "displayName": user["name"],
                          "userPrincipalName": user.get("upn") or f"{user['name'].lower()}@contoso.com",
                          **({"accountEnabled": user["enabled"]} if "enabled" in user else {})}
    for app in rec.get("applications", []):
        raw.applications.append({"id": oid("app", app["name"]), "appId": oid("client", app["name"]),
                                 "displayName": app["name"], "createdDateTime": app.get("created"),
                                 "signInAudience": "AzureADMyOrg", "tags": [],
                                 "owners": [_owner_link(o) for o in app.get("owners", [])],
                                 **_azure_creds(app["name"], app)})
    for sp in rec.get("service_principals", []):
        raw.service_principals.append({
            "id": oid("sp", sp["name"]), "appId": oid("client", sp.get("app", sp["name"])),
            "displayName": sp["name"], "servicePrincipalType": "Application", "appOwnerOrganizationId": TENANT,
            "accountEnabled": sp.get("enabled", True), "createdDateTime": sp.get("created"), "tags": [],
            "owners": [_owner_link(o) for o in sp.get("owners", [])], **_azure_creds("sp/" + sp["name"], sp)})
    if "credential_sign_ins" in rec:  # appCredentialSignInActivities read: a missing key means never signed in
        raw.cred_sign_ins = [{"keyId": oid(holder, "cred", name), "keyType": "clientSecret",
                              "signInActivity": {"lastSignInDateTime": last}}
                             for ref, last in (rec["credential_sign_ins"] or {}).items()
                             for holder, _, name in [ref.rpartition("/")]]
    if "sp_sign_ins" in rec:  # servicePrincipalSignInActivities read: null means no sign-in recorded
        raw.sp_sign_ins = [{"appId": oid("client", name), "lastSignInActivity": {"lastSignInDateTime": last}}
                           for name, last in (rec["sp_sign_ins"] or {}).items()]
    return list(entra.transform(raw, now))


def azure_subject(subject: str) -> str:
    kind, _, name = subject.partition(":")
    if kind == "app":
        return app_id(oid("client", name))
    if kind == "sp":
        return sp_id(oid("sp", name))
    if kind in ("secret", "cert"):
        holder, _, cred = name.rpartition("/")
        return credential_id("client_secret" if kind == "secret" else "certificate", oid(holder, "cred", cred))
    raise ValueError(f"subject {subject!r} is not app:N, sp:N, secret:HOLDER/NAME or cert:HOLDER/NAME")


# -- GCP ------------------------------------------------------------------------------------

def _email(account_id: str) -> str:
    return account_id if "@" in account_id else f"{account_id}@{PROJECT}.iam.gserviceaccount.com"


def gcp_records(rec: Mapping[str, Any], now: dt.datetime) -> list[Record]:
    """``activity: true``: Policy Analyzer's last authentication was read, so a key without
    ``last_auth`` had none in its window; absent, the scan claims nothing about use."""
    raw = iam_admin.RawIam(PROJECT)
    key_auth: dict[str, dt.datetime] = {}
    sa_auth: dict[str, dt.datetime] = {}
    for sa in rec.get("service_accounts", []):
        email = _email(sa["account_id"])
        uid = str(int(hashlib.sha256(email.encode()).hexdigest(), 16) % 10**21)
        raw.accounts.append({"name": f"projects/{PROJECT}/serviceAccounts/{email}", "projectId": PROJECT,
                             "uniqueId": uid, "email": email, "displayName": sa.get("display_name", ""),
                             "description": sa.get("description", ""), "disabled": bool(sa.get("disabled"))})
        raw.keys[email] = [{"name": f"projects/{PROJECT}/serviceAccounts/{email}/keys/{k['id']}",
                            "keyAlgorithm": "KEY_ALG_RSA_2048", "keyOrigin": k.get("origin", "GOOGLE_PROVIDED"),
                            "keyType": k.get("type", "USER_MANAGED"), "validAfterTime": k.get("valid_after"),
                            "validBeforeTime": k.get("valid_before", "9999-12-31T23:59:59Z"),
                            "disabled": bool(k.get("disabled"))} for k in sa.get("keys", [])]
        key_auth.update({k["id"]: _parse(k["last_auth"]) for k in sa.get("keys", []) if k.get("last_auth")})
        if sa.get("last_auth"):
            sa_auth[email.lower()] = _parse(sa["last_auth"])
    emails = {a["email"].lower() for a in raw.accounts}
    services = [cloudrun.service_view({
        "name": f"projects/{PROJECT}/locations/us-central1/services/{s['name']}", "uid": oid("run", s["name"]),
        "createTime": "2024-01-01T00:00:00Z", "labels": dict(s.get("labels") or {}),
        "template": {"serviceAccount": _email(s["service_account"]), "containers": []}})
        for s in rec.get("cloud_run_services", [])]
    keys = [{"name": f"projects/1/locations/global/keys/{oid('apikey', k['name'])}",
             "uid": oid("apikey", k["name"]), "displayName": k["name"], "createTime": k.get("created"),
             "annotations": dict(k.get("annotations") or {}),
             **({"serviceAccountEmail": _email(k["service_account"])} if k.get("service_account") else {})}
            for k in rec.get("api_keys", [])]
    return [*iam_admin.transform(raw, now, conventions=DEFAULT_OWNER_CONVENTIONS, sa_last_auth=sa_auth,
                                 key_last_auth=key_auth,
                                 activity_source="policyanalyzer" if rec.get("activity") else None),
            *cloudrun.transform(services, PROJECT, "1", emails, {"1": PROJECT}),
            *apikeys.transform(keys, PROJECT)]


def _parse(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def gcp_subject(subject: str) -> str:
    kind, _, name = subject.partition(":")
    if kind == "sa":
        return sa_id(_email(name))
    if kind == "key":
        return node_id("gcp", "sa_key", name)
    if kind == "apikey":
        return node_id("gcp", "api_key", oid("apikey", name))
    raise ValueError(f"subject {subject!r} is not sa:ACCOUNT_ID, key:KEY_ID or apikey:NAME")


BUILDERS: dict[str, tuple[Callable[[Mapping[str, Any], dt.datetime], list[Record]], Callable[[str], str]]] = {
    "aws": (aws_records, aws_subject), "azure": (azure_records, azure_subject), "gcp": (gcp_records, gcp_subject)}


def check_keys(case: Case, keys: Iterable[str]) -> None:
    """A record kind no loader knows is a typo that would silently drop what the source says."""
    unknown = sorted(set(keys) - KEYS[case.cloud])
    if unknown:
        raise CaseError(f"{case.file}: case {case.id}: unknown records key {', '.join(unknown)}")


def records_of(case: Case) -> tuple[list[Record], str]:
    """The case's records and the node id of its subject."""
    check_keys(case, case.records)
    make, subject = BUILDERS[case.cloud]
    try:
        return make(dates(case.records, case.now), case.now), subject(case.subject)
    except (KeyError, ValueError, TypeError) as exc:
        raise CaseError(f"{case.file}: case {case.id}: {type(exc).__name__}: {exc}") from None
