"""Evaluate the owner and stale verdicts on a benchmark built from others' material.

Cases (bench/lifecycle_eval/data/*.yaml) come from other scanners' labelled tests and
queries (Prowler, Powerpipe's compliance and tags mods, ScoutSuite, GraphTools) and from the
clouds' documentation, each with its repository, path and commit or its URL. Every case is
run through the connectors' own transforms and asked one question of our shipped config:

- stale family: ``stale`` (Lifecycle.value), ``rotation``, ``two_active_keys``, ``expiry``;
- ``owner``: owned / orphaned / ownerless.

Printed: per verdict and cloud, precision / recall / accuracy against the sources' labels
(per question for the stale family, per status for owner), then every disagreement with the
case id, our verdict and its reasons, and the source's label. A disagreement is a finding
to read, not a failure: sources differ from each other and from us by design in places.

    .venv/bin/python bench/lifecycle_eval.py [--verbose]
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path
from typing import Iterable, Sequence

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.lifecycle_eval.cases import CLOUDS, OWNER_LABELS, STALE_QUESTIONS, CaseError  # noqa: E402
from bench.lifecycle_eval.load import Result, judge, load_cases  # noqa: E402


def _ratio(num: int, den: int) -> str:
    return f"{num / den:.3f}" if den else "  -  "


def _binary_row(label: str, results: Sequence[Result], positive: object = True) -> str:
    """Precision / recall of ``positive`` and accuracy over ``results``."""
    tp = sum(1 for r in results if r.case.label == positive and r.value == positive)
    fp = sum(1 for r in results if r.case.label != positive and r.value == positive)
    fn = sum(1 for r in results if r.case.label == positive and r.value != positive)
    right = sum(1 for r in results if r.agrees)
    pos = sum(1 for r in results if r.case.label == positive)
    return (f"  {label:<26} {len(results):>5} {pos:>5}   {_ratio(tp, tp + fp)}  {_ratio(tp, tp + fn)}"
            f"  {_ratio(right, len(results))}   tp {tp} fp {fp} fn {fn}")


HEADER = "  {:<26} {:>5} {:>5}   {:<5}  {:<6} {:<6}".format("", "cases", "pos", "prec", "recall", "acc")


def _by(results: Iterable[Result], key) -> dict[str, list[Result]]:  # type: ignore[no-untyped-def]
    out: dict[str, list[Result]] = defaultdict(list)
    for r in results:
        out[key(r)].append(r)
    return out


def stale_table(results: Sequence[Result]) -> None:
    """Per cloud and per question; positive = the source flags it."""
    print(f"\n== stale verdicts: {len(results)} cases (positive = the source flags it)")
    print(HEADER)
    print(_binary_row("all", results))
    for cloud, rs in sorted(_by(results, lambda r: r.case.cloud).items()):
        print(_binary_row(f"cloud {cloud}", rs))
    for question in STALE_QUESTIONS:
        by_q = [r for r in results if r.case.question == question]
        if by_q:
            print(_binary_row(f"question {question}", by_q))
            for cloud, rs in sorted(_by(by_q, lambda r: r.case.cloud).items()):
                print(_binary_row(f"  {question} / {cloud}", rs))


def owner_table(results: Sequence[Result]) -> None:
    """Per cloud accuracy, and per status precision / recall (that status = positive)."""
    print(f"\n== owner verdicts: {len(results)} cases (per status: that status is the positive class)")
    print(HEADER + "  (acc: of every status, over the row's cloud)")
    for cloud in (*CLOUDS, "all"):
        rs = [r for r in results if cloud in ("all", r.case.cloud)]
        for status in OWNER_LABELS if rs else ():
            print(_binary_row(f"{cloud} {status}", rs, status))
    mix = _by(results, lambda r: f"{r.case.label} -> {r.value}")
    print("  label -> ours: " + ", ".join(f"{k} {len(v)}" for k, v in sorted(mix.items())))


def disagreements(results: Sequence[Result], verbose: bool) -> None:
    wrong = [r for r in results if not r.agrees]
    print(f"\n== disagreements: {len(wrong)} of {len(results)}")
    for r in sorted(wrong, key=lambda r: (r.case.verdict, r.case.cloud, r.case.id)):
        c = r.case
        ours = f"CRASH {r.crash}" if r.crash else f"{r.value}"
        print(f"  [{c.verdict}/{c.cloud}] {c.id} ({c.question}): source says {c.label}, ours {ours}")
        print(f"      ours because: {r.why}")
        print(f"      source: {_source(c.provenance)}: {c.provenance.get('note')}")
        if c.note and verbose:
            print(f"      note: {c.note}")


def _source(prov: dict) -> str:  # type: ignore[type-arg]
    if prov.get("repository"):
        return f"{prov['repository']}@{str(prov['commit'])[:12]}/{prov['path']}"
    return str(prov["url"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--verbose", action="store_true", help="also print each disagreeing case's own note")
    args = parser.parse_args()
    try:
        results = [judge(c) for c in load_cases()]
    except CaseError as exc:
        sys.exit(f"benchmark data: {exc}")
    stale = [r for r in results if r.case.verdict == "stale"]
    owner = [r for r in results if r.case.verdict == "owner"]
    sources = {(c.provenance.get("repository") or c.provenance.get("url")) for c in (r.case for r in results)}
    print(f"lifecycle / owner benchmark: {len(results)} cases ({len(stale)} stale-family, {len(owner)} owner) "
          f"from {len(sources)} sources")
    stale_table(stale)
    owner_table(owner)
    disagreements(results, args.verbose)
    crashes = [r for r in results if r.crash]
    if crashes:
        print(f"\n{len(crashes)} case(s) crashed our code: see CRASH above")


if __name__ == "__main__":
    main()
