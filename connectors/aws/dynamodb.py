"""DynamoDB tables as reachable systems."""

from __future__ import annotations

from typing import Any, Iterator

from agentreach.model import Record, System, node_id, parse_datetime

from .calls import AwsCalls
from .ids import SOURCE, tags_dict


def get(calls: AwsCalls, region: str) -> list[dict[str, Any]]:
    out = []
    for name in calls.paginate("dynamodb", "ListTables", "TableNames", region=region):
        resp = calls.call("dynamodb", "DescribeTable", region=region, TableName=name,
                          need=("Table.TableArn", "Table.TableName"))
        if not resp:
            continue
        table = dict(resp["Table"])
        tags = calls.call("dynamodb", "ListTagsOfResource", region=region, ResourceArn=table["TableArn"])
        table["Tags"] = (tags or {}).get("Tags", [])
        out.append(table)
    return out


def transform(tables: list[dict[str, Any]], account: str, region: str) -> Iterator[Record]:
    for t in tables:
        arn = t["TableArn"]
        yield System(
            id=node_id("aws", "dynamodb_table", arn), provider="aws", source=SOURCE,
            type="aws_dynamodb_table", name=t["TableName"], native_id=arn, account=account, region=region,
            created=parse_datetime(t.get("CreationDateTime")), tags=tags_dict(t.get("Tags")),
            attrs={"item_count": t.get("ItemCount"), "sse": (t.get("SSEDescription") or {}).get("Status")},
        )
