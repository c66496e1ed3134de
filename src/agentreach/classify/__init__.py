"""The agent classifier: for every identity and credential of a snapshot, is it used by an
AI agent (``agent`` | ``possible`` | ``none``), how sure, and why.

Signals are data (``config/agent-signals.yaml`` plus a user's file); matchers are small
functions; the engine adds the evidence up and propagates it along edges the sources state.
People's triage decisions (the reviewed file, ``agentreach.review``) are evidence too, the
strongest. Verdicts are stored with the snapshot as the ``agent`` annotation, and the same
file's approved access profiles as the ``profile`` annotation (read by the drift findings).
"""

from __future__ import annotations

from typing import Any, Mapping

from ..review import Reviewed, load_reviewed, profiles_of, reviewed_path
from ..store import Store
from ..view import SnapshotView
from .engine import REVIEW_ROLE, REVIEW_WEIGHT, Evidence, Thresholds, Verdict, classify, decide
from .signals import Signal, load_signals

ASPECT = "agent"
REVIEW_SIGNAL = "review.triage"

__all__ = ["ASPECT", "Evidence", "Signal", "SnapshotView", "Thresholds", "Verdict", "classify", "classify_snapshot",
           "decide", "load_signals", "profile_annotations", "review_evidence", "reviews_for"]


def signals_for(config: Mapping[str, Any]) -> list[Signal]:
    """The classifier's inputs from config, checked: the signals (shipped, plugins', the
    user's file) and, so that a broken one fails before a scan rather than after, the
    reviewed file."""
    signals = load_signals((config.get("classifier") or {}).get("signals_file"))
    reviews_for(config)
    return signals


def review_evidence(reviewed: Reviewed, where: str = "reviewed file") -> dict[str, Evidence]:
    """Node id -> the evidence of the person's triage decision about it."""
    out = {}
    for entry in reviewed.reviewed:
        t = entry.triage
        if t is None:
            continue
        agent = t.decision == "agent"
        when = t.at.date().isoformat()
        out[entry.id] = Evidence(
            signal=REVIEW_SIGNAL, weight=REVIEW_WEIGHT if agent else -REVIEW_WEIGHT, strength="strong",
            role=REVIEW_ROLE, why=f"triaged {t.decision} by {t.by} on {when}: {t.reason}"
                                  + (f" (owner {t.owner})" if t.owner else ""),
            matched=t.decision, field=where, object=entry.id, object_name=entry.name or entry.id)
    return out


def reviews_for(config: Mapping[str, Any]) -> dict[str, Evidence]:
    """The triage decisions of the reviewed file the config names (``review.file``)."""
    path = reviewed_path(config)
    return review_evidence(load_reviewed(path), f"reviewed file {path}")


PROFILE_ASPECT = "profile"


def profile_annotations(reviewed: Reviewed) -> dict[str, dict[str, Any]]:
    """Node id -> its approved profile as stored with a snapshot (the reviewed file's block),
    so the snapshot's drift findings read back as they were judged."""
    return {nid: p.to_yaml() for nid, p in profiles_of(reviewed).items()}


def classify_snapshot(store: Store, snapshot_id: int, config: Mapping[str, Any],
                      signals: list[Signal] | None = None, view: SnapshotView | None = None) -> dict[str, Verdict]:
    """Classify a stored snapshot and store the verdicts with it (replacing earlier ones)."""
    signals = signals if signals is not None else signals_for(config)
    view = view or SnapshotView.of_snapshot(store, snapshot_id)
    path = reviewed_path(config)
    reviewed = load_reviewed(path)
    verdicts = classify(view, signals, Thresholds.from_config(config.get("classifier")),
                        review_evidence(reviewed, f"reviewed file {path}"))
    store.put_annotations(snapshot_id, ASPECT, {nid: v.to_dict() for nid, v in verdicts.items()})
    store.put_annotations(snapshot_id, PROFILE_ASPECT, profile_annotations(reviewed))
    return verdicts
