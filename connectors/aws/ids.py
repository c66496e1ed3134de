"""Ids and small shared conversions of the AWS connector."""

from __future__ import annotations

from typing import Any

from agentreach.model import node_id

SOURCE = "aws"


def identity_id(arn: str, type_: str) -> str:
    """``aws:<type>:<arn>``: the ARN is unique and public; the type keeps ids readable."""
    return node_id("aws", type_, arn)


def role_id(arn: str) -> str:
    return identity_id(arn, "iam_role")


def tags_dict(tags: Any) -> dict[str, str]:
    """AWS spells tags three ways: [{Key, Value}], [{key, value}] and a plain mapping."""
    if not tags:
        return {}
    if isinstance(tags, dict):
        return {str(k): str(v) for k, v in tags.items()}
    out: dict[str, str] = {}
    for tag in tags:
        key = tag.get("Key", tag.get("key", tag.get("TagKey")))
        if key is not None:
            out[str(key)] = str(tag.get("Value", tag.get("value", tag.get("TagValue", ""))))
    return out
