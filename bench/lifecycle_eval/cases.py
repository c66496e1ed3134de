"""The labelled case of the owner / stale benchmark and the checks its data must pass.

Kept apart from the translation into records, so that the data test and the evaluation read
one definition of a valid case. A case asks one question about one record:

- ``stale``: is the credential or identity stale (``Lifecycle.value``: unused, never used);
- ``rotation``: is its rotation overdue (``rotation_overdue`` / ``never_rotated``);
- ``two_active_keys``: does it have an active sibling key on the same identity;
- ``expiry``: is it expired or expiring (``expired`` / ``expiring``);
- ``owner``: who answers for it (``owned`` / ``orphaned`` / ``ownerless``).

The first four are asked of ``lifecycle.lifecycle_facts``; ``owner`` of
``ownership.resolve_owners``. Labels are the source's, decided before our code ran.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Mapping

CLOUDS = ("aws", "azure", "gcp")
STALE_QUESTIONS = ("stale", "rotation", "two_active_keys", "expiry")
QUESTIONS = (*STALE_QUESTIONS, "owner")
OWNER_LABELS = ("owned", "orphaned", "ownerless")


class CaseError(ValueError):
    """A benchmark case that does not say what it must (one line naming the case)."""


@dataclass(frozen=True)
class Case:
    id: str
    cloud: str
    question: str
    label: bool | str  # bool for the stale family, an owner status for ``owner``
    now: dt.datetime
    subject: str
    provenance: Mapping[str, Any]
    note: str = ""
    records: Mapping[str, Any] = field(default_factory=dict)
    absent_ok: str = ""  # why the connector may emit no record for the subject (not judged)
    file: str = ""

    @property
    def verdict(self) -> str:
        """The verdict family the case measures: ``stale`` or ``owner``."""
        return "owner" if self.question == "owner" else "stale"


def _now(value: Any, where: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.timezone.utc)
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise CaseError(f"{where}: now {value!r} is not an ISO date") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def _label(item: Mapping[str, Any], question: str, where: str) -> bool | str:
    label = item.get("label")
    if question == "owner":
        if label not in OWNER_LABELS:
            raise CaseError(f"{where}: owner label {label!r} is not one of {', '.join(OWNER_LABELS)}")
    elif not isinstance(label, bool):
        raise CaseError(f"{where}: a {question} label is true or false, not {label!r}")
    return label


def provenance_of(item: Mapping[str, Any], defaults: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The case's provenance, the file's ``source`` filling gaps: a repository needs a
    path and the 40-hex commit read; documentation needs its URL; both need a note saying
    what the source gives as the label."""
    own = dict(item.get("provenance") or {})
    # the file's source fills gaps only for a case that names no source of its own
    inherited = {} if own.get("repository") or own.get("url") else \
        {k: defaults.get(k) for k in ("repository", "commit", "path", "url")}
    prov = {**inherited, **own}
    prov = {k: v for k, v in prov.items() if v}
    if prov.get("repository"):
        commit = str(prov.get("commit") or "")
        if not prov.get("path") or len(commit) != 40 or any(c not in "0123456789abcdef" for c in commit):
            raise CaseError(f"{where}: provenance of a repository needs its path and the 40-hex commit read")
    elif not prov.get("url"):
        raise CaseError(f"{where}: provenance needs a repository (path, commit) or a documentation url")
    if not prov.get("note"):
        raise CaseError(f"{where}: provenance needs a note saying what the source labels it")
    return prov


def case_from(item: Mapping[str, Any], defaults: Mapping[str, Any], file: str) -> Case:
    """One case from its YAML mapping, checked."""
    cid = str(item.get("id") or "")
    where = f"{file}: case {cid or '<no id>'}"
    if not cid:
        raise CaseError(f"{where}: no id")
    cloud = item.get("cloud", defaults.get("cloud"))
    if cloud not in CLOUDS:
        raise CaseError(f"{where}: cloud {cloud!r} is not one of {', '.join(CLOUDS)}")
    question = item.get("question")
    if question not in QUESTIONS:
        raise CaseError(f"{where}: question {question!r} is not one of {', '.join(QUESTIONS)}")
    if not item.get("subject"):
        raise CaseError(f"{where}: no subject (the record the label is about)")
    now = item.get("now", defaults.get("now"))
    if now is None:
        raise CaseError(f"{where}: no now (the instant thresholds are measured from)")
    return Case(id=cid, cloud=cloud, question=question, label=_label(item, question, where),
                now=_now(now, where), subject=str(item["subject"]),
                provenance=provenance_of(item, defaults, where), note=str(item.get("note") or ""),
                records=dict(item.get("records") or {}), absent_ok=str(item.get("absent_ok") or ""), file=file)
