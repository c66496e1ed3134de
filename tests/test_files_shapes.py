"""Secrets in shapes that other scanners' labelled examples hold and a line scanner misreads:
a private key under one more layer of base64 (a Kubernetes TLS Secret), PEM labels outside
detect-secrets' list, an assignment inside a JSON string written with escaped quotes, and a
value pasted into a documentation template's braces. Each also has its near miss: the same
shape holding no secret must stay unreported."""

from __future__ import annotations

import base64
import datetime as dt
import random
import string
from pathlib import Path

import pytest
from agentreach_connectors.files import FilesConnector
from agentreach_connectors.files.detectors import Noise, reads_as_name
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from agentreach.connector import ScanContext
from agentreach.model import Credential, Edge, Location


def scan(root: Path) -> list:
    ctx = ScanContext(clock=lambda: dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
    return list(FilesConnector({"paths": [str(root)], "all_files": True}).scan(ctx))


def found(records: list) -> dict[str, list[tuple[str, int, str]]]:
    """credential id -> [(file name, line, detector)] of each place it was found."""
    creds = {r.id: r for r in records if isinstance(r, Credential) and r.type == "file_secret"}
    locs = {r.id: r for r in records if isinstance(r, Location)}
    out: dict[str, list[tuple[str, int, str]]] = {}
    for e in records:
        if isinstance(e, Edge) and e.src in creds and e.dst in locs:
            loc = locs[e.dst]
            out.setdefault(e.src, []).append((Path(loc.path).name, loc.line or 0, str(creds[e.src].attrs["detector"])))
    return out


def places(records: list) -> set[tuple[str, int]]:
    return {(name, line) for where in found(records).values() for name, line, _ in where}


def pem(key, fmt=serialization.PrivateFormat.PKCS8) -> str:
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()).decode()


@pytest.fixture(scope="module")
def rsa_pem() -> str:
    return pem(rsa.generate_private_key(public_exponent=65537, key_size=2048),
               serialization.PrivateFormat.TraditionalOpenSSL)


def test_a_base64_encoded_private_key_is_the_same_secret_as_its_pem_form(tmp_path: Path, rsa_pem: str) -> None:
    encoded = base64.b64encode(rsa_pem.encode()).decode()
    (tmp_path / "key.pem").write_text(rsa_pem)
    (tmp_path / "tls-secret.yaml").write_text(
        "apiVersion: v1\nkind: Secret\ntype: kubernetes.io/tls\nmetadata:\n  name: web-tls\ndata:\n"
        f"  tls.crt: {base64.b64encode(b'-----BEGIN CERTIFICATE-----').decode()}\n  tls.key: {encoded}\n")
    (tmp_path / "settings.py").write_text(f"PRIVATE_KEY_B64={encoded}\n")
    records = scan(tmp_path)
    by_id = found(records)
    key = [where for where in by_id.values() if ("tls-secret.yaml", 8) in {(n, ln) for n, ln, _ in where}]
    assert key, by_id
    assert {(n, ln) for n, ln, _ in key[0]} == {("key.pem", 1), ("tls-secret.yaml", 8), ("settings.py", 1)}
    assert ("tls-secret.yaml", 7) not in places(records)  # the certificate line is public
    text = "\n".join(str(r) for r in records)
    body = "".join(rsa_pem.strip().splitlines()[1:-1])
    assert encoded not in text and body not in text and body[10:40] not in text


def test_a_base64_prefix_alone_or_a_certificate_under_base64_is_not_a_key(tmp_path: Path) -> None:
    cert = "-----BEGIN CERTIFICATE-----\n" + "MIIB" + "A" * 60 + "\n-----END CERTIFICATE-----\n"
    (tmp_path / "a.env").write_text(
        f"TLS_CERT={base64.b64encode(cert.encode()).decode()}\n"
        f"MARKER={base64.b64encode(b'-----BEGIN RSA PRIVATE KEY-----').decode()}\n")
    assert places(scan(tmp_path)) == set()


def test_private_keys_under_labels_detect_secrets_does_not_list_are_found(tmp_path: Path) -> None:
    ed = pem(ed25519.Ed25519PrivateKey.generate()).replace("PRIVATE KEY", "ED25519 PRIVATE KEY")
    rng = random.Random(3)
    body = "".join(rng.choice(string.ascii_letters + string.digits + "+/") for _ in range(64))
    block = f"-----BEGIN ENCRYPTED PRIVATE KEY BLOCK-----\n{body}\n-----END ENCRYPTED PRIVATE KEY BLOCK-----\n"
    (tmp_path / "id_ed25519").write_text(ed)
    (tmp_path / "notes.md").write_text("# keys\n\n```\n" + block + "```\n")
    (tmp_path / "consts.py").write_text('MARKER = "-----BEGIN X25519 PRIVATE KEY-----"\n\n\n\n\nDEBUG = True\n')
    by_id = found(scan(tmp_path))
    got = {(n, ln, d) for where in by_id.values() for n, ln, d in where}
    assert got == {("id_ed25519", 1, "PEM Private Key"), ("notes.md", 4, "PEM Private Key")}


def test_an_assignment_inside_escaped_quotes_is_found_and_named_by_its_unescaped_value(tmp_path: Path) -> None:
    (tmp_path / "service.log").write_text(
        '2025-03-02T10:00:02Z DEBUG payload="{\\"db_password\\": \\"Xk9#mq2Lw7\\", \\"user\\": \\"svc\\"}"\n'
        '2025-03-02T10:00:03Z DEBUG payload="{\\"db_password\\": \\"${DB_PASSWORD}\\"}"\n')
    (tmp_path / "app.json").write_text('{"db_password": "Xk9#mq2Lw7"}\n')
    records = scan(tmp_path)
    by_id = found(records)
    assert len(by_id) == 1, by_id  # the logged value and the plain one are the same secret
    assert {(n, ln) for n, ln, _ in next(iter(by_id.values()))} == {("service.log", 1), ("app.json", 1)}
    assert "Xk9#mq2Lw7" not in "\n".join(str(r) for r in records)


def test_a_value_pasted_into_template_braces_is_reported_and_a_template_is_not(tmp_path: Path) -> None:
    (tmp_path / "call.sh").write_text(
        'curl -X POST --user "{acd3c08b-74e8-4f44-a2d0-80694fe24f46}":"{ZqL5kVrX1n8tA2}" https://gateway.example/api\n'
        'curl -X POST --user "{username}":"{password}" https://gateway.example/api\n'
        'curl -u "apikey:{apikey}" https://gateway.example/api\n'
        'curl -u "apikey:{self.api_key}" https://gateway.example/api\n')
    assert places(scan(tmp_path)) == {("call.sh", 1)}


@pytest.mark.parametrize("value", ["{apikey}", "{api_key}", "{YOUR_API_KEY}", "{ self.token }", "{0}", "{x}",
                                   "clientSecret", "accessTokenKey", "dbPassword", "s3BucketKey"])
def test_names_in_braces_and_field_names_are_placeholders(value: str) -> None:
    assert Noise.load().reason(value, f"password = '{value}'", ours=False) == "placeholder"


@pytest.mark.parametrize("value", ["{ZqL5kVrX1n8tA2}", "{acd3c08b-74e8-4f44-a2d0-80694fe24f46}", "p8KeyJFxBVbaTo",
                                   "Qw7KeyxR2vTz9Lm"])
def test_random_values_in_braces_or_holding_a_field_word_are_not(value: str) -> None:
    assert Noise.load().reason(value, f"password = '{value}'", ours=False) != "placeholder"


def test_reads_as_name_tells_identifiers_from_random_text() -> None:
    """Not a score: the boundary cases of the rule as its docstring states it."""
    assert all(reads_as_name(s) for s in ("apiKey", "AWS_SECRET_ACCESS_KEY", "myS3BucketKey", "password1", "ab", "12"))
    assert not any(reads_as_name(s) for s in ("ZqL5kVrX1n8tA2", "a1b2c3d4", "x9Y8z7W6v5", "1-2-3-4"))


def test_a_storage_account_key_outside_a_connection_string_is_found_by_its_shape_and_context(tmp_path: Path) -> None:
    rng = random.Random(11)
    key = lambda: "".join(rng.choice(string.ascii_letters + string.digits + "+/") for _ in range(86)) + "=="  # noqa: E731
    (tmp_path / "AzuriteContainer.java").write_text(
        'public static final String DEFAULT_ACCOUNT_NAME = "store1";\n'
        "public static final String DEFAULT_ACCOUNT_KEY\n"
        f'        = "{key()}";\n')
    (tmp_path / "conf.xml").write_text(f"<azure>\n  <account_name>store1</account_name>\n  <account_key>{key()}</account_key>\n</azure>\n")
    (tmp_path / "cleanup.sh").write_text(f"AzureStorageCleanup.exe -storagename acct \\\n    -storagekey {key()} -container b\n")
    # near misses: the same shape with no storage word near it, and Azurite's published key
    (tmp_path / "lock.json").write_text(f'{{\n  "name": "pkg",\n  "integrity": "{key()}"\n}}\n')
    (tmp_path / "azurite.env").write_text(
        "AZURE_STORAGE_ACCOUNT=devstoreaccount1\nAZURE_STORAGE_KEY=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2"
        "UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==\n")
    got = {(n, ln, d) for where in found(scan(tmp_path)).values() for n, ln, d in where}
    assert got == {("AzuriteContainer.java", 3, "Azure Storage Key"), ("conf.xml", 3, "Azure Storage Key"),
                   ("cleanup.sh", 2, "Azure Storage Key")}


def test_an_entra_secret_may_start_with_a_dash_and_an_atlassian_admin_key_is_found(tmp_path: Path) -> None:
    rng = random.Random(12)
    alpha = string.ascii_letters + string.digits + "_~.-"
    body = "".join(rng.choice(alpha) for _ in range(34))
    admin = "ATCTT3xFfGN0" + "".join(rng.choice(string.ascii_letters + string.digits + "_-") for _ in range(170)) + "=366BFE3A"
    (tmp_path / "application.yaml").write_text(f"azure:\n  credential:\n    client-secret: -b{rng.randint(0, 9)}8Q~{body}\n")
    (tmp_path / "admin.log").write_text(f"[DEBUG] Using Key={admin}\n")
    got = {(n, ln, d) for where in found(scan(tmp_path)).values() for n, ln, d in where}
    assert got == {("application.yaml", 3, "Entra ID Client Secret"), ("admin.log", 1, "Atlassian API Token")}


def test_a_legacy_npm_token_is_a_uuid_and_is_found_only_as_the_registry_auth_token(tmp_path: Path) -> None:
    rng = random.Random(13)
    uuid = "-".join("".join(rng.choice("0123456789abcdef") for _ in range(n)) for n in (8, 4, 4, 4, 12))
    (tmp_path / ".npmrc").write_text(f"registry=https://registry.npmjs.org/\n//registry.npmjs.org/:_authToken={uuid}\n"
                                     "//npm.pkg.github.com/:_authToken=${NPM_TOKEN}\n")
    (tmp_path / "ids.py").write_text(f'REQUEST_ID = "{uuid}"\napi_key_id = "{uuid}"\n')
    got = {(n, ln, d) for where in found(scan(tmp_path)).values() for n, ln, d in where}
    assert got == {(".npmrc", 2, "NPM tokens")}
