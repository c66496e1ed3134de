"""Benchmark: approved-profile findings at estate scale.

Builds a synthetic AWS estate through the same view and graph the findings read (agent
roles, each granted a few dozen actions on each of its buckets and a whole-service grant,
half of them beyond an approved profile with wildcard allow-lists), then times the four
profile rules (drift with its right-sized policy, no profile, review overdue, past
retirement) and prints agents/s, wall time and peak RSS.

    .venv/bin/python bench/profiles.py [--agents 2000] [--systems 20] [--actions 30]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import resource
import time

from agentreach.findings import FindingContext, evaluate
from agentreach.graph.core import Graph
from agentreach.model import Credential, Edge, EdgeKind, Identity, System, node_id
from agentreach.view import SnapshotView

ACCT = "111122223333"
NOW = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
VERBS = ["Get", "Put", "Delete", "List", "Describe", "Update", "Create", "Tag", "Untag", "Restore"]
RULES = ("AR-PROFILE-DRIFT", "AR-AGENT-NO-PROFILE", "AR-PROFILE-REVIEW-OVERDUE", "AR-CREDENTIAL-PAST-RETIREMENT")


def build(agents: int, systems: int, actions: int, rng: random.Random) -> FindingContext:
    nodes: list = []
    edges: list[Edge] = []
    buckets = [System(id=node_id("aws", "aws_s3_bucket", f"b{i}"), provider="aws", source="aws", type="aws_s3_bucket",
                      name=f"bucket-{i}", native_id=f"arn:aws:s3:::bucket-{i}", account=ACCT)
               for i in range(agents * systems // 4 + 1)]
    service = System(id=f"aws:account_service:{ACCT}:bedrock", provider="aws", source="aws",
                     type="aws_account_service", name=f"all of bedrock in {ACCT}", account=ACCT)
    nodes += [*buckets, service]
    names = [f"s3:{v}{o}" for v in VERBS for o in ("Object", "ObjectTagging", "Bucket", "BucketPolicy", "ObjectAcl")]
    agent, profiles = {}, {}
    for a in range(agents):
        arn = f"arn:aws:iam::{ACCT}:role/agent-{a}"
        role = Identity(id=node_id("aws", "iam_role", arn), provider="aws", source="aws", type="aws_iam_role",
                        name=f"agent-{a}", native_id=arn, account=ACCT, created=NOW - dt.timedelta(days=300))
        key = Credential(id=node_id("aws", "access_key", f"AKIA{a:016d}"), provider="aws", source="aws",
                         type="aws_access_key", name=f"AKIA{a:016d}", native_id=f"AKIA{a:016d}", account=ACCT,
                         created=NOW - dt.timedelta(days=rng.randrange(10, 400)))
        nodes += [role, key]
        edges.append(Edge(src=key.id, dst=role.id, kind=EdgeKind.AUTHENTICATES, source="bench"))
        mine = rng.sample(buckets, min(systems, len(buckets)))
        for b in mine:
            granted = sorted(rng.sample(names, min(actions, len(names))))
            edges.append(Edge(src=role.id, dst=b.id, kind=EdgeKind.CAN_ACCESS, source="bench",
                              attrs={"level": "write", "actions": granted, "conditional": False, "grants": ["p #0"],
                                     "actions_by_service": {"s3": [x.split(":")[1] for x in granted]}}))
        edges.append(Edge(src=role.id, dst=service.id, kind=EdgeKind.CAN_ACCESS, source="bench",
                          attrs={"level": "read", "actions": ["bedrock:InvokeModel"], "conditional": False,
                                 "grants": ["p #1"]}))
        agent[role.id] = {"verdict": "agent", "score": 0.9, "evidence": []}
        if a % 4:  # three in four have a profile; half of those drift (their allow-list misses Put/Delete)
            wide = a % 2 == 0
            review = "2026-01-01" if a % 8 == 1 else "2027-01-01"
            profiles[role.id] = {
                "owner": "team@example.com", "purpose": "bench", "review_by": review,
                "systems": [b.native_id for b in mine[: systems // 2]] + ["aws:account_service:*:bedrock"]
                if not wide else ["arn:aws:s3:::bucket-*", "aws:account_service:*:bedrock"],
                "actions": ["s3:*", "bedrock:InvokeModel"] if wide else ["s3:Get*", "s3:List*", "bedrock:Invoke*"],
                "credential_lifetime": "180d"}
    view = SnapshotView.build(nodes, [e.to_dict() for e in edges])
    graph = Graph()
    for n in nodes:
        graph.add_node(n.id, n.kind.value, n.name, type=n.type, account=n.account)
    for e in edges:
        graph.add_edge(e.src, e.dst, e.kind.value, e.attrs)
    return FindingContext(view=view, graph=graph, now=NOW, agent=agent, owner={}, stale={}, sensitivity={},
                          scanned_accounts=frozenset({ACCT}), capabilities=frozenset({"aws"}), profiles=profiles)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--agents", type=int, default=2000)
    ap.add_argument("--systems", type=int, default=20, help="buckets each agent is granted")
    ap.add_argument("--actions", type=int, default=30, help="actions granted on each bucket")
    args = ap.parse_args()
    rng = random.Random(18)
    t0 = time.perf_counter()
    ctx = build(args.agents, args.systems, args.actions, rng)
    built = time.perf_counter() - t0
    cfg = {"findings": {"disabled": sorted({r.rule.id for r in evaluate(FindingContext(
        view=SnapshotView.build([], []), graph=Graph(), now=NOW, agent={}, owner={}, stale={}, sensitivity={}))}
        - set(RULES))}}
    t1 = time.perf_counter()
    results = {r.rule.id: r for r in evaluate(ctx, cfg)}
    took = time.perf_counter() - t1
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    grants = args.agents * (args.systems + 1)
    print(f"estate: {args.agents} agent roles, {grants} can_access grants ({args.actions} actions on each bucket), "
          f"{len(ctx.profiles)} profiles; built in {built:.2f} s")
    for rid in RULES:
        print(f"  {rid}: {len(results[rid].findings)} finding(s)")
    print(f"profile rules: {took:.2f} s wall, {args.agents / took:,.0f} agents/s, "
          f"{grants * args.actions / took:,.0f} granted actions/s; peak RSS {rss:.0f} MiB")


if __name__ == "__main__":
    main()
