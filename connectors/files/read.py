"""Opening and reading one file without trusting what the walk saw: the object is checked
after it is opened (a FIFO swapped in never blocks, a symlink is never followed unless asked),
and large files are read as blocks that skip the holes of sparse files."""

from __future__ import annotations

import errno
import os
import stat
from typing import Iterator

HOLE_MARK = b"\0"  # what stands for a skipped hole: keeps the data on either side apart


class Skip(Exception):
    """Not a regular file: skipped by type, with the reason counted (never a gap)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def kind_of(mode: int) -> str | None:
    """The skip reason for a file type that is not read (None: a regular file)."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "special file"


def open_regular(path: str, follow: bool) -> tuple[int, os.stat_result]:
    """An fd open on a regular file, or Skip. O_NONBLOCK: opening a FIFO must not wait for a
    writer; O_NOFOLLOW unless ``follow``: a symlink put there since the walk is not read."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | (0 if follow else getattr(os, "O_NOFOLLOW", 0))
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow:
            raise Skip("symlink") from None
        raise
    try:
        st = os.fstat(fd)
        reason = kind_of(st.st_mode)
        if reason is not None:
            raise Skip(reason)
    except BaseException:
        os.close(fd)
        raise
    return fd, st


def read_at(fd: int, n: int, offset: int = 0) -> bytes:
    return os.pread(fd, n, offset)


def read_all(fd: int, limit: int) -> bytes:
    """Up to ``limit`` bytes from the start."""
    parts, got = [], 0
    while got < limit:
        part = os.pread(fd, limit - got, got)
        if not part:
            break
        parts.append(part)
        got += len(part)
    return b"".join(parts)


def blocks(fd: int, size: int) -> Iterator[bytes]:
    """The file as blocks of at most ``size`` bytes; the holes of a sparse file are not read
    (each becomes one HOLE_MARK byte: holes are NULs, and NULs hold no secret)."""
    offset = 0
    seek_data = getattr(os, "SEEK_DATA", None)
    seek_hole = getattr(os, "SEEK_HOLE", None)
    while True:
        end = None
        if seek_data is not None and seek_hole is not None:
            try:
                data = os.lseek(fd, offset, seek_data)
                end = os.lseek(fd, data, seek_hole)
            except OSError as exc:
                if exc.errno == errno.ENXIO:  # only a hole (or nothing) is left
                    return
                data, end = offset, None  # the filesystem cannot say: read it all
            if data > offset:
                yield HOLE_MARK
            offset = data
        while end is None or offset < end:
            part = os.pread(fd, size if end is None else min(size, end - offset), offset)
            if not part:
                return
            offset += len(part)
            yield part
        # ``end`` reached: the next data region (or the end of the file) comes next
