"""CloudTrail for the demo: a trail in the main account and its log files in the format AWS
delivers them, so the AWS connector's activity collection reads the demo as it reads an
account (``scan --activity``).

Two stories, both printed by the demo:

- research-agent-runtime (approved for Bedrock models and the public bucket) was seen reading
  the customer-PII bucket: use beyond its approved profile (AR-PROFILE-RUNTIME-DRIFT).
- ops-autopilot-agent holds AdministratorAccess and was seen only reading metrics and logs
  and describing instances, as its profile approves: grants it never used
  (AR-AGENT-UNUSED-GRANTS), with the policy of what it did.

Each record has the shape of AWS's published examples of an assumed role's call (the
aws-cdk CloudTrail SAMPLE-EVENTS PutObject record; tests/data/cloudtrail/SOURCES.md names
them): only the principal, the call, the resource and the time are the demo's. The key layout
and file name follow the CloudTrail User Guide ("CloudTrail log file name format").
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import uuid
from typing import Any

TRAIL = "acme-audit"
BUCKET = "acme-cloudtrail-logs"
UA = ("Boto3/1.35.0 md/Botocore#1.35.0 ua/2.0 os/linux#5.10.226 md/arch#x86_64 lang/python#3.12.7 "
      "md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.35.0")

# (role, service host, event name, resource ARN or "", days ago, how many calls that day)
CALLS: tuple[tuple[str, str, str, str, int, int], ...] = (
    ("research-agent-runtime", "bedrock.amazonaws.com", "InvokeModel", "", 20, 40),
    ("research-agent-runtime", "bedrock.amazonaws.com", "InvokeModel", "", 2, 25),
    ("research-agent-runtime", "s3.amazonaws.com", "GetObject", "arn:aws:s3:::acme-public-assets", 18, 6),
    ("research-agent-runtime", "s3.amazonaws.com", "GetObject", "arn:aws:s3:::acme-customer-pii", 3, 4),
    ("ops-autopilot-agent", "monitoring.amazonaws.com", "GetMetricData", "", 40, 30),
    ("ops-autopilot-agent", "monitoring.amazonaws.com", "GetMetricData", "", 3, 30),
    ("ops-autopilot-agent", "logs.amazonaws.com", "FilterLogEvents", "", 25, 12),
    ("ops-autopilot-agent", "ec2.amazonaws.com", "DescribeInstances", "", 10, 5),
)


def _record(account: str, region: str, role: str, host: str, event: str, resource: str,
            when: dt.datetime) -> dict[str, Any]:
    role_arn = f"arn:aws:iam::{account}:role/{role}"
    resources = []
    params: dict[str, Any] | None = None
    if resource:
        bucket = resource.split(":::", 1)[1]
        resources = [{"ARN": f"{resource}/reports/latest.json", "type": "AWS::S3::Object"},
                     {"accountId": account, "ARN": resource, "type": "AWS::S3::Bucket"}]
        params = {"bucketName": bucket, "Host": f"{bucket}.s3.{region}.amazonaws.com", "key": "reports/latest.json"}
    return {
        "eventVersion": "1.08", "eventSource": host, "eventName": event, "awsRegion": region,
        "eventTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"), "eventType": "AwsApiCall", "readOnly": True,
        "eventID": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{role}/{event}/{when.isoformat()}")),
        "requestID": uuid.uuid5(uuid.NAMESPACE_DNS, f"{role}{when.isoformat()}").hex[:16].upper(),
        "sourceIPAddress": "10.0.12.7", "userAgent": UA, "recipientAccountId": account,
        "userIdentity": {
            "type": "AssumedRole", "principalId": f"AROA{role.upper().replace('-', '')[:16]}:agent-session",
            "arn": f"arn:aws:sts::{account}:assumed-role/{role}/agent-session", "accountId": account,
            "accessKeyId": "ASIA" + uuid.uuid5(uuid.NAMESPACE_OID, role).hex[:16].upper(),
            "sessionContext": {"attributes": {"mfaAuthenticated": "false",
                                              "creationDate": when.strftime("%Y-%m-%dT%H:00:00Z")},
                               "sessionIssuer": {"type": "Role", "principalId": "AROA" + role.upper()[:12],
                                                 "arn": role_arn, "accountId": account, "userName": role}}},
        "requestParameters": params, "responseElements": None, "resources": resources,
    }


def log_files(account: str, region: str, now: dt.datetime) -> dict[str, bytes]:
    """Key -> gzip body: one delivery file per day that has calls, as CloudTrail writes them."""
    days: dict[dt.date, list[dict[str, Any]]] = {}
    for role, host, event, resource, ago, n in CALLS:
        day = (now - dt.timedelta(days=ago)).replace(hour=9, minute=0, second=0, microsecond=0)
        days.setdefault(day.date(), []).extend(
            _record(account, region, role, host, event, resource, day + dt.timedelta(minutes=7 * i)) for i in range(n))
    out = {}
    for day, records in sorted(days.items()):
        stamp = day.strftime("%Y%m%d") + "T0915Z"
        unique = uuid.uuid5(uuid.NAMESPACE_URL, f"{account}/{day}").hex[:16]
        key = (f"AWSLogs/{account}/CloudTrail/{region}/{day:%Y/%m/%d}/"
               f"{account}_CloudTrail_{region}_{stamp}_{unique}.json.gz")
        out[key] = gzip.compress(json.dumps({"Records": records}).encode())
    return out


def seed_trail(endpoint_url: str, account: str, region: str, now: dt.datetime) -> None:
    """The trail (multi-region, into the estate's log bucket) and its log files."""
    import boto3

    kw = {"endpoint_url": endpoint_url, "region_name": region}
    boto3.client("cloudtrail", **kw).create_trail(Name=TRAIL, S3BucketName=BUCKET, IsMultiRegionTrail=True)
    s3 = boto3.client("s3", **kw)
    for key, body in log_files(account, region, now).items():
        s3.put_object(Bucket=BUCKET, Key=key, Body=body)
