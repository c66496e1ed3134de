"""What the Azure and GCP scan benches share: run the scan and `inventory --agents` through
the CLI in child processes (so RSS and CPU are the scanner's own), and print the figures
and the API calls by operation, marking the operations that grow per object."""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Mapping


def cli(db: str, cfg: str | None, *args: str, env: dict[str, str]) -> tuple[subprocess.CompletedProcess[str], float]:
    cmd = [sys.executable, "-m", "agentreach", "--db", db, *(["--config", cfg] if cfg else []), "-q", *args]
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    return proc, time.perf_counter() - t


@dataclass
class Measured:
    scan_s: float
    child: Any  # resource.struct_rusage of the scan child
    self_cpu_s: float  # this process's CPU during the scan: the fake servers
    summary: dict[str, Any]
    calls: dict[str, int]
    served: int  # requests the fakes answered
    reach: int
    derived: Counter[str]
    objects: list[dict[str, Any]]
    inventory_s: float


def measure(db: str, cfg: str, connector: str, env: dict[str, str], served: Callable[[], int]) -> Measured:
    """Scan with one connector, then list its agents; ``served`` says how many requests the
    fakes answered during the scan."""
    from agentreach.store import Store

    before = resource.getrusage(resource.RUSAGE_SELF)
    proc, scan_s = cli(db, cfg, "scan", "--only", connector, "--format", "json", env=env)
    after = resource.getrusage(resource.RUSAGE_SELF)
    child = resource.getrusage(resource.RUSAGE_CHILDREN)  # only the scan has been waited for so far
    if proc.returncode not in (0, 3):
        raise SystemExit(f"scan failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    summary = json.loads(proc.stdout)
    run = next(c for c in summary["connectors"] if c["name"] == connector)
    store = Store(db, create=False)
    reach = store.edges(summary["snapshot"]["id"], kinds=["can_assume", "can_access"])
    derived = Counter(e["kind"] for e in reach if str(e.get("source", "")).startswith("policy:"))
    store.close()
    served_n = served()
    inv, inv_s = cli(db, None, "inventory", "--agents", "--format", "json", env=env)
    if inv.returncode != 0:
        raise SystemExit(f"inventory failed ({inv.returncode}):\n{inv.stderr[-3000:]}")
    return Measured(scan_s, child, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime),
                    summary, run["api_calls"], served_n, len(reach), derived, json.loads(inv.stdout)["objects"],
                    inv_s)


def report(m: Measured, connector: str, sizes: Mapping[str, int], per_object: Mapping[str, tuple[str, str]],
           rest: str, width: int = 48) -> None:
    """The figures table, the agents found by type, and the calls by operation."""
    snap = m.summary["snapshot"]
    run = next(c for c in m.summary["connectors"] if c["name"] == connector)
    found = Counter((o["kind"], (o.get("agent") or {}).get("verdict")) for o in m.objects)
    rows = [
        ("scan wall time, CLI child process (s)", f"{m.scan_s:.1f}"),
        ("  scanner CPU, user + sys (s)", f"{m.child.ru_utime + m.child.ru_stime:.1f}"),
        ("  fake servers' CPU in this process (s)", f"{m.self_cpu_s:.1f}"),
        ("peak RSS of the scanning process (MB)", f"{m.child.ru_maxrss / 1024:.0f}"),
        ("API calls (connector's count)", f"{sum(m.calls.values()):,}"),
        ("  requests the fakes served", f"{m.served:,}"),
        ("objects / edges in the snapshot", f"{snap['node_count']:,} / {snap['edge_count']:,}"),
        ("  objects / edges the connector emitted", f"{run['nodes']:,} / {run['edges']:,}"),
        ("reach edges derived (can_access / can_assume)",
         f"{sum(m.derived.values()):,} ({m.derived['can_access']:,} / {m.derived['can_assume']:,})"),
        ("  can_assume + can_access edges in all", f"{m.reach:,}"),
        ("coverage gaps", f"{snap['gap_count']}"),
        ("inventory --agents: identities (agent / possible)",
         f"{found[('identity', 'agent')]:,} / {found[('identity', 'possible')]:,}"),
        ("inventory --agents: credentials (agent / possible)",
         f"{found[('credential', 'agent')]:,} / {found[('credential', 'possible')]:,}"),
        ("inventory --agents wall time (s)", f"{m.inventory_s:.1f}"),
    ]
    left = max(len(k) for k, _ in rows)
    for k, v in rows:
        print(f"{k:<{left}}  {v:>16}")
    by_type = Counter(o["type"] for o in m.objects)
    print("\ninventory --agents by type: " + ", ".join(f"{t} {n:,}" for t, n in sorted(by_type.items())))
    if m.summary["coverage_gaps"]:
        print("gaps: " + "; ".join(f"{g['operation']} {g['error_code']}" for g in m.summary["coverage_gaps"][:10]))
    print(f"\nAPI calls by operation (the rest are {rest}):")
    for op, count in sorted(m.calls.items(), key=lambda kv: (-kv[1], kv[0])):
        label, kind = per_object.get(op, (None, ""))
        note = f"  <- {label} (estate: {sizes.get(kind, 0):,} {kind})" if label else ""
        print(f"  {op:{width}}{count:>7,}{note}")
