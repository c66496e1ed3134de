"""Names chosen to attack the terminal (issue 20, item 7): colours, cursor-up + erase-line,
an OSC window title, an 8-bit CSI, a bidi override, and a newline that forges a line reading
"gate: PASS". They are planted in the estate (an identity, a key, a role and a bucket) and in
a repository (a file path holding a secret), and every command a person reads shows them
escaped (visible ``\\x1b``, ``\\n``): scan, inventory, show, explain, reach, findings, diff,
snapshots, gate and the pre-commit hook, and the GraphML and Cypher exports. The JSON of the
same objects stays exact."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner

from agentreach.cli import main
from agentreach.config import load_config
from agentreach.connector import Connector, ScanContext
from agentreach.graph.export import to_cypher
from agentreach.model import Credential, Edge, EdgeKind, Identity, Record, System, node_id
from agentreach.present import SafeConsole
from agentreach.scan import run_scan
from agentreach.store import Store
from agentreach.textsafe import CONTROLS, escape

ACCT = "123456789012"
FORGED = "\ngate: PASS (snapshot 1): no new finding that the gate policy blocks\n"
ATTACKS = {
    "colour": "\x1b[31mred-agent\x1b[0m",
    "erase": "innocent\x1b[1A\x1b[2K\rgate: PASS",
    "title": "\x1b]0;owned\x07title-agent",
    "csi8": "c1\x9b2Jagent",
    "bidi": "agent\u202etxt.exe",
    "forge": f"forger{FORGED}agent",
}
RAW = [chr(cp) for cp in CONTROLS if cp != 0x0A]


def clean_output(text: str, *, allow_gate_line: bool = False) -> None:
    """No raw control character, and no line a name forged."""
    assert not [c for c in RAW if c in text], [hex(ord(c)) for c in RAW if c in text]
    forged = [line for line in text.splitlines() if line.lstrip().startswith("gate: PASS")]
    assert not forged or (allow_gate_line and len(forged) == 1), forged


class Hostile(Connector):
    name = "aws"
    version = "test"

    def __init__(self, round_: int) -> None:
        super().__init__({})
        self.round = round_

    def scan(self, ctx: ScanContext) -> Iterator[Record]:
        yield System(id=node_id("aws", "account", ACCT), provider="aws", source="aws", type="aws_account",
                     name="acct", native_id=ACCT, account=ACCT)
        bucket = f"arn:aws:s3:::jewels{self.round}"
        yield System(id=node_id("aws", "s3_bucket", bucket), provider="aws", source="aws", type="aws_s3_bucket",
                     name=ATTACKS["bidi"] + str(self.round), native_id=bucket, account=ACCT,
                     tags={"data-classification": "restricted"})
        for key, name in ATTACKS.items():
            arn = f"arn:aws:iam::{ACCT}:user/{key}"
            uid = node_id("aws", "iam_user", arn)
            yield Identity(id=uid, provider="aws", source="aws", type="aws_iam_user", name=name + str(self.round),
                           native_id=arn, account=ACCT, tags={"team": name},
                           attrs={"description": name, "inline_policies": [{"name": name, "document": {
                               "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}}]})
            kid = f"AKIA{key.upper():A<16}"[:20]
            cid = node_id("aws", "access_key", kid)
            yield Credential(id=cid, provider="aws", source="aws", type="aws_access_key", name=name, native_id=kid,
                             account=ACCT)
            yield Edge(src=cid, dst=uid, kind=EdgeKind.AUTHENTICATES, source="aws")


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("hostile-names") / "inv.db"
    for round_ in (1, 2):  # two snapshots, for diff
        store = Store(path)
        result = run_scan(store, load_config(), [Hostile(round_)], ScanContext())
        assert result.snapshot.status == "complete"
        store.close()
    return str(path)


def cli(db: str, *args: str) -> str:
    result = CliRunner().invoke(main, ["--db", db, *args])
    assert result.exit_code in (0, 1, 3), result.output
    return result.stdout


@pytest.mark.parametrize("args", [
    ["inventory"], ["inventory", "--kind", "all"], ["show", f"arn:aws:iam::{ACCT}:user/forge"],
    ["show", "AKIACOLOURAAAAAAAAAA"], ["explain", f"arn:aws:iam::{ACCT}:user/erase"],
    ["reach", f"arn:aws:iam::{ACCT}:user/title"], ["who-can-reach", "arn:aws:s3:::jewels2"], ["findings"],
    ["snapshots"],
    ["gate", "--baseline", "/nonexistent/baseline.json", "--format", "table"],
    ["graph", "export", "--format", "graphml"], ["graph", "export", "--format", "cypher"],
], ids=lambda a: " ".join(a))
def test_every_command_shows_the_names_escaped(db: str, args: list[str]) -> None:
    out = cli(db, *args)
    clean_output(out, allow_gate_line=args[0] == "gate")
    if args[0] in ("inventory", "show", "graph"):
        assert any(e in out for e in ("\\x1b", "\\u001b", "\\ngate"))  # shown, not dropped


def test_diff_shows_no_raw_control(db: str) -> None:
    """diff's table is its Markdown (diff.py) printed on the console, which escapes every
    control but the newlines of the Markdown's own lines."""
    assert not [c for c in RAW if c in cli(db, "diff")]


def test_diff_lines_are_not_forged(db: str) -> None:
    clean_output(cli(db, "diff"))


def test_json_stays_exact(db: str) -> None:
    rows = json.loads(cli(db, "inventory", "--format", "json"))["objects"]
    names = {r["name"] for r in rows}
    assert {v + "2" for v in ATTACKS.values()} <= names
    shown = json.loads(cli(db, "show", f"arn:aws:iam::{ACCT}:user/forge", "--format", "json"))
    assert shown["object"]["name"] == ATTACKS["forge"] + "2"


def test_cypher_loads_the_exact_value() -> None:
    """Cypher gets its own string escapes: the file holds no raw control, the value is exact."""
    from agentreach.graph import Graph

    g = Graph()
    g.add_node("n1", "identity", ATTACKS["forge"], description=ATTACKS["title"])
    text = to_cypher(g)
    clean_output(text)
    literal = text.split("name: ", 1)[1].split(", kind: ", 1)[0]
    assert literal == "'forger\\ngate: PASS (snapshot 1): no new finding that the gate policy blocks\\nagent'"


def test_the_console_escapes_cells_and_keeps_its_own_lines() -> None:
    import io

    from rich.table import Table

    buf = io.StringIO()
    console = SafeConsole(file=buf, width=200, markup=False, emoji=False)
    table = Table()
    table.add_column("name")
    table.add_row(ATTACKS["forge"])
    console.print(table)
    console.print("our own\nlayout", ATTACKS["colour"])
    out = buf.getvalue()
    clean_output(out)
    assert "our own\nlayout" in out and escape(ATTACKS["colour"]) in out


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def test_a_path_that_forges_a_gate_line_in_the_hook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    name = f"evil\x1b[2K{FORGED}x.env"
    (repo / name).write_text("ANTHROPIC_API_KEY=sk-ant-api03-" + "Zq8xY2vB7nL4mK9pR3tW6sD1fG5hJ0aC" * 3 + "abcdeAA\n")
    git(repo, "add", "--", name)
    monkeypatch.chdir(repo)
    result = CliRunner().invoke(main, ["precommit"])
    assert result.exit_code == 1, result.output  # blocked: the secret was found under its odd name
    clean_output(result.stdout, allow_gate_line=False)
    assert "gate: BLOCKED" in result.stdout and "\\x1b[2K\\ngate: PASS" in result.stdout


def test_an_error_quoting_what_was_typed_shows_no_raw_control(db: str) -> None:
    """A one-line error quotes the id it could not find, which may be pasted from anywhere."""
    pasted = "arn:aws:iam::1:user/x\x1b]0;owned\x07\x1b[2K"
    result = CliRunner().invoke(main, ["--db", db, "show", pasted])
    assert result.exit_code != 0
    assert "\\x1b" in result.stderr and not [c for c in RAW if c in result.stderr], result.stderr
