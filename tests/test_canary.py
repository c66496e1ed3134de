"""No secret value, ever: the estate plants canaries (Secrets Manager values, secret access
keys, env var values, console passwords, private keys); every output of every command,
and every byte of the store, is searched for them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from agentreach.cli import main
from agentreach.store import Store


def needles(canaries: list[str]) -> list[str]:
    """Each canary, and each long line of a multi-line one (a PEM body leaks line by line)."""
    out = set(canaries)
    for canary in canaries:
        for line in canary.splitlines():
            line = line.strip()
            if len(line) >= 20 and not line.startswith("-----"):
                out.add(line)
    return sorted(out)


def leaked(text: str | bytes, canaries: list[str]) -> list[str]:
    if isinstance(text, bytes):
        return [c for c in needles(canaries) if c.encode() in text]
    return [c for c in needles(canaries) if c in text]


def store_bytes(db: Path) -> bytes:
    Store(db).close()  # opening checkpoints nothing; read every file SQLite may have written
    return b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))


@pytest.fixture(scope="module")
def scanned_db(seeded_estate: Any, frontdoor_session: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    db = tmp_path_factory.mktemp("canary") / "inv.db"
    outputs = []
    for fmt in ("table", "json"):
        result = CliRunner().invoke(main, ["--db", str(db), "scan", "--endpoint-url", frontdoor_session.url,
                                           "--regions", "us-east-1,eu-west-1", "--format", fmt,
                                           "--accounts", ",".join(seeded_estate.accounts)])
        assert result.exit_code == 0, result.output
        outputs.append(result.output)
    return db, outputs


def test_the_estate_really_holds_canaries(seeded_estate: Any) -> None:
    kinds = " ".join(seeded_estate.canaries)
    assert len(seeded_estate.canaries) >= 10
    assert "sk-proj-" in kinds and "PRIVATE KEY" in kinds


def test_no_output_of_any_command_holds_a_secret(scanned_db: tuple[Path, list[str]], seeded_estate: Any) -> None:
    db, scan_outputs = scanned_db
    canaries = seeded_estate.canaries
    outputs = list(scan_outputs)
    run = CliRunner()
    for args in (["inventory"], ["inventory", "--kind", "all"], ["inventory", "--kind", "all", "--format", "json"],
                 ["inventory", "--kind", "all", "--format", "csv"], ["inventory", "--agents"],
                 ["inventory", "--agents", "--format", "json"], ["snapshots"], ["snapshots", "--format", "json"]):
        result = run.invoke(main, ["--db", str(db), *args])
        assert result.exit_code == 0
        outputs.append(result.output)
    everything = json.loads(run.invoke(main, ["--db", str(db), "inventory", "--kind", "all", "--format", "json"]).stdout)
    for obj in everything["objects"]:
        for command in ("show", "explain"):
            for fmt in ("table", "json"):
                result = run.invoke(main, ["--db", str(db), command, obj["id"], "--format", fmt])
                assert result.exit_code == 0, obj["id"]
                outputs.append(result.output)
    assert len(outputs) > 2 * len(everything["objects"])
    assert not leaked("\n".join(outputs), canaries)


def test_no_byte_of_the_store_holds_a_secret(scanned_db: tuple[Path, list[str]], seeded_estate: Any) -> None:
    db, _ = scanned_db
    raw = store_bytes(db)
    assert b"aws:access_key:" in raw  # the store is really there and readable as bytes
    assert not leaked(raw, seeded_estate.canaries)


def _demo_canaries(seeded_estate: Any, tmp_path: Path) -> list[str]:
    """Every value the three-cloud demo plants: the AWS estate's deterministic ones, the
    leaked repository's, the Entra secrets' secretText and GCP's private-key canary."""
    import datetime as dt

    from agentreach_testing import gcp_fake
    from agentreach_testing.azure_fake import iter_secret_texts
    from agentreach_testing.demo.azure import load_estate
    from agentreach_testing.demo.leaked_repo import write_leaked_repo

    fake_expected = {"accounts": {"1": {"users": {"langchain-bot": {"access_keys": [
        {"id": "AKIAIOSFODNN7TESTING", "status": "Active"}]}}}}}
    _, repo = write_leaked_repo(tmp_path / "repo-canaries", fake_expected)
    azure = list(iter_secret_texts(load_estate(dt.datetime.now(dt.timezone.utc))))
    assert repo and azure
    return [*(c for c in seeded_estate.canaries if "DEMOCANARY" in c), *repo, *azure, gcp_fake.CANARY]


def test_the_demo_prints_and_stores_no_secret(seeded_estate: Any, demo_run: Any, tmp_path: Path) -> None:
    """The demo in its own process (moto's state is per process), as a user runs it: three
    clouds and a leaked repository. Its estates are seeded from the same files, so the
    deterministic canaries are the same strings."""
    db, env = demo_run.db, demo_run.env
    proc = demo_run
    assert "support-agent-exec" in proc.stdout and "aws_bedrock_api_key" in proc.stdout
    for shown in ("azure_client_secret", "gcp_sa_key", "file_secret", "Reach (aws)", "Reach (azure)", "Reach (gcp)",
                  "AR-SECRET-LEAKED-LIVE"):
        assert shown in proc.stdout, shown
    proc_json = subprocess.run([sys.executable, "-m", "agentreach", "--db", str(tmp_path / "json.db"), "-q", "demo",
                                "--format", "json"], capture_output=True, text=True, env=env, timeout=300)
    assert proc_json.returncode == 0
    body = json.loads(proc_json.stdout)
    assert body["snapshot"]["status"] == "complete" and body["coverage_gaps"] == []
    assert {o["provider"] for o in body["objects"]} >= {"aws", "azure", "gcp", "files"}
    canaries = _demo_canaries(seeded_estate, tmp_path)
    text = proc.stdout + proc.stderr + proc_json.stdout + proc_json.stderr
    assert not leaked(text, canaries)
    assert not leaked(store_bytes(db), canaries) and not leaked(store_bytes(tmp_path / "json.db"), canaries)
    assert not leaked((db.with_name("demo-report.html")).read_bytes(), canaries)
    assert "Traceback" not in text


@pytest.mark.parametrize("verbosity", ["-v", "-vv"])
def test_no_log_line_at_any_verbosity_holds_a_secret(seeded_estate: Any, frontdoor_session: Any, tmp_path: Path,
                                                      verbosity: str) -> None:
    """A verbose log must be safe to paste into a ticket: the assumed role's secret key and
    session token, Lambda/ECS/AgentCore environment values and the estate's other canaries
    never reach stderr, while our own request lines (service, operation, status) do."""
    proc = subprocess.run([sys.executable, "-m", "agentreach", "--db", str(tmp_path / "v.db"), verbosity, "scan",
                           "--endpoint-url", frontdoor_session.url, "--regions", "us-east-1,eu-west-1",
                           "--accounts", ",".join(seeded_estate.accounts)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not leaked(proc.stdout + proc.stderr, seeded_estate.canaries)
    for shape in ("SecretAccessKey", "SessionToken", "X-Amz-Security-Token", "Authorization: AWS4"):
        assert shape not in proc.stderr
    if verbosity == "-vv":
        assert "iam GetAccountAuthorizationDetails -> HTTP 200" in proc.stderr
        assert "sts AssumeRole -> HTTP 200" in proc.stderr


def test_every_log_handler_is_redacted(seeded_estate: Any, frontdoor_session: Any, tmp_path: Path) -> None:
    """A handler someone else installed (a file handler, a log shipper, pytest's) gets the
    same redaction, and the SDKs' wire loggers stay off even when the root logs DEBUG."""
    import io
    import logging

    from agentreach.logsafe import redact

    sink = io.StringIO()
    handler = logging.StreamHandler(sink)
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    try:
        result = CliRunner().invoke(main, ["--db", str(tmp_path / "h.db"), "-vv", "scan", "--endpoint-url",
                                           frontdoor_session.url, "--regions", "us-east-1", "--accounts",
                                           ",".join(seeded_estate.accounts)])
        assert result.exit_code == 0, result.output
        logging.getLogger("agentreach.test").error("leaked %s", seeded_estate.canaries[0])
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    assert not leaked(sink.getvalue(), seeded_estate.canaries)
    assert "leaked" in sink.getvalue() and "botocore" not in sink.getvalue()
    assert redact("SecretAccessKey=abcdEFGH1234/xyz") == "SecretAccessKey=[REDACTED]"


def test_the_azure_and_gcp_connectors_log_no_secret_at_debug(seeded_estate: Any, tmp_path: Path) -> None:
    """The Entra secrets' secretText, the tokens and the GCP private-key canary stay out of a
    -vv log of the demo's Azure and GCP scans (served by the shipped fakes)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    proc = subprocess.run([sys.executable, "-m", "agentreach", "--db", str(tmp_path / "d.db"), "-vv", "demo",
                           "--cloud", "azure", "--cloud", "gcp"], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "agentreach.azure.http" in proc.stderr and "agentreach.gcp.calls" in proc.stderr
    assert not leaked(proc.stdout + proc.stderr, _demo_canaries(seeded_estate, tmp_path))
    assert "Bearer" not in proc.stderr and "Traceback" not in proc.stderr
