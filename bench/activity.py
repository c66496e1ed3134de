"""Benchmark: CloudTrail activity at scale, through the connector's own parser and aggregator.

Generates ``--events`` (default 5,000,000) CloudTrail records in the delivered format: gzip
JSON ``{"Records": [...]}`` files of ``--per-file`` records under the standard key layout
``AWSLogs/ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHmmZ_UNIQUE.json.gz``
on local disk (kept in ``--dir`` and reused by a later run with the same parameters). Each
record is shaped like AWS's published examples (tests/data/cloudtrail/aws_examples.json): IAM
users with access keys and assumed roles, S3 data events with object and bucket resources,
management events, a share of AccessDenied, SDK user agents with ``md/`` tokens, some agent
frameworks'.

Then it parses them in a process pool (``--workers``, default 2): each worker takes one file
at a time, reads it, runs ``agentreach_connectors.aws.cloudtrail.records_of`` and ``fold``
(what the AWS connector runs on each object it fetches) and folds the events
into an ``agentreach.activity.Aggregator`` bounded by ``--max-keys``, draining it whenever it
fills; the parent merges the drained parts. Each worker is handed its whole share of the files
as one task (``--batch 0``), so that it keeps one aggregator for all of them. Printed: events,
files, aggregates, wall time of the parse, events per second, the workers' CPU time (events per
CPU-second: what the machine's other load does not change much) and the peak RSS of the parent
and of the largest worker.

    .venv/bin/python bench/activity.py [--events 5000000] [--workers 2] [--dir /tmp/agentreach-ct-bench]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import os
import random
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

ACCOUNT = "111122223333"
REGIONS = ("us-east-1", "eu-west-1", "us-west-2")
SDK_UAS = (
    "Boto3/1.38.0 md/Botocore#1.38.0 ua/2.1 os/linux#6.8.0 md/arch#x86_64 lang/python#3.12.3 md/pyimpl#CPython "
    "cfg/retry-mode#standard Botocore/1.38.0",
    "aws-sdk-java/2.20.160 Linux/5.10.216-225.855.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/11.0.23+9-LTS "
    "Java/11.0.23 vendor/Amazon.com_Inc. md/internal exec-env/AWS_Lambda_java11 io/sync http/Apache",
    "aws-cli/2.13.5 Python/3.11.4 Linux/4.14.255-314-253.539.amzn2.x86_64 exec-env/CloudShell exe/x86_64.amzn.2",
    "Boto3/1.38.0 md/Botocore#1.38.0 ua/2.1 lang/python#3.12 x-client-framework:langchain-aws",
    "Boto3/1.38.0 md/Botocore#1.38.0 ua/2.1 os/linux#6.8 cfg/retry-mode#standard Botocore/1.38.0 strands-agents",
)
DATA_ACTIONS = ("GetObject", "PutObject", "HeadObject", "DeleteObject")
MGMT = (("ec2.amazonaws.com", "DescribeInstances"), ("iam.amazonaws.com", "ListRoles"),
        ("sts.amazonaws.com", "GetCallerIdentity"), ("kms.amazonaws.com", "Decrypt"),
        ("secretsmanager.amazonaws.com", "GetSecretValue"), ("bedrock.amazonaws.com", "InvokeModel"))


def _principal(i: int) -> dict[str, Any]:
    if i % 3:
        return {"type": "IAMUser", "principalId": f"AIDA{i:016d}", "arn": f"arn:aws:iam::{ACCOUNT}:user/svc-{i}",
                "accountId": ACCOUNT, "accessKeyId": f"AKIA{i:016d}", "userName": f"svc-{i}"}
    return {"type": "AssumedRole", "principalId": f"AROA{i:016d}:session",
            "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/agent-{i}/session", "accountId": ACCOUNT,
            "accessKeyId": f"ASIA{i:016d}",
            "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": f"AROA{i:016d}",
                                                 "arn": f"arn:aws:iam::{ACCOUNT}:role/agent-{i}",
                                                 "accountId": ACCOUNT, "userName": f"agent-{i}"},
                               "attributes": {"creationDate": "2026-11-01T00:00:00Z", "mfaAuthenticated": "false"}}}


def _record(rng: random.Random, when: str, region: str, principals: int) -> dict[str, Any]:
    i = rng.randrange(principals)
    ui = _principal(i)
    rec: dict[str, Any] = {
        "eventVersion": "1.09", "userIdentity": ui, "eventTime": when, "awsRegion": region,
        "sourceIPAddress": f"198.51.100.{i % 250}", "userAgent": SDK_UAS[i % len(SDK_UAS)],
        "requestID": f"{rng.getrandbits(64):016X}", "eventID": f"{rng.getrandbits(128):032x}",
        "eventType": "AwsApiCall", "recipientAccountId": ACCOUNT,
        "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                       "clientProvidedHostHeader": f"s3.{region}.amazonaws.com"},
    }
    if rng.random() < 0.7:
        bucket = f"data-{(i * 7 + rng.randrange(4)) % 400}"
        key = f"prefix/{rng.randrange(10000)}.json"
        rec.update(eventSource="s3.amazonaws.com", eventName=DATA_ACTIONS[rng.randrange(len(DATA_ACTIONS))],
                   readOnly=True, managementEvent=False, eventCategory="Data",
                   requestParameters={"bucketName": bucket, "Host": f"{bucket}.s3.{region}.amazonaws.com",
                                      "key": key},
                   responseElements=None,
                   additionalEventData={"SignatureVersion": "SigV4", "bytesTransferredIn": 0,
                                        "AuthenticationMethod": "AuthHeader", "bytesTransferredOut": 2048},
                   resources=[{"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"},
                              {"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}])
    else:
        source, name = MGMT[(i + rng.randrange(3)) % len(MGMT)]
        rec.update(eventSource=source, eventName=name, readOnly=True, managementEvent=True,
                   eventCategory="Management", requestParameters=None, responseElements=None)
    if rng.random() < 0.03:
        rec.update(errorCode="AccessDenied", errorMessage="User is not authorized to perform this operation")
    return rec


def _write_file(args: tuple[str, int, int, int, int]) -> int:
    root, index, count, principals, seed = args
    rng = random.Random(seed * 1_000_003 + index)
    start = dt.datetime(2026, 9, 1, tzinfo=dt.timezone.utc) + dt.timedelta(minutes=5 * index)
    region = REGIONS[index % len(REGIONS)]
    stamp = start.strftime("%Y%m%dT%H%MZ")
    folder = Path(root) / "AWSLogs" / ACCOUNT / "CloudTrail" / region / start.strftime("%Y/%m/%d")
    folder.mkdir(parents=True, exist_ok=True)
    records = [_record(rng, (start + dt.timedelta(seconds=s % 300)).strftime("%Y-%m-%dT%H:%M:%SZ"), region,
                       principals) for s in range(count)]
    body = json.dumps({"Records": records}, separators=(",", ":")).encode()
    name = f"{ACCOUNT}_CloudTrail_{region}_{stamp}_{index:016X}.json.gz"
    (folder / name).write_bytes(gzip.compress(body, compresslevel=6))
    return count


def generate(root: Path, events: int, per_file: int, principals: int, seed: int, workers: int) -> list[Path]:
    marker = root / "MANIFEST.json"
    want = {"events": events, "per_file": per_file, "principals": principals, "seed": seed, "version": 1}
    if marker.exists() and json.loads(marker.read_text()) == want:
        return sorted(root.rglob("*.json.gz"))
    if root.exists():
        for old in root.rglob("*.json.gz"):
            old.unlink()
    root.mkdir(parents=True, exist_ok=True)
    files = (events + per_file - 1) // per_file
    jobs = [(str(root), i, min(per_file, events - i * per_file), principals, seed) for i in range(files)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        written = sum(pool.map(_write_file, jobs, chunksize=8))
    assert written == events
    marker.write_text(json.dumps(want))
    return sorted(root.rglob("*.json.gz"))


def _parse_files(args: tuple[list[str], int]) -> tuple[int, list[Any], int]:
    """One worker's share: the connector's parser over each file, one file in memory at a time."""
    from agentreach_connectors.aws import cloudtrail

    from agentreach.activity import Aggregator

    paths, max_keys = args
    agg = Aggregator(max_keys)
    parts: list[Any] = []
    for path in paths:
        data = Path(path).read_bytes()
        cloudtrail.fold(cloudtrail.records_of(data), agg)  # what the connector runs on each object
        if agg.full:
            parts.extend(agg.drain())
    events = agg.events
    parts.extend(agg.drain())
    return events, parts, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def parse(files: list[Path], workers: int, max_keys: int, batch: int) -> tuple[int, list[Any], int]:
    from agentreach.activity import merge_all

    batch = batch or -(-len(files) // workers)  # a new task starts a new aggregator: as few as balance allows
    chunks = [([str(p) for p in files[i:i + batch]], max_keys) for i in range(0, len(files), batch)]
    total, parts, child_peak = 0, [], 0
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for events, drained, peak in pool.map(_parse_files, chunks):
            total += events
            parts.extend(drained)
            if len(parts) > max_keys:
                parts = merge_all(parts)  # the parent stays bounded too
            child_peak = max(child_peak, peak)
    return total, merge_all(parts), child_peak


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--events", type=int, default=5_000_000)
    ap.add_argument("--per-file", type=int, default=5000, help="records per log file")
    ap.add_argument("--principals", type=int, default=3000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--max-keys", type=int, default=200_000, help="aggregates a worker holds before draining")
    ap.add_argument("--batch", type=int, default=0,
                    help="files per task handed to a worker (0: each worker's whole share, one aggregator each)")
    ap.add_argument("--seed", type=int, default=18)
    ap.add_argument("--dir", default="/tmp/agentreach-ct-bench")
    args = ap.parse_args()

    t0 = time.perf_counter()
    files = generate(Path(args.dir), args.events, args.per_file, args.principals, args.seed, args.workers)
    gen_s = time.perf_counter() - t0
    size = sum(p.stat().st_size for p in files)
    print(f"log files: {len(files)} gzip files, {size / 1e6:.0f} MB on disk, {args.events:,} records "
          f"(ready in {gen_s:.1f} s)")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t1 = time.perf_counter()
    events, aggregates, child_peak = parse(files, args.workers, args.max_keys, args.batch)
    wall = time.perf_counter() - t1
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    parent_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    calls = sum(a.count for a in aggregates)
    print(f"parsed: {events:,} events into {len(aggregates):,} aggregates ({calls:,} calls) "
          f"with {args.workers} worker processes")
    print(f"wall time: {wall:.1f} s")
    print(f"events/s: {events / wall:,.0f}")
    print(f"worker CPU: {cpu:.1f} s ({events / cpu:,.0f} events per CPU-second; load average during the run "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    print(f"peak RSS: parent {parent_peak / 1024:.0f} MB, largest worker {child_peak / 1024:.0f} MB")
    ok = events == args.events and calls == args.events and events / wall >= 50_000 and \
        max(parent_peak, child_peak) / 1024 <= 1024
    print("target (>= 50,000 events/s, <= 1 GB per process):", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.path.insert(0, os.fspath(Path(__file__).resolve().parents[1]))
    sys.exit(main())
