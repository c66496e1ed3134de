"""The reach benchmark: labelled estates per cloud (bench/reach_eval/), built from vendor documents
and published privilege-escalation catalogues, run through the current reach derivers.

Prints, per cloud, precision / recall / F1 of data-read reach as a responder reads
``who-can-reach`` today (a principal listed at ``read`` or stronger on a crown jewel "can read its
data"), the false positives with the grant behind them and the false negatives with the label's
reason; then the escalation cases (each technique with its near-miss) against the
``can_escalate`` edges of the graph; then the AWS labels' second opinion from the reference IAM
evaluator.

    .venv/bin/python bench/reach_eval.py [--cloud aws|azure|gcp] [--all]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.reach_eval import aws, azure, check, gcp, pipeline, score  # noqa: E402

LOADERS = {"aws": aws.load, "azure": azure.load, "gcp": gcp.load}
SHOWN = 12


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cloud", action="append", choices=sorted(LOADERS), help="repeatable; default: all three")
    parser.add_argument("--all", action="store_true", help="list every false positive and negative")
    args = parser.parse_args()
    shown = None if args.all else SHOWN
    for cloud in args.cloud or list(LOADERS):
        started = time.perf_counter()
        estate = LOADERS[cloud]()
        graph, problems = pipeline.derive(estate.nodes, estate.edges)
        read = score.data_read(estate, graph)
        esc = score.escalations(estate, graph)
        print(f"== {cloud}: {len(estate.systems)} crown jewels x {len(estate.principals)} principals "
              f"({time.perf_counter() - started:.1f} s)")
        print(f"data-read reach: precision {read.precision:.2f}  recall {read.recall:.2f}  F1 {read.f1:.2f}  "
              f"(tp {read.tp}  fp {read.fp}  fn {read.fn}  tn {read.tn})")
        if problems:
            print(f"  deriver problems: {len(problems)}: {problems[0]}")
        print(f"  false positives ({read.fp}): listed as reading the data, cannot read it")
        for principal, system, level, grant in read.false_positives[:shown]:
            print(f"    {principal} -> {system}: {level}  [{grant}]")
        print(f"  false negatives ({read.fn}): can read the data, not listed")
        for principal, system, why in read.false_negatives[:shown]:
            print(f"    {principal} -> {system}: {why}")
        n_yes, fired_yes, near_yes = esc.counts(True)
        n_no, fired_no, near_no = esc.counts(False)
        print(f"escalations: {n_yes} techniques that must fire: {fired_yes} fire as can_escalate "
              f"(today's nearest signal, can_assume to the target or an admin grant: {near_yes}); "
              f"{n_no} near-misses: {fired_no} fire (nearest signal: {near_no})")
        missing = [c[0] for c in esc.cases if c[1] and not c[2]]
        wrong = [c[0] for c in esc.cases if not c[1] and c[2]]
        print(f"  not found: {', '.join(missing[:shown] if shown else missing)}"
              + (" …" if shown and len(missing) > shown else ""))
        if wrong:
            print(f"  near-misses that fire: {', '.join(wrong)}")
        if cloud == "aws":
            off = check.disagreements(estate)
            print(f"label check: the reference IAM evaluator re-derives the AWS labels; {len(off)} differ")
            for principal, system, mine, theirs in off:
                print(f"    {principal} -> {system}: label {sorted(mine)}, reference {sorted(theirs)}")
        print()


if __name__ == "__main__":
    main()
