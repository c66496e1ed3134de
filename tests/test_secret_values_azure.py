"""--match-secret-values on Azure: Key Vault's data plane (``GET {vaultUri}secrets`` and
``secrets/{name}``, api-version 7.4, tokens for https://vault.azure.net) served by the TLS fake
to the real connector, signed in with the real CertificateCredential. Each current value is
named in memory and linked to the file that holds it; the values are canaries."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml
from agentreach_testing.azure_fake import AzureFake
from agentreach_testing.demo.azure import DEMO_CLIENT_ID, _client_certificate, load_estate
from click.testing import CliRunner

from agentreach.cli import main

from .test_secret_values_aws import log_sink

NOW = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
VAULT = "kv-agents-prod"
READER = "33333333-0000-4000-8000-0000000000c1"  # holds Key Vault Secrets User on the vault (the estate)
OPENAI = "Az7Qm3Wx9Lp2Rt6Kd1Hs5Nb8Jc4Fg0Ty"  # bare: no redaction pattern knows it
DENIED = "Dn4Vb8Xc2Zl6Kj0Hg5Fd9Sa3Qw7Er1Ty"
DISABLED = "Ds6Mn0Bv4Cx8Zl2Kj7Hg1Fd5Sa9Qw3Er"
NEAR = OPENAI[:-1] + "U"
CANARIES = [OPENAI, DENIED, DISABLED, NEAR]


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    estate = load_estate(NOW)
    vault = next(v for s in estate["arm"]["subscriptions"] for v in (s.get("resources") or {}).get("vaults") or []
                 if v["name"] == VAULT)
    vault["secrets"] = [
        {"name": "openai-api-key", "value": json.dumps({"endpoint": "https://oai.example/", "key": OPENAI})},
        {"name": "locked", "value": DENIED, "denied": True},
        {"name": "retired", "value": DISABLED, "enabled": False},
        {"name": "tls-cert", "value": "MIIK-not-read", "managed": True},
    ]
    fake = AzureFake(estate, page_size=2)
    url = fake.start()
    tmp = tmp_path_factory.mktemp("azure-values")
    repo = tmp / "repo"
    repo.mkdir()
    (repo / ".env").write_text(f"AZURE_OPENAI_API_KEY={OPENAI}\nLOCKED_TOKEN={DENIED}\nOLD_TOKEN={DISABLED}\n"
                               f"OTHER_TOKEN={NEAR}\n")
    try:
        with tempfile.TemporaryDirectory(prefix="agentreach-kv-") as certs:
            section = {"tenant_id": fake.tenant_id, "credential": "certificate", "client_id": DEMO_CLIENT_ID,
                       "certificate_path": str(_client_certificate(Path(certs))), "authority_host": url,
                       "graph_endpoint": url, "arm_endpoint": url, "ca_bundle": str(fake.ca_path),
                       "max_attempts": 2, "timeout": 10, "max_retry_after": 1, "workers": 2}
            cfg = tmp / "cfg.yaml"
            cfg.write_text(yaml.safe_dump({"connectors": {"azure": section}}))
            db = str(tmp / "inv.db")
            with log_sink() as log:
                res = CliRunner().invoke(main, ["--db", db, "--config", str(cfg), "-vv", "scan", "--only",
                                                "azure,files", "--path", str(repo), "--match-secret-values",
                                                "--format", "json"])
            yield {"db": db, "cfg": str(cfg), "res": res, "fake": fake, "url": url, "log": log.getvalue()}
    finally:
        fake.stop()


def cli(s: dict[str, Any], *args: str) -> str:
    res = CliRunner().invoke(main, ["--db", s["db"], "--config", s["cfg"], *args])
    assert res.exit_code == 0, res.output
    return res.stdout


def show(s: dict[str, Any], ref: str) -> dict[str, Any]:
    return json.loads(cli(s, "show", ref, "--format", "json"))


def test_a_key_vault_secret_is_linked_to_the_file_that_holds_it(scanned: dict[str, Any]) -> None:
    assert scanned["res"].exit_code == 3, scanned["res"].output  # the denied secret
    obj = show(scanned, ".env:1")["object"]
    assert obj["type"] == "azure_key_vault" and obj["name"] == VAULT
    read = obj["attrs"]["value_read"]
    assert read["operation"] == "secrets/get" and read["secrets"]["openai-api-key"]["status"] == "read"
    assert read["secrets"]["retired"] == {"status": "skipped", "reason": "disabled"}
    assert read["secrets"]["tls-cert"]["status"] == "skipped"
    edges = [e for e in show(scanned, obj["id"])["edges"] if e["kind"] == "found_in"]
    assert [(e["dst_name"], e["attrs"]["matched"]) for e in edges] == [(".env:1", "secret openai-api-key field key")]
    assert edges[0]["attrs"]["evidence"] == ("value matches the key field of the current version of secret "
                                             f"openai-api-key in azure_key_vault {VAULT}, read with secrets/get")
    assert show(scanned, ".env:4")["object"]["type"] == "file_secret"  # one character off: not linked


def test_readers_and_the_leaked_live_finding(scanned: dict[str, Any]) -> None:
    obj = show(scanned, ".env:1")["object"]
    who = cli(scanned, "who-can-reach", obj["id"], "--format", "json")
    assert READER in who
    found = json.loads(cli(scanned, "findings", "--rule", "AR-SECRET-LEAKED-LIVE", "--format", "json"))["findings"]
    live = [f for f in found if f["subject"] == obj["id"]]
    assert live and live[0]["severity"] == "critical" and "Key Vault" in live[0]["remediation"]


def test_a_denied_secret_is_a_gap_naming_it(scanned: dict[str, Any]) -> None:
    gaps = json.loads(scanned["res"].stdout)["coverage_gaps"]
    assert [(g["operation"], g["error_code"]) for g in gaps] == [("secrets/get", "Forbidden")]
    assert "secret locked in vault kv-agents-prod" in gaps[0]["message"]
    # the disabled and the certificate's secrets were never asked for
    asked = [r.path for r in scanned["fake"].requests if r.path.startswith("/keyvault/")]
    assert not [p for p in asked if p.endswith(("/retired", "/tls-cert"))]
    assert any(p.endswith("/secrets/openai-api-key") for p in asked)


def test_the_data_plane_refuses_a_token_for_another_audience(scanned: dict[str, Any]) -> None:
    """The fake holds the connector to Key Vault's audience: an ARM token is refused (AKV10022)."""
    import ssl

    fake = scanned["fake"]
    token = fake.bearer("https://management.azure.com")
    ctx = ssl.create_default_context(cafile=str(fake.ca_path))
    req = urllib.request.Request(f"{scanned['url']}/keyvault/{VAULT}/secrets?api-version=7.4",
                                 headers={"Authorization": f"Bearer {token}"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, context=ctx)
    body = json.loads(err.value.read())
    assert err.value.code == 401 and body["error"]["code"] == "Unauthorized" and "AKV10022" in body["error"]["message"]
    vault_token = fake.bearer("https://vault.azure.net")
    ok = urllib.request.Request(req.full_url, headers={"Authorization": f"Bearer {vault_token}"})
    listed = json.loads(urllib.request.urlopen(ok, context=ctx).read())
    assert all("value" not in item for item in listed["value"])  # a list never carries values


def test_no_value_anywhere(scanned: dict[str, Any], tmp_path: Path) -> None:
    db = Path(scanned["db"])
    stored = b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*"))
    assert b"scrypt:" in stored and [c for c in CANARIES if c.encode() in stored] == []
    outputs = [scanned["res"].output]
    for fmt in ("json", "sarif", "csv", "md", "html"):
        target = tmp_path / f"r.{fmt}"
        cli(scanned, "report", "--format", fmt, "-o", str(target))
        outputs.append(target.read_text())
    outputs.append(cli(scanned, "inventory", "--kind", "all", "--format", "json"))
    text = "\n".join(outputs)
    assert [c for c in CANARIES if c in text] == []
    assert "azure: secret values: 1 read" in scanned["log"]  # the log is really at -vv
    assert "azure GET secret (Key Vault) -> HTTP 200" in scanned["log"]
    assert [c for c in CANARIES if c in scanned["log"]] == []
