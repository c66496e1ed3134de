"""File discovery: git's view of a work tree (``git ls-files -co --exclude-standard``, so
.gitignore is respected) or a plain walk, minus binaries, lock files and vendored trees;
and the added lines of a repository's history (``git log -p``)."""

from __future__ import annotations

import fnmatch
import os
import re
import subprocess
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


def skipped(rel: str, excludes: list[str]) -> bool:
    parts = rel.split("/")
    if any(p in SKIP_DIRS for p in parts[:-1]):
        return True
    name = parts[-1]
    low = name.lower()
    if low in LOCK_FILES or low.endswith(".lock"):
        return True
    if os.path.splitext(low)[1] in BINARY_EXT:
        return True
    return any(fnmatch.fnmatch(rel, g) or fnmatch.fnmatch(name, g) for g in excludes)


def walk(root: Path, excludes: list[str]) -> Iterator[str]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        base = Path(dirpath).relative_to(root).as_posix()
        for name in sorted(filenames):
            rel = name if base == "." else f"{base}/{name}"
            if not skipped(rel, excludes):
                yield rel


def git_files(root: Path, excludes: list[str]) -> list[str]:
    """Tracked and untracked-but-not-ignored files, relative to ``root``."""
    out = git(root, "ls-files", "-co", "--exclude-standard", "-z", "--", ".")
    return sorted({r for r in out.split("\0") if r and not skipped(r, excludes)})


def looks_binary(head: bytes) -> bool:
    return b"\0" in head[:8192]


@dataclass
class DiffFile:
    commit: str
    path: str
    lines: list[tuple[int, str]] = field(default_factory=list)  # (new line number, text)


_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")


def history(root: Path, since: str | None, excludes: list[str]) -> Iterator[DiffFile]:
    """Added lines of every commit reachable from HEAD (after ``since`` when given)."""
    rng = [f"{since}..HEAD"] if since else ["HEAD"]
    out = git(root, "log", "-p", "--no-color", "--no-ext-diff", "--relative", "--unified=0", "--format=commit %H", *rng,
              "--", ".", timeout=600)
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
            target = raw[4:]
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
