"""Benchmark: an AWS Organization of 10, 30 and 100 member accounts, scanned through the
read-only role in each account with the connector's bounded account pool.

For each size, a moto server (in this process, over HTTP, behind the front door that counts
every request on the wire) is reset and seeded with an Organization whose every member
account holds the ``agentreach-readonly`` role (trusting the management account) and about
80 identities: users (half of them with an access key) and roles with an inline policy.
Then ``agentreach scan --organization`` runs in a child process (so that peak RSS is the
scanner's own) into a fresh SQLite store: collection, reach, classification, owners,
lifecycle and findings, as a user runs it. Prints wall time, API calls (total, per account,
by operation) and peak RSS per size, so the growth with accounts is visible.

    .venv/bin/python bench/org_scan.py [--sizes 10,30,100] [--identities 80] [--workers 4]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from awsbench import fake_aws_environment, moto_behind_front_door  # bench/ is on sys.path when a script there runs

REGION = "us-east-1"
READONLY = "agentreach-readonly"
SEED_ROLE = "OrganizationAccountAccessRole"  # moto lets the management account assume it anywhere

CHILD = r"""
import json, resource, sys, time
from agentreach.config import load_config
from agentreach.connector import ScanContext
from agentreach.scan import prepare, run_scan
from agentreach.store import Store
endpoint, db, workers = sys.argv[1], sys.argv[2], int(sys.argv[3])
config = load_config(overrides={"scan": {"connectors": ["aws"]}, "connectors": {"aws": {
    "endpoint_url": endpoint, "regions": ["us-east-1"], "organization": True, "role_name": "agentreach-readonly",
    "max_workers": workers}}})
t = time.perf_counter()
result = run_scan(Store(db), config, prepare(config), ScanContext())
wall = time.perf_counter() - t
print(json.dumps({"wall": wall, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "nodes": result.snapshot.node_count, "edges": result.snapshot.edge_count,
                  "gaps": len(result.gaps), "status": result.snapshot.status}))
"""

TRUST_SERVICE = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
INLINE = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": "*"}]})
READONLY_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["iam:Get*", "iam:List*", "iam:GenerateCredentialReport", "s3:List*",
                                   "s3:GetBucket*", "sts:GetCallerIdentity"], "Resource": "*"}]})


def seed(moto_url: str, accounts: int, identities: int) -> list[str]:
    """An Organization of ``accounts`` members, each with the read-only role and
    ``identities`` users and roles. One call at a time: moto's IAM is not safe for
    concurrent writes."""
    import boto3

    mgmt = boto3.session.Session(region_name=REGION)
    org = mgmt.client("organizations", endpoint_url=moto_url)
    org.create_organization(FeatureSet="ALL")
    management = mgmt.client("sts", endpoint_url=moto_url).get_caller_identity()["Account"]
    ids = []
    for i in range(accounts):
        status = org.create_account(Email=f"member-{i}@example.com", AccountName=f"member-{i:03d}")
        ids.append(status["CreateAccountStatus"]["AccountId"])
    sts = mgmt.client("sts", endpoint_url=moto_url)
    trust_mgmt = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{management}:root"}, "Action": "sts:AssumeRole"}]})
    for account in ids:
        creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/{SEED_ROLE}",
                                RoleSessionName="bench-seed")["Credentials"]
        iam = boto3.client("iam", endpoint_url=moto_url, region_name=REGION,
                           aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                           aws_session_token=creds["SessionToken"])
        iam.create_role(RoleName=READONLY, AssumeRolePolicyDocument=trust_mgmt)
        iam.put_role_policy(RoleName=READONLY, PolicyName="read", PolicyDocument=READONLY_POLICY)
        for n in range(identities // 2):
            name = f"svc-{n:03d}"
            iam.create_user(UserName=name, Tags=[{"Key": "Owner", "Value": f"team-{n % 7}"}])
            if n % 2 == 0:
                iam.create_access_key(UserName=name)
        for n in range(identities - identities // 2):
            name = f"agent-role-{n:03d}"
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST_SERVICE)
            iam.put_role_policy(RoleName=name, PolicyName="inline", PolicyDocument=INLINE)
    return ids


def reset(moto_url: str) -> None:
    import urllib.request

    urllib.request.urlopen(urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")).read()


def run_child(endpoint: str, db: str, workers: int) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, endpoint, db, str(workers)], check=True, capture_output=True,
                         text=True, env={**os.environ, "PYTHONWARNINGS": "ignore"})
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10,30,100", help="member accounts per run, comma-separated")
    parser.add_argument("--identities", type=int, default=80, help="users and roles per member account")
    parser.add_argument("--workers", type=int, default=4, help="connectors.aws.max_workers (accounts at once)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]

    fake_aws_environment(REGION)
    with moto_behind_front_door() as (moto_url, door, url):
        rows = measure(moto_url, door, url, sizes, args)
    report(rows)


def measure(moto_url: str, door: Any, url: str, sizes: list[int], args: argparse.Namespace) -> list[tuple]:
    print(f"moto {__import__('moto').__version__}, {os.cpu_count()} cores, {args.identities} identities per account, "
          f"{args.workers} accounts at once, region {REGION}\n")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            reset(moto_url)
            t = time.perf_counter()
            seed(moto_url, size, args.identities)
            seeded = time.perf_counter() - t
            door.reset_counts()
            figures = run_child(url, str(Path(tmp) / f"org-{size}.db"), args.workers)
            calls = Counter({f"{s}:{o}": n for (s, o), n in door.calls.items()})
            rows.append((size, seeded, figures, calls))
            print(f"{size} accounts seeded in {seeded:.0f} s; scanned in {figures['wall']:.1f} s", flush=True)
    return rows


def report(rows: list[tuple]) -> None:
    print("\n(accounts: members; the management account is scanned too, as an ACTIVE account of the Organization)")
    print(f"\n{'accounts':>9}{'wall (s)':>10}{'API calls':>11}{'calls/acct':>12}{'peak RSS (MB)':>15}"
          f"{'objects':>9}{'edges':>9}{'gaps':>6}")
    for size, _seeded, f, calls in rows:
        total = sum(calls.values())
        print(f"{size:>9}{f['wall']:>10.1f}{total:>11}{total / size:>12.1f}{f['rss_mb']:>15.0f}"
              f"{f['nodes']:>9}{f['edges']:>9}{f['gaps']:>6}")
    if len(rows) > 1:
        (a, _, fa, ca), (b, _, fb, cb) = rows[0], rows[-1]
        print(f"\nfrom {a} to {b} accounts ({b / a:.0f}x): wall x{fb['wall'] / fa['wall']:.1f}, "
              f"API calls x{sum(cb.values()) / sum(ca.values()):.1f}, peak RSS x{fb['rss_mb'] / fa['rss_mb']:.1f}")
    size, _, _, calls = rows[-1]
    print(f"\nAPI calls by operation at {size} accounts (per account):")
    for op, n in sorted(calls.items(), key=lambda kv: -kv[1]):
        print(f"  {op:52}{n:>7}{n / size:>8.1f}")


if __name__ == "__main__":
    main()
