"""The files connector: secrets in directories (and optionally their git history), MCP
client configs, agent-framework context, and the public ids that tie a found secret to the
cloud credential it is (AWS access key id, GCP private_key_id, certificate thumbprint).

Read-only: it reads files and runs ``git ls-files`` / ``git log``. Secret values never leave
it: a found secret is recorded by ``ctx.fingerprint(value)`` and a redacted preview. Files are
scanned in worker processes for large trees (``workers``, every core by default), each inside a
guard: whatever one file does (nesting, loops, encodings, size, a time budget spent) it becomes
a coverage gap naming the file, and the rest of the scan goes on. ``summary`` counts what was
scanned, skipped by reason, and the gaps. Noise control (allow comments, placeholders, entropy
floors, test-fixture heuristics) is data in config/secret-detectors.yaml; ``verify`` (off by
default) checks found keys live. Links to cloud credentials are made at reach time by
``agentreach.graph.link_edges`` from the public ids recorded here.
"""

from __future__ import annotations

import os
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path, PurePosixPath
from typing import Any, Iterator, Mapping

from agentreach.connector import Connector, ConnectorConfigError, ScanContext
from agentreach.model import Credential, Edge, EdgeKind, Location, Record, node_id

from . import engine, fixtures
from .archives import Bounds
from .detectors import load_specs
from .filescan import MCP_TYPE, FileResult, FileScan, Found, Options, _init_worker, scan_chunk  # noqa: F401
from .guard import one_line
from .verify import DEFAULT_TIMEOUT, Verification, load_verifiers, verifier_ids
from .walk import Entry, GitError, Ignored, Walk, display, history, is_work_tree_root

__all__ = ["FilesConnector"]

KEYS = {"enabled", "paths", "all_files", "git_history", "since", "max_file_bytes", "exclude", "workers",
        "test_fixtures", "verify", "verify_endpoints", "verify_timeout", "follow_symlinks", "chunk_bytes",
        "chunk_overlap", "file_timeout", "max_parse_bytes", "max_parse_depth", "archives", "archive_max_depth",
        "archive_max_members", "archive_max_bytes", "engine", "pool_min_bytes"}
CHUNK = 40  # files per pool task: big enough to amortise the pipe, small enough to balance
STEAL = True  # the scanning process takes back chunks no worker has started (tests turn it off)
# A spawned worker costs ~1 s of CPU to start (imports, detect-secrets' plugins), about what one
# process scans in 30-40 MB with the prefilter: below this much text a pool only adds load
# (connectors.files.pool_min_bytes overrides it).
PARALLEL_MIN_BYTES = 64_000_000
# Detectors that match a shape rather than a format: a typed detector names a secret better.
GENERIC = frozenset({MCP_TYPE, "Secret Keyword"} | {s.secret_type for s in load_specs() if s.generic})


def default_workers() -> int:
    """Every core this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


@dataclass
class _Secret:
    """One distinct secret (one fingerprint) across every place it was found."""

    first: Found
    public_id: dict[str, str] = field(default_factory=dict)
    fixture_reasons: list[str | None] = field(default_factory=list)
    verified: dict[str, Any] | None = None


class FilesConnector(Connector):
    name = "files"
    version = "0.3.0"
    description = "Secrets, MCP client configs and certificates in directories and git history (detect-secrets)"

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        for key in config:
            if key not in KEYS:
                raise ConnectorConfigError(f"connectors.files.{key}: unknown key (known: {', '.join(sorted(KEYS))})")
        paths = config.get("paths")
        if not paths or not isinstance(paths, (list, tuple)) or not all(isinstance(p, (str, os.PathLike))
                                                                       for p in paths):
            raise ConnectorConfigError("connectors.files.paths: required, a list of directories")
        self.paths = [Path(p).expanduser() for p in paths]
        self.all_files = bool(config.get("all_files", False))
        self.git_history = bool(config.get("git_history", False))
        self.since = config.get("since")
        if self.since is not None and (not isinstance(self.since, str) or self.since.startswith("-")):
            raise ConnectorConfigError("connectors.files.since: a git ref")
        self.max_file_bytes = None if config.get("max_file_bytes") is None else _int(config, "max_file_bytes", 0, 1)
        self.chunk_bytes = _int(config, "chunk_bytes", 1_048_576, 4096)
        self.chunk_overlap = _int(config, "chunk_overlap", 16_384, 256)
        if self.chunk_overlap >= self.chunk_bytes:
            raise ConnectorConfigError("connectors.files.chunk_overlap: smaller than chunk_bytes")
        self.follow_symlinks = _bool(config, "follow_symlinks")
        timeout = config.get("file_timeout", 60)
        try:
            self.file_timeout = None if timeout in (None, 0) else float(timeout)
        except (TypeError, ValueError):
            raise ConnectorConfigError("connectors.files.file_timeout: seconds (0 or null: none)") from None
        if self.file_timeout is not None and self.file_timeout <= 0:
            raise ConnectorConfigError("connectors.files.file_timeout: seconds (0 or null: none)")
        self.max_parse_bytes = _int(config, "max_parse_bytes", 4_194_304, 1)
        self.max_parse_depth = _int(config, "max_parse_depth", 64, 1)
        self.archives = (Bounds(_int(config, "archive_max_depth", 2, 1), _int(config, "archive_max_members", 10_000, 1),
                                _int(config, "archive_max_bytes", 134_217_728, 1))
                         if _bool(config, "archives") else None)
        self.engine = str(config.get("engine") or "auto")
        if self.engine != "auto" and self.engine not in engine.ENGINES:
            raise ConnectorConfigError(f"connectors.files.engine: auto or one of {', '.join(engine.ENGINES)}")
        if self.engine != "auto" and self.engine not in engine.available():
            raise ConnectorConfigError(f"connectors.files.engine: {self.engine} is not installed "
                                       f"(installed: {', '.join(engine.available())})")
        exclude = config.get("exclude") or []
        if not isinstance(exclude, (list, tuple)) or not all(isinstance(g, str) for g in exclude):
            raise ConnectorConfigError("connectors.files.exclude: a list of globs")
        self.exclude = list(exclude)
        self.pool_min_bytes = None if config.get("pool_min_bytes") is None else _int(config, "pool_min_bytes", 0, 0)
        workers = config.get("workers")
        self.workers = default_workers() if workers in (None, "auto") else _int(config, "workers", 1, 1)
        self.test_fixtures = str(config.get("test_fixtures") or "downgrade")
        if self.test_fixtures not in fixtures.MODES:
            raise ConnectorConfigError(f"connectors.files.test_fixtures: one of {', '.join(fixtures.MODES)}")
        self.verify = config.get("verify", False)
        if not isinstance(self.verify, bool):
            raise ConnectorConfigError("connectors.files.verify: true or false")
        endpoints = config.get("verify_endpoints") or {}
        known = verifier_ids()
        if not isinstance(endpoints, Mapping) or any(
                k not in known or not isinstance(v, str) or not v.startswith(("https://", "http://"))
                for k, v in endpoints.items()):
            raise ConnectorConfigError("connectors.files.verify_endpoints: verifier id -> http(s) URL "
                                       f"(verifiers: {', '.join(known)})")
        self.verify_endpoints = dict(endpoints)
        try:
            self.verify_timeout = float(config.get("verify_timeout") or DEFAULT_TIMEOUT)
        except (TypeError, ValueError):
            raise ConnectorConfigError("connectors.files.verify_timeout: seconds") from None
        self.stats: dict[str, int] = {"files": 0, "bytes": 0, "candidates": 0, "chunked": 0}
        self.gap_count = 0

    # ------------------------------------------------------------------ scan
    def options(self, now: Any) -> Options:
        return Options(self.test_fixtures, now, chunk_bytes=self.chunk_bytes, chunk_overlap=self.chunk_overlap,
                       max_file_bytes=self.max_file_bytes, file_timeout=self.file_timeout,
                       follow_symlinks=self.follow_symlinks, max_parse_bytes=self.max_parse_bytes,
                       max_parse_depth=self.max_parse_depth, archives=self.archives, engine=self.engine)

    def scan(self, ctx: ScanContext) -> Iterator[Record]:
        options = self.options(ctx.clock())
        self._secrets: dict[str, _Secret] = {}
        self._ids: dict[str, str] = {}  # fingerprint -> the secret's id part
        self._verification = (Verification(load_verifiers(self.verify_endpoints, self.verify_timeout), ctx.clock)
                              if self.verify else None)
        local = FileScan(options)
        pool: Executor | None = None
        names: dict[str, int] = {}
        try:
            with local.scanner.session():
                local.scanner.matcher  # noqa: B018 - compiled (or loaded) now, not inside the first file's budget
                for root in self.paths:
                    base = root.resolve().name or "root"
                    names[base] = names.get(base, 0) + 1
                    root_name = base if names[base] == 1 else f"{base}-{names[base]}"
                    entries = self._entries(root.resolve(), root_name, ctx)
                    if entries is None:
                        continue
                    if pool is None and self.workers > 1 and sum(e.size for e in entries) >= self._pool_min():
                        # this process scans too, so workers - 1 of them; they load the prefilter this
                        # one compiled from the user's cache, and get only small options through the
                        # pipe (the parent blocks on a start-up write that does not fit in it)
                        pool = ProcessPoolExecutor(max_workers=self.workers - 1, mp_context=get_context("spawn"),
                                                   initializer=_init_worker, initargs=(options,))
                    yield from self._scan_root(root.resolve(), root_name, entries, local, pool, ctx)
        finally:
            if pool is not None:
                # every result is in (or the scan is being abandoned): workers still starting up exit on
                # their own rather than holding the scan until they have
                pool.shutdown(wait=False, cancel_futures=True)
        yield from self._credentials()
        if self._verification is not None:
            ctx.log.info("files: verified %s", self._verification.counts)
        ctx.log.info("files: %s", self.summary_line())

    def _pool_min(self) -> int:
        return PARALLEL_MIN_BYTES if self.pool_min_bytes is None else self.pool_min_bytes

    def summary(self) -> dict[str, Any]:
        """What the scan read, what it skipped (by reason) and how many gaps it recorded."""
        def group(prefix: str) -> dict[str, int]:
            return {k[len(prefix):]: v for k, v in sorted(self.stats.items()) if k.startswith(prefix) and v}

        return {"files": self.stats.get("files", 0), "bytes": self.stats.get("bytes", 0),
                "chunked": self.stats.get("chunked", 0), "archives": self.stats.get("archives", 0),
                "archive_members": self.stats.get("members", 0), "skipped": group("skipped: "),
                "dropped": group("dropped: "), "gaps": self.gap_count}

    def summary_line(self) -> str:
        s = self.summary()
        skipped = ", ".join(f"{n} {why}" for why, n in s["skipped"].items()) or "none"
        return (f"scanned {s['files']} files ({s['bytes'] / 1e6:.1f} MB, {s['chunked']} in chunks, "
                f"{s['archive_members']} archive members); skipped: {skipped}; {s['gaps']} coverage gaps")

    def _entries(self, root: Path, root_name: str, ctx: ScanContext) -> list[Entry] | None:
        if not root.is_dir():
            self._gap(ctx, "read", "NotADirectory", f"{root_name}: not a directory")
            return None
        ignored: Ignored | None = None
        if not self.all_files:
            if is_work_tree_root(root):
                try:
                    ignored = Ignored.of(root)
                except GitError as exc:
                    self._gap(ctx, "git", "GitError", f"{root_name}: ls-files failed, walked without .gitignore: {exc}")
            elif os.path.lexists(root / ".git"):
                self._gap(ctx, "git", "BrokenRepository",
                          f"{root_name}: .git is there but git cannot read it; walked without .gitignore")
        walk = Walk(root, self.exclude, self.follow_symlinks, self.archives is not None, ignored)
        entries = list(walk)
        for operation, code, message in walk.problems:
            self._gap(ctx, operation, code, f"{root_name}:{message}")
        for reason, n in walk.skipped.items():
            self.stats[f"skipped: {reason}"] = self.stats.get(f"skipped: {reason}", 0) + n
        return entries

    def _gap(self, ctx: ScanContext, operation: str, code: str, message: str) -> None:
        from agentreach.model import CoverageGap

        self._record(ctx, CoverageGap(connector="files", operation=operation, error_code=code, message=message[:500]))

    def _record(self, ctx: ScanContext, gap: Any) -> None:
        self.gap_count += 1
        ctx.gaps.record(gap)

    def _scan_root(self, root: Path, root_name: str, entries: list[Entry], local: FileScan, pool: Executor | None,
                   ctx: ScanContext) -> Iterator[Record]:
        task = ctx.progress.task(f"files {root_name}", total=len(entries))
        present: set[tuple[str, str]] = set()
        chunks = [entries[i:i + CHUNK] for i in range(0, len(entries), CHUNK)]
        for chunk, results in zip(chunks, self._chunk_results(root, root_name, chunks, local, pool, ctx), strict=True):
            ctx.check_cancelled()
            self._name_values(ctx, [f for result in results for f in result.found])
            for result in results:
                yield from self._settle_file(result, root_name, ctx, present)
            task.advance(len(chunk))
        task.done()
        if self.git_history:
            yield from self._history(root, root_name, local, ctx, present)

    def _chunk_results(self, root: Path, root_name: str, chunks: list[list[Entry]], local: FileScan,
                       pool: Executor | None, ctx: ScanContext) -> Iterator[list[FileResult]]:
        """The results of each chunk, in order. The pool is handed the chunks last first while
        this process scans them first first, taking back every chunk no worker has started:
        so workers still starting up cost nothing, and the two meet in the middle."""
        futures: dict[int, Future] = {}
        if pool is not None and len(chunks) > 1:
            order = range(len(chunks) - 1, -1, -1) if STEAL else range(len(chunks))
            futures = {i: pool.submit(scan_chunk, (str(root), root_name, chunks[i])) for i in order}
        broken = False
        for i, chunk in enumerate(chunks):
            future = futures.pop(i, None)
            results = None
            if future is not None and not broken and not (STEAL and future.cancel()):
                try:
                    results = future.result()
                    self.stats["chunks in workers"] = self.stats.get("chunks in workers", 0) + 1
                except BrokenProcessPool as exc:  # a worker died: the rest is scanned here, nothing is lost
                    ctx.log.warning("files: worker pool failed (%s); scanning the rest in this process",
                                    type(exc).__name__)
                    broken = True
            yield results if results is not None else local.scan_files(root, root_name, chunk)
        for future in futures.values():
            future.cancel()

    def _history(self, root: Path, root_name: str, local: FileScan, ctx: ScanContext,
                 present: set[tuple[str, str]]) -> Iterator[Record]:
        if not is_work_tree_root(root):
            self._gap(ctx, "git", "NotAGitRepository", f"{root_name}: git_history set but not a git work tree")
            return
        try:
            diffs = list(history(root, self.since, self.exclude))
        except GitError as exc:
            self._gap(ctx, "git", "GitError", f"{root_name}: log failed: {exc}")
            return
        from .certs import pem_blocks

        for diff in diffs:
            ctx.check_cancelled()
            diff.path = display(diff.path)
            try:
                lines = [t + "\n" for _, t in diff.lines]
                text = "".join(lines)
                hits = local.scanner.scan_text(diff.path, text)
                numbers = [n for n, _ in diff.lines]
                where = fixtures.path_reason(diff.path, local.rules)
                found = []
                for f in local.from_hits(diff.path, lines, hits, pem_blocks(text), None):
                    f.line = numbers[f.line - 1] if 0 < f.line <= len(numbers) else f.line
                    f.loc_attrs["context"] = ""
                    local.mark_fixture(f, where)
                    found.append(f)
            except Exception as exc:  # noqa: BLE001 - one bad diff never costs the others
                self._gap(ctx, "git", type(exc).__name__, f"{root_name}:{diff.path} @ {diff.commit[:12]}: "
                          f"{one_line(exc)}")
                continue
            yield from self._settle(diff.path, found, root_name, ctx, commit=diff.commit, skip=present)

    # ------------------------------------------------------------------ parent side of a file
    def _settle_file(self, result: FileResult, root_name: str, ctx: ScanContext,
                     present: set[tuple[str, str]]) -> Iterator[Record]:
        for gap in result.gaps:
            self._record(ctx, gap)
        for line in result.logs:
            ctx.log.info("%s", line)
        for key, n in result.stats.items():
            self.stats[key] = self.stats.get(key, 0) + n
        for cred, line, attrs in result.certs:
            loc = self._location(result.rel, line, root_name, attrs, None)
            yield cred
            yield loc
            # Only the public half: it says where the certificate sits, not that a secret leaked.
            yield Edge(src=cred.id, dst=loc.id, kind=EdgeKind.FOUND_IN, source="files", attrs={"public_only": True})
        yield from self._settle(result.rel, result.found, root_name, ctx, commit=None, present=present)

    def _settle(self, rel: str, found: list[Found], root_name: str, ctx: ScanContext, *, commit: str | None,
                skip: set[tuple[str, str]] | None = None,
                present: set[tuple[str, str]] | None = None) -> Iterator[Record]:
        """Fingerprint each value the moment it arrives, verify it (once per fingerprint) when
        asked, drop the value, and emit its location; credentials wait for the end of the scan,
        when every place they were found is known."""
        seen: set[tuple[int, str]] = set()
        for f in found:
            verified = None
            try:
                f.fp = ctx.fingerprint(f.value)
                self._secret_id(ctx, f.fp, f.value)
                if skip is not None and (rel, f.fp) in skip:
                    continue  # still in the tree: the current location says it
                if (f.line, f.fp) in seen:
                    continue
                seen.add((f.line, f.fp))
                if f.fixture and self.test_fixtures == "drop":
                    self.stats["dropped: test fixture"] = self.stats.get("dropped: test fixture", 0) + 1
                    continue
                if self._verification is not None:
                    verified = self._verification.verify(f.fp, f.detector, f.value)
            finally:
                f.value = ""
            self._remember(f, verified)
            attrs = dict(f.loc_attrs)
            if f.fixture and self.test_fixtures == "downgrade":
                attrs["test_fixture"] = f.fixture
            loc = self._location(rel, f.line, root_name, attrs, commit)
            if present is not None:
                present.add((rel, f.fp))
            yield loc
            yield Edge(src=node_id("files", "secret", self._ids[f.fp]), dst=loc.id, kind=EdgeKind.FOUND_IN,
                       source="files")

    def _name_values(self, ctx: ScanContext, found: list[Found]) -> None:
        """Derive the shared ids of a chunk's new values together, on ``workers`` threads: each
        is one scrypt (~0.15 s and 32 MiB, memory-hard on purpose, so that a committed baseline
        confirms a guess only at that price), and scrypt runs outside the GIL, so a tree with
        hundreds of distinct secrets costs that sum divided by the cores."""
        if ctx.secret_id is None or self.workers < 2:
            return
        todo: dict[str, str] = {}
        for f in found:
            fp = ctx.fingerprint(f.value)
            if fp not in self._ids:
                todo.setdefault(fp, f.value)
        if len(todo) < 2:
            return
        try:
            with ThreadPoolExecutor(max_workers=min(self.workers, len(todo))) as threads:
                for fp, ident in zip(todo, threads.map(ctx.secret_id, todo.values()), strict=True):
                    self._ids[fp] = ident
        finally:
            todo.clear()  # no value outlives the chunk

    def _secret_id(self, ctx: ScanContext, fp: str, value: str) -> str:
        """The id part of a found secret, derived once per distinct value: its shared identity
        (``ctx.secret_id``: scrypt under the repository's baseline salt, the same on every store
        and clone), else its fingerprint. The fingerprint, the store's own fast keyed hash,
        stays the credential's ``fingerprint`` and ``native_id``: ``show sha256:…`` and
        ``reach -`` find it by that."""
        if fp not in self._ids:
            self._ids[fp] = ctx.secret_id(value) if ctx.secret_id is not None else fp
        return self._ids[fp]

    def _remember(self, f: Found, verified: dict[str, Any] | None) -> None:
        secret = self._secrets.get(f.fp)
        if secret is None:
            secret = self._secrets[f.fp] = _Secret(f)
        elif secret.first.detector in GENERIC and f.detector not in GENERIC:
            secret.first = f  # a typed detector names it better than a generic one
        secret.public_id.update(f.public_id)
        secret.fixture_reasons.append(f.fixture if self.test_fixtures == "downgrade" else None)
        if verified is not None:
            secret.verified = verified

    def _credentials(self) -> Iterator[Record]:
        for fp, s in self._secrets.items():
            f = s.first
            fixture = all(s.fixture_reasons) and bool(s.fixture_reasons)
            attrs: dict[str, Any] = {
                "detector": f.detector, "provider_hint": f.provider, "agent_related": f.agent_related,
                "public_id": dict(s.public_id),
                "confidence": "low" if fixture else ("high" if f.ours and f.detector not in GENERIC else "medium"),
            }
            if fixture:
                attrs["likely_test_fixture"] = True
                attrs["test_fixture_reason"] = s.fixture_reasons[0]
            if s.verified is not None:
                attrs["verified"] = s.verified
            yield Credential(id=node_id("files", "secret", self._ids.get(fp, fp)), provider="files", source="files",
                             type="file_secret", name=f.name, native_id=fp, fingerprint=fp, preview=f.value_preview,
                             attrs=attrs)
        self._secrets = {}

    # ------------------------------------------------------------------ records
    def _location(self, rel: str, line: int, root_name: str, attrs: dict[str, Any], commit: str | None) -> Location:
        key = f"{root_name}:{rel}:{line}" + (f":{commit}" if commit else "")
        loc_attrs = {"context": attrs.get("context") or "", "root": root_name, **attrs}
        if commit:
            loc_attrs["commit"] = commit
        return Location(id=node_id("files", "location", key), provider="files", source="files", type="file_location",
                        name=f"{rel}:{line}" + (f" @ {commit[:12]}" if commit else ""), path=rel, line=line,
                        native_id=PurePosixPath(rel).name, attrs=loc_attrs)


def _bool(config: Mapping[str, Any], key: str) -> bool:
    value = config.get(key, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ConnectorConfigError(f"connectors.files.{key}: true or false")
    return value


def _int(config: Mapping[str, Any], key: str, default: int, minimum: int) -> int:
    try:
        value = int(config.get(key, default) if config.get(key) is not None else default)
    except (TypeError, ValueError):
        raise ConnectorConfigError(f"connectors.files.{key}: an integer") from None
    if value < minimum:
        raise ConnectorConfigError(f"connectors.files.{key}: at least {minimum}")
    return value
