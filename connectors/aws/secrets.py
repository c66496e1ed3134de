"""Secrets Manager secrets: systems an agent reaches, and credentials with a lifecycle
(rotation, last access). The secret *value* is never read: GetSecretValue is not called."""

from __future__ import annotations

from typing import Any, Iterator

from agentreach.model import Record, System, node_id, parse_datetime

from .calls import AwsCalls
from .ids import SOURCE, tags_dict
from .policies import parse_policy


def get(calls: AwsCalls, region: str) -> list[dict[str, Any]]:
    out = []
    for secret in calls.paginate("secretsmanager", "ListSecrets", "SecretList", region=region,
                                 need=("ARN", "Name")):
        pol = calls.call("secretsmanager", "GetResourcePolicy", region=region, SecretId=secret["ARN"])
        secret = dict(secret)
        secret["ResourcePolicy"] = (pol or {}).get("ResourcePolicy")
        out.append(secret)
    return out


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
            },
        )


def _iso(value: Any) -> str | None:
    parsed = parse_datetime(value) if value else None
    return parsed.isoformat().replace("+00:00", "Z") if parsed else None
