"""The members of zip (.zip, .whl, .jar, .war, .ear), tar (plain, gzip, bzip2, xz) and gzip
files, opened only with ``connectors.files.archives`` and always within bounds: nesting depth,
member count, and bytes expanded over the whole archive (counted as they are decompressed,
never taken from the headers, so a zip bomb stops at the bound). A bound reached is a gap
naming the archive; what was read before it is kept."""

from __future__ import annotations

import gzip
import io
import tarfile
import zipfile
from dataclasses import dataclass
from typing import BinaryIO, Callable, Iterator

ZIP_EXT = (".zip", ".whl", ".jar", ".war", ".ear")
TAR_EXT = (".tar", ".tgz", ".tar.gz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")


@dataclass(frozen=True)
class Bounds:
    max_depth: int  # 1: the archive's own members; 2: also archives inside it; ...
    max_members: int  # per archive, nested ones each counted on their own
    max_bytes: int  # decompressed bytes over the archive and everything inside it


class ArchiveLimit(Exception):
    """A bound was reached: the rest of the archive is not read."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class Budget:
    """Decompressed bytes left for one top-level archive."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.left = limit

    def take(self, n: int) -> None:
        self.left -= n
        if self.left < 0:
            raise ArchiveLimit("ExpandedTooLarge", f"expands past archive_max_bytes ({self.limit} bytes)")


class Limited(io.RawIOBase):
    """A member's stream that charges every byte it yields to the budget."""

    def __init__(self, stream: BinaryIO, budget: Budget) -> None:
        self._stream = stream
        self._budget = budget

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        data = self._stream.read(n if n is not None and n >= 0 else 1 << 20)
        self._budget.take(len(data))
        return data


@dataclass(frozen=True)
class Member:
    path: str  # "inner/path" (nested: "inner.jar!/inner/path")
    stream: Limited


def kind(name: str) -> str | None:
    low = name.lower()
    if low.endswith(ZIP_EXT):
        return "zip"
    if low.endswith(TAR_EXT):
        return "tar"
    if low.endswith(".gz"):
        return "gzip"
    return None


def members(fileobj: BinaryIO, name: str, bounds: Bounds, budget: Budget,
            on_gap: Callable[[str, str, str], None], depth: int = 1, prefix: str = "") -> Iterator[Member]:
    """Every regular member, depth first; nested archives are opened while depth allows.
    ``on_gap(code, path, message)`` hears of what is refused (the walk goes on)."""
    for path, stream in _entries(fileobj, name, bounds, on_gap, prefix):
        limited = Limited(stream, budget)
        if kind(path) is None:
            yield Member(path, limited)
            continue
        if depth >= bounds.max_depth:
            on_gap("TooDeep", path, f"nested archive past archive_max_depth ({bounds.max_depth}), not opened")
            continue
        inner = io.BytesIO(limited.read(budget.left + 1))  # bounded: the budget raises past its limit
        yield from members(inner, path, bounds, budget, on_gap, depth + 1, prefix=f"{path}!/")


def _entries(fileobj: BinaryIO, name: str, bounds: Bounds, on_gap: Callable[[str, str, str], None],
             prefix: str) -> Iterator[tuple[str, BinaryIO]]:
    which = kind(name)
    count = 0

    def counted(path: str) -> bool:
        nonlocal count
        count += 1
        if count > bounds.max_members:
            raise ArchiveLimit("TooManyMembers", f"{prefix or ''}more than archive_max_members "
                                                 f"({bounds.max_members}) members")
        return True

    if which == "zip":
        with zipfile.ZipFile(fileobj) as zf:
            for info in zf.infolist():
                if info.is_dir() or not counted(info.filename):
                    continue
                path = prefix + info.filename
                if info.flag_bits & 0x1:
                    on_gap("Encrypted", path, "encrypted member, not read")
                    continue
                with zf.open(info) as stream:
                    yield path, stream
    elif which == "tar":
        with tarfile.open(fileobj=fileobj, mode="r|*") as tf:
            for info in tf:
                if not info.isfile() or not counted(info.name):
                    continue
                stream = tf.extractfile(info)
                if stream is not None:
                    yield prefix + info.name, stream
    elif which == "gzip":
        inner = name.rsplit("/", 1)[-1][:-3] or "member"
        counted(inner)
        with gzip.GzipFile(fileobj=fileobj, mode="rb") as stream:
            yield prefix + inner, stream  # type: ignore[misc]
