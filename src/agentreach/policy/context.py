"""The request a reach question is asked for: the condition keys a user states and the time.

A policy condition often depends on the request, not on the principal or the resource: was
it made over TLS (``aws:SecureTransport``), with MFA (``aws:MultiFactorAuthPresent``), from
which address (``aws:SourceIp``), when (``aws:CurrentTime``, GCP's ``request.time``). A
snapshot cannot know those, so the evaluators decide a condition only for the keys stated
here, and leave the others conditional with their keys.

The default is what every derived edge of a scan is computed for: a request over TLS (every
SDK, CLI and console call is) at the time of the scan. Nothing else is assumed: whether MFA
was used, the caller's address, a VPC endpoint, stay conditional, so that ``who-can-reach``
still lists the person who can read a bucket after signing in with MFA (marked
conditional, with the key). A responder who knows more states it (``--context
aws:MultiFactorAuthPresent=false`` for a leaked access key, which never carries MFA).

Keys are compared case-insensitively (IAM condition keys are); a key stated with no value
(``aws:SourceVpc=``) is stated *absent*, which decides ``Null`` and ``...IfExists``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Mapping

__all__ = ["DEFAULT", "RequestContext", "parse_context"]

TIME_KEYS = frozenset({"aws:currenttime", "aws:epochtime"})


@dataclass(frozen=True)
class RequestContext:
    """Stated request keys (lower-case key -> values; an empty tuple: stated absent), and the
    time conditions on the current time are decided against (None: undecided)."""

    values: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    now: dt.datetime | None = None

    def __post_init__(self) -> None:
        values = {str(k).lower(): tuple(str(x) for x in v) for k, v in dict(self.values).items()}
        object.__setattr__(self, "values", values)
        # what the evaluator checks for every statement: computed once
        object.__setattr__(self, "_keys", frozenset(values))
        object.__setattr__(self, "_decided", frozenset(values) | (TIME_KEYS if self.now is not None else frozenset()))

    @property
    def keys(self) -> frozenset[str]:
        return self._keys  # type: ignore[attr-defined, no-any-return]

    @property
    def decided_keys(self) -> frozenset[str]:
        """The stated keys, and the time keys when a time is stated."""
        return self._decided  # type: ignore[attr-defined, no-any-return]

    def stated(self, key: str) -> tuple[str, ...] | None:
        """The stated values of ``key`` (``()``: stated absent), None when not stated."""
        return self.values.get(key.lower())

    def merged(self, more: Mapping[str, tuple[str, ...]] | "RequestContext") -> "RequestContext":
        """This context with ``more``'s keys (and time, when it has one) on top."""
        if isinstance(more, RequestContext):
            return RequestContext({**self.values, **more.values}, more.now or self.now)
        return RequestContext({**self.values, **{k.lower(): tuple(v) for k, v in more.items()}}, self.now)

    def at(self, now: dt.datetime | None) -> "RequestContext":
        return RequestContext(self.values, now)

    def differs_from(self, other: "RequestContext") -> frozenset[str]:
        """Keys whose stated values differ between the two contexts (the time counts as
        ``aws:currenttime``)."""
        keys = {k for k in self.keys | other.keys if self.values.get(k) != other.values.get(k)}
        if self.now != other.now:
            keys |= {"aws:currenttime", "aws:epochtime", "request.time"}
        return frozenset(keys)

    def describe(self) -> str:
        parts = [f"{k}={'|'.join(v)}" for k, v in sorted(self.values.items())]
        if self.now is not None:
            parts.append(f"time={self.now.isoformat()}")
        return ", ".join(parts) or "(nothing stated)"


# Every call an SDK, the CLI or the console makes goes over TLS; requests over plain HTTP are
# what the documented "DenyInsecureTransport" statements exist to refuse.
DEFAULT = RequestContext({"aws:SecureTransport": ("true",)})


def parse_context(text: str, base: RequestContext = DEFAULT) -> RequestContext:
    """``aws:SecureTransport=true,aws:MultiFactorAuthPresent=false`` on top of ``base``.
    A key given twice is multi-valued (``aws:TagKeys=a,aws:TagKeys=b``); ``key=`` states it
    absent. Raises ValueError with a one-line message naming the bad part."""
    values: dict[str, list[str]] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or not key or any(c.isspace() for c in key):
            raise ValueError(f"--context: {part!r} is not KEY=VALUE (e.g. aws:MultiFactorAuthPresent=false)")
        bucket = values.setdefault(key.lower(), [])
        if value.strip():
            bucket.append(value.strip())
    now = base.now
    for key in ("aws:currenttime", "aws:epochtime"):
        if values.get(key):
            raw = values.pop(key)[0]
            try:
                now = (dt.datetime.fromtimestamp(float(raw), dt.timezone.utc) if raw.replace(".", "").isdigit()
                       else dt.datetime.fromisoformat(raw.replace("Z", "+00:00")))
            except ValueError:
                raise ValueError(f"--context: {key}={raw!r} is not an ISO 8601 time or epoch seconds") from None
            if now.tzinfo is None:
                now = now.replace(tzinfo=dt.timezone.utc)
    return RequestContext({**base.values, **{k: tuple(v) for k, v in values.items()}}, now)
