"""Bytes to text the way people write files: UTF-8 with or without a BOM, UTF-16 and UTF-32
with a BOM (Windows tools), BOM-less UTF-16 that is plainly text, and Latin-1 for the rest,
so a line number is always the editor's. Binary is told apart by NUL bytes in the head.

Lines are split on ``\\n`` only (``str.splitlines`` would also split on form feeds, ``\\x85``
and U+2028, and put every later line number off); a file with bare ``\\r`` line ends and no
``\\n`` has them read as line ends. Large inputs come out as overlapping windows of bounded
size, each with the number of the line it starts on, so memory stays flat and a secret that
straddles a window edge is whole in the next window.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from typing import Iterable, Iterator

HEAD = 8192  # bytes sniffed for the encoding and for NULs

_BOMS = (  # longest first: the UTF-32 LE BOM starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"), (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
)


@dataclass(frozen=True)
class Encoding:
    name: str  # a Python codec; "latin-1" when the bytes are not UTF-8
    bom: int = 0  # bytes of byte-order mark to skip


def sniff(head: bytes) -> Encoding | None:
    """The encoding of a file from its first bytes, or None for binary."""
    for bom, name in _BOMS:
        if head.startswith(bom):
            return Encoding(name, len(bom))
    if b"\0" in head:
        return _utf16_without_bom(head)
    return Encoding("utf-8") if _utf8_prefix(head) else Encoding("latin-1")


def _utf16_without_bom(head: bytes) -> Encoding | None:
    """UTF-16 text of mostly ASCII has NUL in every other byte and nowhere else."""
    even, odd = head[0::2], head[1::2]
    if len(head) < 16:
        return None
    if odd.count(0) >= 0.9 * len(odd) and even.count(0) == 0:
        return Encoding("utf-16-le")
    if even.count(0) >= 0.9 * len(even) and odd.count(0) == 0:
        return Encoding("utf-16-be")
    return None


def _utf8_prefix(head: bytes) -> bool:
    """True when ``head`` is UTF-8, allowing a character cut at its end."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
        return True
    except UnicodeDecodeError:
        return False


def decode(data: bytes, enc: Encoding) -> tuple[str, str]:
    """(text, codec used) of a whole file; UTF-8 that turns out invalid past the head is
    read as Latin-1 (one character per byte, so lines stay where they are)."""
    body = data[enc.bom:]
    if enc.name == "utf-8":
        try:
            return line_ends(body.decode("utf-8")), "utf-8"
        except UnicodeDecodeError:
            return line_ends(body.decode("latin-1")), "latin-1"
    return line_ends(body.decode(enc.name, "replace")), enc.name


def line_ends(text: str) -> str:
    """Bare ``\\r`` line ends (old Mac files) as ``\\n``; everything else as it is."""
    return text.replace("\r", "\n") if "\r" in text and "\n" not in text else text


@dataclass(frozen=True)
class Window:
    text: str
    first_line: int  # 1-based number of the window's first line
    start: int  # character offset of the window in the decoded file (for ordering only)
    cut_start: bool = False  # begins inside a line: a match at its very start may be a key's tail
    final: bool = True  # False: more follows, and the next window holds this one's last ``overlap``


def windows(blocks: Iterable[bytes], enc: Encoding, size: int, overlap: int) -> Iterator[Window]:
    """Overlapping text windows of about ``size`` characters from a stream of byte blocks.

    Each window after the first begins with the last ``overlap`` characters of the one before
    (from a line start, when one is in reach, so its lines are whole); a caller that keys hits
    by (line, value) sees a hit in the overlap twice and keeps one, and drops a match that
    runs into the end of a window that is not ``final`` (it may be cut: the next window has it
    whole) or starts a ``cut_start`` window. UTF-8 that stops being valid is decoded with
    replacement characters from there on (lines are unaffected)."""
    decoder = codecs.getincrementaldecoder(enc.name)("replace")
    pending, carry = "", ""
    line, start = 1, 0  # first line and offset of the next window (its carry included)
    skip = enc.bom
    cr_only: bool | None = None
    emitted = False
    final = False
    cut = False
    blocks = iter(blocks)
    while not final:
        block = next(blocks, None)
        if block is None:
            final = True
            pending += decoder.decode(b"", final=True)
        else:
            if skip:
                block, skip = block[skip:], max(0, skip - len(block))
            pending += decoder.decode(block)
        # strictly more than a window's worth: a window marked not final always has a next one
        while len(pending) > size or (final and (pending or not emitted)):
            piece, pending = pending[:size], pending[size:]
            if cr_only is None:
                cr_only = "\r" in piece and "\n" not in piece
            if cr_only:
                piece = piece.replace("\r", "\n")
            text = carry + piece
            yield Window(text, line, start, cut, final and not pending)
            emitted = True
            tail = max(0, len(text) - overlap)
            nl = text.find("\n", tail)
            if 0 <= nl < len(text) - 1:
                tail = nl + 1
            cut = tail > 0 and text[tail - 1] != "\n"
            carry = text[tail:]
            line += text.count("\n", 0, tail)
            start += tail


def split_lines(text: str) -> list[str]:
    """The lines of ``text`` without their ``\\n`` (a trailing ``\\r`` is left on)."""
    lines = text.split("\n")
    if lines and lines[-1] == "" and len(lines) > 1:
        lines.pop()
    return lines
