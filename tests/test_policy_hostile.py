"""One account holding 46 odd policy documents (tests/hostile_policies.py) beside a clean
estate: each document is validated on its own, each malformed statement is skipped with a
gap naming the policy, its owner, the statement and the reason, and everything else is
evaluated: the clean edges are all there, and so is what the odd documents' good statements
grant. Before, the reach step died on the first odd Action (TypeError: 'int' object is not
iterable), taking every reach edge and account-wide node with it, and odd documents that no
evaluation reached were never named at all."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import pytest

from agentreach import exitcodes
from agentreach.config import load_config
from agentreach.connector import Connector, ScanContext
from agentreach.model import Edge, Record
from agentreach.policy.aws import edges as aws_edges
from agentreach.scan import run_scan
from agentreach.store import Store
from agentreach.view import SnapshotView

from . import hostile_policies as hp


def derive(with_odd: bool) -> Any:
    records = list(hp.estate(with_odd))
    nodes = [r for r in records if not isinstance(r, Edge)]
    return aws_edges.derive(SnapshotView.build(nodes, [r.to_dict() for r in records if isinstance(r, Edge)]))


def holder_of(kind: str, case: hp.Case) -> str:
    return {"inline": f"user/odd-{case.name}", "trust": f"role/odd-{case.name}",
            "resource": f"arn:aws:s3:::odd-{case.name}"}[kind]


def test_each_document_on_its_own() -> None:
    clean, odd = derive(False), derive(True)
    assert clean.problems == []
    edges = {(e.src, e.kind.value, e.dst): e for e in odd.edges}
    for e in clean.edges:  # the clean part of the account is evaluated exactly as without the odd documents
        assert edges[(e.src, e.kind.value, e.dst)].attrs == e.attrs
    cases = [(kind, case) for kind, items in hp.all_cases().items() for case in items]
    assert len(cases) == 49
    for kind, case in cases:
        holder = holder_of(kind, case)
        lines = [p for p in odd.problems if f"odd-{case.name} " in p or p.endswith(f"odd-{case.name})") or
                 f"odd-{case.name}:" in p or f"odd-{case.name})" in p]
        assert lines, f"{case.name}: no gap names it"
        assert all(holder in p for p in lines), lines  # the owner, not only the policy's name
        for label in case.bad:
            what = "skipped: " if label == "*" else f"statement {label} skipped: "
            assert any(what in p for p in lines), (case.name, label, lines)
        for sid in case.good:  # the well-formed statements beside a malformed one still grant
            assert any(holder.split("/")[-1] in e.src + e.dst and any(sid in g for g in e.attrs.get("grants", []))
                       for e in odd.edges), (case.name, sid)
    named = {u for u in hp.odd_users() if any(f"user/{u}" in p for p in odd.problems)}
    assert named == set(hp.odd_users())  # all 37 odd users


def test_the_skimming_readers_never_trip() -> None:
    """The candidate prefilter reads raw documents (which services, which principals) before
    any is compiled: a number where a list of actions belongs must not stop it."""
    for items in hp.all_cases().values():
        for case in items:
            aws_edges._allowed_services(case.document if isinstance(case.document, dict) else {})
            aws_edges._named_principals(case.document if isinstance(case.document, dict) else {})


class Estate(Connector):
    """The odd account as a connector hands it over."""

    name = "aws"
    version = "test"

    def __init__(self, with_odd: bool) -> None:
        super().__init__({})
        self.with_odd = with_odd

    def scan(self, ctx: ScanContext) -> Iterator[Record]:
        yield from hp.estate(self.with_odd)


def scan_estate(with_odd: bool, db: Path) -> tuple[Store, Any]:
    store = Store(db)
    return store, run_scan(store, load_config(), [Estate(with_odd)], ScanContext())


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, Any, set[str]]:
    tmp = tmp_path_factory.mktemp("hostile")
    clean, clean_result = scan_estate(False, tmp / "clean.db")
    assert clean_result.exit_code == exitcodes.OK and clean_result.gaps == []
    store, result = scan_estate(True, tmp / "odd.db")
    return store, result, {n.node.id for n in clean.nodes(clean_result.snapshot.id)}


def test_a_scan_of_the_odd_account_keeps_everything(scanned: tuple[Store, Any, set[str]]) -> None:
    store, result, clean_ids = scanned
    assert result.snapshot.status == "complete" and result.exit_code == exitcodes.GAPS
    steps_that_died = [g for g in result.gaps if g.error_code != "MalformedPolicy" and g.connector != "findings"]
    assert steps_that_died == []  # reach and the classifier read past every odd document
    named = {u for u in hp.odd_users() if any(f"user/{u}" in g.message for g in result.gaps)}
    assert named == set(hp.odd_users())
    stored = {n.node.id for n in store.nodes(result.snapshot.id)}
    assert clean_ids <= stored  # account-wide nodes and all: nothing a clean scan has is lost
    assert store.edges(result.snapshot.id, kinds=["can_access"])
    assert store.annotations(result.snapshot.id, "agent")  # the classifier ran to the end


def test_the_findings_step_reads_past_odd_documents(scanned: tuple[Store, Any, set[str]]) -> None:
    _, result, _ = scanned
    assert [g for g in result.gaps if g.connector == "findings"] == []
