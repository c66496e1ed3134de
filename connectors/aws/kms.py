"""KMS keys with their key policy and aliases. AWS-managed keys (``aws/s3`` …) are kept:
their policies decide who can decrypt what those services store."""

from __future__ import annotations

from typing import Any, Iterator

from agentreach.model import Record, System, node_id, parse_datetime

from .calls import AwsCalls
from .ids import SOURCE, tags_dict
from .policies import parse_policy


def get(calls: AwsCalls, region: str) -> list[dict[str, Any]]:
    aliases: dict[str, list[str]] = {}
    for alias in calls.paginate("kms", "ListAliases", "Aliases", region=region, need=("AliasName",)):
        if alias.get("TargetKeyId"):
            aliases.setdefault(alias["TargetKeyId"], []).append(alias["AliasName"])
    out = []
    for key in calls.paginate("kms", "ListKeys", "Keys", region=region, need=("KeyId", "KeyArn")):
        desc = calls.call("kms", "DescribeKey", region=region, need=("KeyMetadata.KeyId", "KeyMetadata.Arn"),
                          KeyId=key["KeyId"])
        meta = dict((desc or {}).get("KeyMetadata") or {"KeyId": key["KeyId"], "Arn": key["KeyArn"]})
        pol = calls.call("kms", "GetKeyPolicy", region=region, KeyId=key["KeyId"], PolicyName="default")
        meta["Policy"] = (pol or {}).get("Policy")
        meta["Aliases"] = aliases.get(key["KeyId"], [])
        if meta.get("KeyManager") != "AWS":
            tags = calls.call("kms", "ListResourceTags", region=region, KeyId=key["KeyId"])
            meta["Tags"] = (tags or {}).get("Tags", [])
        out.append(meta)
    return out


def transform(keys: list[dict[str, Any]], account: str, region: str) -> Iterator[Record]:
    for k in keys:
        arn = k["Arn"]
        aliases = k.get("Aliases", [])
        yield System(
            id=node_id("aws", "kms_key", arn), provider="aws", source=SOURCE, type="aws_kms_key",
            name=aliases[0] if aliases else k["KeyId"], native_id=arn, account=account, region=region,
            created=parse_datetime(k.get("CreationDate")), tags=tags_dict(k.get("Tags")),
            resource_policy=parse_policy(k.get("Policy"), f"KMS key {arn}"),
            attrs={"key_id": k["KeyId"], "aliases": aliases, "key_manager": k.get("KeyManager"),
                   "key_state": k.get("KeyState"), "key_usage": k.get("KeyUsage"),
                   "key_spec": k.get("KeySpec") or k.get("CustomerMasterKeySpec")},
        )
