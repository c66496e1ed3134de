"""Labelled examples written by other scanners' authors, read from pinned commits of their
repositories (mirrored with the search tool's ``fetch`` under ``/work/.mirror``).

* Nosey Parker and Kingfisher: every rule's ``examples`` (positives) and ``negative_examples``.
* Betterleaks (gitleaks' successor): the literal strings of each rule's ``tps`` / ``fps`` lists
  (generated samples, ``secrets.NewSecret(...)``, are left out: they exist only at run time).

A positive counts for a kind only if its rule is mapped in ``kinds.yaml`` (the kinds agentreach
claims); the rule's own pattern, run on its own example, says where the secret sits. A negative
example is a hard negative only if no positive rule of these scanners matches it (a rule's
"negative" is often another rule's secret: np.slack.2 lists xoxp user tokens); the rest are
recorded as excluded with the rule that claimed them. Nothing here looks at agentreach's
detectors. The values are read from the mirrors at build time and written only into the
benchmark's temporary tree: the committed ``cases.lock.tsv`` holds ids, sources and a digest only.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator

import regex
import yaml

HERE = Path(__file__).parent
MIRROR = Path("/work/.mirror")


@dataclass(frozen=True)
class Source:
    name: str
    repo: str
    commit: str
    rules_dir: str
    form: str  # "yaml" | "go"

    @property
    def git_dir(self) -> Path:
        return MIRROR / self.repo.replace("/", "+") / "repo"


SOURCES = (
    Source("noseyparker", "praetorian-inc/noseyparker", "2e6e7f36ce36619852532bbe698d8cb7a26d2da7",
           "crates/noseyparker/data/default/builtin/rules/", "yaml"),
    Source("kingfisher", "mongodb/kingfisher", "ee7c0db3ef87575768f817820c24736249ffcdef", "data/rules/", "yaml"),
    Source("betterleaks", "betterleaks/betterleaks", "6381fa45ae946c588e2e1334d8396a15e5171ad6",
           "cmd/generate/config/rules/", "go"),
)


@dataclass
class Case:
    id: str
    label: str  # "positive" | "negative"
    text: str = field(repr=False)
    repo: str
    path: str
    commit: str
    rule: str
    field_name: str
    index: int
    kind: str = ""
    agent: bool = False
    secret: str = field(default="", repr=False)  # the rule's captures on its own example, "\n"-joined ("" if unknown)
    excluded: str = ""  # why the case is not scored

    def digest(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()[:16]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class MissingMirror(SystemExit):
    pass


def git(source: Source, *args: str) -> str:
    if not source.git_dir.exists():
        raise MissingMirror(f"secrets corpus: no mirror of {source.repo} at {source.git_dir} "
                            f"(bring it with the search tool: fetch github:{source.repo})")
    out = subprocess.run(["git", f"--git-dir={source.git_dir}", *args], capture_output=True, text=True)
    if out.returncode:
        raise MissingMirror(f"secrets corpus: git {' '.join(args[:2])} failed in {source.repo}: "
                            f"{out.stderr.strip()[:200]}")
    return out.stdout


def cat_files(source: Source, wanted: list[tuple[str, str]]) -> dict[str, str]:
    """path -> text of the given (blob id, path) files of a mirror, read in one
    ``git cat-file --batch`` call (one process for thousands of files, not one each)."""
    out = subprocess.run(["git", f"--git-dir={source.git_dir}", "cat-file", "--batch"],
                         input="".join(f"{oid}\n" for oid, _ in wanted).encode(), capture_output=True)
    if out.returncode:
        raise MissingMirror(f"{source.name}: git cat-file failed in {source.repo}: {out.stderr.decode()[:200]}")
    data, pos, files = out.stdout, 0, {}
    for _, path in wanted:
        nl = data.index(b"\n", pos)
        size = int(data[pos:nl].split()[2])
        files[path] = data[nl + 1:nl + 1 + size].decode("utf-8", "replace")
        pos = nl + 1 + size + 1
    return files


def rule_files(source: Source) -> list[str]:
    names = git(source, "ls-tree", "-r", "--name-only", source.commit, "--", source.rules_dir).split("\n")
    ext = (".yml", ".yaml") if source.form == "yaml" else (".go",)
    return sorted(n for n in names if n.endswith(ext) and not n.endswith("_test.go"))


def compile_rust(pattern: str) -> regex.Pattern[str] | None:
    """A Rust/Hyperscan-syntax pattern in Python's ``regex`` (None when it cannot be read)."""
    p = pattern.replace(r"\z", r"\Z")
    try:
        return regex.compile(p, regex.VERSION0)
    except (regex.error, ValueError, OverflowError):
        return None


# ---------------------------------------------------------------------------- YAML rules

def yaml_rules(source: Source) -> Iterator[tuple[str, dict[str, Any]]]:
    for path in rule_files(source):
        data = yaml.safe_load(git(source, "show", f"{source.commit}:{path}")) or {}
        for rule in data.get("rules") or []:
            if isinstance(rule, dict) and rule.get("id"):
                yield path, rule


# ---------------------------------------------------------------------------- Go rules

_FUNC = re.compile(r"^func \w+\(\) \*config\.Rule \{$", re.M)
_RULE_ID = re.compile(r'RuleID:\s*"([^"]+)"')
_GO_STR = r'(?:`[^`]*`|"(?:[^"\\\n]|\\.)*")'
# tps := []string{ ... }   /  fps = append(fps, ...)  /  append(tps, utils.GenerateSampleSecrets("kw", lit)...)
_LIST = re.compile(r"\b(tps|fps)\s*:?=\s*\[\]string\{(.*?)\n\s*\}", re.S)
_APPEND = re.compile(r"\b(tps|fps)\s*=\s*append\(\1,\s*(.*?)\)\s*$", re.M)
_SAMPLE = re.compile(r'^utils\.GenerateSampleSecrets?\("[^"]*",\s*(' + _GO_STR + r')\)(?:\.\.\.)?$')


def go_literal(token: str) -> str | None:
    token = token.strip()
    if re.fullmatch(r"`[^`]*`", token):
        return token[1:-1]
    if re.fullmatch(r'"(?:[^"\\\n]|\\.)*"', token):
        try:
            return bytes(token[1:-1], "utf-8").decode("unicode_escape").encode("latin-1").decode("utf-8")
        except (UnicodeDecodeError, UnicodeEncodeError):
            return None
    return None


def split_go_list(body: str) -> list[str]:
    """Top-level elements of a Go composite literal body (strings, calls, comments removed)."""
    out, depth, cur, i = [], 0, [], 0
    while i < len(body):
        c = body[i]
        if c in "`\"":
            m = re.compile(_GO_STR).match(body, i)
            if m:
                cur.append(m.group(0))
                i = m.end()
                continue
        if body.startswith("//", i):
            i = body.find("\n", i) if body.find("\n", i) != -1 else len(body)
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        if c == "," and depth == 0:
            out.append("".join(cur).strip())
            cur = []
        else:
            cur.append(c)
        i += 1
    if "".join(cur).strip():
        out.append("".join(cur).strip())
    return [e for e in out if e]


def go_samples(text: str) -> Iterator[tuple[str, str, int, str]]:
    """(rule id, "tps"|"fps", index, literal) for the literal samples of each rule function."""
    starts = [m.start() for m in _FUNC.finditer(text)] + [len(text)]
    for a, b in zip(starts, starts[1:], strict=False):
        body = text[a:b]
        rid = _RULE_ID.search(body)
        if not rid:
            continue
        counters = {"tps": 0, "fps": 0}
        elements: list[tuple[str, str]] = []
        for m in _LIST.finditer(body):
            elements += [(m.group(1), e) for e in split_go_list(m.group(2))]
        for m in _APPEND.finditer(body):
            elements += [(m.group(1), e) for e in split_go_list(m.group(2))]
        for which, element in elements:
            element = element.removesuffix("...").strip()
            sample = _SAMPLE.match(element)
            literal = go_literal(sample.group(1) if sample else element)
            if literal is None or not literal.strip():
                continue
            yield rid.group(1), which, counters[which], literal
            counters[which] += 1


# ---------------------------------------------------------------------------- cases

def load_kinds() -> dict[str, Any]:
    return yaml.safe_load((HERE / "kinds.yaml").read_text())


def kind_of(rule_id: str, kinds: dict[str, Any]) -> tuple[str, bool] | None:
    for kind, meta in kinds["kinds"].items():
        for rid in meta.get("rules") or []:
            if rule_id == rid or (rid.endswith("*") and rule_id.startswith(rid[:-1])):
                return kind, bool(meta.get("agent"))
    return None


def raw_cases() -> tuple[list[Case], dict[str, regex.Pattern[str]]]:
    """Every labelled example of every source, and the patterns of the rules that compile."""
    cases: list[Case] = []
    patterns: dict[str, regex.Pattern[str]] = {}
    for source in SOURCES:
        if source.form == "yaml":
            for path, rule in yaml_rules(source):
                rid = str(rule["id"])
                pat = compile_rust(str(rule.get("pattern") or ""))
                if pat is not None:
                    patterns[rid] = pat
                for fname, label in (("examples", "positive"), ("negative_examples", "negative")):
                    for i, text in enumerate(rule.get(fname) or []):
                        if isinstance(text, str) and text.strip():
                            cases.append(Case(f"{source.name}:{rid}:{fname}:{i}", label, text, source.repo, path,
                                              source.commit, rid, fname, i))
        else:
            for path in rule_files(source):
                for rid, which, i, text in go_samples(git(source, "show", f"{source.commit}:{path}")):
                    label = "positive" if which == "tps" else "negative"
                    cases.append(Case(f"{source.name}:{rid}:{which}:{i}", label, text, source.repo, path,
                                      source.commit, rid, which, i))
    return cases, patterns


def secret_of(case: Case, pattern: regex.Pattern[str] | None) -> str:
    """Where the rule's own pattern puts the secret in its own example (its first group)."""
    if pattern is None:
        return ""
    try:
        m = pattern.search(case.text, timeout=2)
    except TimeoutError:
        return ""
    if not m:
        return ""
    groups = [g for g in m.groups() if g]  # user and password, account and key: every part counts
    return "\n".join(groups) if groups else m.group(0)


def claimed_by(text: str, patterns: dict[str, regex.Pattern[str]], own: str) -> str:
    """The first positive rule (other than ``own``) whose pattern matches ``text``."""
    for rid, pat in patterns.items():
        if rid == own or "generic" in rid or "weak_password" in rid:
            continue  # generic rules fire on any password-like line: the authors' judgement stands
        try:
            if pat.search(text, timeout=1):
                return rid
        except TimeoutError:
            continue
    return ""


def cases() -> list[Case]:
    """The benchmark's cases: scored positives and negatives, plus excluded ones (with why)."""
    kinds = load_kinds()
    out, patterns = raw_cases()
    positives = {c.text for c in out if c.label == "positive"}
    seen: set[tuple[str, str]] = set()
    for c in out:
        if (c.label, c.text) in seen:
            c.excluded = "duplicate of an earlier case"
            continue
        seen.add((c.label, c.text))
        if c.label == "positive":
            k = kind_of(c.rule, kinds)
            if k is None:
                c.excluded = "kind out of scope"
                continue
            c.kind, c.agent = k
            c.secret = secret_of(c, patterns.get(c.rule))
        else:
            if c.text in positives:
                c.excluded = "also listed as a positive"
                continue
            if c.rule.startswith(tuple(kinds.get("negatives_from_fixme") or ())) and "FIXME" in c.text:
                c.excluded = "marked FIXME by its authors"
                continue
            other = claimed_by(c.text, patterns, c.rule)
            if other:
                c.excluded = f"matched by positive rule {other}"
            elif c.field_name == "fps":
                c.kind = "format lookalike"  # "not this vendor's format", often still a credential
    return out


def lock_lines(all_cases: list[Case]) -> list[str]:
    head = "id\tlabel\tkind\trepo\tpath\tcommit\tdigest\texcluded"
    return [head] + [f"{c.id}\t{c.label}\t{c.kind}\t{c.repo}\t{c.path}\t{c.commit}\t{c.digest()}\t{c.excluded}"
                     for c in all_cases]


def count_reasons(all_cases: list[Case], skips: list[Any], matched: str) -> tuple[dict[str, int], dict[str, int]]:
    """(excluded cases by "<label>s <reason>", skipped entries by reason) for a set's report;
    every "matched by …" exclusion counts under ``matched``, whatever pattern claimed it."""
    excluded: dict[str, int] = {}
    for c in all_cases:
        if c.excluded:
            why = matched if c.excluded.startswith("matched by") else c.excluded.split(" (")[0]
            excluded[f"{c.label}s {why}"] = excluded.get(f"{c.label}s {why}", 0) + 1
    skip_reasons: dict[str, int] = {}
    for skip in skips:
        skip_reasons[skip.reason] = skip_reasons.get(skip.reason, 0) + 1
    return excluded, skip_reasons
