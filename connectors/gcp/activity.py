"""Last authentication of service accounts and keys, from the Policy Analyzer activity API.

``activities:query`` for the types ``serviceAccountLastAuthentication`` and
``serviceAccountKeyLastAuthentication`` answers one activity per account or key that
authenticated in the observation period. Google types ``activity`` as a free-form object;
the shape read here is the documented one: ``activity.lastAuthenticatedTime`` and
``activity.serviceAccount`` / ``activity.serviceAccountKey`` with ``fullResourceName``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping

from .calls import GcpCalls
from .ids import parse_time

SA_TYPE = "serviceAccountLastAuthentication"
KEY_TYPE = "serviceAccountKeyLastAuthentication"
SOURCE_NAME = "policyanalyzer"


@dataclass
class LastAuth:
    """Last authentication by SA email (lower-case) and by key id; ``source`` None when
    the activities could not be read (then no time means "unknown", not "never")."""

    accounts: dict[str, dt.datetime] = field(default_factory=dict)
    keys: dict[str, dt.datetime] = field(default_factory=dict)
    source: str | None = None


def get(calls: GcpCalls, project: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]] | None:
    """Both activity lists, or None when either could not be read (gap recorded)."""
    out = []
    for activity_type in (SA_TYPE, KEY_TYPE):
        before = len(calls.ctx.gaps.gaps)
        items = list(calls.rest_pages(
            "policyanalyzer", f"/v1/projects/{project}/locations/global/activityTypes/{activity_type}"
                              "/activities:query", "activities", operation=f"activities.query:{activity_type}",
            project=project))
        if len(calls.ctx.gaps.gaps) > before:
            return None
        out.append(items)
    return out[0], out[1]


def _latest(into: dict[str, dt.datetime], key: str, when: dt.datetime | None) -> None:
    if when is not None and (key not in into or when > into[key]):
        into[key] = when


def transform(sa_activities: Iterable[Mapping[str, Any]], key_activities: Iterable[Mapping[str, Any]]) -> LastAuth:
    out = LastAuth(source=f"{SOURCE_NAME}:{SA_TYPE},{KEY_TYPE}")
    for item in sa_activities:
        act = item.get("activity") or {}
        full = (act.get("serviceAccount") or {}).get("fullResourceName") or item.get("fullResourceName") or ""
        email = full.rstrip("/").rsplit("/", 1)[-1].lower()
        if "@" in email:
            _latest(out.accounts, email, parse_time(act.get("lastAuthenticatedTime")))
    for item in key_activities:
        act = item.get("activity") or {}
        key = act.get("serviceAccountKey") or {}
        kid = key.get("serviceAccountKeyId") or (key.get("fullResourceName") or item.get("fullResourceName")
                                                  or "").rstrip("/").rsplit("/", 1)[-1]
        if kid:
            _latest(out.keys, kid, parse_time(act.get("lastAuthenticatedTime")))
    return out
