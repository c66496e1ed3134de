"""Secrets Manager secrets: systems an agent reaches, and credentials with a lifecycle
(rotation, last access).

The secret *value* is read only with ``match_secret_values`` (off by default): then
``GetSecretValue`` on the current version (``AWSCURRENT``) gives a value that is named in
memory (:mod:`agentreach.secretvalues`, the same scrypt identity a file secret gets) and
dropped; only the identities reach the record, so the link deriver can say which file holds
which secret. A denied read (the key policy of the secret's KMS key, a resource policy) is a
coverage gap for that secret, never the end of the scan."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any, Iterator

from agentreach import secretvalues
from agentreach.model import Record, System, node_id, parse_datetime

from .calls import AwsCalls
from .ids import SOURCE, tags_dict
from .policies import parse_policy

VALUE_OPERATION = "GetSecretValue"
VALUE_STAGE = "AWSCURRENT"


def get(calls: AwsCalls, region: str, stats: secretvalues.ValueStats | None = None) -> list[dict[str, Any]]:
    out = []
    for secret in calls.paginate("secretsmanager", "ListSecrets", "SecretList", region=region,
                                 need=("ARN", "Name")):
        pol = calls.call("secretsmanager", "GetResourcePolicy", region=region, SecretId=secret["ARN"])
        secret = dict(secret)
        secret["ResourcePolicy"] = (pol or {}).get("ResourcePolicy")
        out.append(secret)
    if calls.cfg.match_secret_values and out:
        scanners = secretvalues.secret_scanners()
        with ThreadPoolExecutor(max_workers=calls.cfg.value_workers, thread_name_prefix="aws-values") as pool:
            reads = list(pool.map(lambda s: get_value_identities(calls, region, s["ARN"], scanners, stats), out))
        for secret, read in zip(out, reads, strict=True):
            secret["ValueRead"] = read
    return out


def get_value_identities(calls: AwsCalls, region: str, arn: str, scanners: list[Any] = (),  # type: ignore[assignment]
                         stats: secretvalues.ValueStats | None = None) -> dict[str, Any]:
    """The current value of one secret, read and named in memory: the ``value_read`` record
    (status, version, the identities) with no value in it. The answer holding the value is
    dropped before this returns."""
    resp, code = calls.attempt("secretsmanager", VALUE_OPERATION, region=region, subject=f"secret {arn}",
                               SecretId=arn, VersionStage=VALUE_STAGE)
    stats = stats if stats is not None else secretvalues.ValueStats()
    if resp is None:
        if code is None:  # ResourceNotFoundException: no AWSCURRENT version holds a value yet
            stats.add("absent")
            return secretvalues.read_record("absent", VALUE_OPERATION, VALUE_STAGE,
                                            reason="no current version holds a value")
        status = secretvalues.failure_status(code)
        stats.add(status)
        return secretvalues.read_record(status, VALUE_OPERATION, VALUE_STAGE, reason=f"{code} (coverage gap)")
    version_id = resp.get("VersionId")
    value = resp.get("SecretString")
    if value is None:
        value = resp.get("SecretBinary")
    resp.clear()
    del resp
    if value is None:
        stats.add("absent")
        return secretvalues.read_record("absent", VALUE_OPERATION, VALUE_STAGE, version_id=version_id,
                                        reason="the answer holds neither SecretString nor SecretBinary")
    record = secretvalues.named_record(value, calls.ctx, scanners, stats, VALUE_OPERATION, VALUE_STAGE, version_id)
    del value
    return record


def transform(secrets: list[dict[str, Any]], account: str, region: str) -> Iterator[Record]:
    for s in secrets:
        arn = s["ARN"]
        rules = s.get("RotationRules") or {}
        yield System(
            id=node_id("aws", "secret", arn), provider="aws", source=SOURCE,
            type="aws_secretsmanager_secret", name=s["Name"], native_id=arn, account=account,
            region=region, created=parse_datetime(s.get("CreatedDate")), tags=tags_dict(s.get("Tags")),
            resource_policy=parse_policy(s.get("ResourcePolicy"), f"secret {arn}"),
            attrs={
                "description": s.get("Description"), "kms_key_id": s.get("KmsKeyId"),
                "owning_service": s.get("OwningService"),
                "rotation": {
                    "enabled": bool(s.get("RotationEnabled")),
                    "lambda_arn": s.get("RotationLambdaARN"),
                    "interval_days": rules.get("AutomaticallyAfterDays"),
                    "schedule": rules.get("ScheduleExpression"),
                    "last_rotated": _iso(s.get("LastRotatedDate")),
                    "next_rotation": _iso(s.get("NextRotationDate")),
                },
                "last_changed": _iso(s.get("LastChangedDate")),
                "last_accessed": _iso(s.get("LastAccessedDate")),
                **_value_attrs(s.get("ValueRead")),
            },
        )


def _value_attrs(read: dict[str, Any] | None) -> dict[str, Any]:
    """``value_identities`` (what the link deriver joins on) and ``value_read`` (how, or why
    not), when values were matched; nothing otherwise, so a default scan's records are as before."""
    if not read:
        return {}
    read = dict(read)
    found = read.pop("identities", None) or []
    return {secretvalues.ATTR: found, secretvalues.READ_ATTR: read}


def _iso(value: Any) -> str | None:
    parsed = parse_datetime(value) if value else None
    return parsed.isoformat().replace("+00:00", "Z") if parsed else None
