"""The files connector: secrets in directories (and optionally their git history), MCP
client configs, agent-framework context, and the public ids that tie a found secret to the
cloud credential it is (AWS access key id, GCP private_key_id, certificate thumbprint).

Read-only: it reads files and runs ``git ls-files`` / ``git log``. Secret values never leave
it: a found secret is recorded by ``ctx.fingerprint(value)`` and a redacted preview.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Iterator, Mapping

from agentreach.connector import Connector, ConnectorConfigError, ScanContext
from agentreach.model import CoverageGap, Credential, CredentialStatus, Edge, EdgeKind, Location, Record, node_id

from . import certs, link, mcp
from .context import FrameworkIndex
from .detectors import Hit, Scanner, iter_values_matching
from .walk import GitError, git_files, history, is_work_tree_root, looks_binary, walk

__all__ = ["FilesConnector"]

KEYS = {"enabled", "paths", "all_files", "git_history", "since", "max_file_bytes", "exclude"}
DEFAULT_MAX = 1_048_576
SA_TYPE = "GCP Service Account Key"
PK_TYPE = "Private Key"


def preview(value: str) -> str | None:
    """First 4 and last 2 characters, nothing for short values."""
    return f"{value[:4]}…{value[-2:]}" if len(value) >= 12 else None


@dataclass
class Found:
    line: int
    fp: str
    value_preview: str | None
    detector: str
    label: str
    provider: str
    agent_related: bool
    name: str = ""
    public_id: dict[str, str] = field(default_factory=dict)
    loc_attrs: dict[str, Any] = field(default_factory=dict)


class FilesConnector(Connector):
    name = "files"
    version = "0.1.0"
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
        try:
            self.max_file_bytes = int(config.get("max_file_bytes", DEFAULT_MAX))
        except (TypeError, ValueError):
            raise ConnectorConfigError("connectors.files.max_file_bytes: an integer") from None
        exclude = config.get("exclude") or []
        if not isinstance(exclude, (list, tuple)) or not all(isinstance(g, str) for g in exclude):
            raise ConnectorConfigError("connectors.files.exclude: a list of globs")
        self.exclude = list(exclude)
        self.stats: dict[str, int] = {"files": 0, "bytes": 0, "candidates": 0, "too_large": 0, "binary": 0}

    # ------------------------------------------------------------------ scan
    def scan(self, ctx: ScanContext) -> Iterator[Record]:
        scanner = Scanner()
        names: dict[str, int] = {}
        with scanner.session():
            for root in self.paths:
                base = root.resolve().name or "root"
                names[base] = names.get(base, 0) + 1
                root_name = base if names[base] == 1 else f"{base}-{names[base]}"
                yield from self._scan_root(root.resolve(), root_name, scanner, ctx)

    def _gap(self, ctx: ScanContext, operation: str, code: str, message: str) -> None:
        ctx.gaps.record(CoverageGap(connector="files", operation=operation, error_code=code, message=message[:500]))

    def _scan_root(self, root: Path, root_name: str, scanner: Scanner, ctx: ScanContext) -> Iterator[Record]:
        if not root.is_dir():
            self._gap(ctx, "read", "NotADirectory", f"{root_name}: not a directory")
            return
        in_git = is_work_tree_root(root)
        files: list[str] | None = None
        if in_git and not self.all_files:
            try:
                files = git_files(root, self.exclude)
            except GitError as exc:
                self._gap(ctx, "git", "GitError", f"{root_name}: ls-files failed, walked instead: {exc}")
        if files is None:
            files = list(walk(root, self.exclude))
        task = ctx.progress.task(f"files {root_name}", total=len(files))
        frameworks = FrameworkIndex(root)
        present: set[tuple[str, str]] = set()
        for rel in files:
            ctx.check_cancelled()
            task.advance()
            text = self._read(root, rel, root_name, ctx)
            if text is None:
                continue
            for rec in self._file_records(rel, text, root_name, scanner, frameworks, ctx, None):
                if isinstance(rec, Credential) and rec.fingerprint:
                    present.add((rel, rec.fingerprint))
                yield rec
        task.done()
        if self.git_history:
            if not in_git:
                self._gap(ctx, "git", "NotAGitRepository", f"{root_name}: git_history set but not a git work tree")
                return
            try:
                diffs = list(history(root, self.since, self.exclude))
            except GitError as exc:
                self._gap(ctx, "git", "GitError", f"{root_name}: log failed: {exc}")
                return
            for diff in diffs:
                ctx.check_cancelled()
                lines = [t + "\n" for _, t in diff.lines]
                hits = scanner.scan_lines(diff.path, lines)
                numbers = [n for n, _ in diff.lines]
                for rec in self._hit_records(diff.path, "\n".join(lines), lines, hits, root_name, ctx,
                                             commit=diff.commit, numbers=numbers, context="", skip=present):
                    yield rec

    def _read(self, root: Path, rel: str, root_name: str, ctx: ScanContext) -> str | None:
        path = root / rel
        try:
            if path.is_symlink() and not path.resolve().is_relative_to(root):
                return None
            size = path.stat().st_size
            if size > self.max_file_bytes:
                self.stats["too_large"] += 1
                ctx.log.info("files: skipped %s:%s (%d bytes > max_file_bytes)", root_name, rel, size)
                return None
            with path.open("rb") as fh:
                data = fh.read(self.max_file_bytes + 1)
        except OSError as exc:
            self._gap(ctx, "read", type(exc).__name__, f"{root_name}:{rel}: {exc.strerror or exc.__class__.__name__}")
            return None
        if looks_binary(data):
            self.stats["binary"] += 1
            return None
        self.stats["files"] += 1
        self.stats["bytes"] += len(data)
        return data.decode("utf-8", "replace")

    # ------------------------------------------------------------------ one file
    def _file_records(self, rel: str, text: str, root_name: str, scanner: Scanner, frameworks: FrameworkIndex,
                      ctx: ScanContext, commit: str | None) -> Iterator[Record]:
        found: dict[tuple[int, str], Found] = {}
        client = mcp.client_of(rel)
        if client:
            for f in self._mcp(rel, text, root_name, client, scanner, ctx):
                found.setdefault((f.line, f.fp), f)
        context = frameworks.context_for(rel, text)
        lines = text.splitlines(keepends=True)
        hits = scanner.scan_text(rel, text)
        if hits:
            self.stats["candidates"] += 1
        pem = certs.pem_blocks(text) if "-----BEGIN" in text else []
        yield from self._certificates(rel, pem, root_name, context, ctx)
        sa = self._service_account(rel, text, pem, ctx) if '"service_account"' in text else None
        for f in self._from_hits(rel, lines, hits, pem, sa, ctx):
            old = found.get((f.line, f.fp))
            if old is None:
                found[(f.line, f.fp)] = f
            elif old.detector == "MCP Server Credential":  # the typed detector names it better
                old.detector, old.label, old.provider, old.agent_related = (f.detector, f.label, f.provider,
                                                                            f.agent_related)
        if sa is not None:
            found.setdefault((sa.line, sa.fp), sa)
        for f in sorted(found.values(), key=lambda f: (f.line, f.fp)):
            if not f.loc_attrs.get("context"):
                f.loc_attrs["context"] = context
            yield from self._emit(rel, f, root_name, commit)

    def _hit_records(self, rel: str, text: str, lines: list[str], hits: list[Hit], root_name: str,
                     ctx: ScanContext, *, commit: str, numbers: list[int], context: str,
                     skip: set[tuple[str, str]]) -> Iterator[Record]:
        seen: set[tuple[int, str]] = set()
        for f in self._from_hits(rel, lines, hits, certs.pem_blocks(text), None, ctx):
            f.line = numbers[f.line - 1] if 0 < f.line <= len(numbers) else f.line
            if (rel, f.fp) in skip or (f.line, f.fp) in seen:
                continue  # still in the tree: the current location says it
            seen.add((f.line, f.fp))
            f.loc_attrs["context"] = context
            yield from self._emit(rel, f, root_name, commit)

    def _from_hits(self, rel: str, lines: list[str], hits: list[Hit], pem: list[certs.PemBlock],
                   sa: Found | None, ctx: ScanContext) -> Iterator[Found]:
        keys = None
        cert_keys = {}
        for block in pem:
            if block.label == "CERTIFICATE":
                info = certs.parse_certificate(block)
                if info:
                    cert_keys[info.public_key] = info.sha1
        for hit in hits:
            value = hit.value
            public: dict[str, str] = {}
            detector, label, provider, agent = hit.secret_type, hit.label, hit.provider, hit.agent_related
            if hit.secret_type == PK_TYPE:
                block = next((b for b in pem if b.line == hit.line and "PRIVATE KEY" in b.label), None)
                value = block.body if block else lines[hit.line - 1].strip()
                if sa is not None and sa.line == hit.line:
                    continue
                if block is not None and cert_keys:
                    pub = certs.private_key_public_bytes(block)
                    if pub in cert_keys:
                        public["certificate_sha1"] = cert_keys[pub]
            elif hit.secret_type == "AWS Access Key":
                public["aws_access_key_id"] = value
            elif hit.secret_type == "AWS Secret Access Key":
                if keys is None:
                    keys = link.aws_key_ids(lines)
                key_id = link.nearest(keys, hit.line)
                if key_id:
                    public["aws_access_key_id"] = key_id
            fp = ctx.fingerprint(value)
            yield Found(hit.line, fp, preview(value), detector, label, provider, agent,
                        name=f"{label} in {rel}:{hit.line}", public_id=public)

    def _service_account(self, rel: str, text: str, pem: list[certs.PemBlock], ctx: ScanContext) -> Found | None:
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
        return Found(line, ctx.fingerprint(value), preview(value), SA_TYPE, "GCP service-account key", "gcp", False,
                     name=f"GCP service-account key of {email or 'unknown'} in {rel}:{line}", public_id=public)

    def _mcp(self, rel: str, text: str, root_name: str, client: str, scanner: Scanner,
             ctx: ScanContext) -> Iterator[Found]:
        try:
            values = mcp.parse(text)
        except ValueError as exc:
            self._gap(ctx, "parse", "JSONDecodeError", f"{root_name}:{rel}: broken MCP client config: {exc}")
            return
        for v in values:
            raw = v.value.strip()
            for prefix in ("Bearer ", "bearer ", "Basic ", "token "):
                raw = raw.removeprefix(prefix)
            spec = next(iter_values_matching(scanner.specs, raw), None)
            if spec is None and (v.field == "args" or not mcp.is_credential_value(v.key, raw)):
                continue
            detector = spec.secret_type if spec else "MCP Server Credential"
            label = spec.label if spec else "MCP server credential"
            yield Found(v.line, ctx.fingerprint(raw), preview(raw), detector, label,
                        spec.provider if spec else "", spec.agent_related if spec else False,
                        name=f"{v.key} of MCP server {v.server}",
                        loc_attrs={"context": "mcp_client_config", "server": v.server, "client": client,
                                   "field": v.field, "key": v.key})

    def _certificates(self, rel: str, pem: list[certs.PemBlock], root_name: str, context: str,
                      ctx: ScanContext) -> Iterator[Record]:
        now = ctx.clock()
        for block in pem:
            if block.label not in ("CERTIFICATE", "TRUSTED CERTIFICATE"):
                continue
            info = certs.parse_certificate(block)
            if info is None:
                self._gap(ctx, "parse", "InvalidCertificate", f"{root_name}:{rel}:{block.line}: unreadable certificate")
                continue
            cid = node_id("x509", "certificate", info.sha1)
            yield Credential(
                id=cid, provider="files", source="files", type="x509_certificate",
                name=f"certificate {info.subject} in {rel}:{block.line}", native_id=info.sha1,
                created=info.not_before, expires=info.not_after,
                status=CredentialStatus.EXPIRED if info.not_after < now else CredentialStatus.ACTIVE,
                attrs={"subject": info.subject, "issuer": info.issuer, "serial": info.serial,
                       "thumbprint_sha1": info.sha1, "thumbprint_sha256": info.sha256,
                       "not_after": info.not_after.isoformat(), "self_signed": info.subject == info.issuer},
            )
            loc = self._location(rel, block.line, root_name, {"context": context}, None)
            yield loc
            yield Edge(src=cid, dst=loc.id, kind=EdgeKind.FOUND_IN, source="files", attrs={"via": "public id"})

    # ------------------------------------------------------------------ records
    def _location(self, rel: str, line: int, root_name: str, attrs: dict[str, Any], commit: str | None) -> Location:
        key = f"{root_name}:{rel}:{line}" + (f":{commit}" if commit else "")
        loc_attrs = {"context": attrs.get("context") or "", "root": root_name, **attrs}
        if commit:
            loc_attrs["commit"] = commit
        return Location(id=node_id("files", "location", key), provider="files", source="files", type="file_location",
                        name=f"{rel}:{line}" + (f" @ {commit[:12]}" if commit else ""), path=rel, line=line,
                        native_id=PurePosixPath(rel).name, attrs=loc_attrs)

    def _emit(self, rel: str, f: Found, root_name: str, commit: str | None) -> Iterator[Record]:
        cid = node_id("files", "secret", f.fp)
        yield Credential(
            id=cid, provider="files", source="files", type="file_secret", name=f.name, fingerprint=f.fp,
            preview=f.value_preview,
            attrs={"detector": f.detector, "provider_hint": f.provider, "agent_related": f.agent_related,
                   "public_id": dict(f.public_id)},
        )
        loc = self._location(rel, f.line, root_name, f.loc_attrs, commit)
        yield loc
        yield Edge(src=cid, dst=loc.id, kind=EdgeKind.FOUND_IN, source="files")
        for linked in link.linked_ids(f.public_id):
            yield Edge(src=linked, dst=loc.id, kind=EdgeKind.FOUND_IN, source="files", attrs={"via": "public id"})
