"""The AWS connector's config section, validated once so that every later error names a key."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Mapping

from agentreach.connector import ConnectorConfigError, section_values

ALL_SERVICES = (
    "iam", "acm", "secretsmanager", "lambda", "bedrock", "agentcore", "ecs", "eks", "apprunner", "ec2",
    "s3", "dynamodb", "kms",
)


@dataclass(frozen=True)
class AccountTarget:
    """One account to scan; ``role_arn`` None means the caller's own credentials."""

    account_id: str
    role_arn: str | None = None
    alias: str | None = None


@dataclass(frozen=True)
class AwsConfig:
    profile: str | None = None
    endpoint_url: str | None = None
    regions: tuple[str, ...] | None = None  # None: every region enabled in the account
    default_region: str = "us-east-1"
    accounts: tuple[AccountTarget, ...] = ()
    organization: bool = False
    role_name: str = "agentreach-readonly"
    external_id: str | None = None
    role_session_name: str = "agentreach"
    max_workers: int = 4
    region_workers: int = 4
    key_workers: int = 8
    retry_mode: str = "standard"
    max_attempts: int = 5
    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    services: tuple[str, ...] = ALL_SERVICES
    role_last_used: str = "auto"  # auto | gaad | get_role
    credential_report_timeout: float = 120.0
    # Read each Secrets Manager secret's current value (GetSecretValue, AWSCURRENT) and keep
    # only its identity (agentreach.secretvalues), so a file secret is linked to the secret it is.
    match_secret_values: bool = False
    value_workers: int = 2  # concurrent GetSecretValue + scrypt per region (scrypt frees the GIL)
    # Activity (CloudTrail files, LookupEvents, IAM last-accessed): off unless asked for.
    activity: bool = False
    activity_since: str = "90d"  # a duration (90d, 12h, 2w) or an ISO date
    activity_sources: tuple[str, ...] = ("cloudtrail", "lookup_events", "last_accessed")
    activity_max_keys: int = 200_000  # aggregates held in memory before they are written out
    last_accessed_timeout: float = 60.0  # per principal's GenerateServiceLastAccessedDetails job

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> "AwsConfig":
        values = section_values(raw, (f.name for f in fields(cls)), "aws")
        regions = values.get("regions")
        if regions in ("all", ["all"]):
            values.pop("regions")
        elif regions is not None:
            values["regions"] = _str_tuple("regions", regions)
        if "services" in values:
            values["services"] = _str_tuple("services", values["services"])
            bad = sorted(set(values["services"]) - set(ALL_SERVICES))
            if bad:
                raise ConnectorConfigError(
                    f"connectors.aws.services: unknown service(s) {', '.join(bad)} "
                    f"(known: {', '.join(ALL_SERVICES)})")
        if "activity_sources" in values:
            values["activity_sources"] = _str_tuple("activity_sources", values["activity_sources"])
            known = ("cloudtrail", "lookup_events", "last_accessed")
            bad = sorted(set(values["activity_sources"]) - set(known))
            if bad:
                raise ConnectorConfigError(f"connectors.aws.activity_sources: unknown source(s) {', '.join(bad)} "
                                           f"(known: {', '.join(known)})")
        if "activity_since" in values:
            from agentreach.activity import checked_since

            try:
                values["activity_since"] = checked_since(values["activity_since"])
            except ValueError as exc:
                raise ConnectorConfigError(f"connectors.aws.activity_since: {exc}") from None
        if "activity" in values and not isinstance(values["activity"], bool):
            raise ConnectorConfigError("connectors.aws.activity: must be true or false")
        if "accounts" in values:
            values["accounts"] = tuple(_account(i, a, values.get("role_name", cls.role_name))
                                       for i, a in enumerate(values["accounts"]))
        if values.get("retry_mode", "standard") not in ("standard", "adaptive", "legacy"):
            raise ConnectorConfigError("connectors.aws.retry_mode: must be standard, adaptive or legacy")
        if values.get("role_last_used", "auto") not in ("auto", "gaad", "get_role"):
            raise ConnectorConfigError("connectors.aws.role_last_used: must be auto, gaad or get_role")
        if not isinstance(values.get("match_secret_values", False), bool):
            raise ConnectorConfigError("connectors.aws.match_secret_values: true or false")
        for key in ("max_workers", "region_workers", "key_workers", "max_attempts", "value_workers",
                    "activity_max_keys"):
            if key in values and (not isinstance(values[key], int) or values[key] < 1):
                raise ConnectorConfigError(f"connectors.aws.{key}: must be a whole number >= 1")
        return cls(**values)


def _str_tuple(key: str, value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ConnectorConfigError(f"connectors.aws.{key}: must be a list of strings")
    return tuple(value)


def _account(index: int, item: Any, role_name: str) -> AccountTarget:
    """An account is an id (the configured role is assumed there) or a mapping with
    ``id`` and optionally ``role_arn`` / ``alias``."""
    if isinstance(item, (str, int)):
        item = {"id": str(item)}
    if not isinstance(item, Mapping) or "id" not in item:
        raise ConnectorConfigError(f"connectors.aws.accounts[{index}]: needs an 'id'")
    account_id = str(item["id"]).zfill(12)
    if not (account_id.isdigit() and len(account_id) == 12):
        raise ConnectorConfigError(f"connectors.aws.accounts[{index}]: {item['id']!r} is not a 12-digit account id")
    extra = sorted(set(item) - {"id", "role_arn", "alias"})
    if extra:
        raise ConnectorConfigError(f"connectors.aws.accounts[{index}]: unknown key(s) {', '.join(extra)}")
    role_arn = item.get("role_arn") or f"arn:aws:iam::{account_id}:role/{role_name}"
    return AccountTarget(account_id=account_id, role_arn=role_arn, alias=item.get("alias"))
