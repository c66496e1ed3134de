"""One file in, raw findings out: the part of the files connector that runs in worker
processes (``connectors.files.workers``) or, for small trees, in the scanning process.

What leaves here is plain data: ``Found`` hits (whose ``value`` is handed to the parent
over the pool's pipe and fingerprinted there at once, then cleared: the store's salt stays
in the parent), certificate records (public data only), coverage gaps, counters and log
lines. Nothing here writes, logs or prints a value.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from agentreach.model import CoverageGap, Credential, CredentialStatus, node_id

from . import certs, fixtures, link, mcp
from .context import FrameworkIndex
from .detectors import Hit, Scanner, iter_values_matching
from .walk import looks_binary

SA_TYPE = "GCP Service Account Key"
PK_TYPE = "Private Key"
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
    rel: str
    found: list[Found] = field(default_factory=list)
    # certificates (public data only): (record, line of its BEGIN, location attrs)
    certs: list[tuple[Credential, int, dict[str, Any]]] = field(default_factory=list)
    gaps: list[CoverageGap] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)
    logs: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Options:
    """What a worker needs to know: plain, picklable."""

    max_file_bytes: int
    test_fixtures: str
    now: dt.datetime


class FileScan:
    """Reads and scans files of one root; one per process, reused across chunks."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.scanner = Scanner()
        self.rules = fixtures.FixtureRules.load()
        self._frameworks: dict[str, FrameworkIndex] = {}

    def frameworks(self, root: Path) -> FrameworkIndex:
        key = str(root)
        if key not in self._frameworks:
            self._frameworks[key] = FrameworkIndex(root)
        return self._frameworks[key]

    def scan_files(self, root: Path, root_name: str, rels: list[str]) -> list[FileResult]:
        with self.scanner.session():
            return [self.scan_file(root, root_name, rel) for rel in rels]

    def scan_file(self, root: Path, root_name: str, rel: str) -> FileResult:
        out = FileResult(rel)
        text = self._read(root, rel, root_name, out)
        if text is not None:
            before = dict(self.scanner.dropped)
            self._file(rel, text, root_name, self.frameworks(root), out)
            for why, n in self.scanner.dropped.items():
                if n - before.get(why, 0):
                    out.stats[f"dropped: {why}"] = n - before.get(why, 0)
        return out

    # ------------------------------------------------------------------ reading
    def _read(self, root: Path, rel: str, root_name: str, out: FileResult) -> str | None:
        path = root / rel
        limit = self.options.max_file_bytes
        try:
            if path.is_symlink() and not path.resolve().is_relative_to(root):
                return None
            size = path.stat().st_size
            if size > limit:
                out.stats["too_large"] = 1
                out.logs.append(f"files: skipped {root_name}:{rel} ({size} bytes > max_file_bytes)")
                return None
            with path.open("rb") as fh:
                data = fh.read(limit + 1)
        except OSError as exc:
            out.gaps.append(_gap("read", type(exc).__name__,
                                 f"{root_name}:{rel}: {exc.strerror or exc.__class__.__name__}"))
            return None
        if looks_binary(data):
            out.stats["binary"] = 1
            return None
        out.stats["files"] = 1
        out.stats["bytes"] = len(data)
        return data.decode("utf-8", "replace")

    # ------------------------------------------------------------------ one file
    def _file(self, rel: str, text: str, root_name: str, frameworks: FrameworkIndex, out: FileResult) -> None:
        found: dict[tuple[int, str], Found] = {}
        client = mcp.client_of(rel)
        if client:
            for f in self._mcp(rel, text, root_name, client, out):
                found.setdefault((f.line, f.value), f)
        context = frameworks.context_for(rel, text)
        lines = text.splitlines(keepends=True)
        hits = self.scanner.scan_text(rel, text)
        if hits:
            out.stats["candidates"] = 1
        pem = certs.pem_blocks(text) if "-----BEGIN" in text else []
        self._certificates(rel, pem, root_name, context, out)
        sa = self._service_account(rel, text, pem) if '"service_account"' in text else None
        for f in self.from_hits(rel, lines, hits, pem, sa):
            old = found.get((f.line, f.value))
            if old is None:
                found[(f.line, f.value)] = f
            elif old.detector != f.detector:
                # The line scan saw the value in its context (GEMINI_API_KEY=…, an endpoint
                # nearby): it names the secret better than the bare MCP value did.
                old.detector, old.label, old.provider, old.agent_related = (f.detector, f.label, f.provider,
                                                                            f.agent_related)
        if sa is not None:
            found.setdefault((sa.line, sa.value), sa)
        where = fixtures.path_reason(rel, self.rules)
        for f in sorted(found.values(), key=lambda f: (f.line, f.detector)):
            if not f.loc_attrs.get("context"):
                f.loc_attrs["context"] = context
            self.mark_fixture(f, where)
            out.found.append(f)

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
            if hit.secret_type == PK_TYPE:
                block = next((b for b in pem if b.line == hit.line and "PRIVATE KEY" in b.label), None)
                value = block.body if block else lines[hit.line - 1].strip()
                if sa is not None and sa.line == hit.line:
                    continue
                if block is not None and cert_keys:
                    pub = certs.private_key_public_bytes(block)
                    if pub in cert_keys:
                        public["certificate_sha1"] = cert_keys[pub].sha1
                        public["certificate_sha256"] = cert_keys[pub].sha256
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

    def _service_account(self, rel: str, text: str, pem: list[certs.PemBlock]) -> Found | None:
        try:
            data = json.loads(text)
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
            values = mcp.parse(text)
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

    def _certificates(self, rel: str, pem: list[certs.PemBlock], root_name: str, context: str,
                      out: FileResult) -> None:
        now = self.options.now
        for block in pem:
            if block.label not in ("CERTIFICATE", "TRUSTED CERTIFICATE"):
                continue
            info = certs.parse_certificate(block)
            if info is None:
                out.gaps.append(_gap("parse", "InvalidCertificate", f"{root_name}:{rel}:{block.line}: "
                                                                     "unreadable certificate"))
                continue
            out.certs.append((Credential(
                id=node_id("x509", "certificate", info.sha1), provider="files", source="files",
                type="x509_certificate", name=f"certificate {info.subject} in {rel}:{block.line}", native_id=info.sha1,
                created=info.not_before, expires=info.not_after,
                status=CredentialStatus.EXPIRED if info.not_after < now else CredentialStatus.ACTIVE,
                attrs={"subject": info.subject, "issuer": info.issuer, "serial": info.serial,
                       "thumbprint_sha1": info.sha1, "thumbprint_sha256": info.sha256,
                       "not_after": info.not_after.isoformat(), "self_signed": info.subject == info.issuer,
                       "public_id": {"certificate_sha1": info.sha1, "certificate_sha256": info.sha256}},
            ), block.line, {"context": context}))


def _gap(operation: str, code: str, message: str) -> CoverageGap:
    return CoverageGap(connector="files", operation=operation, error_code=code, message=message[:500])


# ---------------------------------------------------------------------- worker side
_WORKER: FileScan | None = None


def _init_worker(options: Options) -> None:
    global _WORKER
    _WORKER = FileScan(options)


def scan_chunk(job: tuple[str, str, list[str]]) -> list[FileResult]:
    """Pool entry point: (root, root_name, relative paths) -> one result per file."""
    assert _WORKER is not None, "worker not initialised"
    root, root_name, rels = job
    return _WORKER.scan_files(Path(root), root_name, rels)
