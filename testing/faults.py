"""One description of injected failures, shared by the three stand-ins.

A test says *which* requests go wrong with :class:`Fault` records in a :class:`FaultPlan`;
each stand-in decides from that one plan and renders the fault in its own wire format:

* the AWS front door: the protocol-exact error body botocore parses (query, ec2, json,
  rest-json, rest-xml, rpc-v2-cbor), e.g. ``Throttling`` / ``ThrottlingException`` /
  ``SlowDown``;
* the Entra / Graph / ARM fake: ``{"error": {"code", "message"}}`` with ``Retry-After``, and
  OAuth error bodies on the token endpoint;
* the GCP fakes: ``google.rpc.Status`` JSON over REST (``SERVICE_DISABLED`` as an
  ``ErrorInfo`` detail) and gRPC status codes over gRPC.

What a fault matches:

``api``
    the AWS service as botocore names it (``"iam"``, ``"bedrock-agent"``); Azure ``"graph"``,
    ``"arm"`` or ``"login"``; the GCP fake's API name (``"iam"`` is the gRPC IAM admin API,
    ``"resourcemanager"``, ``"apikeys"``, ...). ``"*"``: any.
``operation``
    an exact name (AWS ``"ListUsers"``; GCP ``"keys.list"`` or ``"ListServiceAccounts"``; Azure
    the request path), ``"*"`` for any, or a compiled regular expression, searched in the name
    (``re.compile(r"/denyAssignments$")``).
``scope``
    the AWS account, the Azure tenant or subscription, the GCP project id; ``None``: any.

``times`` limits a fault to the first N requests it matches (``None``: every one), and
``probability`` below 1 makes a partial fault whose draws come from a random generator
seeded per fault from the plan's ``seed`` and the order the fault was added, so a run is
reproducible (for requests made one after another; concurrent requests draw in the order
they arrive). ``hits`` counts the requests a fault answered, under the plan's lock.

The kinds, and what a stand-in does for each:

========== ====================================================================================
deny       refuse with its "not authorised" error (``code`` / ``message`` / ``status`` override)
throttle   its rate-limit error (``retry_after`` seconds where the protocol has ``Retry-After``)
unavailable  its 503 / ``UNAVAILABLE``
error      any error: ``status`` and ``code`` (a gRPC status name on gRPC)
delay      wait ``seconds``, then answer normally (timeouts, interrupted scans)
disabled   the API is not enabled: GCP ``SERVICE_DISABLED``, ARM ``MissingSubscriptionRegistration``,
           Graph's missing-licence 403, AWS ``OptInRequired`` / ``SubscriptionRequiredException``
truncate   answer normally but cut the body at ``fraction`` (``None``: a seeded draw); with
           ``whole_length`` the length header still promises the whole body and the connection
           is closed mid-way, without it the message is well framed but its body is cut
reset      close the connection with a TCP reset instead of answering
========== ====================================================================================
"""

from __future__ import annotations

import random
import re
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal, get_args

FaultKind = Literal["deny", "throttle", "unavailable", "error", "delay", "disabled", "truncate", "reset"]
KINDS: tuple[str, ...] = get_args(FaultKind)
#: Kinds that answer instead of the real service (the others change how the answer arrives).
ERROR_KINDS = frozenset({"deny", "throttle", "unavailable", "error", "disabled"})

__all__ = ["ERROR_KINDS", "KINDS", "Fault", "FaultKind", "FaultPlan"]


@dataclass(eq=False)
class Fault:
    """Which requests go wrong, and how; see the module documentation."""

    kind: FaultKind
    api: str = "*"
    operation: str | re.Pattern[str] = "*"
    scope: str | None = None
    times: int | None = None
    status: int | None = None
    code: str | None = None
    message: str | None = None
    retry_after: float | None = None
    seconds: float | None = None
    fraction: float | None = None
    whole_length: bool = True
    probability: float = 1.0
    hits: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"fault kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if self.times is not None and self.times < 0:
            raise ValueError("times must be >= 0 (or None for every request)")
        if not 0 < self.probability <= 1:
            raise ValueError("probability must be in (0, 1]")
        if self.kind == "delay" and not (self.seconds and self.seconds > 0):
            raise ValueError("a delay fault needs seconds > 0")
        if self.fraction is not None and not 0 <= self.fraction < 1:
            raise ValueError("fraction must be in [0, 1): where the body is cut")
        if self.retry_after is not None and self.retry_after < 0:
            raise ValueError("retry_after must be >= 0")
        if self.status is not None and not 100 <= self.status <= 599:
            raise ValueError(f"status {self.status} is not an HTTP status")

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times

    def matches(self, api: str, operation: str, scopes: Iterable[str]) -> bool:
        """Whether a request to ``api`` / ``operation`` within ``scopes`` is one this fault is about."""
        if self.api != "*" and self.api != api:
            return False
        if isinstance(self.operation, re.Pattern):
            if not self.operation.search(operation):
                return False
        elif self.operation != "*" and self.operation != operation:
            return False
        return self.scope is None or self.scope in scopes

    def __repr__(self) -> str:
        op = self.operation.pattern if isinstance(self.operation, re.Pattern) else self.operation
        extra = "".join(f" {k}={v}" for k, v in (("scope", self.scope), ("times", self.times),
                                                 ("probability", self.probability if self.probability < 1 else None))
                        if v is not None)
        return f"<Fault {self.kind} {self.api}:{op}{extra} hits={self.hits}>"


class FaultPlan:
    """The faults a stand-in honours, tried in order: the first live one that matches answers.

    Thread-safe: the servers handle requests on many threads, and a test may add or remove
    faults while a scan runs.
    """

    def __init__(self, faults: Iterable[Fault] = (), *, seed: int = 0) -> None:
        self.seed = seed
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._rngs: dict[int, tuple[int, random.Random]] = {}  # id(fault) -> (ordinal, generator)
        self._added = 0
        for fault in faults:
            self.add(fault)

    def add(self, fault: Fault, *, first: bool = False) -> Fault:
        """Add ``fault`` after the others (``first``: before them); returns it, for its ``hits``."""
        with self._lock:
            if any(f is fault for f in self._faults):
                raise ValueError(f"{fault!r} is already in this plan")
            if first:
                self._faults.insert(0, fault)
            else:
                self._faults.append(fault)
            self._rngs[id(fault)] = (self._added, self._generator(self._added))
            self._added += 1
        return fault

    def take(self, api: str, operation: str, scope: str | Iterable[str] | None = None) -> Fault | None:
        """The fault that answers this request (its ``hits`` counted), or ``None``.

        ``scope`` is what the request is within: one name or several (an ARM request is within
        its subscription and its tenant).
        """
        scopes = () if scope is None else (scope,) if isinstance(scope, str) else tuple(scope)
        with self._lock:
            for fault in self._faults:
                if fault.exhausted or not fault.matches(api, operation, scopes):
                    continue
                if fault.probability < 1 and self._rngs[id(fault)][1].random() >= fault.probability:
                    continue
                fault.hits += 1
                return fault
        return None

    def cut(self, fault: Fault, length: int) -> int:
        """Where a ``truncate`` fault cuts a body of ``length`` bytes (always short of the end
        for a non-empty body: a cut that keeps everything would be no fault)."""
        with self._lock:
            if fault.fraction is not None:
                fraction = fault.fraction
            else:  # a fault removed while its request was in flight draws from a fresh generator
                fraction = self._rngs.get(id(fault), (0, self._generator(-1)))[1].random()
        return min(int(length * fraction), max(length - 1, 0))

    def remove(self, fault: Fault) -> None:
        with self._lock:
            self._faults = [f for f in self._faults if f is not fault]
            self._rngs.pop(id(fault), None)

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
            self._rngs.clear()

    def reset(self) -> None:
        """Counters to zero and every generator back to its seed: the plan replays the same way."""
        with self._lock:
            for fault in self._faults:
                fault.hits = 0
                ordinal = self._rngs[id(fault)][0]
                self._rngs[id(fault)] = (ordinal, self._generator(ordinal))

    @property
    def faults(self) -> list[Fault]:
        with self._lock:
            return list(self._faults)

    def __iter__(self) -> Iterator[Fault]:
        return iter(self.faults)

    def __len__(self) -> int:
        with self._lock:
            return len(self._faults)

    def __repr__(self) -> str:
        return f"FaultPlan(seed={self.seed}, {self.faults!r})"

    def _generator(self, ordinal: int) -> random.Random:
        return random.Random(f"agentreach-faults/{self.seed}/{ordinal}")
