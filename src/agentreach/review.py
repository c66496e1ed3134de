"""The reviewed-agents file: what people decided about agent verdicts, kept as diffable
YAML in the repository (or the config directory) and read by every scan.

A classifier always leaves a grey zone; a security team closes it by review and says so
once. Each entry names one identity or credential by its agentreach id and carries the
person's triage decision (agent or not, why, who, when, optionally the accountable owner).
The classifier treats a decision as the strongest evidence: it is shown with the signals,
and it decides the verdict whatever they say.

    version: 1
    reviewed:
      - id: aws:access_key:AKIAIOSFODNN7EXAMPLE
        name: AKIAIOSFODNN7EXAMPLE          # as it was called when triaged (for people)
        native_id: AKIAIOSFODNN7EXAMPLE
        triage:
          decision: agent                   # agent | not-agent
          reason: the support bot's key (ticket SEC-142)
          by: alice@example.com
          at: 2026-03-01T10:00:00Z
          owner: support-platform           # optional: who answers for it

An entry is the place for everything reviewed about one agent: its ``profile:`` block, the
approved access profile, sits beside ``triage:`` in the same entry (an entry may hold
either or both):

        profile:
          owner: support-platform@example.com   # who answers for what the agent does
          purpose: answers customer tickets from the order history
          systems:                              # what it may reach: ids, ARNs, names, wildcards
            - arn:aws:dynamodb:us-east-1:111122223333:table/customer-orders
            - aws:account_service:*:bedrock
          actions:                              # the cloud's own action names, wildcards allowed
            - dynamodb:GetItem
            - dynamodb:Query
            - bedrock:InvokeModel*
          credential_lifetime: 90d              # optional: when a key of it is due to retire
          review_by: 2026-09-01                 # when the profile must be looked at again

Actions are checked against the entry's cloud (the provider its id names): AWS
``service:Action``, Azure ``Namespace.Provider/resource/.../verb``, GCP
``service.resource.verb``; :mod:`agentreach.profiles` matches them as each cloud does.
Pure functions compute; ``load_reviewed`` and ``save_reviewed`` are the only I/O.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, Literal, Mapping

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .config import ConfigError
from .config_schema import key_lines, line_of, pydantic_problem

VERSION = 1
DEFAULT_FILE = ".agentreach-reviewed.yaml"
DECISIONS = ("agent", "not-agent")
HEADER = ("# agentreach reviewed agents: decisions people made about agent verdicts (agentreach triage)\n"
          "# and their approved access profiles (agentreach profile).\n"
          "# Keep it in the repository; every scan reads it. One entry per identity or credential.\n")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Triage(_Model):
    """One person's decision about one object's agent verdict."""

    decision: Literal["agent", "not-agent"]
    reason: str = Field(min_length=1)
    by: str = Field(min_length=1)
    at: dt.datetime
    owner: str | None = None

    @field_validator("reason", "by", "owner")
    @classmethod
    def _not_blank(cls, v: str | None) -> str | None:
        if v is not None and not v.strip():
            raise ValueError("must not be blank")
        return v.strip() if v is not None else v

    @field_validator("at")
    @classmethod
    def _aware(cls, v: dt.datetime) -> dt.datetime:
        return v if v.tzinfo else v.replace(tzinfo=dt.timezone.utc)


_LIFETIME = re.compile(r"^(\d+)\s*([hdwy])$", re.IGNORECASE)
_LIFETIME_DAYS = {"h": 1 / 24, "d": 1, "w": 7, "y": 365}
# The shape of one action name in each cloud's own vocabulary (wildcards allowed): what a
# profile written for the wrong cloud, or with a typo such as ``s3.GetObject``, fails on.
ACTION_SHAPES: dict[str, tuple[re.Pattern[str], str]] = {
    "aws": (re.compile(r"^(\*|[A-Za-z0-9*?-]+:[A-Za-z0-9*?]+)$"), "an AWS action (service:Action, e.g. s3:GetObject)"),
    "azure": (re.compile(r"^(\*|[A-Za-z0-9.*-]+(/[A-Za-z0-9.*_-]+)+)$"),
              "an Azure operation (Microsoft.Provider/resource/verb, e.g. Microsoft.Storage/storageAccounts/read)"),
    "gcp": (re.compile(r"^(\*|[A-Za-z0-9*-]+(\.[A-Za-z0-9*]+){1,})$"),
            "a GCP permission (service.resource.verb, e.g. storage.objects.get)"),
}


class Profile(_Model):
    """The approved access profile of one agent: who answers for it, what it is for, what it
    may reach and do, how long its credentials should live, and when to look again."""

    owner: str = Field(min_length=1)
    purpose: str = Field(min_length=1)
    systems: list[str] = Field(min_length=1)
    actions: list[str] = Field(min_length=1)
    credential_lifetime: str | None = None
    review_by: dt.date

    @field_validator("owner", "purpose")
    @classmethod
    def _not_blank(cls, v: str) -> str:
        if not v.strip():
            raise ValueError("must not be blank")
        return v.strip()

    @field_validator("systems", "actions")
    @classmethod
    def _items(cls, v: list[str]) -> list[str]:
        for i, item in enumerate(v):
            if not item.strip():
                raise ValueError(f"item {i + 1} is blank")
        return [item.strip() for item in v]

    @field_validator("credential_lifetime")
    @classmethod
    def _lifetime(cls, v: str | None) -> str | None:
        if v is None:
            return v
        m = _LIFETIME.match(v.strip())
        if not m or int(m.group(1)) <= 0:
            raise ValueError(f"{v!r} is not a lifetime (a number and h, d, w or y: 12h, 90d, 1y)")
        return f"{int(m.group(1))}{m.group(2).lower()}"

    @field_validator("review_by", mode="before")
    @classmethod
    def _date(cls, v: Any) -> Any:
        return v.date() if isinstance(v, dt.datetime) else v

    @property
    def lifetime(self) -> dt.timedelta | None:
        """``credential_lifetime`` as a duration (None: no planned retirement)."""
        if self.credential_lifetime is None:
            return None
        m = _LIFETIME.match(self.credential_lifetime)
        assert m is not None
        return dt.timedelta(days=int(m.group(1)) * _LIFETIME_DAYS[m.group(2)])

    def action_problem(self, provider: str) -> tuple[int, str] | None:
        """(index, what is wrong) of the first action that is not a name in ``provider``'s
        vocabulary (a provider without one, such as a plugin's, is not checked)."""
        shape = ACTION_SHAPES.get(provider)
        if shape is None:
            return None
        for i, action in enumerate(self.actions):
            if not shape[0].match(action):
                return i, f"{action!r} is not {shape[1]}"
        return None

    def to_yaml(self) -> dict[str, Any]:
        out: dict[str, Any] = {"owner": self.owner, "purpose": self.purpose, "systems": list(self.systems),
                               "actions": list(self.actions)}
        if self.credential_lifetime:
            out["credential_lifetime"] = self.credential_lifetime
        out["review_by"] = self.review_by.isoformat()
        return out


class Entry(_Model):
    """Everything reviewed about one identity or credential: its triage, its approved profile."""

    id: str = Field(min_length=1)
    name: str | None = None
    native_id: str | None = None
    triage: Triage | None = None
    profile: Profile | None = None

    @model_validator(mode="after")
    def _says_something(self) -> "Entry":
        if self.triage is None and self.profile is None:
            raise ValueError("an entry needs a triage decision or a profile")
        return self

    def profile_problem(self) -> tuple[str, str] | None:
        """(key under the entry, what is wrong) when the profile's actions are not in the
        vocabulary of the cloud the entry's id names."""
        bad = self.profile.action_problem(self.id.split(":", 1)[0]) if self.profile is not None else None
        return (f"profile.actions.{bad[0]}", bad[1]) if bad else None


class Reviewed(_Model):
    version: Literal[1] = VERSION
    reviewed: list[Entry] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> "Reviewed":
        seen: set[str] = set()
        for entry in self.reviewed:
            if entry.id in seen:
                raise ValueError(f"id {entry.id!r} is reviewed twice")
            seen.add(entry.id)
        return self

    def entry(self, node_id: str) -> Entry | None:
        return next((e for e in self.reviewed if e.id == node_id), None)


def reviewed_path(config: Mapping[str, Any], override: str | Path | None = None) -> Path:
    """The reviewed file: ``override`` (a ``--reviewed`` flag), else ``review.file``, else
    ``.agentreach-reviewed.yaml`` in the current directory."""
    return Path(override or (config.get("review") or {}).get("file") or DEFAULT_FILE).expanduser()


def load_reviewed(path: str | Path) -> Reviewed:
    """A missing file reviews nothing; a malformed one is one line naming the file, the
    entry and the key (with its line)."""
    p = Path(path)
    if not p.exists():
        return Reviewed()
    try:
        text = p.read_text(encoding="utf-8")
        data = yaml.safe_load(text)
    except OSError as exc:
        raise ConfigError(f"reviewed file {p}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"reviewed file {p}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if data is None:
        return Reviewed()
    if not isinstance(data, Mapping):
        raise ConfigError(f"reviewed file {p}: expected a mapping with version and reviewed")
    try:
        reviewed = Reviewed.model_validate(dict(data))
    except ValidationError as exc:
        key, problem = pydantic_problem(exc)
        raise ConfigError(f"reviewed file {p}: {_where(key, data)}{problem}"
                          + _line(key, text)) from None
    for i, entry in enumerate(reviewed.reviewed):
        bad = entry.profile_problem()
        if bad:
            key = f"reviewed.{i}.{bad[0]}"
            raise ConfigError(f"reviewed file {p}: {_where(key, data)}{bad[1]}" + _line(key, text))
    return reviewed


def _where(key: str, data: Mapping[str, Any]) -> str:
    """``entry 2 (aws:role:x): triage.decision: `` for a key under ``reviewed.1``."""
    parts = key.split(".")
    if len(parts) >= 2 and parts[0] == "reviewed" and parts[1].isdigit():
        i = int(parts[1])
        items = data.get("reviewed") if isinstance(data.get("reviewed"), list) else []
        nid = items[i].get("id") if i < len(items) and isinstance(items[i], Mapping) else None
        rest = ".".join(parts[2:])
        return f"entry {i + 1}" + (f" ({nid})" if nid else "") + (f": {rest}: " if rest else ": ")
    return f"{key}: " if key else ""


def _line(key: str, text: str) -> str:
    line = line_of(key_lines(text), key)
    return f" (line {line})" if line else ""


def save_reviewed(path: str | Path, reviewed: Reviewed) -> None:
    """Write the file sorted by id, one block per entry, so a decision is a small diff."""
    entries = []
    for e in sorted(reviewed.reviewed, key=lambda e: e.id):
        item: dict[str, Any] = {"id": e.id}
        for key in ("name", "native_id"):
            if getattr(e, key):
                item[key] = getattr(e, key)
        if e.triage is not None:
            t = e.triage
            item["triage"] = {"decision": t.decision, "reason": t.reason, "by": t.by,
                              "at": t.at.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")}
            if t.owner:
                item["triage"]["owner"] = t.owner
        if e.profile is not None:
            item["profile"] = {**e.profile.to_yaml(), "review_by": e.profile.review_by}  # a YAML date, unquoted
        entries.append(item)
    body = yaml.safe_dump({"version": reviewed.version, "reviewed": entries}, sort_keys=False,
                          allow_unicode=True, width=100)
    Path(path).write_text(HEADER + body, encoding="utf-8")


def with_decision(reviewed: Reviewed, node_id: str, *, decision: str, reason: str, by: str,
                  at: dt.datetime, name: str | None = None, native_id: str | None = None,
                  owner: str | None = None) -> Reviewed:
    """``reviewed`` with this object's triage set (a new decision replaces the old one; the
    names it was known by stay unless new ones are given)."""
    if decision not in DECISIONS:
        raise ConfigError(f"decision must be one of {', '.join(DECISIONS)}")
    old = reviewed.entry(node_id)
    name = name or (old.name if old else None)
    native_id = native_id or (old.native_id if old else None)
    try:
        triage = Triage(decision=decision, reason=reason, by=by, at=at, owner=owner)  # type: ignore[arg-type]
        entry = Entry(id=node_id, name=name, native_id=native_id, triage=triage,
                      profile=old.profile if old else None)
    except ValidationError as exc:
        key, problem = pydantic_problem(exc)
        raise ConfigError(f"triage of {node_id}: {key}: {problem}") from None
    others = [e for e in reviewed.reviewed if e.id != node_id]
    return Reviewed(version=reviewed.version, reviewed=[*others, entry])


def with_profile(reviewed: Reviewed, node_id: str, profile: Profile, *, name: str | None = None,
                 native_id: str | None = None) -> Reviewed:
    """``reviewed`` with this object's approved profile set (its triage, if any, stays)."""
    old = reviewed.entry(node_id)
    try:
        entry = Entry(id=node_id, name=name or (old.name if old else None),
                      native_id=native_id or (old.native_id if old else None),
                      triage=old.triage if old else None, profile=profile)
    except ValidationError as exc:
        key, problem = pydantic_problem(exc)
        raise ConfigError(f"profile of {node_id}: {key + ': ' if key else ''}{problem}") from None
    bad = entry.profile_problem()
    if bad:
        raise ConfigError(f"profile of {node_id}: {bad[0]}: {bad[1]}")
    others = [e for e in reviewed.reviewed if e.id != node_id]
    return Reviewed(version=reviewed.version, reviewed=[*others, entry])


def profiles_of(reviewed: Reviewed) -> dict[str, Profile]:
    """Node id -> its approved profile, for the entries that have one."""
    return {e.id: e.profile for e in reviewed.reviewed if e.profile is not None}
