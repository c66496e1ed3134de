"""Evaluate the agent classifier on two labelled benchmarks.

* ``ours``: the estate we wrote ourselves (tests/labelled_estate.py, 67 cases); it
  measures how well the signals fit the cases we imagined.
* ``independent``: estates translated from material others wrote (bench/agent_eval/,
  each case with its repository, path and commit), run through the connectors' own
  transforms.

For each set: precision and recall of the ``agent`` verdict, strict and counting
``possible`` as agent, per cloud and per evidence class (the kind of evidence a case's
source carries), how many keyword traps / lookalikes were flagged, the confusion counts
and every misclassified case with the signals behind its verdict.

    .venv/bin/python bench/classifier_eval.py [--set ours|independent|both] [--signals my-signals.yaml]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agentreach.classify import SnapshotView, Thresholds, Verdict, classify, load_signals
from bench.agent_eval import load as independent
from tests import labelled_estate


def _figures(pairs: Iterable[tuple[bool, str]]) -> dict[str, Any]:
    """Precision / recall from (is agent, verdict) pairs, strict and counting ``possible``."""
    out: dict[str, Any] = {}
    pairs = list(pairs)
    for mode, hit in (("strict", {"agent"}), ("possible", {"agent", "possible"})):
        tp = sum(1 for actual, v in pairs if actual and v in hit)
        fp = sum(1 for actual, v in pairs if not actual and v in hit)
        fn = sum(1 for actual, v in pairs if actual and v not in hit)
        out[mode] = {"tp": tp, "fp": fp, "fn": fn, "tn": len(pairs) - tp - fp - fn,
                     "precision": tp / (tp + fp) if tp + fp else None, "recall": tp / (tp + fn) if tp + fn else None}
    out["agents"] = sum(1 for actual, _ in pairs if actual)
    out["cases"] = len(pairs)
    return out


def _pct(value: float | None) -> str:
    return "  -  " if value is None else f"{value:.3f}"


def _row(label: str, fig: Mapping[str, Any]) -> str:
    s, p = fig["strict"], fig["possible"]
    return (f"  {label:<20} {fig['cases']:>5} {fig['agents']:>6}   {_pct(s['precision'])}  {_pct(s['recall'])}"
            f"     {_pct(p['precision'])}  {_pct(p['recall'])}")


HEADER = ("  {:<20} {:>5} {:>6}   {:<5}  {:<5}     {:<5}  {:<5}".format("", "cases", "agents", "prec", "recall",
                                                                          "prec", "recall")
          + "\n  " + " " * 36 + "strict (agent)    counting possible")


def cloud_of(node_id: str) -> str:
    return node_id.split(":", 1)[0]


def report(title: str, labelled: Mapping[str, Any], verdicts: Mapping[str, Verdict],
           cloud: Callable[[str, Any], str], classes: Callable[[Any], Iterable[str]] = lambda c: ()) -> None:
    """Print one benchmark's figures."""
    items = [(nid, case, verdicts[nid]) for nid, case in labelled.items()]
    overall = _figures((c.label == "agent", v.verdict) for _, c, v in items)
    traps = [(c, v) for _, c, v in items if c.trap]
    print(f"\n== {title}: {len(items)} cases ({overall['agents']} agent, {len(items) - overall['agents']} not, "
          f"{len(traps)} traps / lookalikes)")
    print(HEADER)
    print(_row("all", overall))
    by_cloud: dict[str, list[tuple[bool, str]]] = defaultdict(list)
    for nid, c, v in items:
        by_cloud[cloud(nid, c)].append((c.label == "agent", v.verdict))
    for name in sorted(by_cloud):
        print(_row(f"cloud {name}", _figures(by_cloud[name])))
    by_class: dict[str, list[tuple[bool, str]]] = defaultdict(list)
    for _, c, v in items:
        for cls in classes(c):
            by_class[cls].append((True, v.verdict))
    if by_class:
        print("  per evidence class (agent cases whose source carries it; precision has no meaning here):")
        for name in sorted(by_class):
            fig = _figures(by_class[name])
            print(f"  {name:<20} {fig['cases']:>5} {fig['agents']:>6}   recall {_pct(fig['strict']['recall'])}"
                  f"   counting possible {_pct(fig['possible']['recall'])}")
    flagged = sum(1 for _, v in traps if v.verdict == "agent")
    possible = sum(1 for _, v in traps if v.verdict == "possible")
    print(f"  traps / lookalikes flagged agent: {flagged} of {len(traps)}   (possible: {possible})")
    s = overall["strict"]
    print(f"  confusion (strict): tp {s['tp']}  fp {s['fp']}  fn {s['fn']}  tn {s['tn']}")
    wrong = [(c, v) for _, c, v in items if (v.verdict == "agent") != (c.label == "agent")]
    if wrong:
        print("  misclassified (strict):")
        for case, v in wrong:
            signals = ", ".join(f"{e.signal} {e.weight:+.2f}" for e in v.evidence) or "no signal"
            extra = getattr(case, "evidence_classes", ()) or ()
            print(f"    {case.name}: labelled {case.label}, got {v.verdict} {v.score:.2f} [{signals}]"
                  + (f"  <{', '.join(extra)}>" if extra else "") + (f"  ({case.note})" if case.note else ""))


def ours_summary(labelled: Mapping[str, Any], verdicts: Mapping[str, Verdict]) -> None:
    """The first lines, as they have always been printed for our own 67 cases."""
    counts: Counter[str] = Counter()
    for nid, case in labelled.items():
        predicted, actual = verdicts[nid].verdict == "agent", case.label == "agent"
        counts[("t" if predicted == actual else "f") + ("p" if predicted else "n")] += 1
    traps = [c for c in labelled.values() if c.trap]
    flagged = [c for nid, c in labelled.items() if c.trap and verdicts[nid].verdict == "agent"]
    tp, fp, fn = counts["tp"], counts["fp"], counts["fn"]
    agents = sum(1 for c in labelled.values() if c.label == "agent")
    print(f"labelled cases: {len(labelled)} ({agents} agent, {len(labelled) - agents} not, {len(traps)} keyword traps)")
    print(f"precision {tp / (tp + fp) if tp + fp else 1.0:.3f}   recall {tp / (tp + fn) if tp + fn else 1.0:.3f}"
          f"   traps flagged agent: {len(flagged)}")
    print(f"confusion: tp {tp}  fp {fp}  fn {fn}  tn {counts['tn']}")
    mix = Counter(verdicts[nid].verdict for nid, c in labelled.items() if c.label == "not_agent")
    print(f"verdicts on non-agents: {dict(mix)}")


def evaluate(name: str, signals: list[Any]) -> None:
    if name == "ours":
        nodes, edges, labelled = labelled_estate.build()
    else:
        nodes, edges, labelled = independent.build()
    view = SnapshotView.build(nodes, [e.to_dict() for e in edges])
    verdicts = classify(view, signals, Thresholds())
    if name == "ours":
        ours_summary(labelled, verdicts)
        report("ours (tests/labelled_estate.py)", labelled, verdicts, lambda nid, c: cloud_of(nid))
    else:
        report("independent (bench/agent_eval, built from others' samples)", labelled, verdicts,
               lambda nid, c: c.cloud, lambda c: c.evidence_classes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", choices=("ours", "independent", "both"), default="both",
                        help="which benchmark to evaluate (default both)")
    parser.add_argument("--signals", help="a user signals file merged over the shipped one")
    args = parser.parse_args()
    signals = load_signals(args.signals)
    try:
        for name in ("ours", "independent") if args.set == "both" else (args.set,):
            evaluate(name, signals)
    except independent.CaseError as exc:
        sys.exit(f"benchmark data: {exc}")


if __name__ == "__main__":
    main()
