"""Benchmark: recall and precision per kind of the files connector, with detect-secrets beside it
in the same run, on (1) the corpus built from other scanners' labelled examples
(bench/secrets_corpus/), then the set from TruffleHog's detector tests
(bench/secrets_corpus/heldout.py: held out for its first run, a development set since) and the
blind set from Semgrep's rule tests (bench/secrets_corpus/semgrep.py: never tuned on), (2) our own
generated corpus (tests/test_files_corpus.py), and (3) a tree of ordinary source (the installed site-packages of
the project's dependencies), where every finding is a false positive to review and where MB/s is
measured for both scanners.

A positive counts as found when a scanner reports a finding on one of the lines where the
example's secret sits (a finding marked ``likely_test_fixture`` still counts: it is reported).
On negatives, an unmarked finding is a false positive; a marked one is counted apart. Nothing
here prints a value: findings are named by kind and file:line.

    .venv/bin/python bench/secrets_eval.py [--mb 50] [--skip-detect-secrets] [--skip-site-packages]
        [--only-others | --only-heldout | --only-semgrep | --only-site-packages] [--verbose]
        [--findings FILE]   write every site-packages finding (kind, file:line) to FILE for review
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agentreach_connectors.files import FilesConnector  # noqa: E402

from agentreach.connector import ScanContext  # noqa: E402
from agentreach.model import Credential, Edge, Location  # noqa: E402
from bench.secrets_corpus import build as corpus  # noqa: E402


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    kind: str
    marked: bool  # reported as a likely test fixture (low), not flagged


def agentreach(root: Path, workers: int = 1, exclude: tuple[str, ...] = ()) -> tuple[list[Finding], float]:
    t = time.perf_counter()
    config = {"paths": [str(root)], "all_files": True, "workers": workers, "exclude": list(exclude)}
    records = list(FilesConnector(config).scan(ScanContext()))
    seconds = time.perf_counter() - t
    creds = {r.id: r for r in records if isinstance(r, Credential) and r.type == "file_secret"}
    locs = {r.id: r for r in records if isinstance(r, Location)}
    out = [Finding(locs[e.dst].path, locs[e.dst].line or 0, str(creds[e.src].attrs.get("detector")),
                   bool(creds[e.src].attrs.get("likely_test_fixture")))
           for e in records if isinstance(e, Edge) and e.src in creds and e.dst in locs]
    return out, seconds


def detect_secrets(root: Path, exclude: str = "") -> tuple[list[Finding], float]:
    exe = Path(sys.executable).with_name("detect-secrets")
    t = time.perf_counter()
    args = [str(exe), "scan", "--all-files"] + (["--exclude-files", exclude] if exclude else [])
    out = subprocess.run(args, cwd=root, capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - t
    results = json.loads(out.stdout)["results"]
    return [Finding(f, item["line_number"], item["type"], False) for f, items in results.items() for item in items], \
        seconds


def shift(f: Finding, prefix: str) -> Finding:
    return Finding(f"{prefix}/{f.path}", f.line, f.kind, f.marked)


def by_location(findings: Iterable[Finding]) -> dict[tuple[str, int], list[Finding]]:
    out: dict[tuple[str, int], list[Finding]] = defaultdict(list)
    for f in findings:
        out[(f.path, f.line)].append(f)
    return out


# ---------------------------------------------------------------------------- scoring

@dataclass
class Score:
    found: dict[str, list[int]]  # kind -> [planted, found]
    tp: int
    fp: int
    marked: int
    fp_apart: int  # false positives in the classes kept out of the headline precision
    classes: dict[str, list[int]]  # negative class -> [cases, cases flagged, fp locations, marked]
    fp_where: list[str]
    missed: list[str]
    why_missed: dict[str, int] = field(default_factory=dict)  # what our noise rules say of each missed secret

    @property
    def recall(self) -> float:
        planted = sum(v[0] for v in self.found.values())
        return sum(v[1] for v in self.found.values()) / planted if planted else 0.0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def precision_all(self) -> float:
        return self.tp / (self.tp + self.fp + self.fp_apart) if self.tp + self.fp + self.fp_apart else 1.0


# Betterleaks fps and TruffleHog's negatives: "not this vendor's format", often still a credential
APART = ("format lookalike", "format lookalike (unmapped vendor)")


def why_missed(plants: list[corpus.Plant], missed: list[str],
               secrets: dict[str, str] | None = None) -> dict[str, int]:
    """For each missed positive whose secret is known, what the files connector's noise rules say
    of that value (placeholder, documented example, below a floor, a made-up value) or "detector":
    no rule dropped it, no detector matched it. ``secrets``: case id -> secret (default: the
    others' corpus). Values stay in memory."""
    from agentreach_connectors.files.detectors import Noise
    from agentreach_connectors.files.fixtures import FixtureRules, value_reason

    noise, rules = Noise.load(), FixtureRules.load()
    if secrets is None:
        secrets = {c.id: c.secret for c in corpus.sources.cases() if c.secret}
    out: dict[str, int] = defaultdict(int)
    for p in plants:
        if p.label != "positive" or f"{p.klass}: {p.path}:{','.join(map(str, p.lines[:3]))}" not in missed:
            continue
        values = [v.strip() for v in secrets.get(p.case_id, "").split("\n") if v.strip()]
        reasons = [noise.reason(v, "", False, 3.0) or ("made-up value" if value_reason(v, rules) else None)
                   for v in values[-1:]]
        out[reasons[0] if reasons and reasons[0] else "detector"] += 1
    return dict(out)


def score(plants: list[corpus.Plant], findings: list[Finding]) -> Score:
    at = by_location(findings)
    by_path: dict[str, list[corpus.Plant]] = defaultdict(list)
    for p in plants:
        by_path[p.path].append(p)
    found: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    classes: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    missed: list[str] = []
    for p in plants:
        if p.label == "positive":
            found[p.klass][0] += 1
            if any((p.path, n) in at for n in p.lines):
                found[p.klass][1] += 1
            else:
                missed.append(f"{p.klass}: {p.path}:{','.join(map(str, p.lines[:3]))}")
        else:
            classes[p.klass][0] += 1
            hits = [f for n in p.lines for f in at.get((p.path, n), [])]
            if any(not f.marked for f in hits):
                classes[p.klass][1] += 1
            classes[p.klass][2] += len({(f.path, f.line) for f in hits if not f.marked})
            classes[p.klass][3] += len({(f.path, f.line) for f in hits if f.marked})
    tp = fp = marked = apart = 0
    fp_where: list[str] = []
    for (path, line), fs in sorted(at.items()):
        owners = by_path.get(path, [])
        if any(p.label == "positive" and line in p.lines for p in owners):
            tp += 1
        elif any(p.label == "positive" and line in p.region for p in owners):
            continue  # another secret inside the same example (a key id next to its secret)
        elif all(f.marked for f in fs):
            marked += 1
        elif owners and all(p.klass in APART for p in owners):
            apart += 1
        else:
            fp += 1
            fp_where.append(f"{fs[0].kind}: {path}:{line}")
    return Score(dict(found), tp, fp, marked, apart, dict(classes), fp_where, missed)


def print_kinds(title: str, kinds: list[str], agent: set[str], scores: dict[str, Score]) -> None:
    names = list(scores)
    print(f"\n{title}")
    print("| kind | AI | cases | " + " | ".join(f"{n} found" for n in names) + " |")
    print("| --- | --- | --- | " + " | ".join("---" for _ in names) + " |")
    for kind in kinds:
        planted = next(iter(scores.values())).found.get(kind, [0, 0])[0]
        cells = []
        for n in names:
            got = scores[n].found.get(kind, [0, 0])[1]
            cells.append(f"{got} ({got / planted:.2f})" if planted else "-")
        print(f"| {kind} | {'yes' if kind in agent else ''} | {planted} | " + " | ".join(cells) + " |")


def print_summary(scores: dict[str, Score], agent: set[str]) -> None:
    print("\n| scanner | recall | precision | TP | FP | marked fixtures | precision with format lookalikes (FP) "
          "| AI kinds with recall < 0.95 |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, s in scores.items():
        weak = [k for k, (p, f) in s.found.items() if k in agent and p and f / p < 0.95]
        print(f"| {name} | {s.recall:.3f} | {s.precision:.3f} | {s.tp} | {s.fp} | {s.marked} | "
              f"{s.precision_all:.3f} ({s.fp_apart}) | {', '.join(weak) or 'none'} |")
    classes = sorted({c for s in scores.values() for c in s.classes})
    print("\n| negative class | cases | " + " | ".join(f"{n} flagged (locations, marked)" for n in scores) + " |")
    print("| --- | --- | " + " | ".join("---" for _ in scores) + " |")
    for c in classes:
        first = next(iter(scores.values())).classes.get(c, [0, 0, 0, 0])
        cells = [f"{s.classes.get(c, [0, 0, 0, 0])[1]} ({s.classes.get(c, [0, 0, 0, 0])[2]}, "
                 f"{s.classes.get(c, [0, 0, 0, 0])[3]})" for s in scores.values()]
        print(f"| {c} | {first[0]} | " + " | ".join(cells) + " |")


# ---------------------------------------------------------------------------- the trees

def run_with_fixtures(root: Path, skip_ds: bool) -> dict[str, list[Finding]]:
    """Each scanner's findings on a built tree: its fixtures root (build.FIXTURES, when there is
    one) scanned as a root of its own, so that its paths read as a repository's tests/."""
    fx = corpus.FIXTURES
    has_fixtures = (root / fx).is_dir()
    runs = {"agentreach": agentreach(root, exclude=(f"{fx}/**",))[0]}
    if has_fixtures:
        runs["agentreach"] += [shift(f, fx) for f in agentreach(root / fx)[0]]
    if not skip_ds:
        runs["detect-secrets"] = detect_secrets(root, exclude=f"^{fx}/")[0]
        if has_fixtures:
            runs["detect-secrets"] += [shift(f, fx) for f in detect_secrets(root / fx)[0]]
    return runs


def report(plants: list[corpus.Plant], runs: dict[str, list[Finding]], secrets: dict[str, str] | None,
           verbose: bool, tag: str = "") -> None:
    """Per-kind table, summary rows, what the noise rules say of agentreach's misses and, with
    ``verbose``, every miss and false positive (file:line). ``tag`` names the set in the lines."""
    pos = [p for p in plants if p.label == "positive"]
    scores = {n: score(plants, f) for n, f in runs.items()}
    scores["agentreach"].why_missed = why_missed(plants, scores["agentreach"].missed, secrets)
    agent = {p.klass for p in pos if p.agent}
    kinds = sorted({p.klass for p in pos}, key=lambda k: (k not in agent, k))
    print_kinds(f"{tag + ' ' if tag else ''}per kind (files found / files planted)", kinds, agent, scores)
    print_summary(scores, agent)
    why = scores["agentreach"].why_missed
    print(f"\nagentreach {tag + ' ' if tag else ''}misses by what its noise rules say of the value (a floor of 3.0 "
          "for unknown detectors): " + ", ".join(f"{k} {v}" for k, v in sorted(why.items())))
    if verbose:
        for n, s in scores.items():
            print(f"\n{n} {tag + ' ' if tag else ''}missed:\n  " + "\n  ".join(s.missed))
            print(f"{n} {tag + ' ' if tag else ''}false positives:\n  " + "\n  ".join(s.fp_where))


def others_corpus(skip_ds: bool, verbose: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        plants = corpus.build(root)
        pos = [p for p in plants if p.label == "positive"]
        print(f"corpus from others' examples: {len({p.case_id for p in pos})} positive cases in {len(pos)} files, "
              f"{sum(1 for p in plants if p.label == 'negative')} negative files")
        report(plants, run_with_fixtures(root, skip_ds), None, verbose)


def heldout_corpus(skip_ds: bool, verbose: bool) -> None:
    """The set from TruffleHog's detector tests (bench/secrets_corpus/heldout.py), scored the
    same way in a tree of its own: blind for its first run, a development set since."""
    from bench.secrets_corpus import heldout

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "heldout"
        plants = corpus.build_heldout(root)
        cases = heldout.cases()
        info = heldout.summary(cases)
        pos = [p for p in plants if p.label == "positive"]
        print(f"\nheld-out: TruffleHog detector tests ({heldout.SOURCE.repo} @ {heldout.SOURCE.commit[:12]}; "
              "blind for its first run only, recall 0.786: a development set since)")
        print(f"{info['entries']} test entries read, {info['skipped']} not read literally; "
              f"{len({p.case_id for p in pos})} positive cases in {len(pos)} files, "
              f"{sum(1 for p in plants if p.label == 'negative')} negative files; "
              "excluded: " + ", ".join(f"{k} {v}" for k, v in sorted(info["excluded"].items())))
        print("secrets placed: " + ", ".join(f"{k} {v}" for k, v in sorted(heldout.placement(cases).items())))
        report(plants, run_with_fixtures(root, skip_ds), {c.id: c.secret for c in cases if c.secret}, verbose,
               "held-out")


# The Semgrep set's families, scored apart: the gitleaks ports are gitleaks' rules, which
# Betterleaks continues, and the detectors were tuned on Betterleaks' examples
SEMGREP_GROUPS = ((("secrets", "code"), "", "Semgrep's secrets rules and its language rules about hard-coded secrets"),
                  (("gitleaks",), " gitleaks ports", "gitleaks ports (generic/secrets/gitleaks: rules of gitleaks, "
                                                     "which Betterleaks continues; scored apart)"))


def on_plants(plants: list[corpus.Plant], findings: list[Finding]) -> list[Finding]:
    """The findings on a plant's lines only: the other lines of a verbatim test file (its
    unannotated code, annotations not scored) are neither hits nor noise."""
    lines = {(p.path, n) for p in plants for n in (*p.lines, *p.region)}
    return [f for f in findings if (f.path, f.line) in lines]


def semgrep_corpus(skip_ds: bool, verbose: bool) -> None:
    """The blind set from Semgrep's rule tests (bench/secrets_corpus/semgrep.py): each annotated
    test file verbatim in a tree of its own, only the annotated statements scored, the gitleaks
    ports apart. Not to be tuned on: it is read only to measure."""
    from bench.secrets_corpus import semgrep

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "semgrep"
        plants = corpus.build_semgrep(root)
        cases = semgrep.cases()
        info = semgrep.summary(cases)
        print(f"\nblind: Semgrep rule tests ({semgrep.SOURCE.repo} @ {semgrep.SOURCE.commit[:12]}; not to be tuned on)")
        print("rules read: " + "; ".join(
            f"{fam} {v['rules']} ({v['rules tested']} with annotated tests in {v['test files']} files, "
            f"{v['annotations']} annotations)" for fam, v in info["families"].items()))
        print(f"{info['annotations']} annotations read, {info['skipped']} not read; "
              f"{len({p.path for p in plants})} test files written; "
              "excluded: " + ", ".join(f"{k} {v}" for k, v in sorted(info["excluded"].items())))
        runs = {"agentreach": agentreach(root)[0]}
        if not skip_ds:
            runs["detect-secrets"] = detect_secrets(root)[0]
        for families, tag, title in SEMGREP_GROUPS:
            part = [p for p in plants if semgrep.family_of(p.path) in families]
            pos = [p for p in part if p.label == "positive"]
            print(f"\n{title}: {len(pos)} positive and {len(part) - len(pos)} negative annotated statements "
                  f"in {len({p.path for p in part})} files")
            scores = {n: score(part, on_plants(part, f)) for n, f in runs.items()}
            agent = {p.klass for p in pos if p.agent}
            kinds = sorted({p.klass for p in pos}, key=lambda k: (k not in agent, k))
            print_kinds(f"Semgrep{tag} per kind (annotated lines found / planted)", kinds, agent, scores)
            print_summary(scores, agent)
            vendor = {n: [sum(v[i] for k, v in s.found.items() if k != semgrep.GENERIC_KIND) for i in (0, 1)]
                      for n, s in scores.items()}
            print(f"\nrecall on the vendor formats (without {semgrep.GENERIC_KIND!r}): " + ", ".join(
                f"{n} {f / p if p else 0:.3f} ({f}/{p})" for n, (p, f) in vendor.items()))
            if verbose:
                for n, s in scores.items():
                    print(f"\n{n} Semgrep{tag} missed:\n  " + "\n  ".join(s.missed))
                    print(f"{n} Semgrep{tag} false positives:\n  " + "\n  ".join(s.fp_where))


def own_corpus(skip_ds: bool) -> None:
    from tests import test_files_corpus as own

    with tempfile.TemporaryDirectory() as tmp:
        c = own.build(Path(tmp))
        plants = [corpus.Plant("own", "positive", p.detector, p.path, (p.line,), (p.line,)) for p in c.plants]
        plants += [corpus.Plant("own", "negative", "test fixtures", p.path, (p.line,)) for p in c.fixtures]
        runs = {"agentreach": agentreach(c.root)[0]}
        if not skip_ds:
            runs["detect-secrets"] = detect_secrets(c.root)[0]
        scores = {n: score(plants, f) for n, f in runs.items()}
        print(f"\nour own corpus (tests/test_files_corpus.py): {len(c.plants)} planted keys in {c.files} files")
        print_kinds("per detector (found / planted)", sorted({p.klass for p in plants if p.label == "positive"}),
                    set(), scores)
        print_summary(scores, set())


def site_packages(mb: float, skip_ds: bool, findings_file: Path | None) -> None:
    src = Path(sysconfig.get_paths()["purelib"])
    exts = {".py", ".json", ".yaml", ".yml", ".toml", ".cfg", ".ini", ".txt", ".md", ".rst", ".pem", ".js", ".html"}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        total = 0
        for path in sorted(src.rglob("*")):
            if total >= mb * 1e6:
                break
            if not path.is_file() or path.suffix not in exts or "__pycache__" in path.parts:
                continue
            if path.parts[len(src.parts)].startswith(("_pytest", "pip", "setuptools", "_distutils", "pkg_resources")):
                continue  # the venv's own tooling, not the project's dependencies
            rel = path.relative_to(src)
            dst = root / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dst)
            total += path.stat().st_size
        files = sum(1 for p in root.rglob("*") if p.is_file())
        print(f"\nordinary source: {files:,} files, {total / 1e6:.1f} MB of installed site-packages "
              "(every finding is a false positive to review)")
        rows = [("agentreach files, 1 worker", *agentreach(root, 1))]
        rows.append(("agentreach files, 2 workers", *agentreach(root, 2)))
        if not skip_ds:
            rows.append(("detect-secrets --all-files", *detect_secrets(root)))
        print("| scanner | seconds | MB/s | findings (locations) | unmarked |")
        print("| --- | --- | --- | --- | --- |")
        for name, found, seconds in rows:
            locs = by_location(found)
            unmarked = sum(1 for fs in locs.values() if not all(f.marked for f in fs))
            print(f"| {name} | {seconds:.1f} | {total / 1e6 / seconds:.2f} | {len(locs)} | {unmarked} |")
        if findings_file is not None:
            lines = [f"{name}\t{f.kind}\t{f.path}:{f.line}\t{'marked' if f.marked else 'unmarked'}"
                     for name, found, _ in rows[:1] + rows[2:] for f in sorted(found, key=lambda f: (f.path, f.line))]
            findings_file.write_text("\n".join(lines) + "\n")
            print(f"findings written to {findings_file} (kind and file:line only)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=50)
    parser.add_argument("--skip-detect-secrets", action="store_true")
    parser.add_argument("--skip-site-packages", action="store_true")
    parser.add_argument("--only-others", action="store_true", help="the corpus from others' examples only")
    parser.add_argument("--only-site-packages", action="store_true", help="the tree of ordinary source only")
    parser.add_argument("--only-heldout", action="store_true",
                        help="the held-out set (TruffleHog's detector tests) only")
    parser.add_argument("--only-semgrep", action="store_true",
                        help="the blind set from Semgrep's rule tests only")
    parser.add_argument("--verbose", action="store_true", help="list misses and false positives (file:line)")
    parser.add_argument("--findings", type=Path, help="write the site-packages findings here")
    args = parser.parse_args()
    if args.only_site_packages:
        site_packages(args.mb, args.skip_detect_secrets, args.findings)
        return
    if args.only_heldout:
        heldout_corpus(args.skip_detect_secrets, args.verbose)
        return
    if args.only_semgrep:
        semgrep_corpus(args.skip_detect_secrets, args.verbose)
        return
    others_corpus(args.skip_detect_secrets, args.verbose)
    if args.only_others:
        return
    try:
        heldout_corpus(args.skip_detect_secrets, args.verbose)
    except corpus.sources.MissingMirror as exc:  # the held-out set alone needs the TruffleHog mirror
        print(f"\nheld-out: TruffleHog detector tests: skipped ({exc})")
    try:
        semgrep_corpus(args.skip_detect_secrets, args.verbose)
    except corpus.sources.MissingMirror as exc:  # the Semgrep set alone needs the semgrep-rules mirror
        print(f"\nblind: Semgrep rule tests: skipped ({exc})")
    own_corpus(args.skip_detect_secrets)
    if not args.skip_site_packages:
        site_packages(args.mb, args.skip_detect_secrets, args.findings)


if __name__ == "__main__":
    main()
