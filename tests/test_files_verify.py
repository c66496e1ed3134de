"""The --verify seam: found keys checked live against a local stdlib HTTP fake that the
verifiers are pointed at through connectors.files.verify_endpoints. Tri-state results, one
request per distinct secret, nothing sent when verify is off, the value only ever in a request
header, never in records, logs, the store or any output; a verified-valid key is critical."""

from __future__ import annotations

import datetime as dt
import json
import logging
import random
import socket
import string
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import pytest
import yaml
from agentreach_connectors.files import FilesConnector
from click.testing import CliRunner

from agentreach.cli import main
from agentreach.connector import ConnectorConfigError, ScanContext
from agentreach.model import Credential

R = random.Random(99)
AN = string.ascii_letters + string.digits


def rs(n: int) -> str:
    return "".join(R.choice(AN) for _ in range(n))


GOOD_OPENAI = "sk-proj-" + rs(80)
BAD_OPENAI = "sk-proj-" + rs(80)
FLAKY_ANTHROPIC = "sk-ant-api03-" + rs(93) + "AA"
GOOD_GITHUB = "ghp_" + rs(36)
HF = "hf_" + rs(34)
GROQ = "gsk_" + rs(52)
SLACK = "xoxb-" + "".join(R.choice(string.digits) for _ in range(12)) + "-" + rs(24).lower()
ALL = [GOOD_OPENAI, BAD_OPENAI, FLAKY_ANTHROPIC, GOOD_GITHUB, HF, GROQ, SLACK]


class Fake(BaseHTTPRequestHandler):
    """200 for the good keys, 500 for the flaky one, 429 for groq, 401 for anything else."""

    seen: list[tuple[str, str, dict[str, str]]] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        headers = {k.lower(): v for k, v in self.headers.items()}
        Fake.seen.append((self.command, self.path, headers))
        token = headers.get("authorization", "").removeprefix("Bearer ") or headers.get("x-api-key", "")
        if token in (GOOD_OPENAI, GOOD_GITHUB):
            status = 200
        elif token == FLAKY_ANTHROPIC:
            status = 500
        elif token == GROQ:
            status = 429
        else:
            status = 401
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def fake() -> Iterator[str]:
    Fake.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Fake)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def closed_port() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}"


def tree(root: Path) -> Path:
    (root / "app").mkdir(parents=True)
    (root / "app" / "keys.py").write_text("\n".join(f'KEY_{i} = "{v}"' for i, v in enumerate(ALL)) + "\n")
    (root / "app" / "again.env").write_text(f"OPENAI_API_KEY={GOOD_OPENAI}\n")  # same key: one request
    return root


def endpoints(url: str) -> dict[str, str]:
    return {"openai": url, "anthropic": url, "github": url, "groq": url, "huggingface": closed_port()}


def scan(config: dict) -> list:
    ctx = ScanContext(clock=lambda: dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
    return list(FilesConnector(config).scan(ctx))


def by_detector(records: list) -> dict[str, dict[str, Any]]:
    return {r.attrs["detector"]: r.attrs.get("verified") for r in records if isinstance(r, Credential)}


def test_tri_state_results_one_request_per_secret(tmp_path: Path, fake: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    records = scan({"paths": [str(tree(tmp_path))], "verify": True, "verify_endpoints": endpoints(fake),
                    "verify_timeout": 5})
    creds = {(r.attrs["detector"], r.preview): r.attrs["verified"] for r in records if isinstance(r, Credential)}
    result = {k: v["result"] for k, v in creds.items()}
    assert result[("OpenAI Project Key", GOOD_OPENAI[:4] + "…" + GOOD_OPENAI[-2:])] == "valid"
    assert result[("OpenAI Project Key", BAD_OPENAI[:4] + "…" + BAD_OPENAI[-2:])] == "invalid"
    v = by_detector(records)
    assert v["GitHub Token"]["result"] == "valid" and v["GitHub Token"]["verifier"] == "github"
    assert v["Anthropic API Key"] == {"result": "unknown", "verifier": "anthropic", "at": "2026-01-01T00:00:00Z",
                                      "detail": "HTTP 500"}
    assert v["Groq API Key"]["result"] == "unknown" and v["Groq API Key"]["detail"] == "HTTP 429"
    assert v["Hugging Face Token"]["result"] == "unknown"
    assert v["Hugging Face Token"]["detail"].startswith("request failed: ")  # connection refused
    assert v["Slack Token"] == {"result": "unknown", "verifier": None, "at": "2026-01-01T00:00:00Z",
                                "detail": "no verifier for this detector"}
    # one request per distinct secret, to the configured path, the key in a header only
    paths = sorted(p for _, p, _ in Fake.seen)
    assert paths == ["/openai/v1/models", "/user", "/v1/models", "/v1/models", "/v1/models"]
    anthropic = next(h for _, _, h in Fake.seen if "x-api-key" in h)
    assert anthropic["anthropic-version"] == "2023-06-01"
    blob = repr([r.to_dict() for r in records]) + caplog.text + "".join(p for _, p, _ in Fake.seen)
    for value in ALL:
        assert value not in blob


def test_off_by_default_sends_nothing(tmp_path: Path, fake: str) -> None:
    records = scan({"paths": [str(tree(tmp_path))], "verify_endpoints": endpoints(fake)})
    assert not Fake.seen
    assert all("verified" not in r.attrs for r in records if isinstance(r, Credential))


def test_config_errors() -> None:
    with pytest.raises(ConnectorConfigError, match="verify_endpoints"):
        FilesConnector({"paths": ["."], "verify_endpoints": {"nope": "http://x"}})
    with pytest.raises(ConnectorConfigError, match="verify_endpoints"):
        FilesConnector({"paths": ["."], "verify_endpoints": {"openai": "file:///etc/passwd"}})
    with pytest.raises(ConnectorConfigError, match="verify"):
        FilesConnector({"paths": ["."], "verify": "yes"})


def test_redirect_is_not_followed(tmp_path: Path) -> None:
    """A 3xx would resend the key to another host: answered as unknown, never followed."""
    hits: list[str] = []

    class Redirect(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            hits.append(self.path)
            self.send_response(302)
            self.send_header("Location", "/elsewhere")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Redirect)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        (tmp_path / "k.py").write_text(f'K = "{GOOD_GITHUB}"\n')
        records = scan({"paths": [str(tmp_path)], "verify": True,
                        "verify_endpoints": {"github": f"http://127.0.0.1:{server.server_address[1]}"}})
    finally:
        server.shutdown()
        server.server_close()
    assert by_detector(records)["GitHub Token"]["result"] == "unknown" and hits == ["/user"]


def test_cli_verify_escalates_and_shows(tmp_path: Path, fake: str) -> None:
    repo = tree(tmp_path / "repo")
    cfg = tmp_path / "agentreach.yaml"
    cfg.write_text(yaml.safe_dump({"connectors": {"files": {"verify_endpoints": endpoints(fake)}}}))
    db = str(tmp_path / "inv.db")
    runner = CliRunner()
    outputs = []
    res = runner.invoke(main, ["--db", db, "--config", str(cfg), "-q", "scan", "--only", "files", "--path", str(repo)])
    assert res.exit_code == 0, res.output
    assert not Fake.seen  # no --verify, no request
    for fmt in ("table", "json"):
        res = runner.invoke(main, ["--db", db, "--config", str(cfg), "-q", "scan", "--only", "files", "--path",
                                   str(repo), "--verify", "--format", fmt])
        assert res.exit_code == 0, res.output
        outputs.append(res.output)
    shown = json.loads(runner.invoke(main, ["--db", db, "show", "app/again.env:1", "--format", "json"]).stdout)
    assert shown["object"]["attrs"]["verified"]["result"] == "valid"
    text = runner.invoke(main, ["--db", db, "show", "app/again.env:1"]).stdout
    assert '"result": "valid"' in text and "openai" in text
    found = json.loads(runner.invoke(main, ["--db", db, "findings", "--rule", "AR-SECRET-IN-FILES",
                                            "--format", "json"]).stdout)["findings"]
    sev = {f["subject"]: f["severity"] for f in found}
    assert sev[shown["object"]["id"]] == "critical"
    good = next(f for f in found if f["subject"] == shown["object"]["id"])
    assert any("verified valid by openai" in e for e in good["evidence"])
    outputs += [text, json.dumps(found), runner.invoke(main, ["--db", db, "report", "--format", "md"]).stdout]
    blob = "".join(outputs) + "".join(p.read_bytes().decode("latin-1") for p in Path(db).parent.glob(Path(db).name + "*"))
    for value in ALL:
        assert value not in blob
