"""The files connector on generated trees: detectors, MCP configs, agent-framework context,
public-id links, certificates, .gitignore, git history, gaps, and the canary (no planted
value in any record or in the store)."""

from __future__ import annotations

import datetime as dt
import json
import random
import string
import subprocess
from pathlib import Path

import pytest
from agentreach_connectors.files import FilesConnector
from agentreach_connectors.files.detectors import load_specs

from agentreach.connector import ConnectorConfigError, ScanContext
from agentreach.model import Credential, Edge, Location

R = random.Random(7)
AN = string.ascii_letters + string.digits


def rs(n: int, alphabet: str = AN) -> str:
    return "".join(R.choice(alphabet) for _ in range(n))


HEX = "0123456789abcdef"
# detector secret_type -> (line with a realistic fake key, the value)
KEYS = {
    "OpenAI Project Key": "sk-proj-" + rs(74) + "T3BlbkFJ" + rs(74),
    "OpenAI Service Account Key": "sk-svcacct-" + rs(58) + "T3BlbkFJ" + rs(58),
    "OpenAI Admin Key": "sk-admin-" + rs(58) + "T3BlbkFJ" + rs(58),
    "OpenAI API Key": "sk-" + rs(20) + "T3BlbkFJ" + rs(20),
    "Anthropic API Key": "sk-ant-api03-" + rs(93, AN + "_-") + "AA",
    "Anthropic Admin Key": "sk-ant-admin01-" + rs(93) + "AA",
    "Anthropic Claude OAuth Token": "sk-ant-oat01-" + rs(95) + "AA",
    "Hugging Face Token": "hf_" + rs(34),
    "Google API Key": "AIza" + rs(35),
    "Azure AI Services Key": rs(52) + "JQQJ99" + rs(18) + "ACOG" + rs(4),
    "Entra ID Client Secret": rs(3) + "8Q~" + rs(34),
    "AWS Bedrock API Key": "ABSKQmVkcm9ja0FQSUtleS" + rs(110),
    "Groq API Key": "gsk_" + rs(52),
    "Replicate API Token": "r8_" + rs(37),
    "Pinecone API Key": "pcsk_" + rs(5) + "_" + rs(63),
    "LangSmith API Key": "lsv2_pt_" + rs(32, HEX) + "_" + rs(10, HEX),
    "Langfuse Secret Key": "sk-lf-" + "-".join(rs(n, HEX) for n in (8, 4, 4, 4, 12)),
    "xAI API Key": "xai-" + rs(80),
    "OpenRouter API Key": "sk-or-v1-" + rs(64, HEX),
    "Perplexity API Key": "pplx-" + rs(48),
    "Together AI API Key": "tgp_v1_" + rs(43),
    "NVIDIA API Key": "nvapi-" + rs(64),
    "GitHub Token": "ghp_" + rs(36),
    "Slack Token": "xoxb-" + rs(12, "0123456789") + "-" + rs(13, "0123456789") + "-" + rs(24).lower(),
}
# context-anchored detectors: the line carries the keyword
ANCHORED = {
    "DeepSeek API Key": ("DEEPSEEK_API_KEY={}", "sk-" + rs(32, HEX)),
    "Cohere API Key": ("COHERE_API_KEY={}", rs(40)),
    "Mistral API Key": ("MISTRAL_API_KEY={}", rs(32)),
    "Google Gemini API Key": ("GEMINI_API_KEY={}", "AIza" + rs(35)),
}
AZURE_KEY = rs(32, HEX)
LOOKALIKES = [
    "see the docs for sk-proj-abc and sk-ant-api03-short",
    "id = 123e4567-e89b-12d3-a456-426614174000",
    "sha = 'd41d8cd98f00b204e9800998ecf8427e'",
    "commit 3f786850e387550fdab836ed7e6dc881de23001b",
    "api_key = 'd41d8cd98f00b204e9800998ecf8427e'  # no azure endpoint near",
    "hf_short hf_token_name gsk_ r8_abc AIzaShort xai-short pplx-short nvapi-short",
]
PLANTED: list[str] = []


def planted(value: str) -> str:
    PLANTED.append(value)
    return value


def scan(config: dict) -> tuple[list, ScanContext]:
    ctx = ScanContext(clock=lambda: dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
    return list(FilesConnector(config).scan(ctx)), ctx


def creds(records: list) -> list[Credential]:
    return [r for r in records if isinstance(r, Credential)]


def loc_of(records: list, cred_id: str) -> list[Location]:
    dsts = {r.dst for r in records if isinstance(r, Edge) and r.src == cred_id}
    return [r for r in records if isinstance(r, Location) and r.id in dsts]


def assert_no_values(records: list) -> None:
    blob = "\n".join(repr(r.to_dict()) for r in records)
    for value in PLANTED:
        assert value not in blob


def derived_links(records: list, *cloud: Credential) -> list[Edge]:
    """found_in edges the reach-time deriver makes from cloud credentials to these records."""
    from agentreach.graph import links as link_edges
    from agentreach.view import SnapshotView

    nodes = [r for r in records if not isinstance(r, Edge)] + list(cloud)
    view = SnapshotView.build(nodes, [r.to_dict() for r in records if isinstance(r, Edge)])
    return link_edges.derive(view).edges


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), "-c", "user.email=t@t", "-c", "user.name=t", *args], check=True,
                   capture_output=True)


def test_config_errors() -> None:
    with pytest.raises(ConnectorConfigError, match="paths"):
        FilesConnector({})
    with pytest.raises(ConnectorConfigError, match="bogus"):
        FilesConnector({"paths": ["."], "bogus": 1})


def test_every_detector_fires_and_lookalikes_do_not(tmp_path: Path) -> None:
    lines = [f"KEY_{i} = \"{planted(v)}\"" for i, v in enumerate(KEYS.values())]
    lines += [tpl.format(planted(v)) for tpl, v in ANCHORED.values()]
    lines += ["endpoint = 'https://myres.openai.azure.com/'", f"AZURE_OPENAI_API_KEY = '{planted(AZURE_KEY)}'"]
    (tmp_path / "keys.py").write_text("\n".join(lines) + "\n")
    (tmp_path / "prose.md").write_text("\n".join(LOOKALIKES) + "\n")
    records, ctx = scan({"paths": [str(tmp_path)]})
    found = {c.attrs["detector"] for c in creds(records)}
    for t in [*KEYS, *ANCHORED, "Azure OpenAI API Key"]:
        assert t in found, t
    ours = {s.secret_type for s in load_specs()}
    prose = [c for c in creds(records) if "prose.md" in c.name]
    assert not [c.name for c in prose if c.attrs["detector"] in ours]
    assert len([c for c in creds(records) if "keys.py" in c.name]) >= len(KEYS) + len(ANCHORED) + 1
    c = next(c for c in creds(records) if c.attrs["detector"] == "OpenAI Project Key")
    assert c.type == "file_secret" and c.provider == "files" and c.id == f"files:secret:{c.fingerprint}"
    assert c.name == "OpenAI project key in keys.py:1" and c.attrs["provider_hint"] == "openai"
    assert c.attrs["agent_related"] is True and c.preview == KEYS["OpenAI Project Key"][:4] + "…" + \
        KEYS["OpenAI Project Key"][-2:]
    assert loc_of(records, c.id)[0].path == "keys.py" and loc_of(records, c.id)[0].line == 1
    assert not ctx.gaps.gaps
    assert_no_values(records)


def test_anthropic_constructor_call_is_found(tmp_path: Path) -> None:
    key = planted("sk-ant-api03-" + rs(93) + "AA")
    (tmp_path / "bot.py").write_text(f'from anthropic import Anthropic\nclient = Anthropic(api_key="{key}")\n')
    records, _ = scan({"paths": [str(tmp_path)]})
    [c] = creds(records)
    assert c.attrs["detector"] == "Anthropic API Key" and loc_of(records, c.id)[0].line == 2
    assert_no_values(records)


MCP_FILES = {
    "claude_desktop_config.json": "mcpServers", ".cursor/mcp.json": "mcpServers", ".vscode/mcp.json": "servers",
    ".mcp.json": "mcpServers", "windsurf/mcp_config.json": "mcpServers",
    "cline/cline_mcp_settings.json": "mcpServers",
}


def test_mcp_configs_of_each_client(tmp_path: Path) -> None:
    for i, (rel, key) in enumerate(MCP_FILES.items()):
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        tok, api = planted("ghp_" + rs(36)), planted("Zq" + rs(30))
        path.write_text(json.dumps({key: {"github": {
            "command": "npx", "args": ["-y", "@modelcontextprotocol/server-github"],
            "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": tok, "LOG_LEVEL": "debug", "OTHER_TOKEN": "${input:tok}"}},
            f"api{i}": {"url": "https://x", "headers": {"Authorization": f"Bearer {api}"}}}}, indent=2))
    records, ctx = scan({"paths": [str(tmp_path)]})
    assert not ctx.gaps.gaps
    gh = [c for c in creds(records) if c.name == "GITHUB_PERSONAL_ACCESS_TOKEN of MCP server github"]
    assert len(gh) == len(MCP_FILES)
    for c in gh:
        [loc] = loc_of(records, c.id)
        assert loc.attrs["context"] == "mcp_client_config" and loc.attrs["server"] == "github"
        assert c.attrs["detector"] == "GitHub Token"
    headers = [c for c in creds(records) if c.name.startswith("Authorization of MCP server api")]
    assert len(headers) == len(MCP_FILES)
    assert not [c for c in creds(records) if "OTHER_TOKEN" in c.name or "LOG_LEVEL" in c.name]
    assert_no_values(records)


def test_agent_framework_context(tmp_path: Path) -> None:
    for name, manifest, text in [("lc", "requirements.txt", "langchain-openai==0.2\n"),
                                 ("crew", "pyproject.toml", '[project]\ndependencies = ["crewai>=0.5"]\n'),
                                 ("ts", "package.json", '{"dependencies": {"@modelcontextprotocol/sdk": "1"}}'),
                                 ("plain", "requirements.txt", "requests\n")]:
        (tmp_path / name).mkdir()
        (tmp_path / name / manifest).write_text(text)
        (tmp_path / name / ".env").write_text(f"GROQ_API_KEY={planted('gsk_' + rs(52))}\n")
    records, _ = scan({"paths": [str(tmp_path)]})
    ctxs = {r.path.split("/")[0]: r.attrs["context"] for r in records if isinstance(r, Location)}
    assert ctxs == {"lc": "agent_framework:langchain", "crew": "agent_framework:crewai",
                    "ts": "agent_framework:mcp", "plain": ""}
    assert_no_values(records)


def test_aws_pair_links_to_access_key(tmp_path: Path) -> None:
    kid, secret = "AKIA" + rs(16, string.ascii_uppercase + "234567"), planted(rs(40))
    (tmp_path / "creds").write_text(f"[default]\naws_access_key_id = {kid}\naws_secret_access_key = {secret}\n")
    records, _ = scan({"paths": [str(tmp_path)]})
    sec = next(c for c in creds(records) if c.attrs["detector"] == "AWS Secret Access Key")
    assert sec.attrs["public_id"] == {"aws_access_key_id": kid}
    [loc] = loc_of(records, sec.id)
    live = Credential(id=f"aws:access_key:{kid}", provider="aws", source="aws", type="aws_access_key", name=kid,
                      native_id=kid)
    [edge] = [e for e in derived_links(records, live) if e.dst == loc.id]
    assert edge.src == live.id and edge.attrs["via"] == "access key id" and edge.attrs["matched"] == kid
    assert not [r for r in records if isinstance(r, Edge) and r.src.startswith("aws:")]  # the deriver's job
    assert_no_values(records)


def _key_and_cert(days: int):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "agent.example")])
    now = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(7).not_valid_before(now - dt.timedelta(days=400))
            .not_valid_after(now + dt.timedelta(days=days)).sign(key, hashes.SHA256()))
    pem_key = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    return pem_key, cert


def test_gcp_service_account_key_links_by_private_key_id(tmp_path: Path) -> None:
    pem_key, _ = _key_and_cert(10)
    body = "".join(pem_key.splitlines()[1:-1])
    planted(body)
    (tmp_path / "sa.json").write_text(json.dumps({
        "type": "service_account", "project_id": "p1", "private_key_id": "0123abcd" * 5,
        "private_key": pem_key, "client_email": "bot@p1.iam.gserviceaccount.com"}, indent=2))
    records, _ = scan({"paths": [str(tmp_path)]})
    [c] = creds(records)
    assert c.attrs["detector"] == "GCP Service Account Key"
    assert c.attrs["public_id"]["gcp_private_key_id"] == "0123abcd" * 5
    live = Credential(id="gcp:sa_key:k", provider="gcp", source="gcp", type="gcp_sa_key", name="k",
                      native_id="projects/p1/serviceAccounts/bot@p1.iam.gserviceaccount.com/keys/" + "0123abcd" * 5)
    [edge] = derived_links(records, live)
    assert edge.src == live.id and edge.attrs["via"] == "private key id" and edge.dst == loc_of(records, c.id)[0].id
    assert_no_values(records)


def test_certificate_with_thumbprint_and_expiry(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import hashes, serialization

    pem_key, cert = _key_and_cert(-5)
    planted("".join(pem_key.splitlines()[1:-1]))
    (tmp_path / "tls.pem").write_text(cert.public_bytes(serialization.Encoding.PEM).decode() + pem_key)
    records, _ = scan({"paths": [str(tmp_path)]})
    thumb = cert.fingerprint(hashes.SHA1()).hex().upper()
    c = next(c for c in creds(records) if c.type == "x509_certificate")
    assert c.id == f"x509:certificate:{thumb}" and c.status == "expired"
    assert c.expires == cert.not_valid_after_utc and "agent.example" in c.attrs["subject"]
    key = next(c for c in creds(records) if c.type == "file_secret")
    assert key.attrs["public_id"] == {"certificate_sha1": thumb,
                                      "certificate_sha256": cert.fingerprint(hashes.SHA256()).hex().upper()}
    assert c.attrs["public_id"]["certificate_sha1"] == thumb
    [cert_edge] = [r for r in records if isinstance(r, Edge) and r.src == c.id]
    assert cert_edge.attrs == {"public_only": True}
    assert_no_values(records)


def test_gitignore_all_files_and_history(tmp_path: Path) -> None:
    ignored, removed = planted("hf_" + rs(34)), planted("pplx-" + rs(48))
    git(tmp_path, "init", "-q")
    (tmp_path / ".gitignore").write_text("secret.env\n")
    (tmp_path / "secret.env").write_text(f"HF_TOKEN={ignored}\n")
    (tmp_path / "old.py").write_text(f"KEY = '{removed}'\n")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "one")
    (tmp_path / "old.py").write_text("KEY = os.environ['KEY']\n")
    git(tmp_path, "commit", "-qam", "two")
    records, _ = scan({"paths": [str(tmp_path)]})
    assert not creds(records)
    records, _ = scan({"paths": [str(tmp_path)], "all_files": True})
    assert [c.attrs["detector"] for c in creds(records)] == ["Hugging Face Token"]
    records, ctx = scan({"paths": [str(tmp_path)], "git_history": True})
    [c] = creds(records)
    [loc] = loc_of(records, c.id)
    assert c.attrs["detector"] == "Perplexity API Key" and loc.path == "old.py" and len(loc.attrs["commit"]) == 40
    assert not ctx.gaps.gaps
    assert_no_values(records)


def test_broken_json_is_a_gap_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / ".cursor").mkdir()
    (tmp_path / ".cursor" / "mcp.json").write_text('{"mcpServers": {')
    records, ctx = scan({"paths": [str(tmp_path)]})
    [gap] = ctx.gaps.gaps
    assert gap.connector == "files" and gap.operation == "parse" and ".cursor/mcp.json" in gap.message
    assert str(tmp_path) not in gap.message


def test_through_the_scan_runner(tmp_path: Path) -> None:
    from agentreach.classify import ASPECT
    from agentreach.scan import run_scan
    from agentreach.store import Store

    tree = tmp_path / "tree"
    (tree / ".cursor").mkdir(parents=True)
    tok = planted("ghp_" + rs(36))
    (tree / ".cursor" / "mcp.json").write_text(json.dumps(
        {"mcpServers": {"github": {"env": {"GITHUB_PERSONAL_ACCESS_TOKEN": tok}}}}))
    (tree / "app.py").write_text(f"OPENAI_API_KEY = '{planted('sk-proj-' + rs(80))}'\n")
    store = Store(tmp_path / "s.db")
    result = run_scan(store, {}, [FilesConnector({"paths": [str(tree)]})], ScanContext())
    assert result.snapshot.status == "complete"
    sid = result.snapshot.id
    verdicts = store.annotations(sid, ASPECT)
    mcp_cred = next(n.node for n in store.nodes(sid) if n.node.name.endswith("of MCP server github"))
    assert verdicts[mcp_cred.id]["verdict"] == "agent"
    store.close()
    data = (tmp_path / "s.db").read_bytes()
    for value in PLANTED:
        assert value.encode() not in data


def test_noise_control_placeholders_examples_and_allow_comments(tmp_path: Path) -> None:
    real = "gsk_" + rs(52)
    (tmp_path / "settings.py").write_text("\n".join([
        'OPENAI_API_KEY = "your-openai-key-here"',
        'password = "changeme"',
        'api_key = os.environ["OPENAI_API_KEY"]',
        'db_password = "${DB_PASSWORD}"',
        'aws_access_key_id = "AKIAIOSFODNN7EXAMPLE"',
        f'GROQ_API_KEY = "{"gsk_" + rs(52)}"  # pragma: allowlist secret',
        f'GROQ_FALLBACK = "{"gsk_" + rs(52)}"  # gitleaks:allow',
        f'GROQ_API_KEY_2 = "{real}"',
        'secret = "Zx8#kL2!qW9$mN4@vB7&"',
    ]) + "\n")
    records, _ = scan({"paths": [str(tmp_path)], "all_files": True})
    found = {c.attrs["detector"]: c for c in creds(records) if c.type == "file_secret"}
    lines = sorted(loc.line for c in creds(records) if c.type == "file_secret" for loc in loc_of(records, c.id))
    assert lines == [8, 9], lines  # the live Groq key, and a real-looking keyword secret
    assert any("Groq" in d for d in found)
    assert_no_values(records)
