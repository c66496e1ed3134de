"""--match-secret-values on GCP: Secret Manager's ``versions/latest:access`` served by the
shipped REST fake (base64 payload, dataCrc32c) to the real connector, each value named in
memory and linked to the file that holds it. The values are canaries searched for in the
store's bytes and every output."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml
from agentreach_connectors.gcp.resources import crc32c
from agentreach_testing.gcp_fake import crc32c as fake_crc32c, start_fakes
from click.testing import CliRunner

from agentreach.cli import main

from .test_secret_values_aws import log_sink

NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
PROJECT = "agents-prod"
AGENT = f"adk-agent@{PROJECT}.iam.gserviceaccount.com"
GEMINI = "Gq5Wm8Rx2Tz6Lp9Kc3Vb7Nd1Hs4Jf0Ya"  # bare: no log redaction pattern knows it
OLD = "Oz1Xc5Vb9Nm3Qw7Er2Ty6Ui0Op4As8Df"  # an earlier version: not the current value
DISABLED = "Dk2Lm6Nb0Vc4Xz8Qa1Ws5Ed9Rf3Tg7Yh"
DENIED = "Pn7Bv3Cx9Zl5Kj1Hg6Fd2Sa8Qw4Er0Ty"
CANARIES = [GEMINI, OLD, DISABLED, DENIED]


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    estate = {"projects": [{
        "projectId": PROJECT, "number": 123456789012,
        "serviceAccounts": [{"email": AGENT, "uniqueId": "1001", "displayName": "ADK agent"}],
        "secrets": [
            {"id": "gemini-key", "versions": [{"data": OLD}, {"data": json.dumps({"api_key": GEMINI})}],
             "policy": {"bindings": [{"role": "roles/secretmanager.secretAccessor",
                                      "members": [f"serviceAccount:{AGENT}"]}]}},
            {"id": "old-token", "versions": [{"data": DISABLED}, {"data": DISABLED + "x", "state": "DISABLED"}]},
            {"id": "locked", "access_denied": True, "versions": [{"data": DENIED}]},
            {"id": "empty"},
        ]}]}
    fakes = start_fakes(estate, NOW)
    tmp = tmp_path_factory.mktemp("gcp-values")
    repo = tmp / "repo"
    repo.mkdir()
    (repo / ".env").write_text(f"GEMINI_API_KEY={GEMINI}\nLEGACY_TOKEN={OLD}\nOLD_TOKEN={DISABLED}\n"
                               f"LOCKED_TOKEN={DENIED}\n")
    cfg = tmp / "cfg.yaml"
    cfg.write_text(yaml.safe_dump({"connectors": {"gcp": fakes.config(last_used=False)}}))
    db = str(tmp / "inv.db")
    try:
        with log_sink() as log:
            res = CliRunner().invoke(main, ["--db", db, "--config", str(cfg), "-vv", "scan", "--only", "gcp,files",
                                            "--path", str(repo), "--match-secret-values", "--format", "json"])
        yield {"db": db, "cfg": str(cfg), "res": res, "tmp": tmp, "log": log.getvalue()}
    finally:
        fakes.stop()


def cli(s: dict[str, Any], *args: str) -> str:
    res = CliRunner().invoke(main, ["--db", s["db"], "--config", s["cfg"], *args])
    assert res.exit_code == 0, res.output
    return res.stdout


def show(s: dict[str, Any], ref: str) -> dict[str, Any]:
    return json.loads(cli(s, "show", ref, "--format", "json"))


def test_crc32c_agrees_with_the_check_value() -> None:
    assert crc32c(b"123456789") == fake_crc32c(b"123456789") == 0xE3069283  # RFC 3720 B.4
    assert crc32c(GEMINI.encode()) == fake_crc32c(GEMINI.encode())


def test_the_latest_version_is_linked_to_the_file_that_holds_it(scanned: dict[str, Any]) -> None:
    assert scanned["res"].exit_code == 3, scanned["res"].output  # the denied and the disabled secret
    obj = show(scanned, ".env:1")["object"]
    assert obj["native_id"] == f"projects/{PROJECT}/secrets/gemini-key"
    assert obj["attrs"]["value_read"] == {"status": "read", "operation": "versions.access", "version": "latest",
                                          "version_id": "2"}
    edges = [e for e in show(scanned, obj["id"])["edges"] if e["kind"] == "found_in"]
    assert [(e["dst_name"], e["attrs"]["matched"]) for e in edges] == [(".env:1", "field api_key")]
    assert "read with versions.access" in edges[0]["attrs"]["evidence"]
    # an earlier version is not the current value: its file copy stays a plain file secret
    assert show(scanned, ".env:2")["object"]["type"] == "file_secret"


def test_readers_and_the_leaked_live_finding(scanned: dict[str, Any]) -> None:
    who = cli(scanned, "who-can-reach", f"projects/{PROJECT}/secrets/gemini-key", "--format", "json")
    assert AGENT in who
    found = json.loads(cli(scanned, "findings", "--rule", "AR-SECRET-LEAKED-LIVE", "--format", "json"))["findings"]
    live = [f for f in found if f["subject_name"] == "gemini-key"]
    assert live and live[0]["severity"] == "critical"
    assert any("api_key field of the current version (latest) of gcp_secret gemini-key" in e
               for e in live[0]["evidence"])
    assert any("adk-agent" in e for e in live[0]["evidence"])
    assert "new version" in live[0]["remediation"]


def test_denied_and_disabled_are_gaps_per_secret_and_no_version_is_absent(scanned: dict[str, Any]) -> None:
    summary = json.loads(scanned["res"].stdout)
    gaps = sorted((g["operation"], g["error_code"], g["message"]) for g in summary["coverage_gaps"])
    assert [(op, code) for op, code, _ in gaps] == [("versions.access", "FAILED_PRECONDITION"),
                                                    ("versions.access", "PERMISSION_DENIED")]
    assert "secrets/old-token/versions/2 is in DISABLED state" in gaps[0][2].replace("] ", " ").replace("[", "")
    assert "secrets/locked/versions/latest" in gaps[1][2]
    assert show(scanned, f"projects/{PROJECT}/secrets/empty")["object"]["attrs"]["value_read"]["status"] == "absent"
    gcp = next(r for r in summary["connectors"] if r["name"] == "gcp")
    values = gcp["summary"]["secret_values"]
    assert (values["read"], values["denied"], values["failed"], values["skipped"], values["absent"]) == \
        (1, 1, 1, 0, 1)
    assert values["identities"] == 1  # the api_key field: the JSON document itself is no file's value


def test_no_value_anywhere(scanned: dict[str, Any], tmp_path: Path) -> None:
    db = Path(scanned["db"])
    stored = b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))
    assert b"scrypt:" in stored
    assert [c for c in CANARIES if c.encode() in stored] == []
    outputs = [scanned["res"].output]
    for fmt in ("json", "sarif", "csv", "md", "html"):
        target = tmp_path / f"r.{fmt}"
        cli(scanned, "report", "--format", fmt, "-o", str(target))
        outputs.append(target.read_text())
    outputs += [cli(scanned, "inventory", "--kind", "all", "--format", "json"), cli(scanned, "show", ".env:1")]
    text = "\n".join(outputs)
    assert [c for c in CANARIES if c in text] == []
    assert "gcp: secret values: 1 read" in scanned["log"]  # the log is really at -vv
    assert "gcp secretmanager versions.access -> ok" in scanned["log"]
    assert [c for c in CANARIES if c in scanned["log"]] == []
