"""A held-out source: the labelled inputs of TruffleHog's detector unit tests, read from a pinned
commit. The detectors were tuned on the misses of the other three sources (sources.py); this set
was built to be looked at only to measure, and its first run (recall 0.786) was blind. Its misses
were then read and five detector changes made from them (session 6: Azure storage keys by shape
and context, Entra secrets starting with "-", Atlassian ATCTT3 admin keys, Azurite's published
key as a documented example, Azure Cache for Redis keys), so it is a development set since; the blind set is Semgrep's
(semgrep.py).

Each ``pkg/detectors/<name>/*_test.go`` (integration tests left out) holds tables of
``{name, input, want}``: ``want`` non-empty makes the input a positive whose secret is the
``want`` strings, ``want`` nil or empty a negative. Inputs and wants are read literally (string
literals, package and local names, ``+``, ``fmt.Sprintf`` with plain verbs: gosrc.py); an entry
that cannot be read that way is skipped and counted. A detector counts for a kind only if it is
mapped in ``heldout_kinds.yaml`` (from TruffleHog's names and the vendors' formats, never from
what agentreach finds). A negative is scored, as a format lookalike (apart from the headline
precision, like Betterleaks' fps), only if no mapped detector's own patterns would report on it
(a detector's "invalid" input is often still another detector's secret, or the same vendor's key
without the pair TruffleHog needs) and its authors do not call the value valid. The values are
read from the mirror at build time; the committed ``heldout.lock.tsv`` holds ids, sources and
digests only.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import regex
import yaml

from . import gosrc
from .gosrc import Decl, Tok, Unreadable
from .sources import Case, Source, cat_files, compile_rust, count_reasons, git, load_kinds

HERE = Path(__file__).parent
SOURCE = Source("trufflehog", "trufflesecurity/trufflehog", "3ab759fef4bb5935d4fe9ac68b503d05346b8364",
                "pkg/detectors/", "go-tests")
INPUT_FIELDS = ("input", "data", "Input")
WANT_FIELDS = ("want", "expectedPairs", "Expected")
# fields a pattern table may have besides input and want without changing what a want means
NEUTRAL_FIELDS = {"name", "description", "skip", "noKeywords", "shouldMatch", "match"}
# TruffleHog's negatives are "not this detector's result": a malformed value next to the vendor's
# keyword, mostly. Like Betterleaks' fps they are scored as format lookalikes, apart from the
# headline precision: of a mapped detector (a lookalike of one of our kinds) or of another vendor.
LOOKALIKE = "format lookalike"
LOOKALIKE_OTHER = "format lookalike (unmapped vendor)"
# A negative its authors call a valid value ("valid pattern - key out of prefix range", "only
# key") is TruffleHog's keyword window or pairing rule, not a non-secret: not scored.
VALID_BY_NAME = re.compile(r"(?i)^valid\b|out of (?:prefix )?range|keyword")
MIN_PART = 8  # shorter runs of a composite want (":", '","', a scheme) locate nothing


@dataclass(frozen=True)
class Entry:
    """One labelled test input as TruffleHog's authors wrote it (``wants`` empty: a negative)."""

    detector: str  # the directory under pkg/detectors: "openai", "aws/access_keys"
    path: str
    func: str
    index: int
    name: str
    text: str
    wants: tuple[str, ...]


@dataclass(frozen=True)
class Skip:
    """A test entry (or a whole table) that could not be read literally, and why."""

    detector: str
    path: str
    func: str
    what: str
    reason: str


@dataclass
class Corpus:
    """Everything read from the pinned commit: entries, skips, and the patterns of mapped detectors."""

    entries: list[Entry]
    skips: list[Skip]
    patterns: dict[str, list[regex.Pattern[str]]] = field(default_factory=dict)
    unread_patterns: list[tuple[str, str]] = field(default_factory=list)  # (detector, reason)


# ---------------------------------------------------------------------------- reading the mirror

def blobs(source: Source = SOURCE) -> dict[str, str]:
    """Every .go file under pkg/detectors at the pinned commit, read in one ``git cat-file`` call."""
    listing = git(source, "ls-tree", "-r", source.commit, "--", source.rules_dir)
    rows = [line.split("\t", 1) for line in listing.splitlines() if line.endswith(".go")]
    oids = [(meta.split()[2], path) for meta, path in rows if meta.split()[1] == "blob"]
    return cat_files(source, oids)


def detector_of(path: str) -> str:
    return posixpath.dirname(path.removeprefix(SOURCE.rules_dir))


def is_unit_test(path: str) -> bool:
    name = posixpath.basename(path)
    return name.endswith("_test.go") and "integ" not in name and bool(detector_of(path))


# ---------------------------------------------------------------------------- test tables

def _fields(toks: list[Tok], a: int, b: int) -> dict[str, tuple[int, int]] | None:
    """``{key: value, ...}`` as key -> value token range (None when positional)."""
    if toks[a].value != "{" or gosrc.matching(toks, a) != b - 1:
        return None
    out: dict[str, tuple[int, int]] = {}
    for x, y in gosrc.split_top(toks, a + 1, b - 1):
        parts = gosrc.split_top(toks, x, y, ":")
        if len(parts) < 2 or parts[0][1] - parts[0][0] != 1 or toks[parts[0][0]].kind != "ident":
            return None
        out[toks[parts[0][0]].value] = (parts[1][0], y)
    return out


def _strings(v: gosrc.Value) -> list[str]:
    if v is None:
        return []
    if isinstance(v, list) and all(isinstance(x, str) for x in v):
        return list(v)
    raise Unreadable("a want that is not a []string")


def _label(ev: gosrc.Evaluator, fields: dict[str, tuple[int, int]]) -> tuple[str, tuple[str, ...]]:
    """(input, wants) of one table entry, evaluated."""
    key = next((k for k in INPUT_FIELDS if k in fields), None)
    if key is None:
        raise Unreadable("an entry without an input")
    text = gosrc._str(ev.value(*fields[key]))
    if "shouldMatch" in fields:
        if ev.value(*fields["shouldMatch"]) is not True:
            return text, ()
        match = gosrc._str(ev.value(*fields["match"])) if "match" in fields else ""
        return text, (match or text,)
    wants: list[str] = []
    for k in WANT_FIELDS:
        if k in fields:
            wants += _strings(ev.value(*fields[k]))
    return text, tuple(dict.fromkeys(w for w in wants if w))


def _tables(toks: list[Tok], body: tuple[int, int]) -> list[tuple[set[str], list[tuple[str, int, int]]]]:
    """Each table literal in a function: its declared fields and its entries (name, token range)."""
    i, j = body
    out = []
    for k in gosrc.find_all(toks, i, j, "[", "]", "struct", "{"):
        close = gosrc.matching(toks, k + 3)
        declared = {toks[a].value for a, _ in gosrc.split_top(toks, k + 4, close, ";") if toks[a].kind == "ident"}
        if close + 1 >= j or toks[close + 1].value != "{":
            continue
        end = gosrc.matching(toks, close + 1)
        out.append((declared, [(str(n), a, b) for n, (a, b) in enumerate(gosrc.split_top(toks, close + 2, end))]))
    for k in gosrc.find_all(toks, i, j, "map", "[", "string", "]"):
        if k + 5 >= j or toks[k + 4].kind != "ident" or toks[k + 5].value != "{" or toks[k + 4].value == "struct":
            continue
        end = gosrc.matching(toks, k + 5)
        entries = []
        for a, b in gosrc.split_top(toks, k + 6, end):
            parts = gosrc.split_top(toks, a, b, ":")
            if len(parts) >= 2 and toks[parts[0][0]].kind in ("str", "raw") and toks[parts[1][0]].value == "{":
                entries.append((gosrc.decode_string(toks[parts[0][0]]), parts[1][0], b))
        if entries:
            out.append(({"Input", "Expected"}, entries))
    return out


def _function_case(toks: list[Tok], body: tuple[int, int], env: gosrc.Env) -> tuple[str, tuple[str, ...]] | None:
    """A test without a table: ``input := ...`` checked against ``want`` / a wanted ``Raw``, or
    against no result at all (``len(results) != 0``)."""
    i, j = body
    calls = list(gosrc.find_all(toks, i, j, "FromData", "("))
    if not calls:
        return None
    ev = gosrc.Evaluator(toks, env)
    inputs = set()
    for k in calls:
        args = gosrc.split_top(toks, k + 2, gosrc.matching(toks, k + 1))
        try:
            inputs.add(gosrc._str(ev.value(*args[-1])))
        except (Unreadable, IndexError) as exc:
            raise Unreadable("a test without a literal input") from exc
    if len(inputs) != 1:
        raise Unreadable("a test of several inputs")
    text = inputs.pop()
    for name in ("want", "wants"):
        try:
            return text, tuple(w for w in _strings(env(name)) if w)
        except Unreadable:
            pass
    for raw in ("RawV2", "Raw"):
        found = [ev.value(k + 6, gosrc.matching(toks, k + 5)) for k in gosrc.find_all(toks, i, j, raw, ":", "[", "]",
                                                                                     "byte", "(")]
        if found:
            return text, tuple(dict.fromkeys(gosrc._str(v) for v in found))
    if any(True for _ in gosrc.find_all(toks, i, j, "len", "(", "results", ")", "!=", "0")):
        return text, ()
    raise Unreadable("a test without a literal expectation")


def package_names(files: dict[str, str], directory: str, tokens: dict[str, list[Tok]]) -> dict[str, Decl | None]:
    """Package-level names of the non-test files of one directory (a test may use the detector's)."""
    out: dict[str, Decl | None] = {}
    for path in sorted(files):
        if posixpath.dirname(path) == directory and not path.endswith("_test.go"):
            names, _ = gosrc.top_level(tokens.setdefault(path, gosrc.tokenize(files[path])))
            for k, v in names.items():
                out.setdefault(k, v)
    return out


def read_tests(files: dict[str, str]) -> tuple[list[Entry], list[Skip], dict[str, list[Tok]]]:
    entries: list[Entry] = []
    skips: list[Skip] = []
    tokens: dict[str, list[Tok]] = {}
    for path in sorted(p for p in files if is_unit_test(p)):
        det = detector_of(path)
        toks = tokens.setdefault(path, gosrc.tokenize(files[path]))
        try:
            names, funcs = gosrc.top_level(toks)
        except Unreadable as exc:
            skips.append(Skip(det, path, "", "file", str(exc)))
            continue
        pkg = package_names(files, posixpath.dirname(path), tokens)
        for fn in funcs:
            if not fn.name.startswith("Test"):
                continue
            local = gosrc.locals_of(toks, fn.body)
            env = gosrc.resolver(local, names, pkg)
            ev = gosrc.Evaluator(toks, env)
            try:
                tables = _tables(toks, fn.body)
            except Unreadable as exc:
                skips.append(Skip(det, path, fn.name, "function", str(exc)))
                continue
            index = 0
            for declared, rows in tables:
                if not declared & set(INPUT_FIELDS):
                    continue  # verification or parsing tables: no scanned input
                if not declared & {*WANT_FIELDS, "shouldMatch"}:
                    skips += [Skip(det, path, fn.name, f"entry {n}", "a table without a want") for n, _, _ in rows]
                    continue
                extra = declared - set(INPUT_FIELDS) - set(WANT_FIELDS) - NEUTRAL_FIELDS
                if extra:
                    skips += [Skip(det, path, fn.name, f"entry {n}", f"a table whose want depends on {sorted(extra)}")
                              for n, _, _ in rows]
                    continue
                for n, a, b in rows:
                    fields = _fields(toks, a, b)
                    try:
                        if fields is None:
                            raise Unreadable("a positional or nested entry")
                        name = n
                        if "name" in fields:
                            name = gosrc._str(ev.value(*fields["name"]))
                        if "skip" in fields and ev.value(*fields["skip"]) is True:
                            raise Unreadable("marked skip by its authors")
                        text, wants = _label(ev, fields)
                    except Unreadable as exc:
                        skips.append(Skip(det, path, fn.name, f"entry {n}", str(exc)))
                        continue
                    entries.append(Entry(det, path, fn.name, index, name, text, wants))
                    index += 1
            if tables:
                continue
            try:
                got = _function_case(toks, fn.body, env)
            except Unreadable as exc:
                skips.append(Skip(det, path, fn.name, "function", str(exc)))
                continue
            if got is not None:
                entries.append(Entry(det, path, fn.name, 0, fn.name, *got))
    return entries, skips, tokens


# ---------------------------------------------------------------------------- where a want sits

def parts_of(text: str, want: str) -> list[str]:
    """The pieces of ``want`` that sit in ``text``: ``[want]`` when it is there as is. A composite
    want (an id and a secret joined, JSON TruffleHog builds, a URL it normalises) gives its longest
    runs, left to right, of ``MIN_PART`` characters or more that appear in ``text``; empty when
    none does."""
    if want in text:
        return [want]
    out: list[str] = []
    i, n = 0, len(want)
    while i < n:
        lo, hi = i, n  # the largest end with want[i:end] in text (substrings of a match match)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if want[i:mid] in text:
                lo = mid
            else:
                hi = mid - 1
        if lo - i >= MIN_PART:
            out.append(want[i:lo])
            i = lo
        else:
            i += 1
    return out


def secret_of(entry: Entry, patterns: list[regex.Pattern[str]]) -> tuple[str, str]:
    """The want parts, "\\n"-joined, and how they were placed. "literal": every want is in the
    input as is. "pattern": a composite want (an id and a secret joined, JSON TruffleHog builds)
    is placed by what the detector's own patterns capture in its own input and the want holds
    (every group counts, as sources.secret_of does). "fragments": no capture is in the want (a
    normalised URL): its longest runs that are in the input. "unlocated": none of these; the
    example's lines count, as secret_lines does for an unknown secret."""
    parts: list[str] = []
    how = "literal"
    captures = [c for p in patterns for c in _captures(p, entry.text) if len(c) >= MIN_PART]
    for w in entry.wants:
        if w in entry.text:
            parts.append(w)
            continue
        held = [c for c in captures if c in w]
        if held:
            how = "pattern" if how in ("literal", "pattern") else how
            parts += held
            continue
        how = "fragments"
        parts += parts_of(entry.text, w)
    if not parts:
        return "", "unlocated"
    return "\n".join(dict.fromkeys(parts)), how


# ---------------------------------------------------------------------------- mapped patterns

def load_mapping() -> dict[str, str]:
    """TruffleHog detector directory -> our kind (heldout_kinds.yaml), kinds checked against kinds.yaml."""
    data = yaml.safe_load((HERE / "heldout_kinds.yaml").read_text())
    ours = load_kinds()["kinds"]
    out: dict[str, str] = {}
    for kind, detectors in data["kinds"].items():
        if kind not in ours:
            raise ValueError(f"heldout_kinds.yaml: {kind!r} is not a kind of kinds.yaml")
        for d in detectors:
            if d in out:
                raise ValueError(f"heldout_kinds.yaml: {d} is mapped twice")
            out[d] = kind
    return out


def detector_patterns(files: dict[str, str], tokens: dict[str, list[Tok]], det: str
                      ) -> tuple[list[regex.Pattern[str]], list[str]]:
    """The ``regexp.MustCompile`` patterns of one detector's own files, compiled (Go's RE2 syntax
    is read by ``regex``), and why any could not be read."""
    directory = posixpath.join(SOURCE.rules_dir.rstrip("/"), det)
    # a nested detector (aws/access_keys) also uses its parent package's patterns (aws.SecretPat)
    dirs = [directory] + ([posixpath.dirname(directory)] if "/" in det else [])
    pats: list[regex.Pattern[str]] = []
    unread: list[str] = []
    for path in sorted(files):
        if posixpath.dirname(path) not in dirs or path.endswith("_test.go"):
            continue
        toks = tokens.setdefault(path, gosrc.tokenize(files[path]))
        env = gosrc.resolver(package_names(files, posixpath.dirname(path), tokens))
        for k in gosrc.find_all(toks, 0, len(toks), "regexp", ".", "MustCompile", "("):
            args = gosrc.split_top(toks, k + 4, gosrc.matching(toks, k + 3))
            try:
                if len(args) != 1:
                    raise Unreadable("MustCompile without one argument")
                source = gosrc._str(gosrc.Evaluator(toks, env).value(*args[0]))
            except Unreadable as exc:
                unread.append(f"{path}:{toks[k].line}: {exc}")
                continue
            pat = compile_rust(source)
            if pat is None:
                unread.append(f"{path}:{toks[k].line}: does not compile in Python")
            else:
                pats.append(pat)
    return pats, unread


def _captures(pat: regex.Pattern[str], text: str) -> list[str]:
    try:
        matches = list(pat.finditer(text, timeout=2))
    except TimeoutError:
        return []
    out = []
    for m in matches:
        groups = [g for g in m.groups() if g]
        out += groups or [m.group(0)]
    return out


def claim_sets(entries: list[Entry], patterns: dict[str, list[regex.Pattern[str]]]
               ) -> list[tuple[str, tuple[regex.Pattern[str], ...]]]:
    """For each mapped detector, the sets of its patterns that together give one of its wants'
    parts (a pair detector needs its key and its secret pattern; a detector of alternatives,
    Slack's token types, needs one per want). A pattern that never captures a want part (a URL,
    a host) is not a secret pattern."""
    out: list[tuple[str, tuple[regex.Pattern[str], ...]]] = []
    for e in entries:
        pats = patterns.get(e.detector)
        if not e.wants or not pats:
            continue
        caught = {p: _captures(p, e.text) for p in pats}
        for w in e.wants:
            parts = parts_of(e.text, w) or [w]
            used = tuple(p for p in pats if any(c == part or (len(c) >= MIN_PART and c in part)
                                                for c in caught[p] for part in parts))
            if used and (e.detector, used) not in out:
                out.append((e.detector, used))
    return out


def claimed_by(text: str, sets: list[tuple[str, tuple[regex.Pattern[str], ...]]]) -> str:
    """The first mapped detector whose secret patterns all match ``text`` ("" if none)."""
    for det, pats in sets:
        try:
            if all(p.search(text, timeout=1) for p in pats):
                return det
        except TimeoutError:
            continue
    return ""


# ---------------------------------------------------------------------------- cases

@lru_cache(maxsize=1)
def _read() -> Corpus:
    files = blobs()
    entries, skips, tokens = read_tests(files)
    mapping = load_mapping()
    corpus = Corpus(entries, skips)
    for det in sorted(mapping):
        pats, unread = detector_patterns(files, tokens, det)
        corpus.patterns[det] = pats
        corpus.unread_patterns += [(det, u) for u in unread]
    return corpus


def read() -> Corpus:
    """The entries of the pinned commit (read once per process: the mirror is immutable)."""
    return _read()


def case_id(e: Entry) -> str:
    return f"{SOURCE.name}:{e.detector}:{e.func}:{e.index}"


def cases() -> list[Case]:
    """The held-out cases: scored positives and negatives, plus excluded ones (with why)."""
    corpus = read()
    mapping = load_mapping()
    agent = {k for k, meta in load_kinds()["kinds"].items() if meta.get("agent")}
    sets = claim_sets(corpus.entries, corpus.patterns)
    positives = {e.text for e in corpus.entries if e.wants}
    seen: set[tuple[str, str]] = set()
    out: list[Case] = []
    for e in corpus.entries:
        label = "positive" if e.wants else "negative"
        c = Case(case_id(e), label, e.text, SOURCE.repo, e.path, SOURCE.commit, e.detector, e.func, e.index)
        out.append(c)
        kind = mapping.get(e.detector)
        if label == "positive":
            if kind is None:
                c.excluded = "kind out of scope"
                continue
            if (label, e.text) in seen:
                c.excluded = "duplicate of an earlier case"
                continue
            seen.add((label, e.text))
            c.kind, c.agent = kind, kind in agent
            c.secret = secret_of(e, corpus.patterns.get(e.detector, []))[0]  # "": the example's lines count
            continue
        if (label, e.text) in seen:
            c.excluded = "duplicate of an earlier case"
            continue
        seen.add((label, e.text))
        if e.text in positives:
            c.excluded = "also listed as a positive"
            continue
        if VALID_BY_NAME.search(e.name):
            c.excluded = "named a valid value by its authors (no result for want of a keyword or a pair)"
            continue
        other = claimed_by(e.text, sets)
        if other:
            c.excluded = f"matched by mapped detector {other}"
            continue
        c.kind = LOOKALIKE if kind else LOOKALIKE_OTHER
    return out


def placement(all_cases: list[Case]) -> dict[str, int]:
    """How the scored positives' wants were placed in their inputs (secret_of)."""
    corpus = read()
    entries = {case_id(e): e for e in corpus.entries}
    out: dict[str, int] = {}
    for c in all_cases:
        if c.label == "positive" and not c.excluded:
            e = entries[c.id]
            how = secret_of(e, corpus.patterns.get(e.detector, []))[1]
            out[how] = out.get(how, 0) + 1
    return out


def lock_lines(all_cases: list[Case]) -> list[str]:
    """The lock: one row per case (as cases.lock.tsv) and one per skipped entry (no digest)."""
    from .sources import lock_lines as base

    rows = base(all_cases)
    for s in read().skips:
        rows.append(f"{SOURCE.name}:{s.detector}:{s.func}:{s.what}\tskipped\t\t{SOURCE.repo}\t{s.path}\t"
                    f"{SOURCE.commit}\t\tnot read literally: {s.reason}")
    return rows


def summary(all_cases: list[Case]) -> dict[str, Any]:
    """Counts for the report: what was read, excluded (by reason) and skipped (by reason)."""
    corpus = read()
    excluded, skip_reasons = count_reasons(all_cases, corpus.skips, "matched by a mapped detector")
    return {"entries": len(corpus.entries), "skipped": len(corpus.skips), "excluded": excluded,
            "skip_reasons": skip_reasons, "unread_patterns": corpus.unread_patterns}
