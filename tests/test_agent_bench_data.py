"""The independent agent benchmark's data (bench/agent_eval): every case says where it
comes from, its label is valid, ids are unique, each subject is a record the connectors'
transforms produce, and the benchmark is as large as issue 15 asks."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bench.agent_eval.cases import CLOUDS, EVIDENCE_CLASSES, LABELS, CaseError
from bench.agent_eval.load import build, load_cases

TARGETS = {"cases": 150, "agents": 60, "lookalikes": 40}


@pytest.fixture(scope="module")
def built():
    return build()


def test_every_case_has_provenance_and_a_valid_label() -> None:
    cases = load_cases()
    assert cases
    for case in cases:
        assert case.label in LABELS and case.cloud in CLOUDS, case.id
        prov = case.provenance
        assert prov.get("url") or (prov.get("repository") and prov.get("path") and len(prov.get("commit", "")) == 40), \
            case.id
        if case.label == "agent":
            assert case.evidence_classes and set(case.evidence_classes) <= set(EVIDENCE_CLASSES), case.id
        else:
            assert not case.evidence_classes, case.id


def test_ids_are_unique_and_each_subject_is_one_record(built) -> None:
    nodes, _, labelled = built
    cases = load_cases()
    assert len({c.id for c in cases}) == len(cases)
    assert len(labelled) == len(cases)  # no two cases label the same record
    ids = {n.id for n in nodes}
    assert set(labelled) <= ids


def test_every_cloud_and_both_labels_are_present(built) -> None:
    _, _, labelled = built
    mix = Counter((c.cloud, c.label) for c in labelled.values())
    for cloud in CLOUDS:
        assert mix[(cloud, "agent")] and mix[(cloud, "not_agent")], cloud


def test_the_benchmark_reaches_the_sizes_issue_15_asks() -> None:
    cases = load_cases()
    assert len(cases) >= TARGETS["cases"]
    assert sum(c.label == "agent" for c in cases) >= TARGETS["agents"]
    assert sum(c.lookalike for c in cases) >= TARGETS["lookalikes"]


def test_a_case_without_provenance_is_refused_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("cases:\n- {id: x, cloud: aws, label: agent, evidence_classes: [name_pattern], subject: role:x}\n")
    with pytest.raises(CaseError, match=r"bad.yaml: case x: provenance"):
        load_cases([bad])


def test_a_wrong_label_or_duplicate_id_is_refused(tmp_path: Path) -> None:
    prov = "provenance: {repository: o/r, path: p, commit: " + "a" * 40 + "}"
    (tmp_path / "a.yaml").write_text(f"cases:\n- {{id: x, cloud: aws, label: maybe, subject: role:x, {prov}}}\n")
    with pytest.raises(CaseError, match="label 'maybe'"):
        load_cases([tmp_path / "a.yaml"])
    one = f"- {{id: x, cloud: aws, label: not_agent, subject: role:x, {prov}}}\n"
    (tmp_path / "b.yaml").write_text("cases:\n" + one + one)
    with pytest.raises(CaseError, match="id already used"):
        load_cases([tmp_path / "b.yaml"])


def test_a_record_kind_no_loader_knows_is_refused(tmp_path: Path) -> None:
    """A typo in a record kind would silently drop the evidence a source defines."""
    prov = "provenance: {repository: o/r, path: p, commit: " + "a" * 40 + "}"
    (tmp_path / "c.yaml").write_text(f"cases:\n- {{id: x, cloud: aws, label: not_agent, subject: role:x, {prov}, "
                                     "records: {rolez: []}}\n")
    with pytest.raises(CaseError, match="case x: unknown records key rolez"):
        build([tmp_path / "c.yaml"])
