"""Noise control of the files connector beyond allow comments and placeholders: entropy floors
per detector (at their boundaries), test-fixture heuristics (paths, made-up values, the three
modes, and the findings rule keeping fixtures low), and a multi-process scan whose records are
identical to a single-process one."""

from __future__ import annotations

import datetime as dt
import math
import random
import string
from collections import Counter
from pathlib import Path

import agentreach_connectors.files as files_connector
import pytest
from agentreach_connectors.files import CHUNK, FilesConnector
from agentreach_connectors.files.detectors import Noise, load_specs, shannon
from agentreach_connectors.files.fixtures import FixtureRules, path_reason, value_reason

from agentreach.connector import ConnectorConfigError, ScanContext
from agentreach.model import Credential, Edge, Location

R = random.Random(5)
HEX = "0123456789abcdef"
AN = string.ascii_letters + string.digits


def scan(config: dict) -> list:
    ctx = ScanContext(clock=lambda: dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
    return list(FilesConnector(config).scan(ctx))


def creds(records: list) -> list[Credential]:
    return [r for r in records if isinstance(r, Credential) and r.type == "file_secret"]


def with_entropy(n: int, alphabet: str, lo: float, hi: float, rng: random.Random) -> str:
    """A shuffled string of ``n`` characters from ``alphabet`` whose entropy is in [lo, hi)."""
    for _ in range(20000):
        k = rng.randint(2, min(len(alphabet), n))
        cuts = sorted(rng.sample(range(1, n), k - 1))
        counts = [b - a for a, b in zip([0, *cuts], [*cuts, n], strict=True)]
        h = -sum(c / n * math.log2(c / n) for c in counts)
        if lo <= h < hi:
            chars = [ch for ch, c in zip(rng.sample(alphabet, k), counts, strict=True) for _ in range(c)]
            rng.shuffle(chars)
            return "".join(chars)
    raise AssertionError(f"no string of entropy in [{lo}, {hi})")


# detector id -> (line template, body length, alphabet, prefix inside the value)
FLOORED = {
    "azure-openai-key": ("AZURE_OPENAI_API_KEY = '{}'  # https://res1.openai.azure.com/", 32, HEX, ""),
    "cohere-api-key": ("COHERE_API_KEY={}", 40, AN, ""),
    "mistral-api-key": ("MISTRAL_API_KEY={}", 32, AN, ""),
    "deepseek-api-key": ("DEEPSEEK_API_KEY={}", 32, HEX, "sk-"),
    "aws-secret-access-key": ("aws_secret_access_key = {}", 40, AN + "/+", ""),
    "env-secret-assignment": ("export DB_PASSWORD={}", 24, AN, ""),
    # context detectors of issue 16
    "aws-session-token": ("export AWS_SESSION_TOKEN={}", 120, AN + "/+", ""),
    "atlassian-api-token": ("jira_token: {}", 24, AN, ""),
    "datadog-key": ("DD_API_KEY={}", 32, HEX, ""),
    "sentry-token": ("SENTRY_TOKEN={}", 64, HEX, ""),
    "twilio-auth-token": ("TWILIO_AUTH_TOKEN={}", 32, HEX, ""),
    "rails-master-key": ("RAILS_MASTER_KEY={}", 32, HEX, ""),
    "connection-string-password": ("Server=db;Database=app;Password={};", 16, AN, ""),
    "http-auth-header": ('curl -H "Authorization: Bearer {}" https://h', 40, AN, ""),
    "azure-devops-pat": ("AZURE_DEVOPS_PAT={}", 52, string.ascii_lowercase + string.digits, ""),
    "azure-connection-key": ("Endpoint=https://c.azconfig.io;Id=a1-b2-s0:x;Secret={}", 44, AN + "+/", ""),
    "google-oauth": ("client_secret = '{}'", 24, AN, ""),
    "ai-provider-named-key": ("DEEPGRAM_API_KEY={}", 40, HEX, ""),
    "openai-plugin-verification-token": ("OPENAI_VERIFICATION_TOKEN={}", 32, HEX, ""),
    "azure-storage-account-key": ("AZURE_STORAGE_KEY={}==", 86, AN + "+/", ""),
    "azure-redis-access-key": ("REDIS=c1.redis.cache.windows.net:6380,password={},ssl=True", 44, AN + "+/", ""),
}
# floored detectors whose value has no single body to vary (segments): their floor is run by
# their negative examples in tests/test_detectors_examples.py
FLOORED_BY_EXAMPLES = {"slack-token-alnum"}


def test_floors_are_set_where_the_pattern_is_generic_only() -> None:
    floors = {s.id: s.min_entropy for s in load_specs() if s.min_entropy is not None}
    assert set(floors) == set(FLOORED) | FLOORED_BY_EXAMPLES
    for strong in ("openai-project-key", "anthropic-api-key", "huggingface-token", "groq-api-key", "github-token"):
        assert next(s for s in load_specs() if s.id == strong).min_entropy is None


def test_shannon() -> None:
    assert shannon("") == 0 and shannon("aaaa") == 0
    assert shannon("ab" * 8) == pytest.approx(1.0)
    assert shannon(HEX) == pytest.approx(4.0)
    assert Noise.load().body("sk-" + HEX) == HEX and Noise.load().body(HEX) == HEX


@pytest.mark.parametrize("detector", sorted(FLOORED))
def test_entropy_floor_boundary(tmp_path: Path, detector: str) -> None:
    spec = next(s for s in load_specs() if s.id == detector)
    template, n, alphabet, prefix = FLOORED[detector]
    floor = spec.min_entropy
    rng = random.Random(detector)
    above = prefix + with_entropy(n, alphabet, floor, floor + 0.15, rng)
    below = prefix + with_entropy(n, alphabet, floor - 0.15, floor, rng)
    ext = ".sh" if spec.variables_in else ".py"  # in Python an unquoted identifier is a variable
    (tmp_path / f"above{ext}").write_text(template.format(above) + "\n")
    (tmp_path / f"below{ext}").write_text(template.format(below) + "\n")
    found = {c.name.rsplit(" in ", 1)[1]: c.attrs["detector"] for c in creds(scan({"paths": [str(tmp_path)]}))}
    assert found.get(f"above{ext}:1") == spec.secret_type, found
    assert f"below{ext}:1" not in found, found


def test_exactly_at_the_floor_is_kept(tmp_path: Path) -> None:
    value = "".join(R.sample(HEX[:8] * 4, 32))  # 8 symbols x 4: exactly 3.0 bits
    assert shannon(value) == pytest.approx(3.0)
    (tmp_path / "a.py").write_text(f"DEEPSEEK_API_KEY=sk-{value}\n")
    assert [c.attrs["detector"] for c in creds(scan({"paths": [str(tmp_path)]}))] == ["DeepSeek API Key"]


def test_generic_keyword_and_mcp_floors(tmp_path: Path) -> None:
    (tmp_path / "settings.py").write_text('password = "abababab12"\nsecret = "Zx8#kL2!qW9$mN4@vB7&"\n')
    lines = sorted(c.name for c in creds(scan({"paths": [str(tmp_path)], "all_files": True})))
    assert len(lines) == 1 and lines[0].endswith(":2")


# ---------------------------------------------------------------------------- test fixtures

def test_fixture_rules_paths_and_values() -> None:
    rules = FixtureRules.load()
    for rel in ("tests/.env", "src/__tests__/a.ts", "pkg/testdata/x.json", "fixtures/k.yaml", "spec/a.rb",
                "examples/bot.py", "app/test_client.py", "svc/client_test.go", "web/api.spec.ts", "conftest.py"):
        assert path_reason(rel, rules), rel
    for rel in ("src/app.py", "latest/x.py", "contest.py", "attestation/key.py", "specimen.py"):
        assert path_reason(rel, rules) is None, rel
    assert "test" in value_reason("abTESTxyz", rules)
    assert "dummy" in value_reason("my_dummy_key_0", rules)
    assert "repeats" in value_reason("x7Kp000000Yq", rules)
    assert "sequential" in value_reason("q9abcdefZ", rules) and "sequential" in value_reason("k987654p", rules)
    assert "distinct" in value_reason("abababababababab", rules)
    rng = random.Random(1)
    randoms = ["".join(rng.choice(AN) for _ in range(48)) for _ in range(3000)]
    assert sum(1 for v in randoms if value_reason(v, rules)) <= 2  # chance hits stay rare


def _fixture_tree(root: Path) -> dict[str, str]:
    keys = {"path": "gsk_" + "".join(R.choice(AN) for _ in range(52)),
            "value": "sk-proj-" + "".join(R.choice(AN) for _ in range(30)) + "Test" + "".join(R.choice(AN)
                                                                                            for _ in range(30)),
            "both": "hf_" + "".join(R.choice(AN) for _ in range(34)),
            "real": "pplx-" + "".join(R.choice(AN) for _ in range(48))}
    (root / "tests" / "fixtures").mkdir(parents=True)
    (root / "src").mkdir()
    (root / "tests" / "fixtures" / "app.env").write_text(f"GROQ_API_KEY={keys['path']}\nHF_TOKEN={keys['both']}\n")
    (root / "src" / "agent.py").write_text(f'OPENAI_API_KEY = "{keys["value"]}"\nHF = "{keys["both"]}"\n'
                                           f'PPLX = "{keys["real"]}"\n')
    return keys


def test_fixtures_downgrade_drop_keep(tmp_path: Path) -> None:
    _fixture_tree(tmp_path)
    records = scan({"paths": [str(tmp_path)]})
    by = {c.attrs["detector"]: c for c in creds(records)}
    groq, openai = by["Groq API Key"].attrs, by["OpenAI Project Key"].attrs
    assert groq["likely_test_fixture"] is True and "'tests'" in groq["test_fixture_reason"]
    assert groq["confidence"] == "low"
    assert openai["likely_test_fixture"] is True and "'test'" in openai["test_fixture_reason"]
    # found in a test and in real code: not a fixture
    assert "likely_test_fixture" not in by["Hugging Face Token"].attrs
    assert "likely_test_fixture" not in by["Perplexity API Key"].attrs
    assert by["Perplexity API Key"].attrs["confidence"] == "high"
    locs = {r.name: r.attrs for r in records if isinstance(r, Location)}
    assert "test_fixture" in locs["tests/fixtures/app.env:2"] and "test_fixture" not in locs["src/agent.py:2"]

    dropped = {c.attrs["detector"] for c in creds(scan({"paths": [str(tmp_path)], "test_fixtures": "drop"}))}
    assert dropped == {"Hugging Face Token", "Perplexity API Key"}
    kept = creds(scan({"paths": [str(tmp_path)], "test_fixtures": "keep"}))
    assert len(kept) == 4 and not any("likely_test_fixture" in c.attrs for c in kept)
    with pytest.raises(ConnectorConfigError, match="test_fixtures"):
        FilesConnector({"paths": ["."], "test_fixtures": "ignore"})


def test_fixture_findings_stay_low(tmp_path: Path) -> None:
    from agentreach.findings import FindingContext, evaluate
    from agentreach.scan import run_scan
    from agentreach.store import Store

    keys = _fixture_tree(tmp_path / "tree")
    (tmp_path / "tree" / "requirements.txt").write_text("langchain-openai\n")
    store = Store(tmp_path / "s.db")
    result = run_scan(store, {}, [FilesConnector({"paths": [str(tmp_path / "tree")]})], ScanContext())
    ctx = FindingContext.from_store(store, result.snapshot.id)
    found = next(r for r in evaluate(ctx) if r.rule.id == "AR-SECRET-IN-FILES").findings
    sev = {ctx.view.nodes[f.subject].attrs["detector"]: f for f in found}
    for detector in ("Groq API Key", "OpenAI Project Key"):
        assert sev[detector].severity == "low", detector
        assert any("likely a test fixture" in e for e in sev[detector].evidence)
    assert sev["Perplexity API Key"].severity in ("high", "critical")
    store.close()
    data = b"".join(p.read_bytes() for p in tmp_path.glob("s.db*"))
    for value in keys.values():
        assert value.encode() not in data


# ---------------------------------------------------------------------------- several cores

@pytest.mark.parametrize("steal", [False, True], ids=["workers only", "this process takes back chunks"])
def test_pool_gives_the_same_records_as_one_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    steal: bool) -> None:
    monkeypatch.setattr(files_connector, "PARALLEL_MIN_BYTES", 0)  # a pool even for this small tree
    monkeypatch.setattr(files_connector, "STEAL", steal)  # off: every chunk goes through a worker
    rng = random.Random(3)
    n = 3 * CHUNK + 10
    shared = "nvapi-" + "".join(rng.choice(AN) for _ in range(64))
    for i in range(n):
        d = tmp_path / f"svc{i % 7}"
        d.mkdir(exist_ok=True)
        lines = [f"x_{j} = compute({j})" for j in range(rng.randint(5, 40))]
        if i % 3 == 0:
            lines.insert(rng.randrange(len(lines)), f'GROQ_API_KEY = "gsk_{"".join(rng.choice(AN) for _ in range(52))}"')
        if i % 11 == 0:
            lines.append(f"NVIDIA_API_KEY={shared}")
        (d / f"m{i}.py").write_text("\n".join(lines) + "\n")
    one = scan({"paths": [str(tmp_path)], "workers": 1})
    pooled = FilesConnector({"paths": [str(tmp_path)], "workers": 2})
    two = list(pooled.scan(ScanContext(clock=lambda: dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))))
    assert [r.to_dict() for r in one] == [r.to_dict() for r in two]
    if not steal:
        assert pooled.stats["chunks in workers"] == -(-n // CHUNK)
    assert len(creds(one)) == n // 3 + 1 + 1
    shared_cred = next(c for c in creds(one) if c.attrs["detector"] == "NVIDIA API Key")
    assert Counter(r.src for r in one if isinstance(r, Edge))[shared_cred.id] == len(range(0, n, 11))


# ---------------------------------------------------------------------------- hard-negative classes
# One test per class the benchmark (bench/secrets_corpus) measures; samples are generated here.

def _b64(n: int, rng: random.Random) -> str:
    return "".join(rng.choice(AN + "+/") for _ in range(n))


def _flagged(tmp_path: Path, files: dict[str, str]) -> list[str]:
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    return sorted(f"{c.attrs['detector']} {c.name}" for c in creds(scan({"paths": [str(tmp_path)], "all_files": True}))
                  if not c.attrs.get("likely_test_fixture"))


def test_ciphertext_is_not_flagged(tmp_path: Path) -> None:
    rng = random.Random(16)
    enc = lambda: f"ENC[AES256_GCM,data:{_b64(40, rng)},iv:{_b64(43, rng)}=,tag:{_b64(22, rng)}==,type:str]"  # noqa: E731
    vault = "\n".join("".join(rng.choice(HEX) for _ in range(80)) for _ in range(5))
    sealed = "Ag" + _b64(700, rng)
    assert _flagged(tmp_path, {
        "secrets.enc.yaml": f"db:\n    password: {enc()}\n    api_key: {enc()}\n",
        "app.enc.env": f"DB_PASSWORD={enc()}\nAPI_TOKEN={enc()}\n",
        "group_vars/all/vault.yml": f"db_password: !vault |\n          $ANSIBLE_VAULT;1.1;AES256\n{vault}\n",
        "sealed.yaml": f"apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nspec:\n  encryptedData:\n"
                       f"    password: {sealed}\n",
    }) == []


def test_hashes_are_not_flagged(tmp_path: Path) -> None:
    import base64
    import hashlib

    digest = hashlib.sha256(b"agentreach").hexdigest()
    record = base64.urlsafe_b64encode(hashlib.sha256(b"x").digest()).decode().rstrip("=")
    assert _flagged(tmp_path, {
        "requirements.txt": f"pyyaml==6.0.2 --hash=sha256:{digest}\n",
        "RECORD": f"yaml/__init__.py,sha256={record},12345\n",
        "checksums.txt": f"{digest}  dist/app.tar.gz\ncommit {hashlib.sha1(b'a').hexdigest()}\n",
        "build.gradle": f"sha512 = '{hashlib.sha512(b'y').hexdigest()}'\n",
    }) == []


def test_public_keys_and_certificates_are_not_flagged(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    key = ed25519.Ed25519PrivateKey.generate().public_key()
    pem = key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    ssh = key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    assert _flagged(tmp_path, {"cosign.pub": pem, ".ssh/authorized_keys": ssh + " ops@host\n",
                               "deploy.yaml": f"ssh_public_key: \"{ssh}\"\n"}) == []


def test_documentation_examples_are_not_flagged(tmp_path: Path) -> None:
    rng = random.Random(7)
    token = "FwoGZXIvYXdzEXAMPLE" + _b64(200, rng)  # AWS documents session tokens with EXAMPLE inside
    assert _flagged(tmp_path, {
        "docs/aws.md": "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
                       "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n"
                       f"aws_session_token = {token}\n",
        "iam.json": '{"SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"}\n',
    }) == []


def test_marked_fixtures_are_reported_low_not_flagged(tmp_path: Path) -> None:
    rng = random.Random(8)
    value = "".join(rng.choice("0123456789abcdef") for _ in range(32))
    files = {"tests/fixtures/datadog.env": f"DD_API_KEY={value}\n"}
    assert _flagged(tmp_path, files) == []
    marked = creds(scan({"paths": [str(tmp_path)]}))
    assert [c.attrs["confidence"] for c in marked] == ["low"]


def test_masked_values_are_not_flagged(tmp_path: Path) -> None:
    assert _flagged(tmp_path, {
        "notes.env": "OPENAI_API_KEY=sk-proj-****************************abcd\nAWS_SECRET_ACCESS_KEY=****************\n"
                     "DD_API_KEY=********************************\nDATABASE_URL=postgres://app:*****@db:5432/app\n",
        "values.yaml": "datadog:\n  apiKey: '<redacted>'\n  appKey: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n",
    }) == []


def test_context_detectors_find_keyword_only_secrets(tmp_path: Path) -> None:
    """The issue's missed kinds, each in a shape where only its context names it (an id elsewhere
    or absent), including base64 under a Kubernetes Secret's data:."""
    import base64

    rng = random.Random(9)
    hx = lambda n: "".join(rng.choice(HEX) for _ in range(n))  # noqa: E731
    secret = _b64(40, rng)
    dd = base64.b64encode(hx(32).encode()).decode()
    found = _flagged(tmp_path, {
        "run.log": f"2025-01-01 INFO boot aws_secret_access_key={secret}\n",
        "k8s/secret.yaml": f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: dd\ndata:\n  DD_API_KEY: {dd}\n",
        "db.sh": f"psql postgres://agent:{''.join(rng.choice(AN) for _ in range(14))}@db.internal:5432/app\n",
        "twilio.env": f"TWILIO_AUTH_TOKEN={hx(32)}\n",
        "sentry.env": f"SENTRY_AUTH_TOKEN=sntryu_{hx(64)}\n",
    })
    detectors = {line.split(" in ")[0].rsplit(" ", 3)[0] for line in found}
    assert len(found) == 5, found
    assert any(d.startswith("AWS Secret Access Key") for d in detectors)
    assert any(d.startswith("Datadog API Key") for d in detectors)


def test_a_default_password_in_a_connection_string_is_reported_low(tmp_path: Path) -> None:
    """A connection string says a credential is there whatever its value: "changeme" there is a
    default password (reported, marked, low); the same word as a bare setting is a placeholder."""
    (tmp_path / "app.env").write_text("DATABASE_URL=postgres://app:changeme@db.internal:5432/app\n")
    (tmp_path / "settings.yaml").write_text("password: changeme\n")
    found = creds(scan({"paths": [str(tmp_path)], "all_files": True}))
    assert [c.attrs["detector"] for c in found] == ["Password in Connection String"]
    assert found[0].attrs["likely_test_fixture"] is True and found[0].attrs["confidence"] == "low"
    assert "default password" in found[0].attrs["test_fixture_reason"]


def test_ordinary_source_is_not_flagged(tmp_path: Path) -> None:
    """Shapes seen in the installed site-packages (bench/secrets_eval.py reviews every finding
    there): names, labels, expressions, digests, timestamps and PEM marker strings in code."""
    code = "\n".join([
        'AZURE_CLIENT_SECRET = "AZURE_CLIENT_SECRET"',
        "secret_type = 'Artifactory Credentials'",
        "SECRET_KEY = 'development key'",
        "notsecret_unencrypted = 'hi there!'",  # sops' example.ini: prose ends in punctuation
        "    token = self.tokens[i]",
        "    credentials=credentials,",
        "PKCS7PrivateKeyTypes = typing.Union[",
        "DEFAULT_TOKEN_CHANNEL = Token.DEFAULT_CHANNEL",
        'private_key = serialization.load_pem_private_key(',
        '_PKCS1_MARKER = ("-----BEGIN RSA PRIVATE KEY-----", "-----END RSA PRIVATE KEY-----")',
        '_SK_START = b"-----BEGIN OPENSSH PRIVATE KEY-----"',
    ])
    data = "\n".join(['{', '  "AWS::ApiGateway::ApiKey": "b899a0d240b53d9d",', '  "client_secret": "clientSecret",',
                      '  "PasswordLastUsed": "2016-09-08T21:47:36Z",', '  "LocalConsolePassword": "PassWordMustBeAtLeast6Chars.",',
                      '  "PRIVATE_KEY_USAGE_PERIOD": "2.5.29.16"', '}'])
    assert _flagged(tmp_path, {"pkg/constants.py": code + "\n", "pkg/data/providers.json": data + "\n"}) == []


def test_a_long_word_marks_a_long_body_and_a_short_one_does_not() -> None:
    """AWS documents a 356-character session token with EXAMPLE inside: marked (reported low,
    not hidden); "test" inside a long random body is chance, not a marker."""
    from agentreach_connectors.files.fixtures import MAX_BODY, FixtureRules, value_reason

    rules = FixtureRules.load()
    rng = random.Random(21)
    token = "AQoDYXdzEPT//////////wEXAMPLEtc764" + _b64(MAX_BODY + 100, rng)
    assert value_reason(token, rules) == "value contains 'example'"
    body = _b64(MAX_BODY, rng) + "test" + _b64(100, rng)
    assert "EXAMPLE" not in body and value_reason(body, rules) is None
    assert value_reason(body[-120:], rules) == "value contains 'test'"  # short: any listed word marks


def test_encrypted_pkcs8_keys_are_found_by_their_body(tmp_path: Path) -> None:
    """A PKCS#8 encrypted key ("BEGIN ENCRYPTED PRIVATE KEY", which detect-secrets does not
    list) is a finding named by its body: two keys are two secrets, one key in two files is one,
    and the header alone (a marker string in code) is none."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    def pem() -> str:
        key = ec.generate_private_key(ec.SECP256R1())
        return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.BestAvailableEncryption(b"correct horse")).decode()

    one, two = pem(), pem()
    assert "BEGIN ENCRYPTED PRIVATE KEY" in one
    for rel, text in {"a/key.pem": one, "b/copy.md": f"# key\n\n```\n{one}```\n", "c/other.pem": two,
                      "d/marker.py": 'HEADER = "-----BEGIN ENCRYPTED PRIVATE KEY-----"\n'}.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    records = scan({"paths": [str(tmp_path)]})
    found = {c.id for c in creds(records) if c.attrs["detector"] == "Encrypted Private Key"}
    assert len(found) == 2
    places = sorted(r.dst.split(":", 3)[3].rsplit(":", 1)[0] for r in records
                    if getattr(r, "kind", None) == "found_in" and r.src in found)
    assert places == ["a/key.pem", "b/copy.md", "c/other.pem"]


def test_a_shape_dropping_a_value_does_not_veto_a_format(tmp_path: Path) -> None:
    """A Discord bot token's segments read like a dotted name (Token.DEFAULT_CHANNEL), which the
    generic assignment detector drops as code; detect-secrets' Discord plugin matched the format
    and must still report it (the veto is for values a typed detector of ours dropped)."""
    rng = random.Random("discord")
    seg = lambda n: rng.choice(string.ascii_letters) + "".join(rng.choice(AN) for _ in range(n - 1))  # noqa: E731
    token = f"M{seg(23)}.{seg(6)}.{seg(27)}"
    (tmp_path / ".env").write_text(f"DISCORD_TOKEN={token}\n")
    assert [c.attrs["detector"] for c in creds(scan({"paths": [str(tmp_path)]}))] == ["Discord Bot Token"]


def test_an_unquoted_identifier_is_a_variable_in_code_and_a_literal_in_env_files(tmp_path: Path) -> None:
    """``token = nextchar`` in Python reads a variable (dateutil's parser, seen in the site-packages
    review); the same line in a .env file or a shell script assigns that literal. A value that is
    no identifier (hyphens) is still read in code, and a placeholder in a documented URL is none."""
    files = {"parser.py": "    token = tokZ4q_Wm8pXr2vN\n", "app.env": "token = tokZ4q_Wm8pXr2vN\n",
             "run.sh": "export API_TOKEN=runQ8v_Xe3kLp7sT\n", "cfg.py": "deploy_token = abc7d2-9fQ1x-Zr84kLm\n",
             "db.py": '    db = FalkorDB.from_url("falkor://[[username]:[password]]@localhost:6379")\n'}
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    found = sorted(c.name.rsplit(" in ", 1)[1] for c in creds(scan({"paths": [str(tmp_path)], "all_files": True})))
    assert found == ["app.env:1", "cfg.py:1", "run.sh:1"]
