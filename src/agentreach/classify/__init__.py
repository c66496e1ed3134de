"""The agent classifier: for every identity and credential of a snapshot, is it used by an
AI agent (``agent`` | ``possible`` | ``none``), how sure, and why.

Signals are data (``config/agent-signals.yaml`` plus a user's file); matchers are small
functions; the engine adds the evidence up and propagates it along edges the sources state.
Verdicts are stored with the snapshot as the ``agent`` annotation.
"""

from __future__ import annotations

from typing import Any, Mapping

from ..store import Store
from ..view import SnapshotView
from .engine import Evidence, Thresholds, Verdict, classify, decide
from .signals import Signal, load_signals

ASPECT = "agent"

__all__ = ["ASPECT", "Evidence", "Signal", "SnapshotView", "Thresholds", "Verdict", "classify", "classify_snapshot",
           "decide", "load_signals"]


def signals_for(config: Mapping[str, Any]) -> list[Signal]:
    return load_signals((config.get("classifier") or {}).get("signals_file"))


def classify_snapshot(store: Store, snapshot_id: int, config: Mapping[str, Any],
                      signals: list[Signal] | None = None, view: SnapshotView | None = None) -> dict[str, Verdict]:
    """Classify a stored snapshot and store the verdicts with it (replacing earlier ones)."""
    signals = signals if signals is not None else signals_for(config)
    view = view or SnapshotView.of_snapshot(store, snapshot_id)
    verdicts = classify(view, signals, Thresholds.from_config(config.get("classifier")))
    store.put_annotations(snapshot_id, ASPECT, {nid: v.to_dict() for nid, v in verdicts.items()})
    return verdicts
