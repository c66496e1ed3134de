"""Evaluate the agent classifier on the labelled estate (tests/labelled_estate.py).

Prints precision and recall of the `agent` verdict, how many keyword traps were flagged
`agent` (the target is none), the confusion counts, and every misclassified case with the
signals behind its verdict.

    .venv/bin/python bench/classifier_eval.py [--signals my-signals.yaml]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agentreach.classify import SnapshotView, Thresholds, classify, load_signals
from tests.labelled_estate import build


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--signals", help="a user signals file merged over the shipped one")
    args = parser.parse_args()

    nodes, edges, labelled = build()
    view = SnapshotView.build(nodes, [e.to_dict() for e in edges])
    verdicts = classify(view, load_signals(args.signals), Thresholds())

    counts: Counter[str] = Counter()
    wrong = []
    for nid, case in labelled.items():
        v = verdicts[nid]
        predicted = v.verdict == "agent"
        actual = case.label == "agent"
        counts[("t" if predicted == actual else "f") + ("p" if predicted else "n")] += 1
        if predicted != actual:
            wrong.append((case, v))
    traps = [c for c in labelled.values() if c.trap]
    traps_flagged = [c for nid, c in labelled.items() if c.trap and verdicts[nid].verdict == "agent"]
    tp, fp, fn = counts["tp"], counts["fp"], counts["fn"]
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    agents = sum(1 for c in labelled.values() if c.label == "agent")
    print(f"labelled cases: {len(labelled)} ({agents} agent, {len(labelled) - agents} not, {len(traps)} keyword traps)")
    print(f"precision {precision:.3f}   recall {recall:.3f}   traps flagged agent: {len(traps_flagged)}")
    print(f"confusion: tp {tp}  fp {fp}  fn {fn}  tn {counts['tn']}")
    verdict_mix = Counter(verdicts[nid].verdict for nid, c in labelled.items() if c.label == "not_agent")
    print(f"verdicts on non-agents: {dict(verdict_mix)}")
    if wrong:
        print("\nmisclassified:")
        for case, v in wrong:
            signals = ", ".join(f"{e.signal} {e.weight:+.2f}" for e in v.evidence) or "no signal"
            print(f"  {case.name}: labelled {case.label}, got {v.verdict} {v.score:.2f} [{signals}]"
                  + (f"  ({case.note})" if case.note else ""))


if __name__ == "__main__":
    main()
