"""Benchmark: AWS policy evaluation into reach edges (graph/aws_edges.derive).

Times the derivation for a generated account of 2,000 roles (each with an inline policy of
three statements, a trust policy naming another role, some with a managed policy and a
boundary) against 200 buckets, tables and secrets with resource policies, and prints the
edges produced. Run `agentreach demo` first to also time the demo estate's snapshot.

    .venv/bin/python bench/policy.py [--roles 2000] [--resources 200]
"""

from __future__ import annotations

import argparse
import random
import resource
import time
from pathlib import Path

from agentreach.model import Edge, EdgeKind, Identity, Policy, System, node_id
from agentreach.policy.aws import edges as aws_edges
from agentreach.view import SnapshotView

ACCT = "111122223333"


def estate(roles: int, resources: int, rng: random.Random) -> SnapshotView:
    nodes, edges = [], []
    kinds = [("aws_s3_bucket", "arn:aws:s3:::data-{i}"),
             ("aws_dynamodb_table", f"arn:aws:dynamodb:us-east-1:{ACCT}:table/t{{i}}"),
             ("aws_secretsmanager_secret", f"arn:aws:secretsmanager:us-east-1:{ACCT}:secret:s{{i}}-AbCdEf")]
    for i in range(resources):
        type_, arn = kinds[i % 3]
        arn = arn.format(i=i)
        policy = None
        if i % 4 == 0:
            policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*",
                      "Principal": {"AWS": f"arn:aws:iam::{ACCT}:role/r{rng.randrange(roles)}"}, "Resource": "*"}]}
        nodes.append(System(id=node_id("aws", type_, arn), provider="aws", source="bench", type=type_,
                            name=arn.rsplit(":", 1)[-1], native_id=arn, account=ACCT, resource_policy=policy))
    managed = Policy(id=node_id("aws", "iam_policy", "p"), provider="aws", source="bench", type="aws_iam_policy",
                     name="ReadData", native_id=f"arn:aws:iam::{ACCT}:policy/ReadData",
                     document={"Statement": [{"Effect": "Allow", "Action": ["s3:Get*", "dynamodb:Query"],
                                              "Resource": "*"}]})
    boundary = Policy(id=node_id("aws", "iam_policy", "b"), provider="aws", source="bench", type="aws_iam_policy",
                      name="Boundary", native_id=f"arn:aws:iam::{ACCT}:policy/Boundary",
                      document={"Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]})
    nodes += [managed, boundary]
    for r in range(roles):
        arn = f"arn:aws:iam::{ACCT}:role/r{r}"
        target = f"arn:aws:s3:::data-{rng.randrange(resources)}"
        doc = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"], "Resource": [target, f"{target}/*"]},
            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": f"arn:aws:iam::{ACCT}:role/r{(r + 1) % roles}"},
            {"Effect": "Deny", "Action": "secretsmanager:*", "Resource": "*",
             "Condition": {"Bool": {"aws:MultiFactorAuthPresent": "false"}}}]}
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                 "Principal": {"AWS": f"arn:aws:iam::{ACCT}:role/r{(r - 1) % roles}"}}]}
        ident = Identity(id=node_id("aws", "iam_role", arn), provider="aws", source="bench", type="aws_iam_role",
                         name=f"r{r}", native_id=arn, account=ACCT,
                         attrs={"trust_policy": trust, "inline_policies": [{"name": "inline", "document": doc}]})
        nodes.append(ident)
        if r % 5 == 0:
            edges.append(Edge(src=ident.id, dst=managed.id, kind=EdgeKind.HAS_POLICY, source="bench", key="managed",
                              attrs={"attachment": "managed"}))
        if r % 7 == 0:
            edges.append(Edge(src=ident.id, dst=boundary.id, kind=EdgeKind.HAS_POLICY, source="bench", key="boundary",
                              attrs={"attachment": "boundary"}))
    return SnapshotView.build(nodes, [e.to_dict() for e in edges])


def timed(view: SnapshotView) -> tuple[float, aws_edges.Derived]:
    t = time.perf_counter()
    derived = aws_edges.derive(view)
    return time.perf_counter() - t, derived


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--roles", type=int, default=2000)
    parser.add_argument("--resources", type=int, default=200)
    args = parser.parse_args()
    view = estate(args.roles, args.resources, random.Random(3))
    seconds, derived = timed(view)
    kinds: dict[str, int] = {}
    for e in derived.edges:
        kinds[e.kind.value] = kinds.get(e.kind.value, 0) + 1
    print(f"generated account: {args.roles} roles x {args.resources} resources: {seconds:.2f} s, "
          f"{len(derived.edges)} edges {kinds}, peak RSS "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    demo_db = Path.home() / ".local/share/agentreach/demo.db"
    if demo_db.exists():
        from agentreach.store import Store

        store = Store(demo_db)
        snap = store.latest_snapshot()
        if snap:
            base = [e for e in store.edges(snap.id) if not str(e.get("source", "")).startswith("policy:")]
            view = SnapshotView.build((n.node for n in store.nodes(snap.id)), base)
            seconds, derived = timed(view)
            print(f"demo estate (snapshot {snap.id} of {demo_db}): {seconds:.2f} s, {len(derived.edges)} edges")


if __name__ == "__main__":
    main()
