"""Benchmark: the files connector against `detect-secrets scan --all-files` on one tree.

Generates a tree of code-like files (Python, JS, YAML, .env, JSON) with planted keys of
several formats and hard negatives (placeholders, hashes, UUIDs, lookalike prefixes), then
times both scanners on it and prints files/s, MB/s, the ratio, and the recall of each on
the planted keys (a planted key counts as found when the scanner reports its file and line).
Ours runs twice, with one process and with ``--workers`` processes (default: the connector's
default, min(4, CPUs)), and the two must report the same locations.

    .venv/bin/python bench/files_scan.py [--mb 50] [--workers N] [--skip-detect-secrets]
"""

from __future__ import annotations

import argparse
import json
import random
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from agentreach_connectors.files import FilesConnector, default_workers

from agentreach.connector import ScanContext
from agentreach.model import Location

ALNUM = string.ascii_letters + string.digits


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
NEGATIVES = [
    'OPENAI_API_KEY = "your-key-here"',
    'api_key = os.environ["OPENAI_API_KEY"]',
    'checksum = "d41d8cd98f00b204e9800998ecf8427e"',
    'request_id = "3fa85f64-5717-4562-b3fc-2c963f66afa6"',
    'note = "sk-proj- keys start with sk-proj-"',
]
WORDS = "def return import self value result data config client request response items index".split()


def generate(root: Path, mb: float, r: random.Random) -> tuple[list[tuple[str, int]], int]:
    target = mb * 1_000_000
    size = files = 0
    planted: list[tuple[str, int]] = []
    while size < target:
        ext = r.choice([".py", ".js", ".yaml", ".env", ".json"])
        rel = f"svc{files % 40}/mod{files}{ext}"
        lines = [f"{r.choice(WORDS)}_{i} = {r.choice(WORDS)}({r.randint(0, 999)})  # {r.choice(WORDS)}"
                 for i in range(r.randint(120, 360))]
        for neg in r.sample(NEGATIVES, 2):
            lines.insert(r.randrange(len(lines)), neg)
        if files % 10 == 0:
            kind, make = PLANTS[(files // 10) % len(PLANTS)]
            at = r.randrange(len(lines))
            lines.insert(at, make(r))
            planted.append((rel, at + 1))
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        text = "\n".join(lines) + "\n"
        path.write_text(text)
        size += len(text)
        files += 1
    return planted, files


def ours(root: Path, workers: int) -> tuple[float, set[tuple[str, int]]]:
    t = time.perf_counter()
    records = list(FilesConnector({"paths": [str(root)], "all_files": True, "workers": workers}).scan(ScanContext()))
    seconds = time.perf_counter() - t
    return seconds, {(r.path, r.line) for r in records if isinstance(r, Location) and r.line}


def detect_secrets(root: Path) -> tuple[float, set[tuple[str, int]]]:
    exe = Path(sys.executable).with_name("detect-secrets")
    t = time.perf_counter()
    out = subprocess.run([str(exe), "scan", "--all-files"], cwd=root, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - t
    results = json.loads(out.stdout)["results"]
    return seconds, {(f, item["line_number"]) for f, items in results.items() for item in items}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=50)
    parser.add_argument("--workers", type=int, default=default_workers(), help="processes for the second run")
    parser.add_argument("--skip-detect-secrets", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        planted, files = generate(root, args.mb, random.Random(11))
        mb = sum(p.stat().st_size for p in root.rglob("*") if p.is_file()) / 1e6
        print(f"tree: {files:,} files, {mb:.1f} MB, {len(planted)} planted keys")
        rows = [("agentreach files, 1 worker", *ours(root, 1))]
        if args.workers > 1:
            rows.append((f"agentreach files, {args.workers} workers", *ours(root, args.workers)))
            if rows[1][2] != rows[0][2]:
                raise SystemExit("the multi-process scan reported other locations than the single-process one")
        if not args.skip_detect_secrets:
            rows.append(("detect-secrets --all-files", *detect_secrets(root)))
        for name, seconds, hits in rows:
            recall = sum(1 for p in planted if p in hits) / len(planted)
            print(f"{name:30} {seconds:8.1f} s  {files / seconds:8.0f} files/s  {mb / seconds:6.2f} MB/s  "
                  f"recall {recall:.3f}  ({len(hits)} findings)")
        if args.workers > 1:
            print(f"{args.workers} workers vs 1: {rows[0][1] / rows[1][1]:.2f}x faster")
        if not args.skip_detect_secrets:
            print(f"throughput ratio vs detect-secrets (1 worker): {rows[-1][1] / rows[0][1]:.1f}x")


if __name__ == "__main__":
    main()
