"""--match-secret-values on AWS: Secrets Manager values read with GetSecretValue from a real
moto server (through the front door, real boto3), named in memory as a file secret is named,
and linked to the files that hold them. The values are canaries: the store's bytes, every
output and report format and the -vv log are searched for them."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import boto3
import pytest
from click.testing import CliRunner

from agentreach.cli import main
from agentreach.secretvalues import MAX_FIELDS, candidates, identities

from .conftest import reset_moto

# Bare random strings: the log redactor has no pattern for them, so only our code keeps them out.
DB_PASSWORD = "Vq7Lm2Xz9Rt4Wp8Kd3Hs6Nb1Jc5Fg0Ty"
OPENAI_KEY = "sk-proj-Ab3dE5gH7jK9mN1pQ3sT5vX7zB9dF1hJ3lN5pR7tV9xZ"
LOCKED = "Lk4Pq8Zm2Wn6Rv0Xs3Tb7Yc1Hd5Jf9Gu"
UNRELATED = "Ux3Mv7Qa1Zr5Wt9Kp2Ln6Hy0Bc4Df8Gs"
NEAR = UNRELATED[:-1] + "T"  # one character off: a different secret
BINARY = bytes(range(256))[128:] * 2  # not UTF-8: no file secret can be it
CANARIES = [DB_PASSWORD, OPENAI_KEY, LOCKED, UNRELATED, NEAR]


@contextlib.contextmanager
def log_sink() -> Iterator[io.StringIO]:
    """Every log record of the process at DEBUG while the block runs, as ``-vv`` logs them (a
    handler on the root logger; the CLI leaves the level of a root it did not set up alone)."""
    sink = io.StringIO()
    handler = logging.StreamHandler(sink)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield sink
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def cli(db: str, *args: str, code: int = 0) -> Any:
    res = CliRunner().invoke(main, ["--db", db, *args])
    assert res.exit_code == code, res.output
    return res


def _deny_locked(request: Any) -> Any:
    """GetSecretValue of agents/locked answered as AWS does when the caller may not use the
    secret's KMS key (the error and message of
    https://docs.aws.amazon.com/secretsmanager/latest/userguide/troubleshoot.html)."""
    from agentreach_testing.aws_frontdoor import error_response

    if "agents/locked" not in (request.param("SecretId") or ""):
        return None
    return error_response(request, "AccessDeniedException",
                          "Access to KMS is not allowed (the secret's key policy does not grant kms:Decrypt)")


@pytest.fixture(scope="module")
def estate(moto_url: str, frontdoor_session: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    reset_moto(moto_url)
    frontdoor_session.clear_rules()
    sm = boto3.client("secretsmanager", endpoint_url=moto_url, region_name="us-east-1")
    arns = {
        "db": sm.create_secret(Name="prod/db", SecretString=json.dumps({
            "username": "app_user", "password": DB_PASSWORD, "engine": "postgres",
            "host": "db.internal.example.com", "port": 5432}))["ARN"],
        "openai": sm.create_secret(Name="agents/openai", SecretString=OPENAI_KEY)["ARN"],
        "binary": sm.create_secret(Name="agents/binary", SecretBinary=BINARY)["ARN"],
        "locked": sm.create_secret(Name="agents/locked", SecretString=LOCKED)["ARN"],
        "unrelated": sm.create_secret(Name="agents/unrelated", SecretString=UNRELATED)["ARN"],
    }
    iam = boto3.client("iam", endpoint_url=moto_url, region_name="us-east-1")
    iam.create_user(UserName="db-migrator")
    iam.put_user_policy(UserName="db-migrator", PolicyName="read-db", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
                                                "Resource": arns["db"]}]}))
    frontdoor_session.serve_service_specific_credentials({})  # moto lacks ListServiceSpecificCredentials
    frontdoor_session.answer("secretsmanager", "GetSecretValue", _deny_locked)
    repo = tmp_path_factory.mktemp("repo")
    (repo / "app").mkdir()
    (repo / "app" / ".env").write_text(f"DB_PASSWORD={DB_PASSWORD}\nOPENAI_API_KEY={OPENAI_KEY}\n"
                                       f"LOCKED_TOKEN={LOCKED}\nSERVICE_TOKEN={NEAR}\n")
    base = tmp_path_factory.mktemp("db")
    args = ["scan", "--only", "aws,files", "--endpoint-url", frontdoor_session.url, "--regions", "us-east-1",
            "--path", str(repo)]
    db = str(base / "inv.db")
    frontdoor_session.reset_counts()
    res = CliRunner().invoke(main, ["--db", db, "-q", *args, "--match-secret-values", "--format", "json"])
    assert res.exit_code == 3, res.output  # 3: completed with a coverage gap (the denied read)
    summary = json.loads(res.stdout)
    value_calls = frontdoor_session.calls.get(("secretsmanager", "GetSecretValue"), 0)
    plain = str(base / "plain.db")
    frontdoor_session.reset_counts()
    plain_res = CliRunner().invoke(main, ["--db", plain, "-q", *args])
    plain_value_calls = frontdoor_session.calls.get(("secretsmanager", "GetSecretValue"), 0)
    # -vv in a process of its own, as a user runs it: the log is searched for the values
    proc = subprocess.run([sys.executable, "-m", "agentreach", "--db", str(base / "vv.db"), "-vv", *args,
                           "--match-secret-values"], capture_output=True, text=True, timeout=300,
                          env={**os.environ})
    yield {"db": db, "plain": plain, "plain_res": plain_res, "arns": arns, "summary": summary, "repo": repo,
           "value_calls": value_calls, "plain_value_calls": plain_value_calls, "vv": proc}
    frontdoor_session.clear_rules()


def _obj(db: str, ref: str) -> dict[str, Any]:
    return json.loads(cli(db, "show", ref, "--format", "json").stdout)


def test_naming_values_in_many_threads_leaves_the_detectors_working() -> None:
    """The value workers run the files detectors (detect-secrets, whose settings are
    process-global) at once; without the lock in secretvalues this leaves detect-secrets'
    settings naming plugins it can no longer load, and the next files scan fails."""
    from concurrent.futures import ThreadPoolExecutor

    from detect_secrets.settings import get_settings

    from agentreach.secretvalues import secret_scanners

    scanners = secret_scanners()
    with ThreadPoolExecutor(4) as pool:
        found = list(pool.map(lambda i: candidates(f"TOKEN=Vq7Lm2Xz9Rt4Wp8Kd3Hs6Nb{i:03d}", scanners), range(24)))
    assert all(len(c) >= 2 for c in found)  # the value itself, and what the detector found after TOKEN=
    assert get_settings().json()["plugins_used"] == []


def test_a_pem_value_is_also_named_by_its_body_as_the_files_connector_names_it() -> None:
    """A private key kept in a secret is written in a file as PEM; the files connector names it
    by its base64 body, so the value's candidates include that body (what the detectors find)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from agentreach.secretvalues import secret_scanners

    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    body = "".join(pem.strip().splitlines()[1:-1])
    found = {text: part for part, text in candidates(pem, secret_scanners())}
    assert found[pem] == "value" and found.get(body, "").startswith("found ")
    assert candidates(OPENAI_KEY, secret_scanners()) == [("value", OPENAI_KEY)]  # a bare token: no detectors run


def test_candidates_are_the_value_its_fields_and_bounded() -> None:
    doc = json.dumps({"username": "app_user", "password": DB_PASSWORD, "port": 5432, "host": "short"})
    parts = dict((p, t) for p, t in candidates(doc))
    # a file holds the password, never the JSON document, the user name, the host or the port
    assert parts == {"field password": DB_PASSWORD}
    assert candidates(f"  {OPENAI_KEY}\n") == [("value", f"  {OPENAI_KEY}\n"), ("value", OPENAI_KEY)]
    many = json.dumps({f"k{i}": f"value-number-{i:04d}" for i in range(40)})
    assert len([p for p, _ in candidates(many) if p.startswith("field ")]) == MAX_FIELDS
    found, reason = identities(BINARY, lambda v: "id:" + str(len(v)))
    assert found == [] and reason and "not UTF-8" in reason


def test_a_file_secret_is_linked_to_the_secret_whose_value_it_holds(estate: dict[str, Any]) -> None:
    db = estate["db"]
    shown = _obj(db, "app/.env:1")["object"]  # FILE:LINE resolves to the live secret it is
    assert shown["native_id"] == estate["arns"]["db"] and shown["type"] == "aws_secretsmanager_secret"
    assert shown["attrs"]["value_read"]["status"] == "read"
    assert shown["attrs"]["value_read"]["version"] == "AWSCURRENT"
    assert _obj(db, "app/.env:2")["object"]["native_id"] == estate["arns"]["openai"]
    edges = [e for e in _obj(db, estate["arns"]["db"])["edges"] if e["kind"] == "found_in"]
    assert [(e["dst_name"], e["attrs"]["via"], e["attrs"]["matched"]) for e in edges] == \
        [("app/.env:1", "secret value", "field password")]
    assert edges[0]["attrs"]["evidence"] == ("value matches the password field of the current version (AWSCURRENT) "
                                             "of aws_secretsmanager_secret prod/db, read with GetSecretValue")
    # the file secret's own id names the live secret too
    file_secret = edges[0]["attrs"]["file_credential"]
    table = cli(db, "show", file_secret).stdout
    assert "is the live" in table and "prod/db" in table and "GetSecretValue" in table
    as_json = _obj(db, file_secret)
    assert any(e["src"] == shown["id"] and e["attrs"].get("file_credential") == file_secret for e in as_json["edges"])


def test_who_can_reach_the_secret_names_its_readers(estate: dict[str, Any]) -> None:
    out = json.loads(cli(estate["db"], "who-can-reach", estate["arns"]["db"], "--format", "json").stdout)
    names = json.dumps(out)
    assert "db-migrator" in names


def test_leaked_live_fires_for_the_secret_and_says_why(estate: dict[str, Any]) -> None:
    db = estate["db"]
    found = json.loads(cli(db, "findings", "--format", "json").stdout)["findings"]
    live = {f["subject_name"]: f for f in found if f["rule"] == "AR-SECRET-LEAKED-LIVE"}
    assert {"prod/db", "agents/openai"} <= set(live)
    db_finding = live["prod/db"]
    assert db_finding["severity"] == "critical"
    text = "\n".join(db_finding["evidence"])
    assert "value matches the password field of the current version (AWSCURRENT)" in text
    assert "app/.env:1" in text and "db-migrator" in text
    assert "rotate-secret" in db_finding["remediation"]
    # the file secrets that are live secrets are not reported again as merely "in files"
    in_files = [f for f in found if f["rule"] == "AR-SECRET-IN-FILES"]
    assert all("app/.env:1" not in json.dumps(f) and "app/.env:2" not in json.dumps(f) for f in in_files)
    assert {item["name"] for item in estate["summary"]["leaked_live"]} >= {"prod/db", "agents/openai"}


def test_a_near_miss_is_not_linked(estate: dict[str, Any]) -> None:
    db = estate["db"]
    unrelated = _obj(db, estate["arns"]["unrelated"])
    assert unrelated["object"]["attrs"]["value_read"]["status"] == "read"
    assert not [e for e in unrelated["edges"] if e["kind"] == "found_in"]
    near = _obj(db, "app/.env:4")["object"]
    assert near["type"] == "file_secret"  # still just a secret in a file
    found = json.loads(cli(db, "findings", "--rule", "AR-SECRET-IN-FILES", "--format", "json").stdout)["findings"]
    assert any(loc["path"] == "app/.env" and loc["line"] == 4 for f in found for loc in f.get("locations") or ())


def test_a_denied_read_is_a_gap_for_that_secret_and_binary_is_skipped_with_a_reason(estate: dict[str, Any]) -> None:
    db = estate["db"]
    gaps = [g for g in estate["summary"]["coverage_gaps"] if g["operation"] == "GetSecretValue"]
    assert len(gaps) == 1 and gaps[0]["error_code"] == "AccessDeniedException"
    assert "agents/locked" in gaps[0]["message"]
    locked = _obj(db, estate["arns"]["locked"])["object"]["attrs"]
    assert locked["value_read"]["status"] == "denied" and locked["value_identities"] == []
    binary = _obj(db, estate["arns"]["binary"])["object"]["attrs"]
    assert binary["value_read"]["status"] == "skipped" and "not UTF-8" in binary["value_read"]["reason"]
    assert _obj(db, "app/.env:3")["object"]["type"] == "file_secret"  # its file copy stays unresolved
    aws = next(r for r in estate["summary"]["connectors"] if r["name"] == "aws")
    assert aws["summary"]["secret_values"]["read"] == 3 and aws["summary"]["secret_values"]["denied"] == 1
    assert aws["summary"]["secret_values"]["skipped"] == 1
    assert estate["value_calls"] == 5


def test_off_by_default(estate: dict[str, Any]) -> None:
    assert estate["plain_res"].exit_code == 0, estate["plain_res"].output
    assert estate["plain_value_calls"] == 0
    attrs = _obj(estate["plain"], estate["arns"]["db"])["object"]["attrs"]
    assert "value_identities" not in attrs and "value_read" not in attrs
    assert _obj(estate["plain"], "app/.env:1")["object"]["type"] == "file_secret"


def _leaks(data: str | bytes) -> list[str]:
    raw = data.encode() if isinstance(data, str) else data
    return [c for c in CANARIES if c.encode() in raw]


def test_no_value_anywhere(estate: dict[str, Any], tmp_path: Path) -> None:
    db = estate["db"]
    stored = b"".join(p.read_bytes() for p in Path(db).parent.glob(Path(db).name + "*"))
    assert b"scrypt:" in stored and _leaks(stored) == []
    outputs = [json.dumps(estate["summary"])]
    for fmt in ("json", "sarif", "csv", "md", "html"):
        target = tmp_path / f"report.{fmt}"
        cli(db, "report", "--format", fmt, "-o", str(target))
        outputs.append(target.read_text())
    for args in (["findings", "--format", "json"], ["inventory", "--kind", "all", "--format", "json"],
                 ["inventory", "--kind", "all", "--format", "csv"], ["show", "app/.env:1"],
                 ["graph", "export", "--format", "json"]):
        outputs.append(cli(db, *args).stdout)
    assert _leaks("\n".join(outputs)) == []
    vv = estate["vv"]
    assert vv.returncode == 3, vv.stderr[-2000:]
    assert "secretsmanager GetSecretValue -> HTTP 200" in vv.stderr  # the log is really at -vv
    assert "secret values: 3 read" in vv.stderr
    assert _leaks(vv.stdout + vv.stderr) == []
