"""Seed the demo estate (``estate.yaml``) into a moto server.

``seed_estate`` reads the estate description and builds it through real boto3 clients at the
moto endpoint, exactly as an operator would with the AWS APIs. The exceptions: moto's own
``/moto-api/reset`` first, and at the end what no AWS API can set - when things were
created, last used and last rotated, and time passing over a certificate - which
:func:`_apply_what_no_api_can_set` writes into moto's in-process backends (so the moto
server must run in this process, as ``ThreadedMotoServer`` does).

Those backends are moto internals, not an API: ``moto.iam.models`` (``iam_backends``, users'
and roles' ``create_date`` / ``last_used`` / ``password_last_used``, ``AccessKeyLastUsed``),
``moto.secretsmanager.models`` (``secretsmanager_backends``: ``created_date``,
``last_changed_date``, ``versions[...]["createdate"]``, the rotation fields) and
``moto.acm.models`` (``acm_backends``: ``_certificates``, ``created_at``, ``cert`` / ``_cert``,
``status``). They were verified against moto 5.2.5, so the ``demo`` and ``test`` extras pin
``moto[server]>=5.2.5,<5.3``: widen the range only after ``tests/test_demo_seed.py`` passes
on the new version.

The estate is pure data: accounts, identities, policies, data stores and agent runtimes,
with dates relative to ``now`` so the story reads the same on any day. Secret values are
generated, look real, contain ``DEMOCANARY`` and are reported back in
:attr:`SeededEstate.canaries` so a test can prove no output ever shows one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import string
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

ESTATE_PATH = Path(__file__).with_name("estate.yaml")

# What the seeder signs with. moto accepts any credentials; these are the conventional ones.
FAKE_ACCESS_KEY_ID = "testing"
FAKE_SECRET_ACCESS_KEY = "testing"

# The seeder enters each account through this role, as an organization's management account
# does with its member accounts. moto's AssumeRole does not require the role to exist (its
# docs: "the ARN can point to another account, providing an opportunity to switch
# accounts"), and moto evaluates no IAM policy unless told to, so the role is not part of
# the estate and is never created: the temporary credentials alone make every later call
# land in the account named in the ARN.
SEED_ROLE_NAME = "OrganizationAccountAccessRole"
SEED_SESSION_NAME = "agentreach-demo-seed"

UTC = dt.timezone.utc


class EstateError(ValueError):
    """The estate file is inconsistent, or the moto server is not in this process."""


@dataclass(frozen=True)
class SeededEstate:
    """What was seeded, for the demo runner and for tests."""

    accounts: dict[str, str]
    """Account id -> alias, main account first."""
    readonly_role: str
    """Name of the role the scanner assumes in each account."""
    canaries: list[str]
    """Every secret value planted: secret strings, secret access keys, secret-looking
    environment values, console passwords, certificate private keys (PEM). Plain settings
    such as ``LOG_LEVEL=info`` are not canaries."""
    service_specific_credentials: dict[str, list[dict[str, Any]]]
    """Account id -> items shaped like botocore's IAM ``ServiceSpecificCredentialMetadata``
    (moto does not implement ListServiceSpecificCredentials)."""
    expected: dict[str, Any] = field(default_factory=dict)
    """A summary to assert against; see ``_Seeder`` for its shape. Dates are aware UTC
    datetimes with whole seconds, as boto3 returns them."""


def load_estate(path: Path | None = None) -> dict[str, Any]:
    """The estate description, as parsed YAML."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with open(path or ESTATE_PATH, encoding="utf-8") as fh:
        spec = yaml.load(fh, Loader=loader)
    if not isinstance(spec, dict) or spec.get("version") != 1:
        raise EstateError(f"{path or ESTATE_PATH}: not a version 1 estate file")
    return spec


def seed_estate(endpoint_url: str, *, now: dt.datetime,
                estate_path: Path | None = None) -> SeededEstate:
    """Build the estate in the moto server at ``endpoint_url`` and say what was built.

    ``now`` anchors every relative date in the estate (a naive datetime is taken as UTC);
    pass the current time: moto checks imported certificates against the wall clock.
    The server must run in this process (``moto.server.ThreadedMotoServer``): dates are
    back-dated through moto's in-process backends.

    moto keeps its state per process, not per server, so seeding starts by resetting it
    (moto's ``/moto-api/reset``): afterwards the server holds this estate and nothing else.
    """
    spec = load_estate(estate_path)
    _reset_moto(endpoint_url)
    return _Seeder(endpoint_url, spec, now).run()


def _reset_moto(endpoint_url: str) -> None:
    import urllib3

    # urllib3 directly: unlike urllib.request it ignores HTTP(S)_PROXY, which must not
    # see a request to a local moto server.
    resp = urllib3.PoolManager().request("POST", endpoint_url.rstrip("/") + "/moto-api/reset",
                                         timeout=30.0, retries=False)
    if resp.status != 200:
        raise EstateError(f"moto reset at {endpoint_url} answered HTTP {resp.status}")


# --------------------------------------------------------------------------------------
# Dates and fake secrets


_REL = re.compile(r"^([+-])(\d+)([dhm])$")


def _whole_seconds_utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0)


def _when(value: Any, now: dt.datetime) -> dt.datetime | None:
    """``-400d`` / ``+20d`` / ``-6h`` / ``-30m`` / ``now`` / ``never`` -> aware UTC or None."""
    if value is None or value == "never":
        return None
    if value == "now":
        return now
    match = _REL.match(str(value).strip())
    if not match:
        raise EstateError(f"bad relative date {value!r} (want e.g. -400d, +20d, -6h, never)")
    sign, amount, unit = match.groups()
    delta = dt.timedelta(**{{"d": "days", "h": "hours", "m": "minutes"}[unit]: int(amount)})
    return now + delta if sign == "+" else now - delta


_B62 = string.digits + string.ascii_letters
_UPPER36 = string.digits + string.ascii_uppercase


def _chars(seed: str, n: int, alphabet: str = _B62) -> str:
    """``n`` random-looking characters, the same for the same seed (reproducible demo)."""
    out: list[str] = []
    counter = 0
    while len(out) < n:
        digest = hashlib.sha256(f"agentreach-demo|{seed}|{counter}".encode()).digest()
        out.extend(alphabet[b % len(alphabet)] for b in digest)
        counter += 1
    return "".join(out[:n])


def _fake_secret(kind: str, label: str) -> str:
    """A value shaped like a real credential of ``kind``, obviously fake (DEMOCANARY)."""
    seed = f"{kind}:{label}"
    hexa = "0123456789abcdef"
    makers: dict[str, Callable[[], str]] = {
        "openai": lambda: ("sk-proj-DEMOCANARY" + _chars(seed, 38) + "T3BlbkFJ"
                           + _chars(seed + "/2", 40)),
        "anthropic": lambda: ("sk-ant-api03-DEMOCANARY" + _chars(seed, 70) + "-"
                              + _chars(seed + "/2", 12) + "AA"),
        "langsmith": lambda: ("lsv2_pt_DEMOCANARY" + _chars(seed, 22, hexa) + "_"
                              + _chars(seed + "/2", 10, hexa)),
        "hf": lambda: "hf_DEMOCANARY" + _chars(seed, 24),
        "zendesk": lambda: "DEMOCANARY" + _chars(seed, 30),
        "password": lambda: "DEMOCANARY-" + _chars(seed, 14) + "-" + _chars(seed + "/2", 6),
    }
    if kind not in makers:
        raise EstateError(f"unknown canary kind {kind!r} (known: {', '.join(sorted(makers))})")
    return makers[kind]()


# --------------------------------------------------------------------------------------
# Certificates


def _self_signed(domain: str, sans: list[str], not_before: dt.datetime,
                 not_after: dt.datetime, key: Any = None,
                 algorithm: str = "EC") -> tuple[str, str, Any]:
    """(certificate PEM, private key PEM, key) for a self-signed certificate with an
    EC P-256 (fast to make, ACM's EC_prime256v1) or RSA-2048 key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import NameOID

    if key is None:
        key = (rsa.generate_private_key(public_exponent=65537, key_size=2048)
               if algorithm == "RSA" else ec.generate_private_key(ec.SECP256R1()))
    name = x509.Name([
        x509.NameAttribute(NameOID.COMMON_NAME, domain),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Acme Demo (agentreach)"),
    ])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(int(hashlib.sha256(f"{domain}|{not_after}".encode()).hexdigest()[:16], 16))
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(s) for s in sans or [domain]]),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return cert_pem, key_pem, key


def _lambda_zip(name: str, description: str) -> bytes:
    source = (
        f'"""{name}: {description}"""\n\n\n'
        "def handler(event, context):\n"
        "    return {'statusCode': 200}\n"
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo("index.py", date_time=(2024, 1, 1, 0, 0, 0))
        info.external_attr = 0o644 << 16
        zf.writestr(info, source)
    return buf.getvalue()


def _trust(spec: Any) -> Any:
    """``{service: x.amazonaws.com}`` is shorthand for the usual service trust policy."""
    if isinstance(spec, dict) and set(spec) == {"service"}:
        return {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": spec["service"]},
            "Action": "sts:AssumeRole"}]}
    return spec


def _principals(doc: dict[str, Any]) -> list[str]:
    found: set[str] = set()
    for stmt in doc.get("Statement", []):
        principal = stmt.get("Principal")
        if isinstance(principal, str):
            found.add(principal)
            continue
        for value in (principal or {}).values():
            found.update([value] if isinstance(value, str) else value)
    return sorted(found)


def _tag_list(tags: dict[str, str] | None, key: str = "Key", value: str = "Value") -> list[dict]:
    return [{key: k, value: str(v)} for k, v in (tags or {}).items()]


# --------------------------------------------------------------------------------------
# The seeder


_PLACEHOLDER = re.compile(r"\$\{([^}]+)\}")


class _Account:
    """One account being seeded: its clients, the ARNs seeded so far, its summary."""

    def __init__(self, spec: dict[str, Any], session: Any, creds: dict[str, str],
                 endpoint_url: str, home_region: str) -> None:
        from botocore.config import Config

        self.spec = spec
        self.id = str(spec["id"])
        self.alias = str(spec["alias"])
        # One boto3 session for all accounts (it caches the service models, which are slow
        # to load), with each account's temporary credentials passed per client.
        self.session = session
        self.creds = creds
        self.endpoint_url = endpoint_url
        self.home_region = home_region
        self.arns: dict[tuple[str, str], str] = {}
        self._clients: dict[tuple[str, str], Any] = {}
        self._config = Config(retries={"max_attempts": 2, "mode": "standard"},
                              connect_timeout=5, read_timeout=30)

    def client(self, service: str, region: str | None = None) -> Any:
        key = (service, region or self.home_region)
        if key not in self._clients:
            self._clients[key] = self.session.client(
                service, region_name=key[1], endpoint_url=self.endpoint_url,
                config=self._config, aws_access_key_id=self.creds["AccessKeyId"],
                aws_secret_access_key=self.creds["SecretAccessKey"],
                aws_session_token=self.creds["SessionToken"])
        return self._clients[key]

    def arn(self, kind: str, name: str) -> str:
        try:
            return self.arns[(kind, name)]
        except KeyError:
            raise EstateError(f"account {self.alias}: {kind} {name!r} is used before it is "
                              f"seeded (or not declared)") from None


class _Seeder:
    """Builds the estate phase by phase, so everything a document names exists first:

    1. IAM roles (trust only), users, groups
    2. KMS keys, S3 buckets, DynamoDB tables, secrets (their policies name the roles)
    3. managed policies, attachments, inline policies, boundaries, instance profiles
    4. Lambda functions, Bedrock agents, AgentCore runtimes and gateways, Lambda
       permissions (naming the agents), ECS task definitions, EC2 instances, rotation
    5. credentials: console passwords, MFA, access keys, certificates
    6. dates (the only step that reaches into moto's backends)

    ``expected`` looks like::

        {"main_account": "123456789012", "home_region": "us-east-1", "regions": [...],
         "accounts": {"<id>": {"alias": ..., "users": {name: {...}}, "roles": {...},
                               "groups": {...}, "managed_policies": {name: arn},
                               "buckets": {...}, "tables": {...}, "kms_keys": {...},
                               "secrets": {...}, "lambdas": {...}, "bedrock_agents": {...},
                               "agentcore_runtimes": {...}, "agentcore_gateways": {...},
                               "ecs_task_definitions": {...}, "ec2_instances": {...},
                               "acm_certificates": {...}, "server_certificates": {...},
                               "service_specific_credentials": [ids]}}}
    """

    def __init__(self, endpoint_url: str, spec: dict[str, Any], now: dt.datetime) -> None:
        self.endpoint_url = endpoint_url
        self.spec = spec
        self.now = _whole_seconds_utc(now)
        self.home_region = spec.get("home_region", "us-east-1")
        self.main_account = str(spec["main_account"])
        self.readonly_role = spec["readonly_role"]
        self.aliases = {str(a["alias"]): str(a["id"]) for a in spec["accounts"]}
        self.canaries: list[str] = []
        self.ssc: dict[str, list[dict[str, Any]]] = {}
        self.dates: list[dict[str, Any]] = []
        self.expected: dict[str, Any] = {
            "main_account": self.main_account, "home_region": self.home_region,
            "readonly_role": self.readonly_role, "accounts": {}}
        self.regions: set[str] = {self.home_region}
        ids = [str(a["id"]) for a in spec["accounts"]]
        if ids[0] != self.main_account:
            raise EstateError("the main account must be listed first")
        for acct in spec["accounts"]:
            roles = [r["name"] for r in acct.get("iam", {}).get("roles", [])]
            if self.readonly_role not in roles:
                raise EstateError(f"account {acct['alias']} does not declare the "
                                  f"{self.readonly_role} role")

    # ---- helpers

    def _canary(self, value: str | None) -> None:
        if value and value not in self.canaries:
            self.canaries.append(value)

    def _sub(self, obj: Any, acct: _Account) -> Any:
        """Resolve ``${...}`` placeholders anywhere in ``obj``."""
        if isinstance(obj, dict):
            return {self._sub(k, acct): self._sub(v, acct) for k, v in obj.items()}
        if isinstance(obj, list):
            return [self._sub(v, acct) for v in obj]
        if not isinstance(obj, str):
            return obj

        def one(match: re.Match[str]) -> str:
            token = match.group(1)
            head, _, rest = token.partition(":")
            if token == "account":
                return acct.id
            if token == "region":
                return self.home_region
            if head == "account":
                if rest not in self.aliases:
                    raise EstateError(f"unknown account alias {rest!r}")
                return self.aliases[rest]
            if head == "arn":
                kind, _, name = rest.partition(":")
                return acct.arn(kind, name)
            if head == "canary":
                kind, _, label = rest.partition(":")
                value = _fake_secret(kind, label)
                self._canary(value)
                return value
            raise EstateError(f"unknown placeholder ${{{token}}}")

        return _PLACEHOLDER.sub(one, obj)

    def _doc(self, obj: Any, acct: _Account) -> str:
        return json.dumps(self._sub(obj, acct))

    # ---- the run

    def run(self) -> SeededEstate:
        import boto3

        base = boto3.session.Session(
            aws_access_key_id=FAKE_ACCESS_KEY_ID, aws_secret_access_key=FAKE_SECRET_ACCESS_KEY,
            region_name=self.home_region)
        sts = base.client("sts", endpoint_url=self.endpoint_url)
        accounts: dict[str, str] = {}
        for acct_spec in self.spec["accounts"]:
            acct_id = str(acct_spec["id"])
            creds = sts.assume_role(
                RoleArn=f"arn:aws:iam::{acct_id}:role/{SEED_ROLE_NAME}",
                RoleSessionName=SEED_SESSION_NAME)["Credentials"]
            acct = _Account(acct_spec, base, creds, self.endpoint_url, self.home_region)
            who = acct.client("sts").get_caller_identity()["Account"]
            if who != acct.id:
                raise EstateError(f"seeding {acct.alias}: calls land in {who}, not {acct.id}")
            accounts[acct.id] = acct.alias
            self._seed_account(acct)
        _apply_what_no_api_can_set(self.dates)
        self.expected["regions"] = sorted(self.regions)
        return SeededEstate(
            accounts=accounts, readonly_role=self.readonly_role, canaries=list(self.canaries),
            service_specific_credentials=self.ssc, expected=self.expected)

    def _seed_account(self, acct: _Account) -> None:
        exp: dict[str, Any] = {
            "alias": acct.alias, "users": {}, "roles": {}, "groups": {}, "managed_policies": {},
            "buckets": {}, "tables": {}, "kms_keys": {}, "secrets": {}, "lambdas": {},
            "bedrock_agents": {}, "agentcore_runtimes": {}, "agentcore_gateways": {},
            "ecs_task_definitions": {}, "ec2_instances": {}, "acm_certificates": {},
            "server_certificates": {}, "service_specific_credentials": []}
        self.expected["accounts"][acct.id] = exp
        iam_spec = acct.spec.get("iam", {})
        # 1. identities
        self._roles(acct, iam_spec.get("roles", []), exp)
        self._users(acct, iam_spec.get("users", []), exp)
        self._groups(acct, iam_spec.get("groups", []), exp)
        # 2. data stores
        self._kms(acct, acct.spec.get("kms_keys", []), exp)
        self._buckets(acct, acct.spec.get("buckets", []), exp)
        self._tables(acct, acct.spec.get("tables", []), exp)
        self._secrets(acct, acct.spec.get("secrets", []), exp)
        # 3. permissions
        self._permissions(acct, iam_spec, exp)
        # 4. compute and agents
        self._lambdas(acct, acct.spec.get("lambdas", []), exp)
        self._bedrock_agents(acct, acct.spec.get("bedrock_agents", []), exp)
        self._agentcore(acct, acct.spec, exp)
        self._lambda_permissions(acct, acct.spec.get("lambdas", []))
        self._ecs(acct, acct.spec.get("ecs_task_definitions", []), exp)
        self._ec2(acct, acct.spec.get("ec2_instances", []), exp)
        self._rotation(acct, acct.spec.get("secrets", []), exp)
        # 5. credentials
        self._credentials(acct, iam_spec.get("users", []), exp)
        self._service_specific_credentials(
            acct, iam_spec.get("service_specific_credentials", []), exp)
        self._acm(acct, acct.spec.get("acm_certificates", []), exp)
        self._server_certificates(acct, iam_spec.get("server_certificates", []), exp)

    # ---- 1. identities

    def _roles(self, acct: _Account, roles: list[dict], exp: dict) -> None:
        iam = acct.client("iam")
        for spec in roles:
            trust = self._sub(_trust(spec["trust"]), acct)
            params: dict[str, Any] = {"RoleName": spec["name"],
                                      "AssumeRolePolicyDocument": json.dumps(trust)}
            if spec.get("description"):
                params["Description"] = spec["description"]
            if spec.get("tags"):
                params["Tags"] = _tag_list(spec["tags"])
            role = iam.create_role(**params)["Role"]
            acct.arns[("role", spec["name"])] = role["Arn"]
            created = _when(spec.get("created", "now"), self.now)
            last_used = spec.get("last_used", "never")
            used_at = used_region = None
            if last_used != "never":
                used_at = _when(last_used["at"], self.now)
                used_region = last_used.get("region", self.home_region)
            exp["roles"][spec["name"]] = {
                "arn": role["Arn"], "tags": dict(spec.get("tags") or {}),
                "trust_principals": _principals(trust), "created": created,
                "last_used": used_at, "last_used_region": used_region,
                "managed_policies": list(spec.get("managed_policies", [])),
                "inline_policies": [p["name"] for p in spec.get("inline_policies", [])],
                "permissions_boundary": spec.get("permissions_boundary"),
                "instance_profile": spec.get("instance_profile")}
            self.dates.append({"kind": "role", "account": acct.id, "name": spec["name"],
                               "created": created, "last_used": used_at,
                               "region": used_region})

    def _users(self, acct: _Account, users: list[dict], exp: dict) -> None:
        iam = acct.client("iam")
        for spec in users:
            params: dict[str, Any] = {"UserName": spec["name"]}
            if spec.get("tags"):
                params["Tags"] = _tag_list(spec["tags"])
            user = iam.create_user(**params)["User"]
            acct.arns[("user", spec["name"])] = user["Arn"]
            console = spec.get("console")
            exp["users"][spec["name"]] = {
                "arn": user["Arn"], "tags": dict(spec.get("tags") or {}),
                "created": _when(spec.get("created", "now"), self.now),
                "console": bool(console), "mfa": bool(spec.get("mfa")),
                "password_last_used": _when(console.get("last_used"), self.now)
                if console else None,
                "groups": list(spec.get("groups", [])),
                "managed_policies": list(spec.get("managed_policies", [])),
                "inline_policies": [p["name"] for p in spec.get("inline_policies", [])],
                "access_keys": []}

    def _groups(self, acct: _Account, groups: list[dict], exp: dict) -> None:
        iam = acct.client("iam")
        members: dict[str, list[str]] = {}
        for user in acct.spec.get("iam", {}).get("users", []):
            for group in user.get("groups", []):
                members.setdefault(group, []).append(user["name"])
        for spec in groups:
            group = iam.create_group(GroupName=spec["name"])["Group"]
            for member in members.get(spec["name"], []):
                iam.add_user_to_group(GroupName=spec["name"], UserName=member)
            exp["groups"][spec["name"]] = {
                "arn": group["Arn"], "members": members.get(spec["name"], []),
                "managed_policies": list(spec.get("managed_policies", []))}
        unknown = set(members) - {g["name"] for g in groups}
        if unknown:
            raise EstateError(f"account {acct.alias}: users join undeclared groups "
                              f"{sorted(unknown)}")

    # ---- 2. data stores

    def _kms(self, acct: _Account, keys: list[dict], exp: dict) -> None:
        kms = acct.client("kms")
        for spec in keys:
            meta = kms.create_key(Description=spec.get("description", ""),
                                  Policy=self._doc(spec["policy"], acct),
                                  Tags=_tag_list(spec.get("tags"), "TagKey", "TagValue"),
                                  )["KeyMetadata"]
            kms.create_alias(AliasName=f"alias/{spec['alias']}", TargetKeyId=meta["KeyId"])
            acct.arns[("kms", spec["alias"])] = meta["Arn"]
            exp["kms_keys"][spec["alias"]] = {"arn": meta["Arn"], "key_id": meta["KeyId"],
                                              "tags": dict(spec.get("tags") or {})}

    def _buckets(self, acct: _Account, buckets: list[dict], exp: dict) -> None:
        for spec in buckets:
            region = spec.get("region", self.home_region)
            self.regions.add(region)
            s3 = acct.client("s3", region)
            name = spec["name"]
            params: dict[str, Any] = {"Bucket": name}
            if region != "us-east-1":
                params["CreateBucketConfiguration"] = {"LocationConstraint": region}
            s3.create_bucket(**params)
            acct.arns[("bucket", name)] = f"arn:aws:s3:::{name}"
            if spec.get("tags"):
                s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": _tag_list(spec["tags"])})
            if spec.get("encryption_kms"):
                s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={
                    "Rules": [{"ApplyServerSideEncryptionByDefault": {
                        "SSEAlgorithm": "aws:kms",
                        "KMSMasterKeyID": acct.arn("kms", spec["encryption_kms"])},
                        "BucketKeyEnabled": True}]})
            if spec.get("block_public_access"):
                s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={
                    "BlockPublicAcls": True, "IgnorePublicAcls": True,
                    "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
            if spec.get("policy"):
                s3.put_bucket_policy(Bucket=name, Policy=self._doc(spec["policy"], acct))
            exp["buckets"][name] = {"arn": f"arn:aws:s3:::{name}", "region": region,
                                    "tags": dict(spec.get("tags") or {}),
                                    "policy": bool(spec.get("policy"))}

    def _tables(self, acct: _Account, tables: list[dict], exp: dict) -> None:
        ddb = acct.client("dynamodb")
        for spec in tables:
            params: dict[str, Any] = {
                "TableName": spec["name"],
                "KeySchema": [{"AttributeName": spec["hash_key"], "KeyType": "HASH"}],
                "AttributeDefinitions": [{"AttributeName": spec["hash_key"],
                                          "AttributeType": "S"}],
                "BillingMode": "PAY_PER_REQUEST",
                "Tags": _tag_list(spec.get("tags"))}
            if spec.get("encryption_kms"):
                params["SSESpecification"] = {
                    "Enabled": True, "SSEType": "KMS",
                    "KMSMasterKeyId": acct.arn("kms", spec["encryption_kms"])}
            table = ddb.create_table(**params)["TableDescription"]
            acct.arns[("table", spec["name"])] = table["TableArn"]
            exp["tables"][spec["name"]] = {"arn": table["TableArn"],
                                           "tags": dict(spec.get("tags") or {})}

    def _secrets(self, acct: _Account, secrets: list[dict], exp: dict) -> None:
        for spec in secrets:
            region = spec.get("region", self.home_region)
            self.regions.add(region)
            sm = acct.client("secretsmanager", region)
            value = self._sub(spec["value"], acct)
            secret_string = value if isinstance(value, str) else json.dumps(value)
            self._canary(secret_string)
            params: dict[str, Any] = {"Name": spec["name"], "SecretString": secret_string,
                                      "Tags": _tag_list(spec.get("tags"))}
            if spec.get("description"):
                params["Description"] = spec["description"]
            if spec.get("kms"):
                params["KmsKeyId"] = acct.arn("kms", spec["kms"])
            arn = sm.create_secret(**params)["ARN"]
            acct.arns[("secret", spec["name"])] = arn
            if spec.get("policy"):
                sm.put_resource_policy(SecretId=arn,
                                       ResourcePolicy=self._doc(spec["policy"], acct))
            created = _when(spec.get("created", "now"), self.now)
            exp["secrets"][spec["name"]] = {
                "arn": arn, "region": region, "tags": dict(spec.get("tags") or {}),
                "created": created, "policy": bool(spec.get("policy")),
                "rotation": bool(spec.get("rotation")), "kms": spec.get("kms")}
            self.dates.append({"kind": "secret", "account": acct.id, "region": region,
                               "name": spec["name"], "created": created})

    # ---- 3. permissions

    def _permissions(self, acct: _Account, iam_spec: dict, exp: dict) -> None:
        iam = acct.client("iam")
        for spec in iam_spec.get("managed_policies", []):
            pol = iam.create_policy(PolicyName=spec["name"],
                                    Description=spec.get("description", ""),
                                    PolicyDocument=self._doc(spec["document"], acct))["Policy"]
            acct.arns[("policy", spec["name"])] = pol["Arn"]
            exp["managed_policies"][spec["name"]] = pol["Arn"]
        for spec in iam_spec.get("groups", []):
            for name in spec.get("managed_policies", []):
                iam.attach_group_policy(GroupName=spec["name"], PolicyArn=acct.arn("policy", name))
        for spec in iam_spec.get("users", []):
            for name in spec.get("managed_policies", []):
                iam.attach_user_policy(UserName=spec["name"], PolicyArn=acct.arn("policy", name))
            for pol in spec.get("inline_policies", []):
                iam.put_user_policy(UserName=spec["name"], PolicyName=pol["name"],
                                    PolicyDocument=self._doc(pol["document"], acct))
        for spec in iam_spec.get("roles", []):
            for name in spec.get("managed_policies", []):
                iam.attach_role_policy(RoleName=spec["name"], PolicyArn=acct.arn("policy", name))
            for pol in spec.get("inline_policies", []):
                iam.put_role_policy(RoleName=spec["name"], PolicyName=pol["name"],
                                    PolicyDocument=self._doc(pol["document"], acct))
            if spec.get("permissions_boundary"):
                iam.put_role_permissions_boundary(
                    RoleName=spec["name"],
                    PermissionsBoundary=acct.arn("policy", spec["permissions_boundary"]))
            if spec.get("instance_profile"):
                profile = iam.create_instance_profile(
                    InstanceProfileName=spec["instance_profile"])["InstanceProfile"]
                iam.add_role_to_instance_profile(InstanceProfileName=spec["instance_profile"],
                                                 RoleName=spec["name"])
                acct.arns[("instance-profile", spec["instance_profile"])] = profile["Arn"]

    # ---- 4. compute and agents

    def _lambdas(self, acct: _Account, functions: list[dict], exp: dict) -> None:
        lam = acct.client("lambda")
        for spec in functions:
            env = self._sub(spec.get("environment") or {}, acct)
            params: dict[str, Any] = {
                "FunctionName": spec["name"], "Runtime": spec.get("runtime", "python3.12"),
                "Role": acct.arn("role", spec["role"]), "Handler": "index.handler",
                "Code": {"ZipFile": _lambda_zip(spec["name"], spec.get("description", ""))},
                "Description": spec.get("description", ""), "Timeout": 30,
                "Tags": {k: str(v) for k, v in (spec.get("tags") or {}).items()}}
            if env:
                params["Environment"] = {"Variables": {k: str(v) for k, v in env.items()}}
            fn = lam.create_function(**params)
            acct.arns[("lambda", spec["name"])] = fn["FunctionArn"]
            exp["lambdas"][spec["name"]] = {
                "arn": fn["FunctionArn"], "role": spec["role"], "env_keys": sorted(env),
                "tags": dict(spec.get("tags") or {}),
                "permissions": [p["principal"] for p in spec.get("permissions", [])]}

    def _lambda_permissions(self, acct: _Account, functions: list[dict]) -> None:
        lam = acct.client("lambda")
        for spec in functions:
            for perm in spec.get("permissions", []):
                params: dict[str, Any] = {
                    "FunctionName": spec["name"], "StatementId": perm["sid"],
                    "Action": "lambda:InvokeFunction", "Principal": perm["principal"],
                    "SourceAccount": acct.id}
                if perm.get("source_arn"):
                    params["SourceArn"] = self._sub(perm["source_arn"], acct)
                lam.add_permission(**params)

    def _bedrock_agents(self, acct: _Account, agents: list[dict], exp: dict) -> None:
        if not agents:
            return
        ba = acct.client("bedrock-agent")
        for spec in agents:
            agent = ba.create_agent(
                agentName=spec["name"], agentResourceRoleArn=acct.arn("role", spec["role"]),
                foundationModel=spec["foundation_model"],
                instruction=spec.get("instruction", ""),
                tags={k: str(v) for k, v in (spec.get("tags") or {}).items()})["agent"]
            acct.arns[("bedrock-agent", spec["name"])] = agent["agentArn"]
            exp["bedrock_agents"][spec["name"]] = {
                "id": agent["agentId"], "arn": agent["agentArn"], "role": spec["role"],
                "foundation_model": spec["foundation_model"],
                "tags": dict(spec.get("tags") or {})}

    def _agentcore(self, acct: _Account, spec: dict, exp: dict) -> None:
        runtimes = spec.get("agentcore_runtimes", [])
        gateways = spec.get("agentcore_gateways", [])
        if not runtimes and not gateways:
            return
        ac = acct.client("bedrock-agentcore-control")
        for rt in runtimes:
            env = self._sub(rt.get("environment") or {}, acct)
            params: dict[str, Any] = {
                "agentRuntimeName": rt["name"],
                "agentRuntimeArtifact": {"containerConfiguration": {
                    "containerUri": self._sub(rt["container"], acct)}},
                "roleArn": acct.arn("role", rt["role"]),
                # moto reads networkConfiguration unconditionally (botocore: optional).
                "networkConfiguration": {"networkMode": "PUBLIC"},
                "protocolConfiguration": {"serverProtocol": rt.get("protocol", "HTTP")},
                "description": rt.get("description", ""),
                "environmentVariables": {k: str(v) for k, v in env.items()}}
            if rt.get("tags"):
                params["tags"] = {k: str(v) for k, v in rt["tags"].items()}
            made = ac.create_agent_runtime(**params)
            acct.arns[("agentcore-runtime", rt["name"])] = made["agentRuntimeArn"]
            exp["agentcore_runtimes"][rt["name"]] = {
                "id": made["agentRuntimeId"], "arn": made["agentRuntimeArn"],
                "role": rt["role"], "env_keys": sorted(env), "tags": dict(rt.get("tags") or {})}
        for gw in gateways:
            params = {"name": gw["name"], "roleArn": acct.arn("role", gw["role"]),
                      "protocolType": "MCP", "authorizerType": gw.get("authorizer", "AWS_IAM"),
                      "description": gw.get("description", "")}
            if gw.get("tags"):
                params["tags"] = {k: str(v) for k, v in gw["tags"].items()}
            made = ac.create_gateway(**params)
            acct.arns[("agentcore-gateway", gw["name"])] = made["gatewayArn"]
            targets = []
            for target in gw.get("targets", []):
                tools = [{"name": t["name"], "description": t["description"],
                          "inputSchema": {"type": "object"}} for t in target.get("tools", [])]
                ac.create_gateway_target(
                    gatewayIdentifier=made["gatewayId"], name=target["name"],
                    targetConfiguration={"mcp": {"lambda": {
                        "lambdaArn": acct.arn("lambda", target["lambda"]),
                        "toolSchema": {"inlinePayload": tools}}}},
                    credentialProviderConfigurations=[
                        {"credentialProviderType": "GATEWAY_IAM_ROLE"}])
                targets.append({"name": target["name"], "lambda": target["lambda"]})
            exp["agentcore_gateways"][gw["name"]] = {
                "id": made["gatewayId"], "arn": made["gatewayArn"], "role": gw["role"],
                "targets": targets}

    def _ecs(self, acct: _Account, taskdefs: list[dict], exp: dict) -> None:
        if not taskdefs:
            return
        ecs = acct.client("ecs")
        for spec in taskdefs:
            env = self._sub(spec.get("environment") or {}, acct)
            params: dict[str, Any] = {
                "family": spec["family"], "taskRoleArn": acct.arn("role", spec["task_role"]),
                "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"],
                "cpu": "512", "memory": "1024",
                "containerDefinitions": [{
                    "name": spec.get("container", spec["family"]),
                    "image": self._sub(spec["image"], acct), "essential": True,
                    "environment": [{"name": k, "value": str(v)} for k, v in env.items()]}]}
            if spec.get("tags"):
                params["tags"] = _tag_list(spec["tags"], "key", "value")
            td = ecs.register_task_definition(**params)["taskDefinition"]
            exp["ecs_task_definitions"][spec["family"]] = {
                "arn": td["taskDefinitionArn"], "task_role": spec["task_role"],
                "env_keys": sorted(env)}

    def _ec2(self, acct: _Account, instances: list[dict], exp: dict) -> None:
        if not instances:
            return
        ec2 = acct.client("ec2")
        for spec in instances:
            image = spec["image"]
            if isinstance(image, dict):
                found = ec2.describe_images(
                    Owners=[image["owner"]],
                    Filters=[{"Name": "name", "Values": [image["name"]]}])["Images"]
                found.sort(key=lambda i: (i.get("CreationDate", ""), i["ImageId"]))
                image_id = found[-1]["ImageId"] if found else image["fallback"]
            else:
                image_id = image
            tags = {"Name": spec["name"], **(spec.get("tags") or {})}
            params: dict[str, Any] = {
                "ImageId": image_id, "InstanceType": spec.get("instance_type", "t3.micro"),
                "MinCount": 1, "MaxCount": 1,
                "TagSpecifications": [{"ResourceType": "instance", "Tags": _tag_list(tags)}]}
            if spec.get("instance_profile"):
                params["IamInstanceProfile"] = {"Name": spec["instance_profile"]}
            inst = ec2.run_instances(**params)["Instances"][0]
            exp["ec2_instances"][spec["name"]] = {
                "id": inst["InstanceId"], "image_id": image_id,
                "instance_profile": spec.get("instance_profile")}

    def _rotation(self, acct: _Account, secrets: list[dict], exp: dict) -> None:
        for spec in secrets:
            rot = spec.get("rotation")
            if not rot:
                continue
            region = spec.get("region", self.home_region)
            sm = acct.client("secretsmanager", region)
            # moto's RotateSecret invokes the rotation Lambda at once, and moto runs Lambdas
            # in Docker: without Docker it prints a warning to stdout and logs an error, with
            # Docker it pulls an image and starts a container. So rotation is switched on
            # through the API without the ARN (RotationEnabled, RotationRules, a new
            # AWSCURRENT version holding the same value), and the rotation Lambda's ARN is
            # attached with the dates in _apply_what_no_api_can_set.
            sm.rotate_secret(SecretId=acct.arn("secret", spec["name"]),
                             RotationRules={"AutomaticallyAfterDays": int(rot["every_days"])},
                             RotateImmediately=False)
            last = _when(rot.get("last_rotated", "now"), self.now)
            exp["secrets"][spec["name"]].update({
                "rotation_lambda": rot["lambda"], "rotation_days": int(rot["every_days"]),
                "last_rotated": last})
            self.dates.append({"kind": "rotation", "account": acct.id, "region": region,
                               "name": spec["name"],
                               "lambda_arn": acct.arn("lambda", rot["lambda"]),
                               "every_days": int(rot["every_days"]), "last_rotated": last})

    # ---- 5. credentials

    def _credentials(self, acct: _Account, users: list[dict], exp: dict) -> None:
        iam = acct.client("iam")
        for spec in users:
            name = spec["name"]
            uexp = exp["users"][name]
            console = spec.get("console")
            if console:
                password = self._sub(console["password"], acct)
                self._canary(password)
                iam.create_login_profile(UserName=name, Password=password,
                                         PasswordResetRequired=False)
            if spec.get("mfa"):
                serial = iam.create_virtual_mfa_device(
                    VirtualMFADeviceName=name)["VirtualMFADevice"]["SerialNumber"]
                iam.enable_mfa_device(UserName=name, SerialNumber=serial,
                                      AuthenticationCode1="123456", AuthenticationCode2="654321")
                uexp["mfa_serial"] = serial
            keys = []
            for kspec in spec.get("access_keys", []):
                key = iam.create_access_key(UserName=name)["AccessKey"]
                self._canary(key["SecretAccessKey"])
                status = kspec.get("status", "Active")
                if status != "Active":
                    iam.update_access_key(UserName=name, AccessKeyId=key["AccessKeyId"],
                                          Status=status)
                used = kspec.get("last_used", "never")
                kexp = {"id": key["AccessKeyId"], "status": status,
                        "created": _when(kspec["created"], self.now),
                        "last_used": None if used == "never" else _when(used["at"], self.now),
                        "service": None if used == "never" else used["service"],
                        "region": None if used == "never" else used.get("region", self.home_region)}
                keys.append(kexp)
            uexp["access_keys"] = keys
            self.dates.append({"kind": "user", "account": acct.id, "name": name,
                               "created": uexp["created"],
                               "password_last_used": uexp["password_last_used"],
                               "keys": keys})

    def _service_specific_credentials(self, acct: _Account, creds: list[dict],
                                      exp: dict) -> None:
        items = self.ssc.setdefault(acct.id, [])
        for spec in creds:
            user = spec["user"]
            if user not in exp["users"]:
                raise EstateError(f"account {acct.alias}: service-specific credential for "
                                  f"undeclared user {user!r}")
            cred_id = "ACCA" + _chars(f"ssc:{acct.id}:{user}:{spec['service']}", 17, _UPPER36)
            item: dict[str, Any] = {
                "UserName": user, "Status": spec.get("status", "Active"),
                "ServiceUserName": f"{user}-at-{acct.id}",
                "CreateDate": _when(spec["created"], self.now),
                "ServiceSpecificCredentialId": cred_id, "ServiceName": spec["service"]}
            if spec["service"] == "bedrock.amazonaws.com":
                item["ServiceCredentialAlias"] = f"BedrockAPIKey-{user}-at-{acct.id}"
            if spec.get("expires"):
                item["ExpirationDate"] = _when(spec["expires"], self.now)
            items.append(item)
            exp["service_specific_credentials"].append(cred_id)
            exp["users"][user].setdefault("service_specific_credentials", []).append(cred_id)

    def _acm(self, acct: _Account, certs: list[dict], exp: dict) -> None:
        if not certs:
            return
        acm = acct.client("acm")
        for spec in certs:
            sans = spec.get("sans") or [spec["domain"]]
            not_before = _when(spec["not_before"], self.now)
            not_after = _when(spec["not_after"], self.now)
            cert_pem, key_pem, key = _self_signed(spec["domain"], sans, not_before, not_after)
            self._canary(key_pem)
            expired = not_after <= self.now
            imported_pem = cert_pem
            if expired:
                # ACM (and moto) refuse to import an expired certificate: import the same
                # key and names valid for one more day, then let time pass (step 6).
                imported_pem, _, _ = _self_signed(spec["domain"], sans, not_before,
                                                  self.now + dt.timedelta(days=1), key)
            params: dict[str, Any] = {"Certificate": imported_pem.encode(),
                                      "PrivateKey": key_pem.encode()}
            if spec.get("tags"):
                params["Tags"] = _tag_list(spec["tags"])
            arn = acm.import_certificate(**params)["CertificateArn"]
            imported = _when(spec.get("imported", "now"), self.now)
            exp["acm_certificates"][spec["domain"]] = {
                "arn": arn, "region": self.home_region,
                "status": "EXPIRED" if expired else "ISSUED",
                "not_before": not_before, "not_after": not_after, "imported": imported}
            self.dates.append({"kind": "acm", "account": acct.id, "region": self.home_region,
                               "arn": arn, "imported": imported,
                               "expired_pem": cert_pem if expired else None})

    def _server_certificates(self, acct: _Account, certs: list[dict], exp: dict) -> None:
        iam = acct.client("iam")
        for spec in certs:
            # moto hard-codes the dates it reports for server certificates; the validity
            # here only has to make a well-formed certificate.
            cert_pem, key_pem, _ = _self_signed(spec["domain"], [spec["domain"]],
                                                self.now - dt.timedelta(days=700),
                                                self.now + dt.timedelta(days=30),
                                                algorithm="RSA")
            self._canary(key_pem)
            meta = iam.upload_server_certificate(
                ServerCertificateName=spec["name"], CertificateBody=cert_pem,
                PrivateKey=key_pem)["ServerCertificateMetadata"]
            exp["server_certificates"][spec["name"]] = {"arn": meta["Arn"],
                                                        "domain": spec["domain"]}


# --------------------------------------------------------------------------------------
# 6. What no AWS API can set


def _apply_what_no_api_can_set(plan: list[dict[str, Any]]) -> None:
    """Back-date creation and last-use, and let time pass over certificates.

    No AWS API sets when a user, role or key was created or last used, when a secret was
    created or last rotated, or makes an imported certificate expire, so these are written
    straight into moto's in-process backends. This reaches into moto internals (attribute
    names verified against moto 5.2.5; pyproject pins >=5.2.5,<5.3) and therefore only works when the
    moto server runs in this process. moto keeps naive UTC datetimes internally, so that is
    what is written. Also here: the rotation Lambda's ARN, because setting it through
    RotateSecret makes moto run the Lambda in Docker (see _Seeder._rotation).
    """
    if not plan:
        return
    from cryptography import x509
    from moto.acm.models import acm_backends
    from moto.iam.models import AccessKeyLastUsed, iam_backends
    from moto.secretsmanager.models import secretsmanager_backends

    def naive(moment: dt.datetime | None) -> dt.datetime | None:
        return None if moment is None else moment.astimezone(UTC).replace(tzinfo=None)

    def epoch(moment: dt.datetime) -> int:
        return int(moment.timestamp())

    for item in plan:
        acct = item["account"]
        kind = item["kind"]
        if kind in ("user", "role"):
            iam = iam_backends[acct]["global"]
            if kind == "role":
                try:
                    role = iam.get_role(item["name"])
                except Exception as exc:  # moto's NoSuchEntity
                    raise EstateError(f"role {item['name']} is not in this process's moto "
                                      "backend: run the moto server in-process") from exc
                role.create_date = naive(item["created"])
                role.last_used = naive(item["last_used"])
                role.last_used_region = item["region"]
                continue
            user = iam.users.get(item["name"])
            if user is None:
                raise EstateError(f"user {item['name']} is not in this process's moto "
                                  "backend: run the moto server in-process")
            user.create_date = naive(item["created"])
            user.password_last_used = naive(item["password_last_used"])
            by_id = {k.access_key_id: k for k in user.access_keys}
            for key in item["keys"]:
                moto_key = by_id[key["id"]]
                moto_key.create_date = naive(key["created"])
                moto_key.last_used = (
                    None if key["last_used"] is None
                    # A bare datetime here breaks GetAccessKeyLastUsed: moto wants its wrapper.
                    else AccessKeyLastUsed(naive(key["last_used"]), key["service"], key["region"]))
        elif kind == "secret":
            secret = secretsmanager_backends[acct][item["region"]].secrets[item["name"]]
            secret.created_date = secret.last_changed_date = epoch(item["created"])
            for version in secret.versions.values():
                version["createdate"] = epoch(item["created"])
        elif kind == "rotation":
            secret = secretsmanager_backends[acct][item["region"]].secrets[item["name"]]
            secret.rotation_lambda_arn = item["lambda_arn"]
            last = item["last_rotated"]
            secret.last_rotation_date = secret.last_changed_date = epoch(last)
            secret.next_rotation_date = epoch(last + dt.timedelta(days=item["every_days"]))
            for version in secret.versions.values():
                if "AWSCURRENT" in version["version_stages"]:
                    version["createdate"] = epoch(last)
        elif kind == "acm":
            bundle = acm_backends[acct][item["region"]]._certificates[item["arn"]]
            bundle.created_at = naive(item["imported"])
            if item["expired_pem"]:
                bundle.cert = item["expired_pem"].encode()
                bundle._cert = x509.load_pem_x509_certificate(bundle.cert)
                bundle.status = "EXPIRED"
        else:  # pragma: no cover - the seeder only plans the kinds above
            raise AssertionError(kind)
