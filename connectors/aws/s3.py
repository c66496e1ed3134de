"""S3 buckets with their bucket policy and tags. Listed once per account (S3 is global),
each bucket's region recorded from its location."""

from __future__ import annotations

from typing import Any, Iterator

from agentreach.model import Record, System, node_id, parse_datetime

from .calls import AwsCalls
from .ids import SOURCE, tags_dict
from .policies import parse_policy


def get(calls: AwsCalls) -> list[dict[str, Any]]:
    resp = calls.call("s3", "ListBuckets")
    out = []
    for bucket in calls.keep((resp or {}).get("Buckets") or [], ("Name",), "s3", "ListBuckets"):
        name = bucket["Name"]
        item = dict(bucket)
        loc = calls.call("s3", "GetBucketLocation", Bucket=name)
        item["Region"] = bucket.get("BucketRegion") or ((loc or {}).get("LocationConstraint") or "us-east-1")
        pol = calls.call("s3", "GetBucketPolicy", Bucket=name)
        item["Policy"] = (pol or {}).get("Policy")
        tags = calls.call("s3", "GetBucketTagging", Bucket=name)
        item["Tags"] = (tags or {}).get("TagSet", [])
        out.append(item)
    return out


def transform(buckets: list[dict[str, Any]], account: str) -> Iterator[Record]:
    for b in buckets:
        arn = f"arn:aws:s3:::{b['Name']}"
        yield System(
            id=node_id("aws", "s3_bucket", arn), provider="aws", source=SOURCE, type="aws_s3_bucket",
            name=b["Name"], native_id=arn, account=account, region=b.get("Region"),
            created=parse_datetime(b.get("CreationDate")), tags=tags_dict(b.get("Tags")),
            resource_policy=parse_policy(b.get("Policy"), f"bucket {b['Name']}"),
        )
