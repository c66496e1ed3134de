"""Benchmark: what --match-secret-values costs (issue 16 item 4).

Each current value a cloud connector reads is named with the snapshot's secret-id scheme: one
scrypt per candidate (the value, each top-level string field of a JSON value, what the secret
scanners find in it). Printed:

1. one derivation at the configured cost (``gate.fingerprint_kdf``, the shipped default),
   median of ``--repeats``;
2. the candidates and the time of one RDS-style JSON secret
   (``{"username", "password", "engine", "host", "port", "dbname"}``);
3. a Secrets Manager scan of ``--secrets`` such secrets on a moto server over HTTP (real
   boto3, ``--only aws`` with ``services: [secretsmanager]``, one region): wall time without the
   option, then with it at ``value_workers`` 1, 2 and 4, and the connector's summary line.

    .venv/bin/python bench/secret_values.py [--repeats 5] [--secrets 40]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def derivation(repeats: int) -> float:
    from agentreach.config import load_config
    from agentreach.gate import scan_scheme

    scheme = scan_scheme(load_config(), "ab" * 16)
    times = []
    for i in range(repeats):
        t0 = time.perf_counter()
        scheme.identity(f"value-{i}-Vq7Lm2Xz9Rt4Wp8Kd3Hs6Nb1")
        times.append(time.perf_counter() - t0)
    print(f"scheme: scrypt n={scheme.n} r={scheme.r} p={scheme.p} ({scheme.memory // 2**20} MiB per derivation)")
    return statistics.median(times)


def rds_secret(i: int) -> str:
    return json.dumps({"username": f"app_user_{i:03d}", "password": f"Pw{i:04d}-Vq7Lm2Xz9Rt4Wp8Kd3Hs6Nb1Jc5",
                       "engine": "postgres", "host": f"db-{i}.cluster-abc.us-east-1.rds.amazonaws.com",
                       "port": 5432, "dbname": "orders"})


def one_secret() -> tuple[int, float]:
    from agentreach.config import load_config
    from agentreach.gate import scan_scheme
    from agentreach.secretvalues import secret_scanners, timed_identities

    scheme = scan_scheme(load_config(), "ab" * 16)
    found, _, took = timed_identities(rds_secret(0), scheme.identity, secret_scanners())
    return len(found), took


def scan(url: str, tmp: Path, match: bool, workers: int) -> tuple[float, str]:
    import yaml

    cfg = tmp / f"cfg-{match}-{workers}.yaml"
    cfg.write_text(yaml.safe_dump({"connectors": {"aws": {
        "endpoint_url": url, "regions": ["us-east-1"], "services": ["secretsmanager"],
        "match_secret_values": match, "value_workers": workers}}}))
    db = tmp / f"s-{match}-{workers}.db"
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": "/dev/null",
           "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"}
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "agentreach", "--db", str(db), "--config", str(cfg), "scan",
                           "--only", "aws"], capture_output=True, text=True, env=env, timeout=900)
    took = time.perf_counter() - t0
    if proc.returncode not in (0, 3):
        raise SystemExit(proc.stderr[-2000:])
    line = next((ln.strip() for ln in proc.stdout.splitlines() if "secret values:" in ln), "")
    return took, line


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--secrets", type=int, default=40)
    args = ap.parse_args()
    one = derivation(args.repeats)
    print(f"one derivation: {one:.3f} s (median of {args.repeats})")
    n, took = one_secret()
    print(f"one RDS-style JSON secret: {n} identities (string fields that may be secrets, scanner finds) "
          f"in {took:.2f} s")

    import logging

    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    try:
        sm = boto3.client("secretsmanager", endpoint_url=url, region_name="us-east-1", aws_access_key_id="testing",
                          aws_secret_access_key="testing")
        for i in range(args.secrets):
            sm.create_secret(Name=f"prod/db-{i:03d}", SecretString=rds_secret(i))
        with tempfile.TemporaryDirectory() as d:
            tmp = Path(d)
            base, _ = scan(url, tmp, False, 1)
            print(f"scan of {args.secrets} secrets without --match-secret-values: {base:.1f} s")
            for workers in (1, 2, 4):
                took, line = scan(url, tmp, True, workers)
                print(f"  with it, value_workers={workers}: {took:.1f} s (+{took - base:.1f} s; "
                      f"{(took - base) / args.secrets:.2f} s per secret); {line}")
    finally:
        server.stop()
    print(f"cores: {os.cpu_count()}")


if __name__ == "__main__":
    main()
