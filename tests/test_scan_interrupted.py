"""A scan killed half-way (SIGKILL, no chance to clean up) leaves the previous snapshot
intact and readable, and the next scan works: on a SQLite file and on PostgreSQL, where the
killed client's open transaction is rolled back by the server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable

import sqlalchemy as sa
from click.testing import CliRunner

from agentreach.cli import main
from agentreach.store import Store, store_url


def scan_args(db: str, cfg: Path, door: Any, estate: Any) -> list[str]:
    return ["--db", db, "--config", str(cfg), "-q", "scan", "--endpoint-url", door.url,
            "--regions", "us-east-1", "--accounts", ",".join(estate.accounts)]


def rows_in(db: str, snapshot_id: int) -> int:
    """Rows the running scan has committed so far (0 while it has not made its tables yet)."""
    engine = sa.create_engine(store_url(db))
    try:
        with engine.connect() as conn:
            return conn.execute(sa.text("select count(*) from snapshot_nodes where snapshot_id = :sid"),
                                {"sid": snapshot_id}).scalar_one()
    except sa.exc.DBAPIError:
        return 0
    finally:
        engine.dispose()


def test_killed_scan_leaves_previous_snapshot(frontdoor: Any, seeded_estate: Any, tmp_path: Path,
                                              store_at: Callable[[str], str]) -> None:
    db, cfg = store_at("inv"), tmp_path / "cfg.yaml"
    cfg.write_text("scan:\n  batch_size: 10\n")  # small batches: the killed scan has written rows
    first = CliRunner().invoke(main, scan_args(db, cfg, frontdoor, seeded_estate))
    assert first.exit_code == 0, first.output
    before = {n.node.id: (n.first_seen, n.last_seen) for n in Store(db).nodes(1)}
    inventory_before = CliRunner().invoke(main, ["--db", db, "inventory", "--format", "json"]).stdout

    slow = frontdoor.delay("kms", "ListKeys", seconds=30, times=1)
    proc = subprocess.Popen([sys.executable, "-m", "agentreach", *scan_args(db, cfg, frontdoor, seeded_estate)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ))
    try:
        deadline = time.monotonic() + 60
        while not (slow.hits and rows_in(db, 2) > 0):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the scan never reached the slow call"
            time.sleep(0.1)
        written = rows_in(db, 2)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
        frontdoor.remove_rule(slow)
    assert written > 0

    store = Store(db)
    assert store.latest_snapshot().id == 1
    assert [s.status for s in store.snapshots()] == ["complete", "running"]
    assert {n.node.id: (n.first_seen, n.last_seen) for n in store.nodes(1)} == before
    after = CliRunner().invoke(main, ["--db", db, "inventory", "--format", "json"])
    assert after.exit_code == 0 and json.loads(after.stdout) == json.loads(inventory_before)

    again = CliRunner().invoke(main, scan_args(db, cfg, frontdoor, seeded_estate))
    assert again.exit_code == 0
    assert Store(db).latest_snapshot().id == 3
