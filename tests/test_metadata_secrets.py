"""A secret a person wrote into cloud metadata (a tag on a role, a role's description) is
found by the files connector's detectors, replaced by its preview before anything is stored,
reported as AR-SECRET-IN-METADATA, and never printed or kept; a pasted PEM key or a pasted
``KEY=value`` line is looked up the way the files connector fingerprinted it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner

from agentreach.cli import main

from .conftest import reset_moto

KEY = "sk-proj-" + "Mn7vBc2" * 6 + "T3BlbkFJ" + "Lp4" * 8
TOKEN = "ghp_" + "Zq8Wx2Ry5T" * 3 + "Kv3Hn7"
GROQ = "gsk_" + "Wd4Rt8Yp2Lm6" * 4 + "Qz7K"
ABOUT = "Execution role of the RAG support agent (LangChain on Lambda)"


@pytest.fixture(scope="module")
def scanned(moto_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    reset_moto(moto_url)
    iam = boto3.client("iam", endpoint_url=moto_url, region_name="us-east-1")
    trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                                "Principal": {"Service": "lambda.amazonaws.com"}}]})
    iam.create_role(RoleName="rag-runner", AssumeRolePolicyDocument=trust, Description=ABOUT,
                    Tags=[{"Key": "OPENAI_API_KEY", "Value": KEY}, {"Key": "team", "Value": "ml"},
                          {"Key": "notes", "Value": f"repo token {TOKEN}"}])
    iam.create_role(RoleName="etl-runner", AssumeRolePolicyDocument=trust, Tags=[{"Key": "team", "Value": "data"}],
                    Description=f"nightly ETL; until the vault is wired GROQ_API_KEY={GROQ}")
    db = str(tmp_path_factory.mktemp("meta") / "m.db")
    res = CliRunner().invoke(main, ["--db", db, "-q", "scan", "--endpoint-url", moto_url, "--regions", "us-east-1"],
                             catch_exceptions=False)
    assert res.exit_code in (0, 3), res.output
    return db


def cli(db: str, *args: str, stdin: str | None = None) -> Any:
    return CliRunner().invoke(main, ["--db", db, *args], input=stdin, catch_exceptions=False)


def test_the_secret_is_redacted_where_it_was_and_reported(scanned: str) -> None:
    role = json.loads(cli(scanned, "show", "rag-runner", "--format", "json").output)["object"]
    assert role["tags"]["OPENAI_API_KEY"] == KEY[:4] + "…" + KEY[-2:] and role["tags"]["team"] == "ml"
    assert TOKEN not in role["tags"]["notes"] and "ghp_…" in role["tags"]["notes"]
    found = {f["field"] for f in role["attrs"]["secrets_in_metadata"]}
    assert found == {"tags.OPENAI_API_KEY", "tags.notes"}
    findings = json.loads(cli(scanned, "findings", "--format", "json").output)["findings"]
    meta = [f for f in findings if f["rule"] == "AR-SECRET-IN-METADATA"]
    assert sorted(f["subject_name"] for f in meta) == ["etl-runner", "rag-runner"]
    assert any("tags.OPENAI_API_KEY" in e for f in meta for e in f["evidence"])


def test_role_descriptions_are_read_and_a_secret_in_one_is_redacted(scanned: str) -> None:
    """GetAccountAuthorizationDetails returns no Description: ListRoles does, and it is both
    evidence (what the role is for) and a place people paste keys."""
    rag = json.loads(cli(scanned, "show", "rag-runner", "--format", "json").output)["object"]
    assert rag["attrs"]["description"] == ABOUT
    etl = json.loads(cli(scanned, "show", "etl-runner", "--format", "json").output)["object"]
    assert GROQ not in etl["attrs"]["description"] and "nightly ETL" in etl["attrs"]["description"]
    assert {f["field"] for f in etl["attrs"]["secrets_in_metadata"]} == {"attrs.description"}


def test_no_output_and_no_byte_of_the_store_holds_the_value(scanned: str) -> None:
    outputs = [cli(scanned, *args).output for args in (
        ["inventory", "--kind", "all", "--format", "json"], ["inventory", "--kind", "all", "--format", "csv"],
        ["show", "rag-runner"], ["findings", "--format", "json"], ["report", "--format", "md"],
        ["report", "--format", "html"], ["report", "--format", "sarif"], ["report", "--format", "ocsf"])]
    for value in (KEY, TOKEN, GROQ):
        assert not any(value in out for out in outputs)
        assert not any(value.encode() in p.read_bytes() for p in Path(scanned).parent.glob("m.db*"))


def test_a_pasted_key_line_is_found_by_the_value_it_holds(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / ".env").write_text(f"OPENAI_API_KEY={KEY}\n")
    db = str(tmp_path / "f.db")
    assert cli(db, "-q", "scan", "--only", "files", "--path", str(repo), "--all-files").exit_code == 0
    shown = cli(db, "show", "-", "--format", "json", stdin=f"leaked in chat:\nexport OPENAI_API_KEY={KEY}\n")
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output)["object"]["locations"][0]["path"] == ".env" and KEY not in shown.output
