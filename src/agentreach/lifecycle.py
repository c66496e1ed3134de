"""Lifecycle facts: is an identity or credential stale, and what else about its age holds.

``stale.value`` answers one question, "is this still in use?", and only the codes in
``lifecycle.stale_codes`` (unused, never_used, identity_unused) set it. The other codes
(rotation_overdue, two_active_keys, expired, expiring, lifetime_too_long, no_expiry, never_rotated)
are facts the findings layer turns into findings; they do not make a live key stale.

Semantics the well-known checkers get wrong, and why we decide otherwise:

- "Older than N days" is strictly more than N whole days (``(now - t).days > N``): a key
  last used exactly 45 days ago is not yet unused under a 45-day threshold.
- A never-used credential is judged from its creation date once the grace period is over;
  a never-used key on a programmatic user is unused like any other (Prowler skips it).
- Each key is judged on its own: key 2 unused while key 1 is inactive is still unused.
- A missing ``last_used`` means "never used" only where the source tracks use
  (``attrs.last_used_source`` set, or the type listed in ``tracks_last_use``); Bedrock API
  keys and secrets found in files have no usage data, and are not called unused.
- Disabled or expired credentials are not judged for use or rotation: disabling is the
  remedy those checks ask for.

Secrets Manager secrets are System nodes; they are included (rotation in
``attrs.rotation``, last access in ``attrs.last_accessed``) because a secret is an agent's
credential in all but name.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Mapping

from .model import Credential, CredentialStatus, Identity, Node, System, parse_datetime
from .ownership import section
from .view import SnapshotView


@dataclass(frozen=True)
class StaleReason:
    code: str
    detail: str
    days: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "detail": self.detail, "days": self.days}


@dataclass(frozen=True)
class Lifecycle:
    value: bool
    reasons: tuple[StaleReason, ...]
    facts: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "reasons": [r.to_dict() for r in self.reasons], "facts": dict(self.facts)}

    def codes(self) -> set[str]:
        return {r.code for r in self.reasons}


@dataclass(frozen=True)
class LifecycleConfig:
    unused_days: int = 45
    never_used_grace_days: int = 7
    rotation_days: int = 90
    expiry_warning_days: int = 30
    max_lifetime_days: int = 365
    stale_codes: frozenset[str] = frozenset({"unused", "never_used", "identity_unused"})
    tracks_last_use: frozenset[str] = frozenset()
    usage_exempt_types: frozenset[str] = frozenset()
    rotation_exempt_types: frozenset[str] = frozenset()
    lifetime_exempt_types: frozenset[str] = frozenset()
    expiry_expected_types: frozenset[str] = frozenset()
    single_active_types: frozenset[str] = frozenset({"aws_access_key"})
    secret_types: frozenset[str] = frozenset({"aws_secretsmanager_secret"})

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> "LifecycleConfig":
        kwargs: dict[str, Any] = {}
        for name, default in cls.__dataclass_fields__.items():
            if name not in data:
                continue
            value = data[name]
            kwargs[name] = frozenset(str(v) for v in value or ()) if isinstance(default.default, frozenset) \
                else int(value)
        return cls(**kwargs)


def load_lifecycle_config(user_config: Mapping[str, Any] | None = None) -> LifecycleConfig:
    """config/owners.yaml's ``lifecycle`` section with the user's over it."""
    return LifecycleConfig.from_mapping(section(user_config, "lifecycle"))


def _days(later: dt.datetime, earlier: dt.datetime) -> int:
    """Whole days between two instants (floor), the unit every threshold is in."""
    return (later - earlier).days


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def _tracks_use(node: Node, cfg: LifecycleConfig) -> bool:
    if getattr(node, "last_used", None) is not None:
        return True
    if "last_used_source" in node.attrs:
        return bool(node.attrs["last_used_source"])
    return node.type in cfg.tracks_last_use


def lifecycle_facts(view: SnapshotView, now: dt.datetime, cfg: LifecycleConfig) -> dict[str, Lifecycle]:
    """Lifecycle of every Identity, Credential and secret System of the view at ``now``."""
    now = parse_datetime(now) or now
    active_peers = _active_peers(view, cfg)
    out: dict[str, Lifecycle] = {}
    for node in sorted(view.nodes.values(), key=lambda n: n.id):
        reasons: list[StaleReason] = []
        facts: dict[str, Any] = {"created": _iso(node.created),
                                 "age_days": _days(now, node.created) if node.created else None}
        if isinstance(node, Credential):
            _credential(node, now, cfg, reasons, facts, active_peers.get(node.id, []), view)
        elif isinstance(node, Identity):
            if node.enabled and node.type not in cfg.usage_exempt_types:
                _usage(node, node.last_used, now, cfg, "identity_unused", reasons, facts)
        elif isinstance(node, System) and node.type in cfg.secret_types:
            _secret(node, now, cfg, reasons, facts)
        else:
            continue
        out[node.id] = Lifecycle(any(r.code in cfg.stale_codes for r in reasons), tuple(reasons), facts)
    return out


def _usage(node: Node, last_used: dt.datetime | None, now: dt.datetime, cfg: LifecycleConfig, code: str,
           reasons: list[StaleReason], facts: dict[str, Any], what: str = "used",
           tracked: bool | None = None) -> None:
    """``code`` when the last use is more than unused_days old; a never-used object counts
    from its creation, and neither code applies within the grace period."""
    tracked = _tracks_use(node, cfg) if tracked is None else tracked or last_used is not None
    facts["last_use_tracked"] = tracked
    facts["last_used"] = _iso(last_used)
    if last_used is not None:
        idle = facts["days_since_last_used"] = _days(now, last_used)
        if idle > cfg.unused_days:
            reasons.append(StaleReason(code, f"last {what} {idle} days ago (more than {cfg.unused_days})", idle))
        return
    if not tracked:
        return  # the source does not report use: no claim either way
    if node.created is None:
        facts["never_used_age_unknown"] = True
        return
    age = _days(now, node.created)
    if age <= cfg.never_used_grace_days:
        facts["within_grace"] = True
        return
    reasons.append(StaleReason("never_used", f"never {what} since created {age} days ago "
                                             f"(grace {cfg.never_used_grace_days} days)", age))
    if age > cfg.unused_days:
        reasons.append(StaleReason(code, f"never {what}, created {age} days ago (more than {cfg.unused_days})", age))


def _credential(c: Credential, now: dt.datetime, cfg: LifecycleConfig, reasons: list[StaleReason],
                facts: dict[str, Any], peers: list[str], view: SnapshotView) -> None:
    expired = c.status == CredentialStatus.EXPIRED or (c.expires is not None and c.expires <= now)
    facts.update(status=c.status.value, expires=_iso(c.expires))
    if c.expires is not None:
        left = facts["days_to_expiry"] = _days(c.expires, now)
        if expired:
            reasons.append(StaleReason("expired", f"expired {-left} days ago" if left < 0 else "expired",
                                       max(-left, 0)))
        elif c.status == CredentialStatus.ACTIVE and c.expires - now <= dt.timedelta(days=cfg.expiry_warning_days):
            reasons.append(StaleReason("expiring", f"expires in {left} days (warning at {cfg.expiry_warning_days})",
                                       left))
        if c.created is not None and c.type not in cfg.lifetime_exempt_types:
            life = facts["lifetime_days"] = _days(c.expires, c.created)
            if life > cfg.max_lifetime_days:
                reasons.append(StaleReason("lifetime_too_long",
                                           f"issued for {life} days (more than {cfg.max_lifetime_days})", life))
    elif expired:
        reasons.append(StaleReason("expired", "the source marks it expired", None))
    elif c.type in cfg.expiry_expected_types and c.status == CredentialStatus.ACTIVE:
        reasons.append(StaleReason("no_expiry", "never expires: the source gives it no end date", None))
    if c.status != CredentialStatus.ACTIVE or expired:
        return
    _usage(c, c.last_used, now, cfg, "unused", reasons, facts)
    rotated = parse_datetime(c.rotation.get("last_rotated")) or c.created
    if rotated is not None and c.type not in cfg.rotation_exempt_types:
        age = facts["days_since_rotation"] = _days(now, rotated)
        if age > cfg.rotation_days:
            reasons.append(StaleReason("rotation_overdue",
                                       f"not rotated for {age} days (more than {cfg.rotation_days})", age))
    if peers:
        names = ", ".join(sorted(view.name(p) for p in peers))
        reasons.append(StaleReason("two_active_keys", f"{len(peers) + 1} active keys on one identity "
                                                      f"(with {names})", None))


def _active_peers(view: SnapshotView, cfg: LifecycleConfig) -> dict[str, list[str]]:
    """For each active single-key-type credential, the other active ones on the same identity
    (by its ``authenticates`` edge, else by account and ``attrs.user``)."""
    groups: dict[tuple[str, ...], list[str]] = defaultdict(list)
    for n in view.nodes.values():
        if isinstance(n, Credential) and n.type in cfg.single_active_types and n.status == CredentialStatus.ACTIVE:
            holders = view.identities_of(n.id)
            key = (n.type, *holders[:1]) if holders else (n.type, n.account or "", str(n.attrs.get("user") or n.id))
            groups[key].append(n.id)
    return {cid: [p for p in ids if p != cid] for ids in groups.values() if len(ids) > 1 for cid in ids}


def _secret(s: System, now: dt.datetime, cfg: LifecycleConfig, reasons: list[StaleReason],
            facts: dict[str, Any]) -> None:
    rotation = s.attrs.get("rotation") or {}
    last_rotated = parse_datetime(rotation.get("last_rotated"))
    facts.update(rotation_enabled=bool(rotation.get("enabled")), last_rotated=_iso(last_rotated),
                 rotation_interval_days=rotation.get("interval_days"))
    if not rotation.get("enabled"):
        since = last_rotated or s.created
        if since is not None:
            age = _days(now, since)
            if age > cfg.rotation_days:
                what = f"last rotated {age} days ago" if last_rotated else f"never rotated, created {age} days ago"
                reasons.append(StaleReason("never_rotated", f"rotation disabled; {what} "
                                                            f"(more than {cfg.rotation_days})", age))
    # Secrets Manager records the day of last access (null: never read since tracking).
    last_accessed = parse_datetime(s.attrs.get("last_accessed"))
    _usage(s, last_accessed, now, cfg, "unused", reasons, facts, what="accessed",
           tracked="last_accessed" in s.attrs)
