"""File discovery: a walk of the tree that never follows a symlink unless asked (and then
only inside the scanned root, with loops caught by device and inode), counts what it skips
by reason, and reports a directory it cannot list as a gap; in a git work tree, git's own
view of what is ignored (``.gitignore``, info/exclude, the user's excludes) is left out.
``.git`` itself is read only by the history mode (``git log -p``: the lines commits added).
"""

from __future__ import annotations

import errno
import fnmatch
import os
import re
import stat
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

SKIP_DIRS = {".git", "node_modules", "vendor", "third_party", ".venv", "venv", "site-packages", "__pycache__",
             ".tox", ".mypy_cache", ".pytest_cache", ".ruff_cache", "bower_components"}
LOCK_FILES = {"package-lock.json", "yarn.lock", "pnpm-lock.yaml", "poetry.lock", "pipfile.lock", "cargo.lock",
              "go.sum", "composer.lock", "gemfile.lock", "uv.lock", "npm-shrinkwrap.json", "bun.lockb", "pdm.lock"}
BINARY_EXT = {
    ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".ico", ".webp", ".tiff", ".pdf", ".zip", ".gz", ".tgz", ".bz2", ".xz",
    ".7z", ".rar", ".jar", ".war", ".class", ".so", ".dylib", ".dll", ".exe", ".o", ".a", ".pyc", ".pyo", ".whl",
    ".egg", ".woff", ".woff2", ".ttf", ".otf", ".eot", ".mp3", ".mp4", ".mov", ".avi", ".wav", ".flac", ".ogg",
    ".sqlite", ".db", ".parquet", ".onnx", ".pt", ".bin", ".safetensors", ".npy", ".npz", ".h5", ".pkl",
    ".svgz", ".psd", ".iso", ".dmg",
}
# Opened with connectors.files.archives (otherwise skipped as binary).
ARCHIVE_EXT = (".zip", ".whl", ".jar", ".war", ".ear", ".tar", ".tgz", ".tar.gz", ".tar.bz2", ".tbz2", ".tar.xz",
               ".txz", ".gz")
GIT_TIMEOUT = 120


class GitError(RuntimeError):
    pass


def git(root: Path, *args: str, timeout: int = GIT_TIMEOUT) -> str:
    try:
        proc = subprocess.run(["git", "-C", str(root), *args], capture_output=True, timeout=timeout,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GitError(f"git {args[0]}: {exc}") from exc
    if proc.returncode != 0:
        raise GitError(f"git {args[0]} exited {proc.returncode}: "
                       f"{proc.stderr.decode('utf-8', 'replace').strip()[:300]}")
    return proc.stdout.decode("utf-8", "surrogateescape")


def is_work_tree_root(root: Path) -> bool:
    """True when ``root`` is inside a git work tree (git answers for it)."""
    try:
        return git(root, "rev-parse", "--is-inside-work-tree", timeout=30).strip() == "true"
    except GitError:
        return False


def is_archive(rel: str) -> bool:
    return rel.lower().endswith(ARCHIVE_EXT)


def skip_reason(rel: str, excludes: list[str], archives: bool = False) -> str | None:
    """Why a file is not read by name alone (None: read it)."""
    parts = rel.split("/")
    if any(p in SKIP_DIRS for p in parts[:-1]):
        return "tooling or vendored directory"
    name = parts[-1]
    low = name.lower()
    if low in LOCK_FILES or low.endswith(".lock"):
        return "lock file"
    if any(fnmatch.fnmatch(rel, g) or fnmatch.fnmatch(name, g) for g in excludes):
        return "excluded"
    if archives and is_archive(low):
        return None
    if os.path.splitext(low)[1] in BINARY_EXT:
        return "binary extension"
    return None


def skipped(rel: str, excludes: list[str]) -> bool:
    return skip_reason(rel, excludes) is not None


def display(rel: str) -> str:
    """A path as records and messages show it: valid UTF-8 (undecodable bytes as ``\\xNN``)
    and on one line (control characters escaped). Reading always uses the real name."""
    if rel.isprintable():
        return rel
    text = rel.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return "".join(c if c.isprintable() else _escape(c) for c in text)


_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(c: str) -> str:
    if c in _NAMED:
        return _NAMED[c]
    return f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}"


@dataclass(frozen=True)
class Entry:
    """One file to read: ``rel`` is its real name under the root (undecodable bytes kept as
    surrogates), ``shown`` the name records carry."""

    rel: str
    shown: str
    size: int
    archive: bool = False


@dataclass
class Ignored:
    """What git leaves out of a work tree: ignored files, and ignored directories (whole)."""

    files: set[str] = field(default_factory=set)
    dirs: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, root: Path) -> "Ignored":
        out = git(root, "ls-files", "--others", "--ignored", "--exclude-standard", "--directory", "-z", "--", ".")
        ignored = cls()
        for item in out.split("\0"):
            if item.endswith("/"):
                ignored.dirs.add(item.rstrip("/"))
            elif item:
                ignored.files.add(item)
        return ignored


@dataclass
class Walk:
    """The files under one root, and what was skipped (by reason) or could not be listed."""

    root: Path
    excludes: list[str]
    follow_symlinks: bool = False
    archives: bool = False
    ignored: Ignored | None = None
    skipped: Counter = field(default_factory=Counter)
    problems: list[tuple[str, str, str]] = field(default_factory=list)  # (operation, error code, message)

    def __iter__(self) -> Iterator[Entry]:
        real_root = os.path.realpath(self.root)
        try:
            st = os.stat(self.root)
        except OSError as exc:
            self.problems.append(("walk", type(exc).__name__, f"./: {exc.strerror or exc}"))
            return
        visited = {(st.st_dev, st.st_ino)}
        stack = [""]
        while stack:
            rel_dir = stack.pop()
            files, dirs = self._list(rel_dir, real_root, visited)
            yield from files
            stack.extend(reversed(dirs))

    def _list(self, rel_dir: str, real_root: str, visited: set[tuple[int, int]]) -> tuple[list[Entry], list[str]]:
        path = os.path.join(self.root, rel_dir) if rel_dir else str(self.root)
        try:
            with os.scandir(path) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            self.problems.append(("walk", type(exc).__name__,
                                  f"{display(rel_dir) or '.'}/: cannot list: {exc.strerror or exc}"))
            return [], []
        files: list[Entry] = []
        dirs: list[str] = []
        for e in entries:
            rel = f"{rel_dir}/{e.name}" if rel_dir else e.name
            try:
                st = e.stat(follow_symlinks=False)
                if stat.S_ISLNK(st.st_mode):
                    reason, st = self._link(e.path, real_root)
                    if reason:
                        self.skipped[reason] += 1
                        continue
            except OSError as exc:
                self.problems.append(("walk", type(exc).__name__, f"{display(rel)}: {exc.strerror or exc}"))
                continue
            assert st is not None
            if stat.S_ISDIR(st.st_mode):
                reason = self._dir_reason(e.name, rel, (st.st_dev, st.st_ino), visited)
                if reason:
                    self.skipped[reason] += 1
                    continue
                visited.add((st.st_dev, st.st_ino))
                dirs.append(rel)
            elif stat.S_ISREG(st.st_mode):
                reason = skip_reason(rel, self.excludes, self.archives)
                if reason is None and self.ignored is not None and rel in self.ignored.files:
                    reason = "gitignored"
                if reason:
                    self.skipped[reason] += 1
                    continue
                files.append(Entry(rel, display(rel), st.st_size, self.archives and is_archive(rel)))
            else:
                from .read import kind_of

                self.skipped[kind_of(st.st_mode) or "special file"] += 1
        return files, dirs

    def _dir_reason(self, name: str, rel: str, key: tuple[int, int], visited: set[tuple[int, int]]) -> str | None:
        if name in SKIP_DIRS:
            return "tooling or vendored directory"
        if self.ignored is not None and rel in self.ignored.dirs:
            return "gitignored directory"
        if key in visited:
            return "directory loop"  # a symlink or a bind mount back to a directory already walked
        return None

    def _link(self, path: str, real_root: str) -> tuple[str | None, os.stat_result | None]:
        """(skip reason, the target's stat) of a symlink."""
        if not self.follow_symlinks:
            return "symlink", None
        try:
            st = os.stat(path)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return "symlink loop", None
            if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                return "broken symlink", None
            raise
        target = os.path.realpath(path)
        if os.path.commonpath([real_root, target]) != real_root:
            return "symlink outside the root", None
        return None, st


@dataclass
class DiffFile:
    commit: str
    path: str
    lines: list[tuple[int, str]] = field(default_factory=list)  # (new line number, text)


_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")


_C_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


def unquote(name: str) -> str:
    """A path as git prints it: C-quoted when it holds a control character, a quote or a
    backslash (octal escapes are bytes); undecodable bytes come back as surrogates."""
    if not (len(name) >= 2 and name[0] == name[-1] == '"'):
        return name
    body, out, i = name[1:-1], bytearray(), 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in "01234567" and body[i + 1:i + 4].isdigit():
                out.append(int(body[i + 1:i + 4], 8) & 0xFF)
                i += 4
                continue
            out.append(_C_ESCAPES.get(nxt, ord(nxt)))
            i += 2
            continue
        out.extend(c.encode("utf-8", "surrogateescape"))
        i += 1
    return out.decode("utf-8", "surrogateescape")


def history(root: Path, since: str | None, excludes: list[str]) -> Iterator[DiffFile]:
    """Added lines of every commit reachable from HEAD (after ``since`` when given)."""
    rng = [f"{since}..HEAD"] if since else ["HEAD"]
    out = git(root, "-c", "core.quotePath=false", "log", "-p", "--no-color", "--no-ext-diff", "--relative",
              "--unified=0", "--format=commit %H", *rng, "--", ".", timeout=600)
    commit = ""
    cur: DiffFile | None = None
    line_no = 0
    for raw in out.split("\n"):
        if raw.startswith("commit ") and len(raw) == 47:
            if cur and cur.lines:
                yield cur
            commit, cur = raw[7:], None
        elif raw.startswith("diff --git "):
            if cur and cur.lines:
                yield cur
            cur = None
        elif raw.startswith("+++ "):
            target = unquote(raw[4:])
            if target.startswith("b/") and commit:
                rel = target[2:]
                cur = None if skipped(rel, excludes) else DiffFile(commit, rel)
        elif raw.startswith("@@"):
            m = _HUNK.match(raw)
            line_no = int(m.group(1)) if m else 0
        elif raw.startswith("+") and cur is not None:
            cur.lines.append((line_no, raw[1:]))
            line_no += 1
    if cur and cur.lines:
        yield cur
