"""The blind Semgrep benchmark's data (bench/secrets_corpus/semgrep.py: the annotated tests of
Semgrep's rules at a pinned commit): the committed lock is well formed and holds no value, the
annotation reader reads what semgrep's own test runner reads and nothing else, the mapping uses
only kinds the benchmark claims, and, with the mirror present, every case says where it comes
from, its label and kind are ones the benchmark allows, every language rule found by its CWE or
by "hard-coded" is mapped or listed as not taken, the lock is what the mirror gives, the tree
builds the same twice (the test files verbatim) and the script prints the new section. Scores
are not asserted: the set is for measuring, never for tuning. Without the mirror the tests that
need it are skipped with the command that brings it."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bench.secrets_corpus import build, semgrep, sources
from tests import bench_data

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "bench" / "secrets_corpus"
LOCK = CORPUS / "semgrep.lock.tsv"
CLASSES = {semgrep.RULE_NEGATIVES, semgrep.CODE_NEGATIVES}
EXCLUSIONS = ("kind out of scope", "duplicate of an earlier case", "also listed as a positive",
              "no value on the annotated statement", "matched by mapped rule ", "not read: ")
KINDS = ("ruleid", "ok", "todoruleid", "todook")

needs_mirror = bench_data.needs_mirror(semgrep.SOURCE)


def lock_rows() -> list[dict[str, str]]:
    return bench_data.lock_rows(LOCK)


@pytest.fixture(scope="module")
def cases() -> list[sources.Case]:
    return semgrep.cases()


# ---------------------------------------------------------------------------- without the mirror

def test_the_lock_is_well_formed_and_pinned() -> None:
    rows = lock_rows()
    assert rows
    assert len({r["id"] for r in rows}) == len(rows)
    for r in rows:
        assert r["repo"] == semgrep.SOURCE.repo and r["commit"] == semgrep.SOURCE.commit, r["id"]
        assert r["id"] == f"semgrep:{r['path']}:{r['id'].split(':')[2]}:{r['line']}", r["id"]
        assert int(r["line"]) >= 1, r["id"]
        assert r["label"] in ("positive", "negative", "skipped"), r["id"]
        if r["label"] == "skipped":
            assert not r["digest"] and r["excluded"].startswith("not read: "), r["id"]
            continue
        assert re.fullmatch(r"[0-9a-f]{16}", r["digest"]), r["id"]
        assert not r["excluded"] or r["excluded"].startswith(EXCLUSIONS), r["id"]
        if not r["excluded"]:
            assert r["kind"], r["id"]
    scored = [r for r in rows if r["label"] != "skipped" and not r["excluded"]]
    assert {"positive", "negative"} <= {r["label"] for r in scored}
    assert {semgrep.family_of(r["path"]) for r in scored} == set(semgrep.FAMILIES)


def test_the_mapping_uses_only_kinds_the_benchmark_claims() -> None:
    ours = set(sources.load_kinds()["kinds"])
    data = yaml.safe_load((CORPUS / "semgrep_kinds.yaml").read_text())
    assert set(data["new_kinds"]) == {semgrep.GENERIC_KIND} and not ours & set(data["new_kinds"])
    mapping = semgrep.load_mapping()
    assert mapping["kinds"] and mapping["not_taken"] and mapping["no_value"]
    assert set(mapping["kinds"].values()) <= ours | {semgrep.GENERIC_KIND}
    scored = {r["kind"] for r in lock_rows() if r["label"] == "positive" and not r["excluded"]}
    assert scored <= set(mapping["kinds"].values())
    negatives = {r["kind"] for r in lock_rows() if r["label"] == "negative" and not r["excluded"]}
    assert negatives <= CLASSES


def test_a_kind_the_benchmark_does_not_claim_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "semgrep_kinds.yaml").write_text(yaml.safe_dump({"kinds": {"Made-up key": ["detected-github-token"]}}))
    monkeypatch.setattr(semgrep, "HERE", tmp_path)
    with pytest.raises(ValueError, match="not a kind of kinds.yaml"):
        semgrep.load_mapping()


def test_annotations_are_read_as_semgreps_test_runner_reads_them() -> None:
    assert semgrep.parse_annotation("  # ruleid: detected-github-token") == ("ruleid", "oss", ["detected-github-token"])
    assert semgrep.parse_annotation("//ok:a, b") == ("ok", "oss", ["a", "b"])
    assert semgrep.parse_annotation("<!-- todoruleid: x -->") == ("todoruleid", "oss", ["x"])
    assert semgrep.parse_annotation("/* todook: x */") == ("todook", "oss", ["x"])
    assert semgrep.parse_annotation("{/* ruleid: x */}") == ("ruleid", "oss", ["x"])
    assert semgrep.parse_annotation("// ruleid: prook: x") == ("ruleid", "oss", ["x"])
    assert semgrep.parse_annotation("# proruleid: x") == ("ruleid", "pro", ["x"])
    assert semgrep.parse_annotation("return res.send({ok: true})") is None  # JavaScript, not an annotation
    assert semgrep.parse_annotation("x = 1  # ruleid: x") is None  # the comment must be alone on its line
    assert semgrep.parse_annotation("/ ok: x") is None
    text = "\n".join(["# ruleid: r", "token = 'a'", "/ ok: r", "x", "# ok: r", "# ok: r", "y", "# ruleid: other",
                      "z", "# ruleid: r"])
    anns, skips = semgrep.read_annotations("t.txt", text, {"r"})
    assert [(a.line, a.kind) for a in anns] == [(2, "ruleid"), (7, "ok")]
    assert sorted(s.reason for s in skips) == ["an annotation followed by another annotation",
                                               "an annotation on the last line",
                                               "names a rule but is not an annotation for semgrep"]


def test_a_code_statement_runs_to_where_its_brackets_close() -> None:
    lines = ["s3 = boto3.resource(", '    "s3",', '    key="(not a bracket",', ")", "after", "f(x)"]
    assert semgrep.statement(lines, 1, False) == (1, 4)
    assert semgrep.statement(lines, 6, False) == (6, 6)
    assert semgrep.statement(lines, 1, True) == (1, 1)  # a text rule's example is its line
    assert semgrep.statement(["call(", "# ok: r", "x)"], 1, False) == (1, 1)  # never across an annotation


def test_a_formula_of_regexes_is_read_and_anything_else_is_not() -> None:
    spec = {"patterns": [{"pattern-either": [{"pattern-regex": r"ab+c"}, {"pattern-regex": "xyz"}]},
                         {"pattern-not-regex": "(?i)example"}]}
    test = semgrep.matcher(spec)
    assert test("key abbbc") and test("xyz") and not test("abc EXAMPLE") and not test("nothing")
    with pytest.raises(semgrep.Unreadable):
        semgrep.matcher({"patterns": [{"pattern": "$X = $Y"}, {"metavariable-regex": {}}]})
    assert semgrep.claimed_by("abbc", [("a", test)], "a") == ""  # a rule does not claim its own negatives
    assert semgrep.claimed_by("abbc", [("a", test)], "b") == "a"


# ---------------------------------------------------------------------------- with the mirror

@needs_mirror
def test_every_case_has_provenance_and_a_valid_label(cases: list[sources.Case]) -> None:
    assert cases
    assert len({c.id for c in cases}) == len(cases)
    listing = {p for _, p in semgrep.listing()}
    corpus = semgrep.read()
    mapping = semgrep.load_mapping()
    tests = {rf: set(semgrep.tests_of(rf, sorted(listing))) for rf in corpus.rules}
    for c in cases:
        assert c.repo == semgrep.SOURCE.repo and c.commit == semgrep.SOURCE.commit, c.id
        assert c.path in listing and c.path in corpus.tests, c.id
        rule_file, text = corpus.tests[c.path]
        assert rule_file in listing and c.path in tests[rule_file], c.id
        assert c.rule in {r.id for r in corpus.rules[rule_file]}, c.id
        lines = text.split("\n")
        assert c.field_name in KINDS and c.text == "\n".join(lines[c.index - 1:c.index - 1 + c.text.count("\n") + 1])
        # the annotation is the line before, and names this rule
        got = semgrep.parse_annotation(lines[c.index - 2])
        assert got is not None and got[0] == c.field_name and c.rule in got[2], c.id
        assert c.label == ("positive" if c.field_name in ("ruleid", "todoruleid") else "negative"), c.id
        assert not c.excluded or c.excluded.startswith(EXCLUSIONS), c.id
        if c.excluded:
            continue
        if c.label == "positive":
            assert c.kind == mapping["kinds"][c.rule], c.id
        else:
            assert c.kind == (semgrep.CODE_NEGATIVES if semgrep.family_of(c.path) == "code"
                              else semgrep.RULE_NEGATIVES), c.id
    # every no_value entry is a positive of a mapped rule (a typo would exclude nothing)
    positives = {(c.path, c.index) for c in cases if c.label == "positive" and c.rule in mapping["kinds"]}
    assert mapping["no_value"] <= positives
    # every mapped rule exists at the pinned commit and has annotated tests
    assert set(mapping["kinds"]) <= {a.rule for a in corpus.annotations}


@needs_mirror
def test_every_language_rule_about_hard_coded_values_is_mapped_or_not_taken() -> None:
    corpus = semgrep.read()
    mapping = semgrep.load_mapping()
    assert corpus.candidates
    assert set(corpus.candidates) <= set(mapping["kinds"]) | set(mapping["not_taken"])
    assert set(mapping["not_taken"]) <= set(corpus.candidates)


@needs_mirror
def test_the_lock_is_what_the_mirror_gives(cases: list[sources.Case]) -> None:
    assert semgrep.lock_lines(cases) == LOCK.read_text().rstrip("\n").split("\n")


@needs_mirror
def test_no_value_is_committed(cases: list[sources.Case]) -> None:
    committed = "".join(p.read_text() for p in (LOCK, CORPUS / "semgrep_kinds.yaml", CORPUS / "README.md",
                                                 CORPUS / "semgrep.py", Path(__file__)))
    values = {run for c in cases if c.label == "positive" and c.kind
              for run in re.findall(r"[A-Za-z0-9+/=_.-]{12,}", c.text)
              if re.search(r"\d", run) and re.search(r"[A-Za-z]", run)}
    assert values
    assert not [hashlib.sha256(v.encode()).hexdigest()[:12] for v in values if v in committed]


@needs_mirror
def test_the_tree_builds_the_same_twice(tmp_path: Path) -> None:
    trees = []
    for name in ("a", "b"):
        plants = build.build_semgrep(tmp_path / name)
        files = {str(p.relative_to(tmp_path / name)): p.read_bytes() for p in (tmp_path / name).rglob("*")
                 if p.is_file()}
        trees.append((plants, files))
    assert trees[0] == trees[1]
    plants, files = trees[0]
    assert {p.path for p in plants} == set(files)
    corpus = semgrep.read()
    for test, (_, text) in corpus.tests.items():  # each test file with a scored case, verbatim
        rel = semgrep.tree_path(test)
        if rel in files:
            assert files[rel].decode() == (text if text.endswith("\n") else text + "\n"), test
            assert Path(rel).name == Path(test).name
    for p in plants:
        n = files[p.path].count(b"\n")
        assert p.lines and all(1 <= line <= n for line in p.lines), p.case_id
        assert p.source["repo"] == semgrep.SOURCE.repo and p.source["commit"] == semgrep.SOURCE.commit, p.case_id
    assert {p.label for p in plants} == {"positive", "negative"}
    # no two plants share a line: each annotated statement is scored once
    taken = [(p.path, n) for p in plants for n in p.lines]
    assert len(taken) == len(set(taken))


@needs_mirror
def test_the_script_prints_the_semgrep_section() -> None:
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "secrets_eval.py"), "--only-semgrep",
                          "--skip-detect-secrets", "--verbose"], capture_output=True, text=True, check=True,
                         cwd=ROOT, timeout=300).stdout
    assert "blind: Semgrep rule tests" in out
    assert "Semgrep per kind (annotated lines found / planted)" in out
    assert "Semgrep gitleaks ports per kind (annotated lines found / planted)" in out
    assert out.count("| scanner | recall | precision | TP | FP | marked fixtures |") == 2
    assert "| negative class | cases |" in out and f"| {semgrep.RULE_NEGATIVES} |" in out
    assert "agentreach Semgrep missed:" in out and "agentreach Semgrep false positives:" in out
    assert "agentreach Semgrep gitleaks ports missed:" in out
    assert "held-out: TruffleHog" not in out and "corpus from others' examples" not in out  # alone
