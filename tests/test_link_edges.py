"""graph/link_edges.py: found secrets joined to the cloud credentials they are, by public id
(AWS access key id, GCP private_key_id, certificate thumbprint), and what the findings rules
make of the joins. First on synthetic nodes (an Entra certificate key credential), then end to
end: a certificate imported into ACM (moto) whose PEM and key sit in a scanned directory."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path
from typing import Any, Iterator

import boto3
import pytest
from click.testing import CliRunner

from agentreach.cli import main
from agentreach.findings import FindingContext, evaluate
from agentreach.graph import links as link_edges
from agentreach.graph.core import Graph
from agentreach.model import Credential, Edge, EdgeKind, Location, node_id
from agentreach.view import SnapshotView

from .conftest import reset_moto

NOW = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
SHA1 = "3A" * 20
SHA256 = "5B" * 32


def loc(name: str) -> Location:
    return Location(id=node_id("files", "location", "repo", name), provider="files", source="files",
                    type="file_location", name=name, path=name.split(":")[0], line=int(name.split(":")[1]),
                    native_id=name.split(":")[0], attrs={"root": "repo"})


def found(cred: Credential, where: Location, **attrs: Any) -> Edge:
    return Edge(src=cred.id, dst=where.id, kind=EdgeKind.FOUND_IN, source="files", attrs=attrs)


def file_secret(fp: str, **public: str) -> Credential:
    return Credential(id=node_id("files", "secret", f"sha256:{fp}"), provider="files", source="files",
                      type="file_secret", name=f"secret {fp[:4]}", fingerprint=f"sha256:{fp}",
                      attrs={"detector": "Private Key", "public_id": public})


class Synthetic:
    """An Entra app's certificate key credential, an AWS access key, and files holding them."""

    def __init__(self) -> None:
        self.entra = Credential(id="azure:key_credential:kc-1", provider="azure", source="azure",
                                type="azure_certificate", name="planner cert", native_id="kc-1",
                                attrs={"thumbprint_sha1": SHA1})
        self.acm = Credential(id="aws:acm_certificate:arn1", provider="aws", source="aws", type="aws_acm_certificate",
                              name="api.example", native_id="arn1",
                              attrs={"thumbprint_sha1": ":".join(SHA1[i:i + 2] for i in range(0, 40, 2)).lower(),
                                     "thumbprint_sha256": SHA256})
        self.key = Credential(id="aws:access_key:AKIAEXAMPLEKEY000001", provider="aws", source="aws",
                              type="aws_access_key", name="AKIA…01", native_id="AKIAEXAMPLEKEY000001")
        self.other = Credential(id="aws:access_key:AKIAOTHERKEY00000009", provider="aws", source="aws",
                                type="aws_access_key", name="other", native_id="AKIAOTHERKEY00000009")
        self.cert_file = Credential(id=node_id("x509", "certificate", SHA1), provider="files", source="files",
                                    type="x509_certificate", name="certificate in tls.pem:1", native_id=SHA1,
                                    attrs={"thumbprint_sha1": SHA1, "public_id": {"certificate_sha1": SHA1,
                                                                                  "certificate_sha256": SHA256}})
        self.pk = file_secret("aa" * 32, certificate_sha1=SHA1, certificate_sha256=SHA256)
        self.aws_secret = file_secret("bb" * 32, aws_access_key_id="AKIAEXAMPLEKEY000001")
        self.unmatched = file_secret("cc" * 32, aws_access_key_id="AKIANOTINVENTORY0001")
        self.l_cert, self.l_key, self.l_env, self.l_x = loc("tls.pem:1"), loc("tls.pem:20"), loc(".env:3"), loc("x.py:1")
        self.nodes = [self.entra, self.acm, self.key, self.other, self.cert_file, self.pk, self.aws_secret,
                      self.unmatched, self.l_cert, self.l_key, self.l_env, self.l_x]
        self.edges = [found(self.cert_file, self.l_cert, public_only=True), found(self.pk, self.l_key),
                      found(self.aws_secret, self.l_env), found(self.unmatched, self.l_x)]

    def view(self, extra: list[Edge] = ()) -> SnapshotView:
        return SnapshotView.build(self.nodes, [e.to_dict() for e in [*self.edges, *extra]])


def test_matches_by_thumbprint_key_id_without_duplicates() -> None:
    s = Synthetic()
    derived = link_edges.derive(s.view())
    got = {(e.src, e.dst): e.attrs for e in derived.edges}
    assert set(got) == {(s.entra.id, s.l_cert.id), (s.entra.id, s.l_key.id), (s.acm.id, s.l_cert.id),
                        (s.acm.id, s.l_key.id), (s.key.id, s.l_env.id)}
    assert got[(s.entra.id, s.l_key.id)] == {"via": "certificate thumbprint", "matched": SHA1,
                                             "file_credential": s.pk.id, "public_only": False}
    assert got[(s.entra.id, s.l_cert.id)]["public_only"] is True
    assert got[(s.key.id, s.l_env.id)]["via"] == "access key id"
    assert all(e.kind == EdgeKind.FOUND_IN and e.source == "link:files" for e in derived.edges)
    # derived edges in the view (a second derive_reach) change nothing
    again = link_edges.derive(s.view(derived.edges))
    assert {e.id for e in again.edges} == {e.id for e in derived.edges}


def test_thumbprint_normalisation() -> None:
    assert link_edges.thumb("3a:3A:ff ee") == "3A3AFFEE"
    assert link_edges.thumb(None) == ""


def test_findings_on_the_joins() -> None:
    s = Synthetic()
    derived = link_edges.derive(s.view())
    view = s.view(derived.edges)
    ctx = FindingContext(view=view, graph=Graph(), now=NOW, agent={}, owner={}, stale={}, sensitivity={},
                         capabilities=frozenset({"files", "aws", "azure"}))
    results = {r.rule.id: {f.subject: f for f in r.findings} for r in evaluate(ctx)}
    live = results["AR-SECRET-LEAKED-LIVE"]
    assert set(live) == {s.entra.id, s.acm.id, s.key.id}
    assert live[s.entra.id].severity == "critical"
    assert any("tls.pem:20" in e for e in live[s.entra.id].evidence)
    in_files = results["AR-SECRET-IN-FILES"]
    # the key and the AWS secret are reported once, as live; the public certificate is no leak
    assert set(in_files) == {s.unmatched.id}


def test_public_certificate_alone_is_linked_but_not_a_leak() -> None:
    s = Synthetic()
    s.nodes.remove(s.pk)
    s.edges = [e for e in s.edges if e.src != s.pk.id]
    derived = link_edges.derive(s.view())
    assert (s.entra.id, s.l_cert.id) in {(e.src, e.dst) for e in derived.edges}
    ctx = FindingContext(view=s.view(derived.edges), graph=Graph(), now=NOW, agent={}, owner={}, stale={},
                         sensitivity={}, capabilities=frozenset({"files", "aws", "azure"}))
    results = {r.rule.id: {f.subject for f in r.findings} for r in evaluate(ctx)}
    assert s.entra.id not in results["AR-SECRET-LEAKED-LIVE"] | results["AR-SECRET-IN-FILES"]
    assert s.cert_file.id not in results["AR-SECRET-IN-FILES"]


# ---------------------------------------------------------------------------- end to end (moto)

def _self_signed() -> tuple[str, str, Any]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "agent-api.example.com")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(4242).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=300))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("agent-api.example.com")]), critical=False)
            .sign(key, hashes.SHA256()))
    pem_cert = cert.public_bytes(serialization.Encoding.PEM).decode()
    pem_key = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode()
    return pem_cert, pem_key, cert


@pytest.fixture(scope="module")
def leaked_cert(moto_url: str, frontdoor_session: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    patch = pytest.MonkeyPatch()
    rule = frontdoor_session.serve_service_specific_credentials({})  # moto lacks the call
    reset_moto(moto_url)
    pem_cert, pem_key, cert = _self_signed()
    acm = boto3.client("acm", endpoint_url=moto_url, region_name="us-east-1")
    arn = acm.import_certificate(Certificate=pem_cert.encode(), PrivateKey=pem_key.encode())["CertificateArn"]
    iam = boto3.client("iam", endpoint_url=moto_url, region_name="us-east-1")
    iam.upload_server_certificate(ServerCertificateName="agent-api", CertificateBody=pem_cert, PrivateKey=pem_key)
    iam.create_user(UserName="ci-agent")
    iam.put_user_policy(UserName="ci-agent", PolicyName="read-models", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
                                                "Resource": "arn:aws:s3:::agent-models/*"}]}))
    boto3.client("s3", endpoint_url=moto_url, region_name="us-east-1").create_bucket(Bucket="agent-models")
    key = iam.create_access_key(UserName="ci-agent")["AccessKey"]
    repo = tmp_path_factory.mktemp("repo")
    (repo / "app").mkdir()
    (repo / "app" / ".env").write_text(f"AWS_ACCESS_KEY_ID={key['AccessKeyId']}\n"
                                       f"AWS_SECRET_ACCESS_KEY={key['SecretAccessKey']}\n")
    (repo / "deploy").mkdir()
    (repo / "deploy" / "tls.pem").write_text(pem_cert + pem_key)
    db = str(tmp_path_factory.mktemp("db") / "inv.db")
    try:
        res = CliRunner().invoke(main, ["--db", db, "-q", "scan", "--only", "aws,files", "--endpoint-url",
                                        frontdoor_session.url, "--regions", "us-east-1", "--path", str(repo)])
    finally:
        frontdoor_session.remove_rule(rule)
    assert res.exit_code == 0, res.output
    from cryptography.hazmat.primitives.serialization import Encoding

    der = cert.public_bytes(Encoding.DER)
    yield {"db": db, "arn": arn, "sha1": hashlib.sha1(der).hexdigest().upper(),
           "sha256": hashlib.sha256(der).hexdigest().upper(), "key_body": "".join(pem_key.splitlines()[1:-1]),
           "repo": repo.name, "key_id": key["AccessKeyId"], "secret": key["SecretAccessKey"], "key_at": f"deploy/tls.pem:{pem_cert.count(chr(10)) + 1}"}
    patch.undo()


def cli(db: str, *args: str, code: int = 0) -> str:
    res = CliRunner().invoke(main, ["--db", db, *args])
    assert res.exit_code == code, res.output
    return res.stdout


def test_acm_and_iam_certificates_carry_thumbprints_and_link_to_the_file(leaked_cert: dict[str, Any]) -> None:
    db = leaked_cert["db"]
    acm = json.loads(cli(db, "show", leaked_cert["arn"], "--format", "json"))
    assert acm["object"]["attrs"]["thumbprint_sha1"] == leaked_cert["sha1"]
    assert acm["object"]["attrs"]["thumbprint_sha256"] == leaked_cert["sha256"]
    links = [e for e in acm["edges"] if e["kind"] == "found_in"]
    assert {e["dst_name"] for e in links} == {"deploy/tls.pem:1", leaked_cert["key_at"]}
    assert {e["attrs"]["via"] for e in links} == {"certificate thumbprint"}
    assert {e["attrs"]["public_only"] for e in links} == {True, False}
    iam = json.loads(cli(db, "show", "agent-api", "--format", "json"))
    assert iam["object"]["type"] == "aws_iam_server_certificate"
    assert iam["object"]["attrs"]["thumbprint_sha1"] == leaked_cert["sha1"]
    assert len([e for e in iam["edges"] if e["kind"] == "found_in"]) == 2


def test_leaked_live_fires_and_show_by_location_finds_the_live_certificate(leaked_cert: dict[str, Any]) -> None:
    db = leaked_cert["db"]
    found = json.loads(cli(db, "findings", "--rule", "AR-SECRET-LEAKED-LIVE", "--format", "json"))["findings"]
    acm = [f for f in found if f["subject_name"] == "agent-api.example.com" or leaked_cert["arn"] in f["subject"]]
    assert acm and acm[0]["severity"] == "critical"
    assert any(leaked_cert["key_at"] in e for e in acm[0]["evidence"])
    # the private key line names two live certificates (ACM and IAM): the CLI lists both ids
    out = CliRunner().invoke(main, ["--db", db, "show", leaked_cert["key_at"]])
    assert out.exit_code != 0 and "matches 2 objects" in out.output and leaked_cert["arn"] in out.output
    prefixed = CliRunner().invoke(main, ["--db", db, "show", f"{leaked_cert['repo']}/{leaked_cert['key_at']}"])
    assert "matches 2 objects" in prefixed.output
    data = b"".join(p.read_bytes() for p in Path(db).parent.glob(Path(db).name + "*"))
    assert leaked_cert["key_body"][64:128].encode() not in data and leaked_cert["secret"].encode() not in data


def test_show_and_reach_by_file_location_resolve_to_the_live_key(leaked_cert: dict[str, Any]) -> None:
    db, kid = leaked_cert["db"], leaked_cert["key_id"]
    for ref in ("app/.env", "app/.env:2", f"{leaked_cert['repo']}/app/.env:1", "./app/.env:2"):
        shown = json.loads(cli(db, "show", ref, "--format", "json"))["object"]
        assert shown["type"] == "aws_access_key" and shown["native_id"] == kid, ref
    reach = json.loads(cli(db, "reach", "app/.env:2", "--format", "json"))
    assert reach["from"]["native_id"] == kid
    assert any("agent-models" in s["name"] for s in reach["systems"]), reach["systems"]
    found = json.loads(cli(db, "findings", "--format", "json"))["findings"]
    live = [f for f in found if f["rule"] == "AR-SECRET-LEAKED-LIVE" and kid in f["subject"]]
    assert live and live[0]["severity"] == "critical"
    assert any("app/.env:2" in e for e in live[0]["evidence"])
    # the file secrets of that key are not reported a second time as merely "in files"
    assert not [f for f in found if f["rule"] == "AR-SECRET-IN-FILES" and ".env" in f["subject_name"]]
    for fmt in ("table", "json"):
        for cmd in (["show", "app/.env:2"], ["reach", "app/.env:2"], ["findings"]):
            assert leaked_cert["secret"] not in cli(db, *cmd, "--format", fmt)
