"""The pre-commit hook's file handling: which files a commit adds, and a private copy of
exactly those files for the files connector to scan.

pre-commit stashes unstaged changes before it runs a hook, so the working tree holds what
is staged; run by hand (no file names), the hook asks git for the staged files and reads
their staged blobs, so an unstaged edit can neither hide nor add a secret.

File names are data, never syntax: git's lists are read NUL-separated (``-z``), nothing is
split on ``:`` or parsed as a revision (``git show :0:creds.env`` would read the stage-0 entry
of ``creds.env``, not the file ``0:creds.env``), blobs are read by their object id from the
index listing, and a staged file that cannot be read fails the hook instead of passing it.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path, PurePosixPath
from typing import Iterable


class HookError(RuntimeError):
    """git could not say what is staged (not a repository, git missing)."""


def repo_root(start: Path) -> Path:
    try:
        out = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=start, capture_output=True, text=True,
                             check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError) as exc:
        raise HookError(f"{start}: not inside a git work tree ({_why(exc)})") from None
    return Path(out)


def staged_files(root: Path) -> list[str]:
    """Paths (relative to the root) that the next commit adds or changes; deletions are not
    scanned because they remove text."""
    return _git_paths(root, "diff", "--cached", "--name-only", "--diff-filter=ACMR", "-z")


def tracked_files(root: Path) -> list[str]:
    """Every path in the index: adopting the hook on a repository that already has history."""
    return _git_paths(root, "ls-files", "-z")


def _git_paths(root: Path, *args: str) -> list[str]:
    try:
        out = subprocess.run(["git", *args], cwd=root, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        raise HookError(f"{root}: git {args[0]} failed ({_why(exc)})") from None
    return [p for p in out.decode("utf-8", "surrogateescape").split("\0") if p]


GITLINK = "160000"  # a submodule's entry: a commit, not a file; its own repository has its own hook


def index_entries(root: Path) -> dict[str, tuple[str, str]]:
    """path -> (mode, blob id) for every entry of the index (``git ls-files --stage -z``);
    during a merge, the stage-0 entry or else ours (stage 2)."""
    try:
        out = subprocess.run(["git", "ls-files", "--stage", "-z"], cwd=root, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        raise HookError(f"{root}: git ls-files failed ({_why(exc)})") from None
    entries: dict[str, tuple[str, str, str]] = {}
    for record in out.decode("utf-8", "surrogateescape").split("\0"):
        if not record:
            continue
        meta, _, path = record.partition("\t")  # "<mode> <id> <stage>\t<path>": the path is the rest, as is
        mode, oid, stage = meta.split(" ")
        if path not in entries or stage in ("0", "2") and entries[path][2] != "0":
            entries[path] = (mode, oid, stage)
    return {path: (mode, oid) for path, (mode, oid, _) in entries.items()}


def read_blobs(root: Path, oids: Iterable[str]) -> dict[str, bytes]:
    """The contents of the blobs with these ids, in one ``git cat-file --batch``."""
    wanted = list(dict.fromkeys(oids))
    if not wanted:
        return {}
    try:
        out = subprocess.run(["git", "cat-file", "--batch"], cwd=root, input="\n".join(wanted).encode() + b"\n",
                             capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as exc:
        raise HookError(f"{root}: git cat-file failed ({_why(exc)})") from None
    blobs: dict[str, bytes] = {}
    at = 0
    while at < len(out):
        end = out.index(b"\n", at)
        header = out[at:end].decode().split(" ")
        at = end + 1
        if len(header) == 3 and header[1] == "blob":
            size = int(header[2])
            blobs[header[0]] = out[at:at + size]
            at += size + 1
        elif len(header) == 3:
            at += int(header[2]) + 1  # not a blob: skipped
    return blobs


def copy_for_scan(root: Path, rel_paths: Iterable[str], dest: Path, *, from_index: bool) -> list[str]:
    """Copy the named files (staged blobs when ``from_index``) under ``dest`` at the same
    relative paths, so that locations, MCP config names and framework context read as in
    the repository. Returns the paths copied; paths outside the root are refused, and so
    is a staged file whose blob cannot be read (the hook must not pass what it never saw)."""
    root = root.resolve()
    rels = sorted(set(rel_paths))
    return _copy_staged(root, rels, dest) if from_index else _copy_files(root, rels, dest)


def _copy_files(root: Path, rels: list[str], dest: Path) -> list[str]:
    copied = []
    for rel in rels:
        src = (root / rel).resolve()
        try:
            rel_clean = src.relative_to(root).as_posix()
        except ValueError:
            raise HookError(f"{rel}: outside the repository {root}") from None
        if src.is_file():
            target = dest / rel_clean
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, target)
            copied.append(rel_clean)
    return copied


def _copy_staged(root: Path, rels: list[str], dest: Path) -> list[str]:
    """Paths as git lists them, taken as they are (never through the working tree's links),
    each written from its staged blob."""
    index = index_entries(root)
    for rel in rels:
        parts = PurePosixPath(rel).parts
        if not parts or parts[0] == "/" or ".." in parts:
            raise HookError(f"{rel!r}: not a path inside the repository {root}")
        if rel not in index:
            raise HookError(f"{rel!r}: staged but not in the index listing; nothing was scanned")
    staged = [rel for rel in rels if index[rel][0] != GITLINK]  # a submodule is not a file of this repository
    blobs = read_blobs(root, (index[rel][1] for rel in staged))
    for rel in staged:
        oid = index[rel][1]
        if oid not in blobs:
            raise HookError(f"{rel!r}: its staged blob {oid} cannot be read; nothing was scanned")
        target = dest.joinpath(*PurePosixPath(rel).parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(blobs[oid])
    return staged


def _why(exc: BaseException) -> str:
    if isinstance(exc, subprocess.CalledProcessError):
        return (exc.stderr or b"").decode("utf-8", "replace").strip() if isinstance(exc.stderr, bytes) \
            else str(exc.stderr or exc).strip()
    return str(exc)
