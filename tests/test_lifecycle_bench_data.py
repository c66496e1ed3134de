"""The owner / stale benchmark's data (bench/lifecycle_eval): every case says where it comes
from, its label is one the question allows, ids are unique, each case builds into records
whose subject is among them (or says why the connector emits none), and the evaluation
script prints its tables end to end. Scores are not asserted: a disagreement with a source
is a finding to read, not a failure."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from bench.lifecycle_eval.cases import CLOUDS, OWNER_LABELS, QUESTIONS, CaseError
from bench.lifecycle_eval.load import judge, load_cases, view_of

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {"stale": 60, "owner": 35}
PROV = "provenance: {repository: o/r, path: p, commit: " + "a" * 40 + ", note: n}"


def test_every_case_has_provenance_and_a_valid_label() -> None:
    cases = load_cases()
    assert cases
    for case in cases:
        assert case.cloud in CLOUDS and case.question in QUESTIONS, case.id
        prov = case.provenance
        assert prov.get("note"), case.id
        assert prov.get("url") or (prov.get("repository") and prov.get("path") and len(prov["commit"]) == 40), case.id
        if case.question == "owner":
            assert case.label in OWNER_LABELS, case.id
        else:
            assert isinstance(case.label, bool), case.id


def test_ids_are_unique_and_every_case_builds_its_subject() -> None:
    cases = load_cases()
    assert len({c.id for c in cases}) == len(cases)
    for case in cases:
        view, sid = view_of(case)
        assert sid in view.nodes or case.absent_ok, case.id


def test_every_cloud_and_both_verdicts_are_present_at_size() -> None:
    cases = load_cases()
    mix = Counter((c.verdict, c.cloud) for c in cases)
    for verdict in ("stale", "owner"):
        assert sum(n for (v, _), n in mix.items() if v == verdict) >= TARGETS[verdict]
        for cloud in CLOUDS:
            assert mix[(verdict, cloud)], (verdict, cloud)
    owner_labels = {c.label for c in cases if c.verdict == "owner"}
    assert owner_labels == set(OWNER_LABELS)


def test_our_code_answers_every_case_without_crashing() -> None:
    for case in load_cases():
        result = judge(case)
        assert not result.crash, (case.id, result.crash)


@pytest.mark.parametrize(("body", "match"), [
    ("- {id: x, cloud: aws, question: stale, label: true, subject: 'key:u#1', now: 2025-01-01}",
     "case x: provenance needs"),
    ("- {id: x, cloud: aws, question: owner, label: maybe, subject: 'role:r', now: 2025-01-01, " + PROV + "}",
     "owner label 'maybe'"),
    ("- {id: x, cloud: aws, question: stale, label: yes-ish, subject: 'role:r', now: 2025-01-01, " + PROV + "}",
     "true or false"),
    ("- {id: x, cloud: aws, question: fresh, label: true, subject: 'role:r', now: 2025-01-01, " + PROV + "}",
     "question 'fresh'"),
    ("- {id: x, cloud: aws, question: stale, label: true, subject: 'role:r', now: 2025-01-01, "
     "provenance: {repository: o/r, path: p, commit: abc, note: n}}", "40-hex commit"),
])
def test_a_bad_case_is_refused_in_one_line(tmp_path: Path, body: str, match: str) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("cases:\n" + body + "\n")
    with pytest.raises(CaseError, match=match):
        load_cases([bad])


def test_a_record_kind_no_loader_knows_is_refused(tmp_path: Path) -> None:
    """A typo in a record kind would silently drop what the source says."""
    (tmp_path / "c.yaml").write_text("cases:\n- {id: x, cloud: aws, question: stale, label: true, subject: 'role:r', "
                                     "now: 2025-01-01, " + PROV + ", records: {rolez: []}}\n")
    with pytest.raises(CaseError, match="case x: unknown records key rolez"):
        view_of(load_cases([tmp_path / "c.yaml"])[0])


def test_the_script_prints_both_tables_and_the_disagreements() -> None:
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "lifecycle_eval.py")], capture_output=True,
                         text=True, check=True, cwd=ROOT, timeout=300).stdout
    assert "== stale verdicts:" in out and "== owner verdicts:" in out and "== disagreements:" in out
    for cloud in CLOUDS:
        assert f"cloud {cloud}" in out and f"{cloud} owned" in out
