"""Benchmark: the reach graph at estate scale.

Builds a synthetic estate of 100,000 identities and 1,000,000 edges through the graph
interface (the same add_node/add_edge the snapshot loader uses), then prints build time,
peak RSS, and p50/p99 latency of `reach` (depth <= 5) and `who-can-reach` over 1,000
random queries each.

Shape: 30,000 credentials authenticate as users; 100,000 identities (users and roles) with
a sparse, partly chained role-assumption graph (60,000 edges, cycles included); 40,000
systems of which a few hundred are "hot" (reached by many, Zipf-like); the rest of the
million edges are can_access grants with the attributes a real grant carries.

    .venv/bin/python bench/graph.py [--identities 100000] [--edges 1000000] [--queries 1000]
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import time

from agentreach.graph import Graph, reach, who_can_reach


def build(identities: int, edges: int, rng: random.Random) -> tuple[Graph, list[int], list[int]]:
    g = Graph()
    credentials = identities * 3 // 10
    systems = identities * 4 // 10
    for i in range(identities):
        g.add_node(f"id:{i}", "identity", f"identity-{i}", type="aws_iam_role" if i % 3 else "aws_iam_user")
    for c in range(credentials):
        g.add_node(f"cred:{c}", "credential", f"AKIA{c:016d}", type="aws_access_key")
    for s in range(systems):
        g.add_node(f"sys:{s}", "system", f"system-{s}", type="aws_s3_bucket",
                   sensitivity="high" if s % 50 == 0 else None)
    n_edges = 0
    for c in range(credentials):
        g.add_edge(f"cred:{c}", f"id:{rng.randrange(0, identities, 3)}", "authenticates")
        n_edges += 1
    assume = identities * 6 // 10
    for _ in range(assume):
        a, b = rng.randrange(identities), rng.randrange(identities)
        if a != b:
            g.add_edge(f"id:{a}", f"id:{b}", "can_assume", {"grants": ["trust policy #0"], "level": "write"})
            n_edges += 1
    hot = max(1, systems // 200)
    levels = ("read", "write", "list", "permissions-management")
    while n_edges < edges:
        src = rng.randrange(identities)
        dst = rng.randrange(hot) if rng.random() < 0.2 else rng.randrange(systems)
        attrs = {"level": levels[n_edges % 4], "grants": [f"managed p{n_edges % 97} #0"],
                 "conditional": n_edges % 9 == 0}
        g.add_edge(f"id:{src}", f"sys:{dst}", "can_access", attrs)
        n_edges += 1
    return g, [g.index[f"cred:{c}"] for c in range(credentials)], [g.index[f"sys:{s}"] for s in range(systems)]


def timed(fn, items) -> list[float]:
    out = []
    for item in items:
        t = time.perf_counter()
        fn(item)
        out.append((time.perf_counter() - t) * 1000)
    return out


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100)[int(p) - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--identities", type=int, default=100_000)
    parser.add_argument("--edges", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=1000)
    args = parser.parse_args()
    rng = random.Random(7)
    t = time.perf_counter()
    g, creds, systems = build(args.identities, args.edges, rng)
    built = time.perf_counter() - t
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"graph: {len(g):,} nodes, {g.edge_count():,} edges; build {built:.1f} s; peak RSS {rss:,.0f} MB")
    starts = [rng.choice(creds) for _ in range(args.queries)]
    targets = [rng.choice(systems) for _ in range(args.queries)]
    r = timed(lambda n: reach(g, n, depth=5), starts)
    w = timed(lambda n: who_can_reach(g, n, depth=5), targets)
    sizes = [len(reach(g, n, depth=5)) for n in starts[:100]]
    print(f"reach (depth 5), {len(r)} queries:        p50 {pct(r, 50):7.1f} ms   p99 {pct(r, 99):7.1f} ms   "
          f"(median {statistics.median(sizes):.0f} systems reached)")
    print(f"who-can-reach (depth 5), {len(w)} queries: p50 {pct(w, 50):7.1f} ms   p99 {pct(w, 99):7.1f} ms")
    print(f"peak RSS after queries {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")


if __name__ == "__main__":
    main()
