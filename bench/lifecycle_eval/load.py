"""Load the owner / stale benchmark and ask our code each case's question.

    cases = load_cases()
    result = judge(case)   # our verdict on the case's subject, with its reasons

Each case is its own estate at its own ``now``: a key's sibling, an owner's account or a
workload of one case never leaks into another's verdict.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import yaml

from agentreach.lifecycle import lifecycle_facts, load_lifecycle_config
from agentreach.model import Edge, Node
from agentreach.ownership import load_owner_config, resolve_owners
from agentreach.view import SnapshotView

from .cases import Case, CaseError, case_from
from .estate import records_of

DATA = Path(__file__).resolve().parent / "data"
# Our codes behind each stale-family question.
CODES = {"rotation": frozenset({"rotation_overdue", "never_rotated"}),
         "two_active_keys": frozenset({"two_active_keys"}),
         # no_expiry: the sources' expiry checks (Prowler's credential_not_expired) fail a secret with no end date
         "expiry": frozenset({"expired", "expiring", "no_expiry"})}


def load_cases(files: Iterable[Path] | None = None) -> list[Case]:
    """Every case of the data files, checked; ids are unique across files."""
    cases: list[Case] = []
    seen: dict[str, str] = {}
    for path in sorted(files if files is not None else DATA.glob("*.yaml")):
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise CaseError(f"{path.name}: not valid YAML: {str(exc).splitlines()[0]}") from None
        for item in doc.get("cases") or []:
            case = case_from(item, doc.get("source") or {}, path.name)
            if case.id in seen:
                raise CaseError(f"{path.name}: case {case.id}: id already used in {seen[case.id]}")
            seen[case.id] = path.name
            cases.append(case)
    return cases


@dataclass(frozen=True)
class Result:
    """Our answer to a case: ``value`` is a bool (stale family) or an owner status;
    ``why`` the reason codes or evidence it stands on; ``crash`` an exception our code raised."""

    case: Case
    value: bool | str | None
    why: str
    crash: str = ""

    @property
    def agrees(self) -> bool:
        return not self.crash and self.value == self.case.label


def view_of(case: Case) -> tuple[SnapshotView, str]:
    """The case's estate as one snapshot view, and its subject's node id (checked present
    unless the case says why the connector emits nothing for it)."""
    records, sid = records_of(case)
    nodes: dict[str, Node] = {}
    edges: dict[str, Edge] = {}
    for rec in records:
        if isinstance(rec, Edge):
            edges[rec.id] = rec
        else:
            nodes.setdefault(rec.id, rec)
    if sid not in nodes and not case.absent_ok:
        raise CaseError(f"{case.file}: case {case.id}: subject {case.subject!r} is not among the records")
    return SnapshotView.build(list(nodes.values()), [e.to_dict() for e in edges.values()]), sid


def judge(case: Case) -> Result:
    """Our verdict on the case's subject with the product's shipped configuration."""
    view, sid = view_of(case)
    if sid not in view.nodes:
        return Result(case, False if case.verdict == "stale" else None,
                      f"no record: not judged ({case.absent_ok})")
    try:
        if case.verdict == "owner":
            return _owner(case, view, sid)
        return _stale(case, view, sid)
    except Exception as exc:  # a crash on a legitimate input is a finding, reported, never fixed here
        return Result(case, None, "", crash=f"{type(exc).__name__}: {exc}")


def _owner(case: Case, view: SnapshotView, sid: str) -> Result:
    verdict = resolve_owners(view, load_owner_config(None))[sid]
    why = "; ".join(_evidence(e.to_dict()) for e in verdict.evidence)
    return Result(case, verdict.status, f"name={verdict.name!r}: {why}")


def _evidence(ev: dict[str, Any]) -> str:
    text = f"{ev.get('source')}({ev.get('field')}={ev.get('matched')!r}"
    if ev.get("via"):
        text += f", via {ev['via']}"
    if ev.get("note"):
        text += f", {ev['note']}"
    return text + ")"


def _stale(case: Case, view: SnapshotView, sid: str) -> Result:
    life = lifecycle_facts(view, case.now, load_lifecycle_config(None))[sid]
    value = life.value if case.question == "stale" else bool(life.codes() & CODES[case.question])
    why = ", ".join(f"{r.code} ({r.detail})" for r in life.reasons) or "no reason codes"
    return Result(case, value, why)
