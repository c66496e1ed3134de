"""Benchmark: the AWS connector's IAM inventory against a naive per-identity enumeration.

Seeds a moto server (in this process, over HTTP) with 1,000 users, 2,000 access keys (half
of them used, with back-dated last-use) and 500 roles, then runs, each in its own child
process so that peak RSS is the scanner's own:

- agentreach: the AWS connector (services: iam) through the ordinary scan runner into a
  SQLite store;
- naive: list_users, list_access_keys per user, get_access_key_last_used per key, and
  list_roles + get_role per role (for role last-use, which list_roles lacks).

Both go through the front door, which counts every request on the wire by operation.
Prints wall time, API calls by operation and peak RSS for each, and the ratios.

    .venv/bin/python bench/aws_scan.py [--users 1000] [--keys-per-user 2] [--roles 500]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from awsbench import fake_aws_environment, moto_behind_front_door  # bench/ is on sys.path when a script there runs

CHILD_AGENTREACH = r"""
import json, resource, sys, time
from agentreach.config import load_config
from agentreach.connector import ScanContext
from agentreach.scan import prepare, run_scan
from agentreach.store import Store
endpoint, db = sys.argv[1], sys.argv[2]
config = load_config(overrides={"scan": {"connectors": ["aws"]}, "connectors": {"aws": {
    "endpoint_url": endpoint, "regions": ["us-east-1"], "services": ["iam"]}}})
t = time.perf_counter()
result = run_scan(Store(db), config, prepare(config), ScanContext())
wall = time.perf_counter() - t
print(json.dumps({"wall": wall, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "nodes": result.snapshot.node_count, "gaps": len(result.gaps)}))
"""

CHILD_NAIVE = r"""
import json, resource, sys, time
import boto3
from botocore.config import Config
endpoint = sys.argv[1]
iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                   config=Config(retries={"mode": "standard", "max_attempts": 5}))
t = time.perf_counter()
keys = roles = 0
records = []
for page in iam.get_paginator("list_users").paginate():
    for user in page["Users"]:
        for key in iam.list_access_keys(UserName=user["UserName"])["AccessKeyMetadata"]:
            last = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])["AccessKeyLastUsed"]
            records.append((user["UserName"], key["AccessKeyId"], last.get("LastUsedDate")))
            keys += 1
for page in iam.get_paginator("list_roles").paginate():
    for role in page["Roles"]:
        records.append((role["RoleName"], iam.get_role(RoleName=role["RoleName"])["Role"].get("RoleLastUsed")))
        roles += 1
wall = time.perf_counter() - t
print(json.dumps({"wall": wall, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "keys": keys, "roles": roles}))
"""


def seed(moto_url: str, users: int, keys_per_user: int, roles: int) -> None:
    import boto3

    iam = boto3.client("iam", endpoint_url=moto_url, region_name="us-east-1")
    trust = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bench/*"}]})

    def make_user(i: int) -> None:
        name = f"user-{i:05d}"
        iam.create_user(UserName=name, Tags=[{"Key": "Owner", "Value": f"team-{i % 20}"}])
        for _ in range(keys_per_user):
            iam.create_access_key(UserName=name)

    def make_role(i: int) -> None:
        name = f"role-{i:05d}"
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)
        iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=policy)

    # One at a time: moto's IAM backend is not safe for concurrent writes.
    for i in range(users):
        make_user(i)
    for i in range(roles):
        make_role(i)
    backdate()


def backdate() -> None:
    """Half the keys used 1-400 days ago: no API sets last use, so moto's backend is written
    (the server runs in this process)."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.iam.models import AccessKeyLastUsed, iam_backends

    backend = iam_backends[DEFAULT_ACCOUNT_ID]["global"]
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    for i, key in enumerate(sorted(backend.access_keys.values(), key=lambda k: k.access_key_id)):
        if i % 2 == 0:
            key.last_used = AccessKeyLastUsed(now - dt.timedelta(days=1 + i % 400), "bedrock", "us-east-1")


def run_child(code: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code, *args], check=True, capture_output=True, text=True,
                         env={**os.environ, "PYTHONWARNINGS": "ignore"})
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--keys-per-user", type=int, default=2)
    parser.add_argument("--roles", type=int, default=500)
    args = parser.parse_args()

    fake_aws_environment()
    with moto_behind_front_door() as (moto_url, door, url):
        results = measure(moto_url, door, url, args)
    report(results)


def measure(moto_url: str, door: Any, url: str, args: argparse.Namespace) -> dict:
    t = time.perf_counter()
    seed(moto_url, args.users, args.keys_per_user, args.roles)
    print(f"seeded {args.users} users, {args.users * args.keys_per_user} keys, {args.roles} roles "
          f"in {time.perf_counter() - t:.1f} s (moto {__import__('moto').__version__}, 2 cores)\n")

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, code, extra in (("agentreach", CHILD_AGENTREACH, [str(Path(tmp) / "bench.db")]),
                                  ("naive", CHILD_NAIVE, [])):
            door.reset_counts()
            figures = run_child(code, url, *extra)
            figures["calls"] = {f"{s}:{o}": n for (s, o), n in sorted(door.calls.items())}
            results[name] = figures
    return results


def report(results: dict) -> None:
    ours, naive = results["agentreach"], results["naive"]
    total = {k: sum(v["calls"].values()) for k, v in results.items()}
    print(f"{'':28}{'agentreach':>14}{'naive':>14}{'naive/ours':>12}")
    print(f"{'wall time (s)':28}{ours['wall']:>14.2f}{naive['wall']:>14.2f}{naive['wall'] / ours['wall']:>12.1f}")
    print(f"{'API calls':28}{total['agentreach']:>14}{total['naive']:>14}"
          f"{total['naive'] / total['agentreach']:>12.1f}")
    print(f"{'peak RSS (MB)':28}{ours['rss_mb']:>14.0f}{naive['rss_mb']:>14.0f}"
          f"{naive['rss_mb'] / ours['rss_mb']:>12.2f}")
    print(f"\nagentreach stored {ours['nodes']} objects with {ours['gaps']} coverage gaps; "
          f"naive read {naive['keys']} keys and {naive['roles']} roles (no policies, groups or tags)\n")
    print("API calls by operation:")
    for name in ("agentreach", "naive"):
        for op, n in results[name]["calls"].items():
            print(f"  {name:12}{op:44}{n:>7}")


if __name__ == "__main__":
    main()
