"""A second blind source: the annotated tests of Semgrep's secrets rules and of its language rules
about hard-coded credentials, read from a pinned commit of semgrep/semgrep-rules. The detectors
were tuned on the misses of the others' corpus (sources.py); like the held-out set (heldout.py),
nobody looks at these cases while tuning, so their score says how the detectors do on examples
written by people who never saw them.

A Semgrep rule ``dir/name.yaml`` is tested by ``dir/name.<ext>`` (``.txt``, ``.py``, ``.npmrc``,
``.test.yaml``, …): a comment line ``ruleid: <id>`` marks the next line as one the rule must
report, ``ok: <id>`` as one it must not (``todoruleid:`` a miss the authors know of: a positive;
``todook:`` a false positive they know of: a negative). Annotations are read the way semgrep's
own test runner reads them (osemgrep's ``Test_annotation``: the comment alone on its line, ``#``,
``//``, ``<!-- -->``, ``/* */``, ``(* *)``, ``{/* */}``, several ids separated by commas, Pro and
Deep engine annotations left out); a line that names a rule after such a keyword but is not an
annotation for semgrep is skipped and counted.

The example is the test file itself, written verbatim, and only the annotated lines are scored:
a positive where the annotated statement is (the whole line counts, as for Betterleaks'
examples; a code statement that opens brackets runs to where they close), a negative on its own
statement. A rule counts for a kind only if it is mapped in ``semgrep_kinds.yaml`` (from
Semgrep's rule ids, messages and the vendors' formats, never from what agentreach finds). Three
families are read: Semgrep's own secrets rules (``generic/secrets/security``), its language rules
about hard-coded secrets, and ``generic/secrets/gitleaks`` (ports of gitleaks' rules, which
Betterleaks continues: the benchmark scores them apart). The values are read from the mirror at
build time; the committed ``semgrep.lock.tsv`` holds ids, sources, lines and digests only.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable

import regex
import yaml

from .gosrc import Unreadable
from .sources import Case, Source, cat_files, compile_rust, count_reasons, git, load_kinds

HERE = Path(__file__).parent
SOURCE = Source("semgrep", "semgrep/semgrep-rules", "157ae4706d7f54aa33647332f234dd68f30da195", "", "semgrep-tests")
SECRETS_DIR = "generic/secrets/security/"
GITLEAKS_DIR = "generic/secrets/gitleaks/"
FAMILIES = ("secrets", "code", "gitleaks")
# Language rules outside generic/secrets/ that must each be mapped or listed as not taken in
# semgrep_kinds.yaml (the wider search by "secret", "password", "token", … was read by hand)
CANDIDATE_CWE = re.compile(r"CWE-(?:798|259|321)\b")
CANDIDATE_WORDS = re.compile(r"hard-?coded?|hard-coding", re.I)
# Rules of these languages match text, not code: their annotated line is the example
TEXT_LANGUAGES = {"generic", "regex", "yaml", "json"}
# Negatives: Semgrep's "must not report" lines, scored like Nosey Parker's negative examples
RULE_NEGATIVES = "rule negative examples"
CODE_NEGATIVES = "code negative examples"
GENERIC_KIND = "Password or secret in code (generic)"
MAX_STATEMENT = 30  # lines a bracketed code statement may span before it is read as its first line

# osemgrep's Test_annotation: comment syntaxes (prefix, suffix), kinds, engine prefixes
COMMENTS = (("#", ""), ("//", ""), ("<!--", "-->"), ("(*", "*)"), ("/*", "*/"), ("{/*", "*/}"))
PREFILTER = re.compile(r"(ruleid|ok|todoruleid|todook):")
ANNOTATION = re.compile(r"^(pro|deep)?(ruleid|ok|todoruleid|todook):(.*)$", re.S)
RULE_ID = re.compile(r"^[A-Za-z0-9._-]+$")
POSITIVE_KINDS = ("ruleid", "todoruleid")


@dataclass(frozen=True)
class Rule:
    """One rule of a rule file, with what decides whether and how its tests are read."""

    id: str
    path: str  # the rule file
    family: str  # "secrets" | "code" | "gitleaks"
    languages: tuple[str, ...]
    message: str
    spec: dict[str, Any] = field(repr=False, hash=False, compare=False)

    @property
    def text_rule(self) -> bool:
        return set(self.languages) <= TEXT_LANGUAGES


@dataclass(frozen=True)
class Annotation:
    """A line the test's authors labelled for one rule (``line``: the annotated line, 1-based)."""

    rule: str
    test: str
    line: int
    kind: str  # ruleid | ok | todoruleid | todook


@dataclass(frozen=True)
class Skip:
    """An annotation (or a test file) not read, and why."""

    test: str
    line: int
    what: str
    reason: str


@dataclass
class Corpus:
    """Everything read from the pinned commit: rules, their tests, annotations and skips."""

    rules: dict[str, list[Rule]]  # rule file -> its rules (only the files whose tests are read)
    tests: dict[str, tuple[str, str]]  # test file -> (rule file, text)
    annotations: list[Annotation]
    skips: list[Skip]
    candidates: dict[str, str]  # language rule id -> rule file, of the rules that must be mapped or listed
    claimers: list[tuple[str, Callable[[str], bool]]] = field(default_factory=list)
    unread_formulas: list[tuple[str, str]] = field(default_factory=list)  # (rule, why)


# ---------------------------------------------------------------------------- reading the mirror

def listing(source: Source = SOURCE) -> list[tuple[str, str]]:
    """(blob id, path) of every file at the pinned commit."""
    out = []
    for line in git(source, "ls-tree", "-r", source.commit).splitlines():
        meta, path = line.split("\t", 1)
        if meta.split()[1] == "blob":
            out.append((meta.split()[2], path))
    return out


def is_rule_file(path: str) -> bool:
    """A rule YAML (not a YAML test file, not the repository's CI or statistics files)."""
    name = posixpath.basename(path)
    return (name.endswith((".yaml", ".yml")) and "/" in path and not path.startswith((".", "stats/"))
            and not name.endswith((".test.yaml", ".test.yml")))


def family_of(path: str) -> str:
    """The family of a rule file, a test file or a tree path (they keep the repository's folders)."""
    if path.startswith(SECRETS_DIR):
        return "secrets"
    if path.startswith(GITLEAKS_DIR):
        return "gitleaks"
    return "code"


def rules_of(path: str, text: str) -> list[Rule]:
    """The rules of one rule file ([] when it is not a rule file)."""
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return []
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        return []
    out = []
    for r in data["rules"]:
        if isinstance(r, dict) and r.get("id"):
            langs = r.get("languages") or []
            out.append(Rule(str(r["id"]), path, family_of(path), tuple(str(x) for x in langs),
                            " ".join(str(r.get("message") or "").split()), r))
    return out


def is_candidate(rule: Rule) -> bool:
    """A language rule semgrep_kinds.yaml must map or list: CWE-798/259/321, or "hard-coded"."""
    meta = rule.spec.get("metadata") or {}
    cwe = meta.get("cwe") if isinstance(meta, dict) else ""
    cwe_text = " ".join(map(str, cwe)) if isinstance(cwe, list) else str(cwe or "")
    return bool(CANDIDATE_CWE.search(cwe_text) or CANDIDATE_WORDS.search(f"{rule.id} {rule.message}"))


def tests_of(rule_file: str, paths: list[str]) -> list[str]:
    """The test files of a rule file: ``name.<ext>`` beside it (``.test.yaml`` for YAML), not the
    autofix outputs (``name.fixed.<ext>``)."""
    base = rule_file.rsplit(".", 1)[0] + "."
    out = []
    for p in paths:
        if not p.startswith(base) or "/" in p[len(base):] or ".fixed." in posixpath.basename(p):
            continue
        name = posixpath.basename(p)
        if name.endswith((".yaml", ".yml")) and not name.endswith((".test.yaml", ".test.yml")):
            continue
        out.append(p)
    return out


# ---------------------------------------------------------------------------- annotations

def parse_annotation(line: str) -> tuple[str, str, list[str]] | None:
    """(kind, engine, rule ids) of an annotation line, as osemgrep reads it; None if it is none."""
    if not PREFILTER.search(line):
        return None
    s = line.strip()
    for prefix, suffix in COMMENTS:
        if s.startswith(prefix):
            s = s[len(prefix):]
            if suffix and s.endswith(suffix):
                s = s[:-len(suffix)]
            break
    else:
        return None
    m = ANNOTATION.match(s.strip())
    if not m:
        return None
    rest = m.group(3).strip()
    while (n := ANNOTATION.match(rest)) is not None:  # "ruleid: prook: x": the first kind, OSS
        rest = n.group(3).strip()
    ids = [x.strip() for x in re.split(r"[ \t]*,[ \t]*", rest)]
    return m.group(2), m.group(1) or "oss", [x for x in ids if RULE_ID.match(x)]


def read_annotations(test: str, text: str, rule_ids: set[str]) -> tuple[list[Annotation], list[Skip]]:
    """The annotations of one test file for the given rules, and what was not read."""
    lines = text.split("\n")
    out: list[Annotation] = []
    skips: list[Skip] = []
    mention = re.compile(r"(?:ruleid|ok|todoruleid|todook):\s*(" + "|".join(map(re.escape, sorted(rule_ids)))
                         + r")\b")
    for i, line in enumerate(lines, start=1):
        got = parse_annotation(line)
        if got is None:
            if mention.search(line):
                skips.append(Skip(test, i, "line", "names a rule but is not an annotation for semgrep"))
            continue
        kind, engine, ids = got
        for rid in ids:
            if rid not in rule_ids:
                continue
            if engine != "oss":
                skips.append(Skip(test, i, rid, f"a {engine} engine annotation"))
            elif i >= len(lines) or (i == len(lines) - 1 and not lines[i]):
                skips.append(Skip(test, i, rid, "an annotation on the last line"))
            elif parse_annotation(lines[i]) is not None:
                skips.append(Skip(test, i, rid, "an annotation followed by another annotation"))
            elif not lines[i].strip():
                skips.append(Skip(test, i, rid, "an annotation followed by a blank line"))
            else:
                out.append(Annotation(rid, test, i + 1, kind))
    return out, skips


def _depth(line: str) -> int:
    """Open brackets minus closed ones on a line of code, outside string literals."""
    depth, quote, i = 0, "", 0
    while i < len(line):
        c = line[i]
        if quote:
            if c == "\\":
                i += 1
            elif c == quote:
                quote = ""
        elif c in "\"'`":
            quote = c
        elif c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        i += 1
    return depth


def statement(lines: list[str], line: int, text_rule: bool) -> tuple[int, int]:
    """The annotated statement as (first, last) line: the annotated line, or for code a statement
    that opens brackets, through the line where they close (semgrep reports where a match starts)."""
    if text_rule:
        return line, line
    depth = _depth(lines[line - 1])
    end = line
    while depth > 0 and end < len(lines) and end - line < MAX_STATEMENT:
        if parse_annotation(lines[end]) is not None:
            break
        depth += _depth(lines[end])
        end += 1
    return (line, end) if depth <= 0 else (line, line)


# ---------------------------------------------------------------------------- mapping

def load_mapping() -> dict[str, Any]:
    """semgrep_kinds.yaml: rule id -> kind (kinds of kinds.yaml or its new kinds), the language
    rules not taken, and the positives whose statement holds no value."""
    data = yaml.safe_load((HERE / "semgrep_kinds.yaml").read_text())
    ours = set(load_kinds()["kinds"]) | set(data.get("new_kinds") or {})
    kinds: dict[str, str] = {}
    for kind, ids in data["kinds"].items():
        if kind not in ours:
            raise ValueError(f"semgrep_kinds.yaml: {kind!r} is not a kind of kinds.yaml or of its new_kinds")
        for rid in ids:
            if rid in kinds:
                raise ValueError(f"semgrep_kinds.yaml: {rid} is mapped twice")
            kinds[rid] = kind
    not_taken = dict(data.get("not_credentials") or {})
    if set(not_taken) & set(kinds):
        raise ValueError(f"semgrep_kinds.yaml: mapped and not taken: {sorted(set(not_taken) & set(kinds))}")
    no_value = set()
    for entry in data.get("no_value") or []:
        test, line = str(entry).rsplit(":", 1)
        no_value.add((test, int(line)))
    agent = {k for k, meta in {**load_kinds()["kinds"], **(data.get("new_kinds") or {})}.items()
             if (meta or {}).get("agent")}
    return {"kinds": kinds, "not_taken": not_taken, "no_value": no_value, "agent": agent}


# ---------------------------------------------------------------------------- claims

FORMULA = ("pattern-regex", "patterns", "pattern-either", "pattern", "pattern-sources", "mode")


def _compile(source: str) -> regex.Pattern[str]:
    """A PCRE ``pattern-regex`` in Python's ``regex`` (as sources.py compiles Rust patterns)."""
    pat = compile_rust(source)
    if pat is None:
        raise Unreadable("a pattern-regex that does not compile in Python")
    return pat


def _search(pat: regex.Pattern[str], text: str) -> bool:
    """A search that gives up after a second: a pathological pattern claims nothing."""
    try:
        return pat.search(text, timeout=1) is not None
    except TimeoutError:
        return False


def matcher(spec: dict[str, Any]) -> Callable[[str], bool]:
    """A rule's formula as a test on a line, when it is made of ``pattern-regex``,
    ``pattern-not-regex``, ``patterns`` and ``pattern-either`` only (anything else, a generic
    ``pattern`` or a ``metavariable-*`` filter, is not guessed: Unreadable)."""
    if "pattern-regex" in spec:
        pat = _compile(str(spec["pattern-regex"]))
        return lambda t: _search(pat, t)
    if "pattern-either" in spec:
        alts = [matcher(x) for x in spec["pattern-either"]]
        return lambda t: any(m(t) for m in alts)
    if "patterns" in spec:
        pos: list[Callable[[str], bool]] = []
        neg: list[regex.Pattern[str]] = []
        for item in spec["patterns"]:
            if "pattern-not-regex" in item:
                neg.append(_compile(str(item["pattern-not-regex"])))
            elif set(item) & {"pattern-regex", "patterns", "pattern-either"}:
                pos.append(matcher(item))
            else:
                raise Unreadable(f"{next(iter(item))} is not read")
        if not pos:
            raise Unreadable("patterns without a pattern-regex")
        return lambda t: all(m(t) for m in pos) and not any(_search(p, t) for p in neg)
    raise Unreadable(f"{next((k for k in FORMULA if k in spec), 'no formula')} is not read")


def claimed_by(text: str, claimers: list[tuple[str, Callable[[str], bool]]], own: str) -> str:
    """The first mapped vendor rule (not ``own``) whose formula matches ``text`` ("" if none)."""
    for rid, test in claimers:
        if rid != own and test(text):
            return rid
    return ""


# ---------------------------------------------------------------------------- cases

@lru_cache(maxsize=1)
def _read() -> Corpus:
    files = listing()
    paths = sorted(p for _, p in files)
    mapping = load_mapping()
    # rule files: every one under generic/secrets/, and the language rule files whose text can
    # hold a candidate or a mapped rule (the rest is not parsed)
    wanted_ids = set(mapping["kinds"]) | set(mapping["not_taken"])
    hint = re.compile("|".join([CANDIDATE_CWE.pattern, CANDIDATE_WORDS.pattern,
                                *(re.escape(r) for r in sorted(wanted_ids))]), re.I)
    texts = cat_files(SOURCE, [(oid, p) for oid, p in files if is_rule_file(p)])
    rules: dict[str, list[Rule]] = {}
    candidates: dict[str, str] = {}
    for path, text in sorted(texts.items()):
        if family_of(path) != "code":
            rules[path] = rules_of(path, text)
            continue
        if not hint.search(text):
            continue
        taken = []
        for r in rules_of(path, text):
            if is_candidate(r):
                candidates[r.id] = path
            if r.id in mapping["kinds"]:
                taken.append(r)
        if taken:
            rules[path] = taken
    by_dir: dict[str, list[str]] = {}
    for p in paths:
        by_dir.setdefault(posixpath.dirname(p), []).append(p)
    test_paths: dict[str, str] = {}
    for rf in sorted(rules):
        for t in tests_of(rf, by_dir.get(posixpath.dirname(rf), [])):
            # a test file named after two rule files (a.yaml, a.b.yaml) belongs to the longer name
            if t not in test_paths or len(rf) > len(test_paths[t]):
                test_paths[t] = rf
    oids = dict((p, oid) for oid, p in files)
    test_texts = cat_files(SOURCE, [(oids[t], t) for t in sorted(test_paths)])
    corpus = Corpus({rf: rs for rf, rs in rules.items() if rs}, {}, [], [], candidates)
    for t in sorted(test_paths):
        rf = test_paths[t]
        ids = {r.id for r in rules[rf]}
        if not ids:
            continue
        anns, skips = read_annotations(t, test_texts[t], ids)
        corpus.annotations += anns
        corpus.skips += skips
        if anns:
            corpus.tests[t] = (rf, test_texts[t])
    for rf in sorted(corpus.rules):
        for r in corpus.rules[rf]:
            kind = mapping["kinds"].get(r.id)
            if kind is None or kind == GENERIC_KIND or r.family == "code":
                continue  # keyword rules fire on any password-like line: the authors' judgement stands
            try:
                corpus.claimers.append((r.id, matcher(r.spec)))
            except Unreadable as exc:
                corpus.unread_formulas.append((r.id, str(exc)))
    return corpus


def read() -> Corpus:
    """The rules and annotations of the pinned commit (read once per process: the mirror is immutable)."""
    return _read()


def rule_of(corpus: Corpus, a: Annotation) -> Rule:
    """The rule an annotation names, in its test file's rule file (ids repeat across files)."""
    rf = corpus.tests[a.test][0]
    return next(r for r in corpus.rules[rf] if r.id == a.rule)


def case_id(a: Annotation) -> str:
    """Test file, rule and line: unique, and stable while the pin does not move."""
    return f"{SOURCE.name}:{a.test}:{a.rule}:{a.line}"


def tree_path(test: str) -> str:
    """Where a test file is written in the tree: a folder per rule file, the test's own name."""
    rule_file = read().tests[test][0]
    return f"{rule_file.rsplit('.', 1)[0]}/{posixpath.basename(test)}"


def _normal(text: str) -> str:
    """A statement without its indentation, to find the same example written twice."""
    return "\n".join(line.strip() for line in text.split("\n"))


def cases() -> list[Case]:
    """The Semgrep cases: scored positives and negatives, plus excluded ones (with why). ``index``
    is the annotated line; the case's text is its statement (``text.count("\\n") + 1`` lines)."""
    corpus = read()
    mapping = load_mapping()
    out: list[Case] = []
    staged: list[tuple[Case, Rule]] = []
    for a in sorted(corpus.annotations, key=lambda a: (FAMILIES.index(family_of(a.test)), a.test, a.line, a.rule)):
        rule = rule_of(corpus, a)
        lines = corpus.tests[a.test][1].split("\n")
        first, last = statement(lines, a.line, rule.text_rule)
        label = "positive" if a.kind in POSITIVE_KINDS else "negative"
        c = Case(case_id(a), label, "\n".join(lines[first - 1:last]), SOURCE.repo, a.test, SOURCE.commit, a.rule,
                 a.kind, a.line)
        out.append(c)
        staged.append((c, rule))
    positives = {_normal(c.text) for c, _ in staged if c.label == "positive"}
    seen: set[tuple[str, str]] = set()
    for c, rule in staged:
        key = (c.label, _normal(c.text))
        kind = mapping["kinds"].get(c.rule)
        if c.label == "positive":
            if kind is None:
                c.excluded = "kind out of scope"
                continue
            if (c.path, c.index) in mapping["no_value"]:
                c.excluded = "no value on the annotated statement (the rule reports a use of a value set elsewhere)"
                continue
            if key in seen:
                c.excluded = "duplicate of an earlier case"
                continue
            seen.add(key)
            c.kind, c.agent = kind, kind in mapping["agent"]
            continue
        if key in seen:
            c.excluded = "duplicate of an earlier case"
            continue
        seen.add(key)
        if _normal(c.text) in positives:
            c.excluded = "also listed as a positive"
            continue
        other = claimed_by(c.text, corpus.claimers, c.rule)
        if other:
            c.excluded = f"matched by mapped rule {other}"
            continue
        c.kind = CODE_NEGATIVES if rule.family == "code" else RULE_NEGATIVES
    return out


def lines_of(c: Case) -> tuple[int, ...]:
    """The lines of a case's statement in its test file (and so in the tree, written verbatim)."""
    return tuple(range(c.index, c.index + c.text.count("\n") + 1))


def lock_lines(all_cases: list[Case]) -> list[str]:
    """The lock: one row per case and one per annotation not read (no digest); never a value."""
    head = "id\tlabel\tkind\trepo\tpath\tcommit\tline\tdigest\texcluded"
    rows = [head] + [f"{c.id}\t{c.label}\t{c.kind}\t{c.repo}\t{c.path}\t{c.commit}\t{c.index}\t{c.digest()}\t"
                     f"{c.excluded}" for c in all_cases]
    for s in read().skips:
        rows.append(f"{SOURCE.name}:{s.test}:{s.what}:{s.line}\tskipped\t\t{SOURCE.repo}\t{s.test}\t{SOURCE.commit}\t"
                    f"{s.line}\t\tnot read: {s.reason}")
    return rows


def summary(all_cases: list[Case]) -> dict[str, Any]:
    """Counts for the report: rules and tests read per family, excluded and skipped (by reason)."""
    corpus = read()
    excluded, skip_reasons = count_reasons(all_cases, corpus.skips, "matched by a mapped rule")
    tested = {(rf, a.rule) for a in corpus.annotations for rf in [corpus.tests[a.test][0]]}
    families: dict[str, dict[str, int]] = {}
    for fam in FAMILIES:
        rules = [(rf, r.id) for rf, rs in corpus.rules.items() for r in rs if r.family == fam]
        families[fam] = {"rules": len(rules), "rules tested": len(set(rules) & tested),
                         "test files": sum(1 for t in corpus.tests if family_of(t) == fam),
                         "annotations": sum(1 for a in corpus.annotations if family_of(a.test) == fam)}
    return {"families": families, "annotations": len(corpus.annotations), "skipped": len(corpus.skips),
            "excluded": excluded, "skip_reasons": skip_reasons, "unread_formulas": corpus.unread_formulas,
            "candidates": len(corpus.candidates)}
