"""AR-SECRET-IN-FILES and AR-SECRET-LEAKED-LIVE, each over its own estate: secrets the files
connector found, and those that are a live cloud credential; both skipped with a note until
a scan includes the files connector; never a secret or its preview in a finding."""

from __future__ import annotations

import pytest

from agentreach.model import CredentialStatus, EdgeKind

from .builders import (
    Run,
    certificate,
    context,
    edge,
    file_line,
    fires_and_quiet_test,
    found_secret,
    key,
    role,
    run,
    user,
)

IN_FILES, LEAKED_LIVE, IN_METADATA = "AR-SECRET-IN-FILES", "AR-SECRET-LEAKED-LIVE", "AR-SECRET-IN-METADATA"
PREVIEW = "redacted-preview-7f3a"
FILES = ("aws", "files")


def in_files_estate(capabilities: tuple[str, ...] = FILES) -> Run:
    """An OpenAI key found in app.env (a possible agent's); near misses: a cloud key in no
    file, a live cloud key found in deploy.sh (the other rule's), a public certificate in a
    PEM file."""
    leak = found_secret("openai key in app.env", "ab" * 32, PREVIEW, "openai-api-key")
    app_env, deploy, pem = file_line("app.env", 3), file_line("deploy.sh", 9), file_line("tls.pem", 1)
    bot = user("lang-bot")
    live, clean = key("AKIAOLDKEY0000000001", 400, 200), key("AKIAFRESHKEY00000002", 20, 1)
    cert = certificate("public.example", 30, 300)
    return run(context([leak, app_env, deploy, pem, bot, live, clean, cert],
                       [edge(leak, app_env, EdgeKind.FOUND_IN), edge(live, deploy, EdgeKind.FOUND_IN),
                        edge(live, bot, EdgeKind.AUTHENTICATES), edge(clean, bot, EdgeKind.AUTHENTICATES),
                        edge(cert, pem, EdgeKind.FOUND_IN, public_only=True)],
                       agents=[bot, live, clean], possible=[leak], capabilities=capabilities))


def leaked_live_estate() -> Run:
    """An agent user's active key written in deploy.sh; near misses: an OpenAI key found in
    app.env that matches no cloud credential, a deactivated key written in old.sh."""
    leak = found_secret("openai key in app.env", "cd" * 32, PREVIEW, "openai-api-key")
    app_env, deploy, old_sh = file_line("app.env", 3), file_line("deploy.sh", 9), file_line("old.sh", 2)
    bot = user("lang-bot")
    live = key("AKIAOLDKEY0000000001", 400, 200)
    dead = key("AKIADEADKEY000000003", 400, 300, CredentialStatus.DISABLED)
    return run(context([leak, app_env, deploy, old_sh, bot, live, dead],
                       [edge(leak, app_env, EdgeKind.FOUND_IN), edge(live, deploy, EdgeKind.FOUND_IN),
                        edge(dead, old_sh, EdgeKind.FOUND_IN), edge(live, bot, EdgeKind.AUTHENTICATES),
                        edge(dead, bot, EdgeKind.AUTHENTICATES)],
                       agents=[bot, live, dead], possible=[leak], capabilities=FILES))


def in_metadata_estate() -> Run:
    """A role whose tag held an OpenAI key (redacted when scanned: only where it was, the
    detector, the fingerprint and the preview are left); near miss: a role whose tags hold none."""
    found = [{"field": "tags.OPENAI_API_KEY", "detector": "OpenAI Project Key", "fingerprint": "sha256:" + "ef" * 32,
              "preview": "sk-p…Zx"}]
    tagged = role("rag-runner", {"Statement": []}, tags={"OPENAI_API_KEY": "sk-p…Zx"}, secrets_in_metadata=found)
    plain = role("etl-runner", {"Statement": []}, tags={"team": "data"})
    return run(context([tagged, plain], [], agents=[tagged], capabilities=("aws",)))


@pytest.fixture(scope="module")
def in_metadata() -> Run:
    return in_metadata_estate()


@pytest.fixture(scope="module")
def in_files() -> Run:
    return in_files_estate()


@pytest.fixture(scope="module")
def leaked_live() -> Run:
    return leaked_live_estate()


CASES = [
    (IN_FILES, "in_files", "openai key in app.env", "AKIAFRESHKEY00000002"),
    (IN_FILES, "in_files", "openai key in app.env", "AKIAOLDKEY0000000001"),  # live: AR-SECRET-LEAKED-LIVE says it
    (IN_FILES, "in_files", "openai key in app.env", "public.example"),  # public_only: no leak
    (LEAKED_LIVE, "leaked_live", "AKIAOLDKEY0000000001", "openai key in app.env"),
    (LEAKED_LIVE, "leaked_live", "AKIAOLDKEY0000000001", "AKIADEADKEY000000003"),  # deactivated
    (IN_METADATA, "in_metadata", "rag-runner", "etl-runner"),
]
test_fires_and_stays_quiet = fires_and_quiet_test(CASES)


def test_a_secret_in_a_tag_names_the_field_never_the_value(in_metadata: Run) -> None:
    f = in_metadata.of(IN_METADATA)["rag-runner"]
    assert f.severity == "critical" and "OpenAI Project Key in tags.OPENAI_API_KEY (shown as sk-p…Zx)" in f.evidence
    assert "Secrets Manager" in f.remediation


def test_evidence_names_the_file_and_line(in_files: Run, leaked_live: Run) -> None:
    leak = in_files.of(IN_FILES)["openai key in app.env"]
    assert any("app.env:3" in e for e in leak.evidence) and "detector openai-api-key" in leak.evidence
    live = leaked_live.of(LEAKED_LIVE)["AKIAOLDKEY0000000001"]
    assert any("deploy.sh:9" in e for e in live.evidence) and live.severity == "critical"
    assert any(e.startswith("the active aws_access_key AKIAOLDKEY0000000001 of lang-bot") for e in live.evidence)


def test_files_rules_are_skipped_with_a_note_without_files() -> None:
    results = in_files_estate(capabilities=("aws",)).results
    for rid in (IN_FILES, LEAKED_LIVE):
        assert results[rid].status == "skipped" and not results[rid].findings
        assert "files connector" in results[rid].note
    assert results["AR-AGENT-OWNERLESS"].status == "evaluated"


@pytest.mark.parametrize("estate", ["in_files", "leaked_live"])
def test_no_secret_or_preview_in_findings(request: pytest.FixtureRequest, estate: str) -> None:
    """Findings name a found secret by its fingerprint id, and never carry even its preview."""
    found = request.getfixturevalue(estate)
    assert "openai key in app.env" in found.of(IN_FILES)  # the found secret is reported...
    text = repr([f.to_dict() for r in found.results.values() for f in r.findings])
    assert PREVIEW not in text  # ...and its preview is not
