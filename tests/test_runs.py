"""Sharded runs: many workers, one snapshot, one finalize.

The main test runs four shard workers at once as separate processes (two AWS accounts of the
seeded demo estate through the moto front door, two file trees) into one PostgreSQL store,
and checks that the run's snapshot holds exactly the inventory, edges and findings of one
unsharded scan of the same estate in the same store. The others pin the run's bookkeeping
on both engines: announced shards, --expect, a failed and a missing shard as gaps naming
them, one finalizer however many ask, and the one-line refusals."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Callable

import pytest
from click.testing import CliRunner

from agentreach import app
from agentreach.cli import main
from agentreach.store import Store


def cli(db: str, *args: str) -> Any:
    return CliRunner().invoke(main, ["--db", db, "-q", *args])


def write_trees(tmp: Path, estate: Any) -> tuple[Path, Path]:
    """Two repositories: the demo's leaked agent project (its .env holds a live key of the
    AWS shard's estate, so the link between shards is tested) and a second one of our own."""
    from agentreach_testing.demo.leaked_repo import write_leaked_repo

    x, _canaries = write_leaked_repo(tmp / "x", estate.expected)
    y = tmp / "y" / "ops-scripts"
    y.mkdir(parents=True)
    (y / "deploy.env").write_text("ANTHROPIC_API_KEY=sk-ant-api03-" + "Qw3rTy7uIoP" * 8 + "-AA\n", encoding="utf-8")
    return x, y


def view(db: str, snapshot_id: int, scans_began: str) -> dict[str, Any]:
    """What a user reads of a snapshot: every object's public JSON, every edge, the findings.

    One thing differs between two scans of one estate and is no product of sharding: the
    read-only role the scanner assumes is *used* by each scan, and moto records that use, so
    its last use is each scan's own moment. A last use at or after ``scans_began`` is dropped."""
    store = Store(db, create=False)
    try:
        info = store.snapshot(snapshot_id)
        assert info is not None and info.status == "complete", info
        stored = store.stored_findings(snapshot_id)
        assert stored is not None
        found, rules = stored
        return {"inventory": [_without_own_use(row, scans_began) for row in app.inventory(store, info, kinds=None)],
                "edges": store.edges(snapshot_id),
                "findings": found,
                "rules": [{k: v for k, v in r.items() if k not in ("evaluated_at",)} for r in rules]}
    finally:
        store.close()


def _without_own_use(row: dict[str, Any], since: str) -> dict[str, Any]:
    if not row.get("last_used") or row["last_used"] < since:
        return row
    facts = {k: v for k, v in row["stale"]["facts"].items() if k not in ("last_used", "days_since_last_used")}
    return {**row, "last_used": "(this scan)", "stale": {**row["stale"], "facts": facts}}


@pytest.mark.parametrize("store_engine", ["postgresql"])
def test_four_concurrent_shards_make_the_snapshot_one_scan_makes(
        seeded_estate: Any, frontdoor_session: Any, store_at: Callable[[str], str], tmp_path: Path) -> None:
    db = store_at("shards")
    accounts = sorted(seeded_estate.accounts)
    x, y = write_trees(tmp_path, seeded_estate)
    aws_flags = ["--endpoint-url", frontdoor_session.url, "--regions", "us-east-1,eu-west-1"]

    whole = cli(db, "scan", "--only", "aws,files", *aws_flags, "--accounts", ",".join(accounts),
                "--path", str(x), "--path", str(y), "--format", "json")
    assert whole.exit_code == 0, whole.output
    whole_id = json.loads(whole.stdout)["snapshot"]["id"]
    began = json.loads(whole.stdout)["snapshot"]["started_at"]

    shards = [f"accounts={accounts[0]}", f"accounts={accounts[1]}", f"paths={x}", f"paths={y}"]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    workers = [subprocess.Popen([sys.executable, "-m", "agentreach", "--db", db, "-q", "scan", "--run", "nightly",
                                 "--shard", shard, "--expect", "4", *aws_flags, "--format", "json"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
               for shard in shards]
    outcomes = []
    for proc in workers:
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err[-2000:]
        outcomes.append(json.loads(out))
    finalizers = [o for o in outcomes if o["finalized"] is not None]
    assert len(finalizers) == 1, "exactly one worker, the last to report, finalizes the run"
    assert {o["shard"]["shard"] for o in outcomes} == set(shards)
    run_id = finalizers[0]["finalized"]["snapshot"]["id"]
    assert run_id != whole_id and finalizers[0]["finalized"]["snapshot"]["status"] == "complete"

    status = json.loads(cli(db, "run", "status", "nightly", "--format", "json").stdout)
    assert status["run"]["status"] == "complete" and not status["waiting_for"]
    assert {s["status"] for s in status["shards"]} == {"complete"}

    sharded, unsharded = view(db, run_id, began), view(db, whole_id, began)
    assert sharded["inventory"] and sharded["findings"]
    assert any(f["rule"] == "AR-SECRET-LEAKED-LIVE" for f in sharded["findings"]), \
        "a secret found by a paths shard links to the key an accounts shard saw, at finalize"
    for part in ("inventory", "edges", "findings", "rules"):
        assert sharded[part] == unsharded[part], part
    assert (Store(db).snapshot(run_id).gap_count, Store(db).snapshot(whole_id).gap_count) == (0, 0)


@pytest.fixture
def trees(tmp_path: Path) -> tuple[str, str]:
    a, b = tmp_path / "repo-a", tmp_path / "repo-b"
    for root, line in ((a, "OPENAI_API_KEY=sk-proj-" + "A1b2C3d4" * 6), (b, "HF_TOKEN=hf_" + "QwErTyUiOpAsDfGhJkLz" * 2)):
        root.mkdir()
        (root / ".env").write_text(line + "\n", encoding="utf-8")
    return str(a), str(b)


def test_announced_shards_finalize_on_the_last_report(store_at: Callable[[str], str], trees: tuple[str, str]) -> None:
    db = store_at("announced")
    a, b = trees
    assert cli(db, "run", "start", "r1", "--shard", f"paths={a}", "--shard", f"paths={b}").exit_code == 0
    first = cli(db, "scan", "--run", "r1", "--shard", f"paths={a}", "--format", "json")
    assert first.exit_code == 0, first.output
    body = json.loads(first.stdout)
    assert body["finalized"] is None and body["waiting_for"] == [f"paths={b}"]
    assert Store(db).latest_snapshot() is None, "a running run is never the latest snapshot"
    second = json.loads(cli(db, "scan", "--run", "r1", "--shard", f"paths={b}", "--format", "json").stdout)
    assert second["finalized"]["snapshot"]["status"] == "complete"
    assert second["finalized"]["snapshot"]["node_count"] == 4  # a secret and its location per tree
    assert Store(db).latest_snapshot().id == second["run"]["snapshot_id"]


def test_a_failed_and_a_missing_shard_are_gaps_naming_them(store_at: Callable[[str], str],
                                                           trees: tuple[str, str], tmp_path: Path) -> None:
    db = store_at("gaps")
    a, _b = trees
    gone = str(tmp_path / "not-there")
    assert cli(db, "scan", "--run", "r2", "--shard", f"paths={a}", "--expect", "3").exit_code == 0
    failed = cli(db, "scan", "--run", "r2", "--shard", f"paths={gone}", "--expect", "3")
    assert failed.exit_code == 4  # this shard saw nothing
    done = cli(db, "finalize", "r2", "--format", "json")
    assert done.exit_code == 3, done.output  # complete, with coverage gaps
    gaps = json.loads(done.stdout)["coverage_gaps"]
    codes = {g["error_code"]: g["message"] for g in gaps}
    assert f"paths={gone}" in codes["ShardFailed"]
    assert "expected 3 shards and 2 reported" in codes["ShardMissing"]
    store = Store(db)
    assert {g.error_code for g in store.gaps(store.run("r2").snapshot_id)} >= {"ShardFailed", "ShardMissing"}
    again = cli(db, "finalize", "r2")
    assert again.exit_code == 2 and "already complete" in again.output
    tolerant = cli(db, "finalize", "r2", "--if-running")
    assert tolerant.exit_code == 3 and "already finalized" in tolerant.output  # its snapshot has gaps


def test_an_announced_shard_that_never_ran_is_a_gap_with_its_account(store_at: Callable[[str], str],
                                                                      trees: tuple[str, str]) -> None:
    db = store_at("missing")
    a, _b = trees
    assert cli(db, "run", "start", "r3", "--shard", f"paths={a}", "--shard", "accounts=111122223333").exit_code == 0
    assert cli(db, "scan", "--run", "r3", "--shard", f"paths={a}").exit_code == 0
    done = json.loads(cli(db, "finalize", "r3", "--format", "json").stdout)
    missing = [g for g in done["coverage_gaps"] if g["error_code"] == "ShardMissing"]
    assert len(missing) == 1 and missing[0]["account"] == "111122223333" and missing[0]["connector"] == "aws"
    assert "accounts=111122223333" in missing[0]["message"]


def test_refusals_are_one_line(store_at: Callable[[str], str], trees: tuple[str, str]) -> None:
    db = store_at("refusals")
    a, b = trees
    cases = [
        (["scan", "--run", "r4", "--shard", f"paths={a}"], "no run 'r4'"),
        (["scan", "--run", "r4", "--shard", "colours=red"], "unknown dimension 'colours'"),
        (["scan", "--run", "r4", "--shard", "accounts="], "expected DIMENSION=VALUE"),
        (["scan", "--run", "r4"], "--run NAME and --shard"),
        (["scan", "--run", "r4", "--shard", f"paths={a}", "--only", "aws"], "--only does not go with --shard"),
        (["finalize", "r4"], "no run 'r4'"),
    ]
    for args, message in cases:
        result = cli(db, *args)
        assert result.exit_code in (2, 5) and message in result.output, (args, result.output)
        assert "Traceback" not in result.output
    assert cli(db, "run", "start", "r5", "--shard", f"paths={a}").exit_code == 0
    other = cli(db, "scan", "--run", "r5", "--shard", f"paths={b}")
    assert other.exit_code == 2 and f"not one of the 1 shards of run r5 (announced: paths={a})" in other.output
    dup = cli(db, "run", "start", "r5", "--shard", f"paths={a}")
    assert dup.exit_code == 2 and "already exists" in dup.output
    assert cli(db, "scan", "--run", "r5", "--shard", f"paths={a}").exit_code == 0
    twice = cli(db, "scan", "--run", "r5", "--shard", f"paths={a}")
    assert twice.exit_code == 2 and "is complete" in twice.output


def test_exactly_one_finalizer_and_one_creator_under_a_race(store_at: Callable[[str], str]) -> None:
    """The conditional UPDATE and the insert-or-read of a run hold with threads racing."""
    store = Store(store_at("race"))
    made: list[bool] = []
    claimed: list[bool] = []
    barrier = threading.Barrier(6)

    def open_and_claim(i: int) -> None:
        barrier.wait()
        _info, created = store.open_run("race", expected=1, config_digest="d", connectors={}, options={})
        made.append(created)
        barrier.wait()
        claimed.append(store.claim_run("race", f"worker-{i}"))

    threads = [threading.Thread(target=open_and_claim, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert made.count(True) == 1 and claimed.count(True) == 1
    assert len(store.snapshots()) == 1, "the losers' snapshots were rolled back with their run insert"
    assert store.run("race").status == "finalizing"
