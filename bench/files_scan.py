"""Benchmark: the files connector against other secret scanners on one tree of ordinary code.

The tree is ~50 MB of the source files installed in this venv's site-packages (Python, JS,
JSON, YAML, TOML, Markdown, C headers …: code others wrote, picked in a seeded order) plus
the planted corpus of tests/test_files_corpus.py (every detector's format twice, hard
negatives, fixtures) and keys of six formats inserted into one copied file in ten. Every
scanner runs on that tree in the same run, one after the other:

- agentreach's files connector in this process, with 1 worker, with ``--workers`` (default:
  every core; the pool starts only past ``pool_min_bytes``, so at 50 MB this is one process),
  and with that many workers and the pool forced; all must report the same locations;
- the same through the CLI (``agentreach --db … -q scan --only files --path …``), and again into the
  same store (a rescan: secrets' scrypt names are read back, not derived), wall time
  of the whole command as a user sees it (start-up, store and findings included);
- ``detect-secrets scan --all-files`` (skip with --skip-detect-secrets: ~4 minutes);
- betterleaks and gitleaks when their binaries are on PATH ("not installed" otherwise).

It prints wall seconds, CPU seconds (the scanning process and the workers it started; the
machine is shared, so CPU is the steadier figure), files/s and MB/s (wall), the recall over
the planted keys (a key counts as found when the scanner reports its file and line) and the
number of findings, then the ratios.

    .venv/bin/python bench/files_scan.py [--mb 50] [--workers N] [--skip-detect-secrets]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import resource
import shutil
import string
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

from agentreach_connectors.files import FilesConnector, default_workers
from agentreach_connectors.files.engine import available
from agentreach_connectors.files.walk import SKIP_DIRS

from agentreach.connector import ScanContext
from agentreach.model import Location

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.test_files_corpus import build as build_corpus  # noqa: E402 - the planted corpus lives with its test

ALNUM = string.ascii_letters + string.digits
SOURCE_EXT = {".py", ".pyi", ".js", ".ts", ".json", ".yaml", ".yml", ".toml", ".cfg", ".ini", ".txt", ".md", ".rst",
              ".html", ".css", ".sh", ".c", ".h"}
# the measurement of betterleaks on this machine's 50 MB tree (issue 19), for the target line
BETTERLEAKS_REFERENCE_S = 2.8


def rnd(r: random.Random, n: int, alphabet: str = ALNUM) -> str:
    return "".join(r.choice(alphabet) for _ in range(n))


PLANTS = [
    ("openai", lambda r: f'OPENAI_API_KEY = "sk-proj-{rnd(r, 120, ALNUM + "_-")}"'),
    ("anthropic", lambda r: f'client = Anthropic(api_key="sk-ant-api03-{rnd(r, 93, ALNUM + "_-")}AA")'),
    ("aws", lambda r: f'aws_access_key_id = "AKIA{rnd(r, 16, string.ascii_uppercase + "234567")}"'),
    ("github", lambda r: f'token: "ghp_{rnd(r, 36)}"'),
    ("groq", lambda r: f'GROQ_API_KEY="gsk_{rnd(r, 52)}"'),
    ("huggingface", lambda r: f'HF_TOKEN = "hf_{rnd(r, 34)}"'),
]


def sources(site: Path) -> list[Path]:
    out = []
    for dirpath, dirnames, filenames in os.walk(site):
        dirnames.sort()
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if path.suffix in SOURCE_EXT and not path.is_symlink():
                out.append(path)
    return out


def generate(root: Path, mb: float, r: random.Random) -> tuple[list[tuple[str, int]], int, int]:
    """(planted (path, line), files, bytes). Copies site-packages sources (directory names
    the walker skips are renamed, so everything copied is scanned) until ``mb`` is reached."""
    site = Path(sysconfig.get_paths()["purelib"])
    pool = sources(site)
    r.shuffle(pool)
    corpus = build_corpus(root / "planted")
    planted = [(f"planted/{p.path}", p.line) for p in corpus.plants]
    target = mb * 1_000_000 - sum(p.stat().st_size for p in (root / "planted").rglob("*") if p.is_file())
    size = files = 0
    for src in pool:
        if size >= target:
            break
        try:
            data = src.read_bytes()
        except OSError:
            continue
        if len(data) > 1_000_000:
            continue
        rel = Path(*[p + "_" if p in SKIP_DIRS else p for p in src.relative_to(site).parts])
        dest = root / "src" / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if files % 10 == 0 and src.suffix in (".py", ".js", ".yaml", ".toml", ".cfg") and b"\0" not in data:
            lines = data.decode("utf-8", "replace").split("\n")
            at = r.randrange(len(lines))
            lines.insert(at, PLANTS[(files // 10) % len(PLANTS)][1](r))
            data = "\n".join(lines).encode()
            planted.append((f"src/{rel.as_posix()}", at + 1))
        dest.write_bytes(data)
        size += len(data)
        files += 1
    total_files = sum(1 for p in root.rglob("*") if p.is_file())
    total = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    return planted, total_files, total


Run = tuple[float, float, set[tuple[str, int]]]  # wall s, CPU s, found (path, line)


def children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def ours(root: Path, workers: int, pool_min_bytes: int | None = None) -> Run:
    config: dict = {"paths": [str(root)], "all_files": True, "workers": workers}
    if pool_min_bytes is not None:
        config["pool_min_bytes"] = pool_min_bytes
    t, cpu, children = time.perf_counter(), time.process_time(), children_cpu()
    connector = FilesConnector(config)
    records = list(connector.scan(ScanContext()))
    seconds, cpu = time.perf_counter() - t, time.process_time() - cpu
    while multiprocessing.active_children():  # reap the pool's workers: their CPU is this run's
        time.sleep(0.05)
    cpu += children_cpu() - children
    return seconds, cpu, {(r.path, r.line) for r in records if isinstance(r, Location) and r.line}


def cli(root: Path, workers: int) -> tuple[Run, Run]:
    """The CLI scan into a new store, then the same scan again into it (a scheduled rescan:
    the secrets' scrypt names are taken from the store, not derived again)."""
    exe = Path(sys.executable).with_name("agentreach")
    runs: list[Run] = []
    with tempfile.TemporaryDirectory() as work:
        config = Path(work) / "config.yaml"
        config.write_text(json.dumps({"connectors": {"files": {"workers": workers}}}))
        db = str(Path(work) / "bench.db")
        for _ in range(2):
            t, cpu = time.perf_counter(), children_cpu()
            proc = subprocess.run([str(exe), "--db", db, "--config", str(config), "-q", "scan", "--only", "files",
                                   "--path", str(root), "--all-files"], capture_output=True, text=True)
            seconds, cpu = time.perf_counter() - t, children_cpu() - cpu
            if proc.returncode not in (0, 3):
                raise SystemExit(f"agentreach scan failed ({proc.returncode}): {proc.stderr[-500:]}")
            inv = subprocess.run([str(exe), "--db", db, "inventory", "--kind", "all", "--provider", "files",
                                  "--format", "json"], capture_output=True, text=True, check=True)
            objects = json.loads(inv.stdout)["objects"]
            runs.append((seconds, cpu, {(o["path"], o["line"]) for o in objects if o["kind"] == "location"}))
    return runs[0], runs[1]


def detect_secrets(root: Path) -> Run:
    exe = Path(sys.executable).with_name("detect-secrets")
    t, cpu = time.perf_counter(), children_cpu()
    out = subprocess.run([str(exe), "scan", "--all-files"], cwd=root, capture_output=True, text=True, check=True)
    seconds, cpu = time.perf_counter() - t, children_cpu() - cpu
    results = json.loads(out.stdout)["results"]
    return seconds, cpu, {(f, item["line_number"]) for f, items in results.items() for item in items}


def gitleaks_like(name: str, root: Path) -> Run | None:
    """betterleaks / gitleaks ``dir`` with a JSON report, when the binary is installed."""
    exe = shutil.which(name)
    if exe is None:
        return None
    with tempfile.TemporaryDirectory() as work:
        report = Path(work) / "report.json"
        t, cpu = time.perf_counter(), children_cpu()
        subprocess.run([exe, "dir", str(root), "--report-format", "json", "--report-path", str(report),
                        "--no-banner", "--exit-code", "0"], capture_output=True, text=True)
        seconds, cpu = time.perf_counter() - t, children_cpu() - cpu
        items = json.loads(report.read_text() or "[]") if report.exists() else []
    return seconds, cpu, {(os.path.relpath(i["File"], root), i["StartLine"]) for i in items}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=50)
    parser.add_argument("--workers", type=int, default=default_workers(), help="processes for the second run")
    parser.add_argument("--skip-detect-secrets", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "tree"
        planted, files, size = generate(root, args.mb, random.Random(11))
        mb = size / 1e6
        print(f"tree: {files:,} files, {mb:.1f} MB (site-packages sources + planted corpus), "
              f"{len(planted)} planted keys; prefilter engine: {available()[0]}; {os.cpu_count()} CPUs, "
              f"load {os.getloadavg()[0]:.1f}")
        rows: list[tuple[str, float, float, set[tuple[str, int]]]] = [
            ("agentreach files, 1 worker", *ours(root, 1))]
        if args.workers > 1:
            rows.append((f"agentreach files, {args.workers} workers", *ours(root, args.workers)))
            rows.append((f"agentreach files, {args.workers} workers, pool", *ours(root, args.workers, 0)))
        first, again = cli(root, args.workers)
        rows.append((f"agentreach CLI, {args.workers} workers", *first))
        rows.append((f"agentreach CLI rescan, {args.workers} workers", *again))
        for name, _, _, hits in rows[1:]:
            if hits != rows[0][3]:
                raise SystemExit(f"{name} reported other locations than the single-process scan")
        if not args.skip_detect_secrets:
            rows.append(("detect-secrets --all-files", *detect_secrets(root)))
        missing = []
        for name in ("betterleaks", "gitleaks"):
            got = gitleaks_like(name, root)
            if got is None:
                missing.append(name)
            else:
                rows.append((f"{name} dir", *got))
        print(f"{'':40} {'wall':>8}  {'CPU':>7}  {'files/s':>8}  {'MB/s':>6}")
        for name, seconds, cpu, hits in rows:
            recall = sum(1 for p in planted if p in hits) / len(planted)
            print(f"{name:40} {seconds:7.2f}s  {cpu:6.2f}s  {files / seconds:8.0f}  {mb / seconds:6.2f}  "
                  f"recall {recall:.3f}  ({len(hits)} findings)")
        for name in missing:
            print(f"{name:40} not installed")
        fastest = min(seconds for name, seconds, _, _ in rows if name.startswith("agentreach files"))
        cli_s = next(s for n, s, _, _ in rows if n.startswith("agentreach CLI"))
        if args.workers > 1:
            print(f"{args.workers} workers (pool forced) vs 1: {rows[0][1] / rows[2][1]:.2f}x")
        if not args.skip_detect_secrets:
            ds = next(s for n, s, _, _ in rows if n.startswith("detect-secrets"))
            print(f"detect-secrets / agentreach: {ds / fastest:.1f}x (connector), {ds / cli_s:.1f}x (CLI)")
        leaks = [s for n, s, _, _ in rows if n.startswith("betterleaks")]
        reference = leaks[0] if leaks else BETTERLEAKS_REFERENCE_S
        source = "this run" if leaks else "not installed here: issue 19's figure on this machine"
        print(f"target: within 2x of betterleaks ({reference:.1f} s, {source}) = {2 * reference:.1f} s; "
              f"agentreach connector {fastest:.2f} s, CLI {cli_s:.2f} s; load {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
