"""The pre-commit hook's file handling: which files a commit adds, and a private copy of
exactly those files for the files connector to scan.

pre-commit stashes unstaged changes before it runs a hook, so the working tree holds what
is staged; run by hand (no file names), the hook asks git for the staged files and reads
their staged blobs, so an unstaged edit can neither hide nor add a secret.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
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


def copy_for_scan(root: Path, rel_paths: Iterable[str], dest: Path, *, from_index: bool) -> list[str]:
    """Copy the named files (staged blobs when ``from_index``) under ``dest`` at the same
    relative paths, so that locations, MCP config names and framework context read as in
    the repository. Returns the paths copied; paths outside the root are refused."""
    copied = []
    root = root.resolve()
    for rel in sorted(set(rel_paths)):
        src = (root / rel).resolve()
        try:
            rel_clean = src.relative_to(root).as_posix()
        except ValueError:
            raise HookError(f"{rel}: outside the repository {root}") from None
        target = dest / rel_clean
        target.parent.mkdir(parents=True, exist_ok=True)
        if from_index:
            blob = subprocess.run(["git", "show", f":{rel_clean}"], cwd=root, capture_output=True)
            if blob.returncode != 0:
                continue  # not in the index (a submodule, an intent-to-add): nothing staged to read
            target.write_bytes(blob.stdout)
        elif src.is_file():
            shutil.copyfile(src, target)
        else:
            continue
        copied.append(rel_clean)
    return copied


def _why(exc: BaseException) -> str:
    if isinstance(exc, subprocess.CalledProcessError):
        return (exc.stderr or b"").decode("utf-8", "replace").strip() if isinstance(exc.stderr, bytes) \
            else str(exc.stderr or exc).strip()
    return str(exc)
