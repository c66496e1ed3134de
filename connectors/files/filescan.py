"""One file in, raw findings out: the part of the files connector that runs in worker
processes (``connectors.files.workers``) or, for small trees, in the scanning process.

Every file is read, decoded, parsed and matched inside a guard (``guard.py``): any exception,
a structure past its bounds, the time budget or the size limit on one file becomes a coverage
gap naming the file, the stage and the error class, and what was found in it before is kept.
Files larger than ``chunk_bytes`` are matched as overlapping windows; archives (when asked
for) member by member within bounds.

What leaves here is plain data: ``Found`` hits (whose ``value`` is handed to the parent
over the pool's pipe and fingerprinted there at once, then cleared: the store's salt stays
in the parent), certificate records (public data only), coverage gaps, counters and log
lines. Nothing here writes, logs or prints a value.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, Iterable, Iterator

from agentreach.model import CoverageGap, Credential, CredentialStatus, node_id

from . import archives, certs, fixtures, link, mcp
from .bounded import Refused, load_json
from .context import FrameworkIndex
from .decode import HEAD, Encoding, decode, sniff, split_lines, windows
from .detectors import BASE64_PEM_TYPE, PEM_KEY_TYPES, Hit, Scanner, iter_values_matching
from .engine import TooManyMatches
from .guard import FileTimeout, Guard, one_line
from .read import Skip, blocks, open_regular, read_all
from .walk import Entry, display

SA_TYPE = "GCP Service Account Key"
MCP_TYPE = "MCP Server Credential"


def preview(value: str) -> str | None:
    """First 4 and last 2 characters, nothing for short values."""
    return f"{value[:4]}…{value[-2:]}" if len(value) >= 12 else None


@dataclass
class Found:
    """One secret at one line. ``value`` is the secret itself, kept out of ``repr`` and
    cleared by the parent right after fingerprinting (``FilesConnector._settle``)."""

    line: int
    value: str = field(repr=False)
    value_preview: str | None
    detector: str
    label: str
    provider: str
    agent_related: bool
    name: str = ""
    public_id: dict[str, str] = field(default_factory=dict)
    loc_attrs: dict[str, Any] = field(default_factory=dict)
    fixture: str | None = None  # why it looks like a test fixture
    ours: bool = True
    fp: str = ""


@dataclass
class FileResult:
    rel: str  # the path as records show it (an archive member: "archive.zip!/member")
    found: list[Found] = field(default_factory=list)
    # certificates (public data only): (record, line of its BEGIN, location attrs)
    certs: list[tuple[Credential, int, dict[str, Any]]] = field(default_factory=list)
    gaps: list[CoverageGap] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)
    logs: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Options:
    """What a worker needs to know: plain, picklable."""

    test_fixtures: str
    now: dt.datetime
    chunk_bytes: int = 1_048_576
    chunk_overlap: int = 16_384
    max_file_bytes: int | None = None  # larger files are not read: a gap each
    file_timeout: float | None = 60.0
    follow_symlinks: bool = False
    max_parse_bytes: int = 4_194_304
    max_parse_depth: int = 64
    archives: archives.Bounds | None = None  # None: archives are not opened
    engine: str = "auto"


@dataclass
class _Acc:
    """What one file (or archive member) yielded so far, merged across its windows."""

    found: dict[tuple[int, str], Found] = field(default_factory=dict)
    certs: dict[tuple[str, int], tuple[Credential, int, dict[str, Any]]] = field(default_factory=dict)
    context: str = ""


class FileScan:
    """Reads and scans files of one root; one per process, reused across chunks."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.scanner = Scanner(options.engine)
        self.rules = fixtures.FixtureRules.load()
        self._frameworks: dict[str, FrameworkIndex] = {}

    def frameworks(self, root: Path) -> FrameworkIndex:
        key = str(root)
        if key not in self._frameworks:
            self._frameworks[key] = FrameworkIndex(root)
        return self._frameworks[key]

    def scan_files(self, root: Path, root_name: str, entries: Iterable[Entry]) -> list[FileResult]:
        with self.scanner.session():
            return [r for entry in entries for r in self.scan_file(root, root_name, entry)]

    # ------------------------------------------------------------------ the guard
    def scan_file(self, root: Path, root_name: str, entry: Entry) -> list[FileResult]:
        """One file's results (an archive: one per member with something in it, then the
        archive's own), whatever happens while reading it."""
        out = FileResult(entry.shown)
        extra: list[FileResult] = []
        acc = _Acc()
        guard = Guard(self.options.file_timeout)
        where = f"{root_name}:{entry.shown}"
        before = dict(self.scanner.dropped)
        try:
            with guard.running():
                self._entry(root, root_name, entry, out, acc, extra, guard)
        except Skip as skip:
            out.stats[f"skipped: {skip.reason}"] = 1
        except FileTimeout:
            out.gaps.append(_gap(guard.stage, "Timeout", f"{where}: stopped after file_timeout "
                                 f"({self.options.file_timeout:g} s) while in {guard.stage}; what was found before "
                                 "is kept"))
        except TooManyMatches as exc:
            out.gaps.append(_gap("match", "TooManyMatches", f"{where}: {exc}; what was found before is kept"))
        except Exception as exc:  # noqa: BLE001 - one bad file never costs the others (RecursionError included)
            out.gaps.append(_gap(guard.stage, type(exc).__name__, f"{where}: {one_line(exc)}"))
        self._finish(entry.shown, acc, out)
        for why, n in self.scanner.dropped.items():
            if n - before.get(why, 0):
                out.stats[f"dropped: {why}"] = n - before.get(why, 0)
        return [*extra, out]

    def _entry(self, root: Path, root_name: str, entry: Entry, out: FileResult, acc: _Acc,
               extra: list[FileResult], guard: Guard) -> None:
        guard.stage = "read"
        limit = self.options.max_file_bytes
        fd, st = open_regular(os.path.join(root, entry.rel), self.options.follow_symlinks)
        try:
            if limit is not None and st.st_size > limit:
                out.gaps.append(_gap("read", "TooLarge", f"{root_name}:{entry.shown}: {st.st_size} bytes > "
                                     f"max_file_bytes ({limit}); not read"))
                return
            if entry.archive and self.options.archives is not None:
                with open(fd, "rb", closefd=False) as fh:
                    self._archive(fh, root, root_name, entry, out, extra, guard)
                return
            head = os.pread(fd, HEAD, 0)
            enc = sniff(head)
            if enc is None:
                out.stats["skipped: binary"] = 1
                return
            out.stats["files"] = 1
            out.stats["bytes"] = st.st_size
            if st.st_size <= self.options.chunk_bytes:
                data = read_all(fd, self.options.chunk_bytes + 1)
                if len(data) <= self.options.chunk_bytes:
                    guard.stage = "decode"
                    text, _codec = decode(data, enc)
                    self._text(root, root_name, entry.shown, text, 1, True, acc, out, guard)
                    return
            out.stats["chunked"] = 1
            self._windows(root, root_name, entry.shown, blocks(fd, self.options.chunk_bytes), enc, acc, out, guard)
        finally:
            os.close(fd)

    def _windows(self, root: Path, root_name: str, rel: str, stream: Iterable[bytes], enc: Encoding, acc: _Acc,
                 out: FileResult, guard: Guard) -> None:
        for window in windows(stream, enc, self.options.chunk_bytes, self.options.chunk_overlap):
            guard.check()
            self._text(root, root_name, rel, window.text, window.first_line, False, acc, out, guard,
                       cut_start=window.cut_start, cut_end=not window.final)
            guard.stage = "read"

    # ------------------------------------------------------------------ archives
    def _archive(self, fh: BinaryIO, root: Path, root_name: str, entry: Entry, out: FileResult,
                 extra: list[FileResult], guard: Guard) -> None:
        bounds = self.options.archives
        assert bounds is not None
        guard.stage = "archive"
        where = f"{root_name}:{entry.shown}"
        out.stats["archives"] = 1

        def on_gap(code: str, path: str, message: str) -> None:
            out.gaps.append(_gap("archive", code, f"{where}!/{display(path)}: {message}"))

        budget = archives.Budget(bounds.max_bytes)
        try:
            for member in archives.members(fh, entry.rel, bounds, budget, on_gap):
                guard.check()
                result = self._member(root, root_name, f"{entry.shown}!/{display(member.path)}", member, guard)
                if result.found or result.certs or result.gaps:
                    extra.append(result)
                for key, n in result.stats.items():
                    out.stats[key] = out.stats.get(key, 0) + n
                guard.stage = "archive"
        except archives.ArchiveLimit as exc:
            out.gaps.append(_gap("archive", exc.code, f"{where}: {exc}; the members before it were scanned"))

    def _member(self, root: Path, root_name: str, rel: str, member: archives.Member, guard: Guard) -> FileResult:
        """One archive member, like a file: sniffed, decoded, matched in windows. Failures
        other than the archive's bounds are the member's own gap."""
        out = FileResult(rel)
        acc = _Acc()
        try:
            head = member.stream.read(HEAD)
            enc = sniff(head)
            if enc is None:
                out.stats["skipped: binary"] = 1
                return out
            out.stats["members"] = 1

            def rest() -> Iterator[bytes]:
                yield head
                while part := member.stream.read(self.options.chunk_bytes):
                    yield part

            self._windows(root, root_name, rel, rest(), enc, acc, out, guard)
        except (archives.ArchiveLimit, FileTimeout):
            raise
        except Exception as exc:  # noqa: BLE001 - a bad member never costs the rest of the archive
            out.gaps.append(_gap(guard.stage, type(exc).__name__, f"{root_name}:{rel}: {one_line(exc)}"))
        finally:
            self._finish(rel, acc, out)
        return out

    # ------------------------------------------------------------------ one text
    def _text(self, root: Path, root_name: str, rel: str, text: str, first_line: int, whole: bool, acc: _Acc,
              out: FileResult, guard: Guard, cut_start: bool = False, cut_end: bool = False) -> None:
        """Everything found in one text: a whole file, or one window of a large one (whose
        lines start at ``first_line``). Structures are parsed only in whole files."""
        shift = first_line - 1
        if whole:
            guard.stage = "parse"
            client = mcp.client_of(rel)
            if client:
                for f in self._mcp(rel, text, root_name, client, out):
                    acc.found.setdefault((f.line, f.value), f)
        if first_line == 1:
            guard.stage = "context"
            acc.context = self.frameworks(root).context_for(rel, text)
        guard.stage = "match"
        hits, lines = self.scanner.scan_text_lines(rel, text)
        if hits and (cut_start or cut_end):
            hits = [h for h in hits if not _at_cut(h, lines, cut_start, cut_end)]
        if hits:
            out.stats["candidates"] = 1
        pem = certs.pem_blocks(text) if "-----BEGIN" in text else []
        if pem and not lines:
            lines = split_lines(text)
        for cred, line, attrs in self._certificates(rel, pem, root_name, acc.context, shift, out):
            acc.certs.setdefault((cred.id, line), (cred, line, attrs))
        sa = None
        if whole and '"service_account"' in text and text.lstrip()[:1] == "{":
            guard.stage = "parse"
            sa = self._service_account(rel, text, pem, root_name, out)
            guard.stage = "match"
        for f in self.from_hits(rel, lines, hits, pem, sa):
            f.line += shift
            f.name = f"{f.label} in {rel}:{f.line}"
            old = acc.found.get((f.line, f.value))
            if old is None:
                acc.found[(f.line, f.value)] = f
            elif old.detector != f.detector:
                # The line scan saw the value in its context (GEMINI_API_KEY=…, an endpoint
                # nearby): it names the secret better than the bare MCP value did.
                old.detector, old.label, old.provider, old.agent_related = (f.detector, f.label, f.provider,
                                                                            f.agent_related)
        if sa is not None:
            acc.found.setdefault((sa.line, sa.value), sa)

    def _finish(self, rel: str, acc: _Acc, out: FileResult) -> None:
        where = fixtures.path_reason(rel, self.rules)
        for f in sorted(acc.found.values(), key=lambda f: (f.line, f.detector)):
            if not f.loc_attrs.get("context"):
                f.loc_attrs["context"] = acc.context
            self.mark_fixture(f, where)
            out.found.append(f)
        out.certs.extend(acc.certs.values())
        acc.found.clear()
        acc.certs.clear()

    def mark_fixture(self, f: Found, where: str | None) -> None:
        """Set ``f.fixture`` from its path and its value (off when test_fixtures is keep)."""
        if self.options.test_fixtures == "keep":
            return
        f.fixture = fixtures.value_reason(self.scanner.noise.body(f.value), self.rules) or where

    def from_hits(self, rel: str, lines: list[str], hits: list[Hit], pem: list[certs.PemBlock],
                  sa: Found | None) -> Iterator[Found]:
        keys = None
        cert_keys: dict[bytes, certs.CertInfo] = {}
        for block in pem:
            if block.label == "CERTIFICATE":
                info = certs.parse_certificate(block)
                if info:
                    cert_keys[info.public_key] = info
        for hit in hits:
            value = hit.value
            public: dict[str, str] = {}
            if hit.secret_type in PEM_KEY_TYPES:
                block = next((b for b in pem if b.line == hit.line and "PRIVATE KEY" in b.label), None)
                value = block.body if block else lines[hit.line - 1].strip()
                if sa is not None and sa.line == hit.line:
                    continue
                if block is not None and cert_keys:
                    pub = certs.private_key_public_bytes(block)
                    if pub in cert_keys:
                        public["certificate_sha1"] = cert_keys[pub].sha1
                        public["certificate_sha256"] = cert_keys[pub].sha256
            elif hit.secret_type == BASE64_PEM_TYPE:
                value = next((b.body for b in certs.base64_pem_blocks(value) if "PRIVATE KEY" in b.label), value)
            elif hit.secret_type == "AWS Access Key":
                public["aws_access_key_id"] = value
            elif hit.secret_type == "AWS Secret Access Key":
                if keys is None:
                    keys = link.aws_key_ids(lines)
                key_id = link.nearest(keys, hit.line)
                if key_id:
                    public["aws_access_key_id"] = key_id
            yield Found(hit.line, value, preview(value), hit.secret_type, hit.label, hit.provider, hit.agent_related,
                        name=f"{hit.label} in {rel}:{hit.line}", public_id=public, ours=hit.ours)

    def _service_account(self, rel: str, text: str, pem: list[certs.PemBlock], root_name: str,
                         out: FileResult) -> Found | None:
        try:
            data = load_json(text, self.options.max_parse_bytes, self.options.max_parse_depth)
        except Refused as exc:
            out.gaps.append(_gap("parse", exc.code, f"{root_name}:{rel}: JSON naming a service_account refused: "
                                 f"{exc}; its lines were matched instead"))
            return None
        except ValueError:
            return None
        if not isinstance(data, dict) or data.get("type") != "service_account" or not data.get("private_key"):
            return None
        key_id, email = str(data.get("private_key_id") or ""), str(data.get("client_email") or "")
        blocks = certs.pem_blocks(str(data["private_key"]))
        value = blocks[0].body if blocks else str(data["private_key"])
        line = next((b.line for b in pem if "PRIVATE KEY" in b.label), 1)
        public = {k: v for k, v in (("gcp_private_key_id", key_id), ("client_email", email),
                                    ("project_id", str(data.get("project_id") or ""))) if v}
        return Found(line, value, preview(value), SA_TYPE, "GCP service-account key", "gcp", False,
                     name=f"GCP service-account key of {email or 'unknown'} in {rel}:{line}", public_id=public)

    def _mcp(self, rel: str, text: str, root_name: str, client: str, out: FileResult) -> Iterator[Found]:
        try:
            values = mcp.parse(text, self.options.max_parse_bytes, self.options.max_parse_depth)
        except Refused as exc:
            out.gaps.append(_gap("parse", exc.code, f"{root_name}:{rel}: MCP client config refused: {exc}; its lines "
                                 "were matched instead"))
            return
        except ValueError as exc:
            out.gaps.append(_gap("parse", "JSONDecodeError", f"{root_name}:{rel}: broken MCP client config: {exc}"))
            return
        noise = self.scanner.noise
        for v in values:
            raw = v.value.strip()
            for prefix in ("Bearer ", "bearer ", "Basic ", "token "):
                raw = raw.removeprefix(prefix)
            spec = next(iter_values_matching(self.scanner.specs, raw), None)
            if spec is None and (v.field == "args" or not mcp.is_credential_value(v.key, raw)):
                continue
            detector = spec.secret_type if spec else MCP_TYPE
            if noise.reason(raw, "", True, self.scanner.floor(detector)) is not None:
                continue
            yield Found(v.line, raw, preview(raw), detector, spec.label if spec else "MCP server credential",
                        spec.provider if spec else "", spec.agent_related if spec else False,
                        name=f"{v.key} of MCP server {v.server}",
                        loc_attrs={"context": "mcp_client_config", "server": v.server, "client": client,
                                   "field": v.field, "key": v.key})

    def _certificates(self, rel: str, pem: list[certs.PemBlock], root_name: str, context: str, shift: int,
                      out: FileResult) -> Iterator[tuple[Credential, int, dict[str, Any]]]:
        now = self.options.now
        for block in pem:
            if block.label not in ("CERTIFICATE", "TRUSTED CERTIFICATE"):
                continue
            line = block.line + shift
            info = certs.parse_certificate(block)
            if info is None:
                out.gaps.append(_gap("parse", "InvalidCertificate", f"{root_name}:{rel}:{line}: "
                                                                     "unreadable certificate"))
                continue
            yield (Credential(
                id=node_id("x509", "certificate", info.sha1), provider="files", source="files",
                type="x509_certificate", name=f"certificate {info.subject} in {rel}:{line}", native_id=info.sha1,
                created=info.not_before, expires=info.not_after,
                status=CredentialStatus.EXPIRED if info.not_after < now else CredentialStatus.ACTIVE,
                attrs={"subject": info.subject, "issuer": info.issuer, "serial": info.serial,
                       "thumbprint_sha1": info.sha1, "thumbprint_sha256": info.sha256,
                       "not_after": info.not_after.isoformat(), "self_signed": info.subject == info.issuer,
                       "public_id": {"certificate_sha1": info.sha1, "certificate_sha256": info.sha256}},
            ), line, {"context": context})


def _at_cut(hit: Hit, lines: list[str], cut_start: bool, cut_end: bool) -> bool:
    """A value that runs into a window's cut edge may be part of a key: the neighbouring
    window, which holds that edge's surroundings whole, reports it."""
    if cut_end and hit.line == len(lines) and lines[-1].endswith(hit.value):
        return True
    return cut_start and hit.line == 1 and lines[0].startswith(hit.value)


def _gap(operation: str, code: str, message: str) -> CoverageGap:
    return CoverageGap(connector="files", operation=operation, error_code=code, message=message[:500])


# ---------------------------------------------------------------------- worker side
_WORKER: FileScan | None = None
_SESSION = contextlib.ExitStack()  # held for the worker's life: a dropped context manager would close


def _init_worker(options: Options) -> None:
    """Per worker process: the scanner, with detect-secrets' settings and plugins set up once
    for the process's life (per chunk they cost four times the scanning itself)."""
    global _WORKER
    _WORKER = FileScan(options)
    _SESSION.enter_context(_WORKER.scanner.session())
    _WORKER.scanner.matcher  # noqa: B018 - load the prefilter now, not inside the first file's budget


def scan_chunk(job: tuple[str, str, list[Entry]]) -> list[FileResult]:
    """Pool entry point: (root, root_name, entries) -> the results of each file in order."""
    assert _WORKER is not None, "worker not initialised"
    root, root_name, entries = job
    return _WORKER.scan_files(Path(root), root_name, entries)
