"""The connector contract: what a connector is given and what it must give back.

A connector only *discovers*. It talks to one source, yields :mod:`agentreach.model`
records, and reports what it could not see as coverage gaps. It never classifies, scores
or infers edges the source does not state. Connectors are found through the entry-point
group ``agentreach.connectors``; the built-in ones are registered the same way, so a
third-party package is a first-class citizen (see ``connectors/README.md``).
"""

from __future__ import annotations

import abc
import datetime as dt
import logging
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Callable, ClassVar, Iterable, Iterator, Mapping, Protocol

from .model import CoverageGap, Record

ENTRY_POINT_GROUP = "agentreach.connectors"


class ConnectorConfigError(ValueError):
    """A connector's config section is wrong. The message names the key."""


def section_values(raw: Mapping[str, Any], known: Iterable[str], section: str) -> dict[str, Any]:
    """A connector's config section as given, minus ``enabled`` and unset (null) keys; a key
    the connector does not know is refused by name, so a typo never silently does nothing."""
    unknown = sorted(set(raw) - set(known) - {"enabled"})
    if unknown:
        raise ConnectorConfigError(f"connectors.{section}: unknown key(s) {', '.join(unknown)}")
    return {k: v for k, v in raw.items() if k != "enabled" and v is not None}


class ScanCancelled(RuntimeError):
    """Raised inside a connector when the scan is cancelled (Ctrl-C, a deadline)."""


class ProgressTask(Protocol):
    def advance(self, n: int = 1) -> None: ...
    def set_total(self, total: int | None) -> None: ...
    def done(self) -> None: ...


class ProgressReporter(Protocol):
    """Progress for long work; the CLI renders it with rich, tests and --quiet drop it."""

    def task(self, label: str, total: int | None = None) -> ProgressTask: ...


class _NullTask:
    def advance(self, n: int = 1) -> None:
        pass

    def set_total(self, total: int | None) -> None:
        pass

    def done(self) -> None:
        pass


class NullProgress:
    def task(self, label: str, total: int | None = None) -> ProgressTask:
        return _NullTask()


class GapRecorder:
    """Collects coverage gaps from any thread of any connector."""

    def __init__(self, log: logging.Logger | None = None) -> None:
        self._gaps: list[CoverageGap] = []
        self._lock = threading.Lock()
        self._log = log or logging.getLogger("agentreach.gaps")

    def record(self, gap: CoverageGap) -> None:
        with self._lock:
            self._gaps.append(gap)
        where = "/".join(p for p in (gap.account, gap.region, gap.service) if p)
        self._log.warning("coverage gap: %s %s %s: %s", where, gap.operation, gap.error_code, gap.message)

    @property
    def gaps(self) -> list[CoverageGap]:
        with self._lock:
            return list(self._gaps)


def _unsalted(value: str) -> str:
    """Fallback outside a scan (tests of a connector alone): still never the value itself."""
    import hashlib

    return "sha256:" + hashlib.sha256(b"agentreach-unsalted\0" + value.encode()).hexdigest()


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass
class ScanContext:
    """Everything a connector may use besides its own config. The clock is injectable so
    that a scan of a seeded estate is reproducible; cancellation is cooperative."""

    clock: Callable[[], dt.datetime] = _utcnow
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("agentreach"))
    progress: ProgressReporter = field(default_factory=NullProgress)
    gaps: GapRecorder = field(default_factory=GapRecorder)
    cancel: threading.Event = field(default_factory=threading.Event)
    # Salted SHA-256 of a secret value (the store's salt): the only form a value may take.
    fingerprint: Callable[[str], str] = field(default=lambda value: _unsalted(value))
    # A secret value's shared identity (agentreach.fingerprints: scrypt under the repository's
    # baseline salt), the same on every store and clone: what a found secret's id is built
    # from. None outside a scan (a connector tested alone): the fingerprint stands in.
    secret_id: Callable[[str], str] | None = None

    def check_cancelled(self) -> None:
        if self.cancel.is_set():
            raise ScanCancelled("scan cancelled")


def first_line(exc: BaseException) -> str:
    """The first line of an error's text (SDK errors carry whole tracebacks and bodies)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class CallLedger:
    """What every connector's call wrapper shares, so that counting, gaps and back-off work
    the same way for AWS, Azure, GCP and a third party's source: calls counted per
    operation (thread-safe: collectors run in pools), a failed call recorded as a coverage
    gap under the connector's name, and the pause before a retry (``Retry-After`` when the
    source gives one, else exponential back-off, both capped; the sleep is injectable so
    tests of throttling do not wait)."""

    def __init__(self, ctx: ScanContext, connector: str, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.ctx = ctx
        self.connector = connector
        self.sleep = sleep
        self.counts: Counter[str] = Counter()  # operation -> calls made
        self.retried: Counter[str] = Counter()  # operation -> retries made
        self._count_lock = threading.Lock()

    def count(self, operation: str, n: int = 1) -> None:
        with self._count_lock:
            self.counts[operation] += n

    def gap(self, operation: str, code: str, message: str, *, account: str | None = None,
            region: str | None = None, service: str | None = None) -> None:
        self.ctx.gaps.record(CoverageGap(connector=self.connector, operation=operation, error_code=code,
                                         message=message[:500], account=account, region=region, service=service))

    def backoff(self, operation: str, attempt: int, *, base: float = 0.5, cap: float = 60.0,
                retry_after: float | None = None, jitter: bool = False) -> None:
        """Sleep before retry number ``attempt`` (1 for the first retry)."""
        wait = retry_after if retry_after is not None else base * (2 ** (attempt - 1))
        if jitter and retry_after is None:
            wait *= 0.5 + random.random() / 2
        with self._count_lock:
            self.retried[operation] += 1
        self.sleep(max(0.0, min(wait, cap)))


class Connector(abc.ABC):
    """Base class of every connector.

    ``__init__`` validates the config section and raises :class:`ConnectorConfigError`
    naming the bad key; ``scan`` yields records. A connector may yield the same node twice
    (the core keeps the last) but must keep ids stable across runs. ``api_calls`` counts the
    calls a scan made by operation (add a :class:`CallLedger`'s counts to it); the scan
    summary and the benches read it.
    """

    name: ClassVar[str]
    version: ClassVar[str] = "0"
    description: ClassVar[str] = ""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = dict(config)
        self.api_calls: Counter[str] = Counter()

    @abc.abstractmethod
    def scan(self, ctx: ScanContext) -> Iterator[Record]:
        """Yield nodes and edges. Record failures as gaps in ``ctx.gaps`` and go on."""

    def summary(self) -> dict[str, Any]:
        """What the scan read and skipped beyond its records (files scanned, skipped by reason),
        for the scan summary; nothing by default."""
        return {}

    def summary_line(self) -> str:
        """:meth:`summary` for people, one line; empty: nothing to say."""
        return ""


class ConnectorUnavailable(RuntimeError):
    """A connector is named but not installed, or its SDK extra is missing."""


def discover_connectors() -> dict[str, EntryPoint]:
    """Installed connectors by name. Entry points are not loaded here, so a connector
    whose SDK extra is missing costs nothing until it is asked for."""
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def load_connector(name: str) -> type[Connector]:
    """Import one connector class, with a one-line reason when that cannot be done."""
    eps = discover_connectors()
    if name not in eps:
        known = ", ".join(sorted(eps)) or "none"
        raise ConnectorUnavailable(f"no connector named {name!r} is installed (installed: {known})")
    try:
        cls = eps[name].load()
    except ImportError as exc:
        raise ConnectorUnavailable(
            f"connector {name!r} needs a package that is not installed ({exc.name or exc}); "
            f"install it with: pip install 'agentreach[{name}]'"
        ) from exc
    if not (isinstance(cls, type) and issubclass(cls, Connector)):
        raise ConnectorUnavailable(f"entry point {name!r} is not an agentreach Connector")
    return cls
