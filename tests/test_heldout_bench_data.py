"""The held-out secrets benchmark's data (bench/secrets_corpus/heldout.py: TruffleHog's detector
tests at a pinned commit): the committed lock is well formed and holds no value, the Go reader
reads the literal forms the tests use and refuses the rest, and, with the mirror present, every
case says where it comes from, its label and kind are ones the benchmark allows, the lock is what
the mirror gives, the tree builds the same twice, and the script prints the new section. Scores
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

from bench.secrets_corpus import build, gosrc, heldout, sources
from tests import bench_data

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "bench" / "secrets_corpus"
LOCK = CORPUS / "heldout.lock.tsv"
CLASSES = {heldout.LOOKALIKE, heldout.LOOKALIKE_OTHER}
EXCLUSIONS = ("kind out of scope", "duplicate of an earlier case", "also listed as a positive",
              "named a valid value by its authors", "matched by mapped detector ", "not read literally: ")

needs_mirror = bench_data.needs_mirror(heldout.SOURCE)


def lock_rows() -> list[dict[str, str]]:
    return bench_data.lock_rows(LOCK)


@pytest.fixture(scope="module")
def cases() -> list[sources.Case]:
    return heldout.cases()


# ---------------------------------------------------------------------------- without the mirror

def test_the_lock_is_well_formed_and_pinned() -> None:
    rows = lock_rows()
    assert rows
    assert len({r["id"] for r in rows}) == len(rows)
    for r in rows:
        assert r["repo"] == heldout.SOURCE.repo and r["commit"] == heldout.SOURCE.commit, r["id"]
        assert r["path"].startswith(heldout.SOURCE.rules_dir) and r["path"].endswith("_test.go"), r["id"]
        assert r["label"] in ("positive", "negative", "skipped"), r["id"]
        if r["label"] == "skipped":
            assert not r["digest"] and r["excluded"].startswith("not read literally: "), r["id"]
            continue
        assert re.fullmatch(r"[0-9a-f]{16}", r["digest"]), r["id"]
        assert not r["excluded"] or r["excluded"].startswith(EXCLUSIONS), r["id"]
        if not r["excluded"]:
            assert r["kind"], r["id"]
    assert {"positive", "negative"} <= {r["label"] for r in rows if not r["excluded"]}


def test_the_mapping_uses_only_kinds_the_benchmark_claims() -> None:
    ours = sources.load_kinds()["kinds"]
    mapping = heldout.load_mapping()
    assert mapping
    assert set(mapping.values()) <= set(ours)
    scored = {r["kind"] for r in lock_rows() if r["label"] == "positive" and not r["excluded"]}
    assert scored <= set(mapping.values())
    negatives = {r["kind"] for r in lock_rows() if r["label"] == "negative" and not r["excluded"]}
    assert negatives <= CLASSES


def test_a_kind_the_benchmark_does_not_claim_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "heldout_kinds.yaml").write_text(yaml.safe_dump({"kinds": {"Made-up key": ["openai"]}}))
    monkeypatch.setattr(heldout, "HERE", tmp_path)
    with pytest.raises(ValueError, match="not a kind of kinds.yaml"):
        heldout.load_mapping()


def test_the_go_reader_evaluates_the_literal_forms_the_tests_use() -> None:
    src = '''package x
var (
    keyword = "twilio"
    sid = "AC" + `0123`
    raw = `a\\nb`
)
const pad = "%s-%d"
func TestX_Pattern(t *testing.T) {
    local := fmt.Sprintf("%s token - '%s'\\n", keyword, sid)
    other := strings.Repeat("ab", 3) + fmt.Sprintf(pad, "k", 7)
    words := []string{"a", "b",}
    bad := someCall(sid)
}
'''
    toks = gosrc.tokenize(src)
    names, funcs = gosrc.top_level(toks)
    env = gosrc.resolver(gosrc.locals_of(toks, funcs[0].body), names)
    assert env("local") == "twilio token - 'AC0123'\n"
    assert env("raw") == "a\\nb"  # a raw string keeps its backslash
    assert env("other") == "ababab" + "k-7"
    assert env("words") == ["a", "b"]
    with pytest.raises(gosrc.Unreadable, match="call someCall"):
        env("bad")
    assert gosrc.prefix_regex(["openai"]) == r"(?i:openai)(?:.|[\n\r]){0,40}?"


def test_a_composite_want_is_placed_by_its_parts() -> None:
    text = "id: AKIAEXAMPLEID12345\nsecret: .Zm9vYmFyYmF6cXV4cXV1eDEyMzQ1Njc4OTAxMjM0NTY3;\n"
    assert heldout.parts_of(text, "AKIAEXAMPLEID12345") == ["AKIAEXAMPLEID12345"]
    parts = heldout.parts_of(text, "AKIAEXAMPLEID12345:Zm9vYmFyYmF6cXV4cXV1eDEyMzQ1Njc4OTAxMjM0NTY3")
    assert parts == ["AKIAEXAMPLEID12345", "Zm9vYmFyYmF6cXV4cXV1eDEyMzQ1Njc4OTAxMjM0NTY3"]
    assert heldout.parts_of(text, "nothing-of-it-here") == []


# ---------------------------------------------------------------------------- with the mirror

@needs_mirror
def test_every_case_has_provenance_and_a_valid_label(cases: list[sources.Case]) -> None:
    assert cases
    assert len({c.id for c in cases}) == len(cases)
    listing = set(sources.git(heldout.SOURCE, "ls-tree", "-r", "--name-only", heldout.SOURCE.commit, "--",
                              heldout.SOURCE.rules_dir).split("\n"))
    mapping = heldout.load_mapping()
    for c in cases:
        assert c.repo == heldout.SOURCE.repo and c.commit == heldout.SOURCE.commit, c.id
        assert c.path in listing and heldout.is_unit_test(c.path), c.id
        assert c.rule == heldout.detector_of(c.path) and c.text, c.id
        assert c.label in ("positive", "negative"), c.id
        assert not c.excluded or c.excluded.startswith(EXCLUSIONS), c.id
        if c.excluded:
            continue
        if c.label == "positive":
            assert c.kind == mapping[c.rule], c.id
        else:
            assert c.kind == (heldout.LOOKALIKE if c.rule in mapping else heldout.LOOKALIKE_OTHER), c.id
    # every mapped detector has a test file at the pinned commit (a typo would map nothing)
    assert set(mapping) <= {heldout.detector_of(p) for p in listing if heldout.is_unit_test(p)}


@needs_mirror
def test_the_lock_is_what_the_mirror_gives(cases: list[sources.Case]) -> None:
    assert heldout.lock_lines(cases) == LOCK.read_text().rstrip("\n").split("\n")


@needs_mirror
def test_no_value_is_committed(cases: list[sources.Case]) -> None:
    committed = "".join(p.read_text() for p in (LOCK, CORPUS / "heldout_kinds.yaml", CORPUS / "README.md",
                                                 CORPUS / "heldout.py", Path(__file__)))
    values = {part for c in cases if c.label == "positive" for part in c.secret.split("\n") if len(part) >= 12}
    assert values
    assert not [hashlib.sha256(v.encode()).hexdigest()[:12] for v in values if v in committed]


@needs_mirror
def test_the_tree_builds_the_same_twice(tmp_path: Path) -> None:
    trees = []
    for name in ("a", "b"):
        plants = build.build_heldout(tmp_path / name)
        files = {str(p.relative_to(tmp_path / name)): p.read_bytes() for p in (tmp_path / name).rglob("*")
                 if p.is_file()}
        trees.append((plants, files))
    assert trees[0] == trees[1]
    plants, files = trees[0]
    assert {p.path for p in plants} == set(files)
    for p in plants:
        n = files[p.path].count(b"\n")
        assert p.lines and all(1 <= line <= n for line in p.lines), p.case_id
        assert p.source["repo"] == heldout.SOURCE.repo and p.source["commit"] == heldout.SOURCE.commit, p.case_id
    assert {p.label for p in plants} == {"positive", "negative"}


@needs_mirror
def test_the_script_prints_the_heldout_section() -> None:
    out = subprocess.run([sys.executable, str(ROOT / "bench" / "secrets_eval.py"), "--only-heldout",
                          "--skip-detect-secrets", "--verbose"], capture_output=True, text=True, check=True,
                         cwd=ROOT, timeout=300).stdout
    assert "held-out: TruffleHog detector tests" in out
    assert "held-out per kind (files found / files planted)" in out
    assert "| scanner | recall | precision | TP | FP | marked fixtures |" in out
    assert "| negative class | cases |" in out and f"| {heldout.LOOKALIKE} |" in out
    assert "agentreach held-out missed:" in out and "agentreach held-out false positives:" in out
    assert "corpus from others' examples" not in out  # --only-heldout runs that section alone
