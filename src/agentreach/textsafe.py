"""Untrusted text made safe to show: control characters written as visible escapes.

Names, paths, tags and descriptions come from the scanned estate, and anyone who can name a
role, a tag or a file there can put a terminal escape sequence in it (colours, cursor-up and
erase-line, an OSC window title) or a newline that forges a line of our output ("gate:
PASS"). Every output made for people or for another tool's text format shows such a
character as its escape instead (``\\x1b``, ``\\n``, ``\\u202e``); JSON stays exact, since its
encoder already escapes them.

What counts as a control: C0 (U+0000-U+001F), DEL, C1 (U+0080-U+009F: 8-bit CSI and OSC),
the Unicode line and paragraph separators, and the bidirectional overrides, embeddings,
isolates and marks that reorder what a reader sees ("Trojan Source").
"""

from __future__ import annotations

from typing import Any

__all__ = ["CONTROLS", "escape", "escape_keeping_lines", "has_controls"]

#: The code points every output made for people or for a text format shows escaped.
CONTROLS: tuple[int, ...] = (*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0), 0x2028, 0x2029, 0x200E, 0x200F,
                             *range(0x202A, 0x202F), *range(0x2066, 0x206A))
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _visible(cp: int) -> str:
    ch = chr(cp)
    if ch in _NAMED:
        return _NAMED[ch]
    return f"\\x{cp:02x}" if cp < 0x100 else f"\\u{cp:04x}"


_ALL = str.maketrans({cp: _visible(cp) for cp in CONTROLS})
_ALL_BUT_NEWLINE = str.maketrans({cp: _visible(cp) for cp in CONTROLS if cp != 0x0A})


def escape(value: Any) -> str:
    """``value`` as text with every control character escaped, newlines included: for one
    value (a name, a path) placed in a line of output."""
    return str(value).translate(_ALL)


def escape_keeping_lines(text: str) -> str:
    """``text`` with every control but the newline escaped: for text our own code laid out
    in lines, whose values were escaped when it was composed."""
    return text.translate(_ALL_BUT_NEWLINE)


def has_controls(text: str) -> bool:
    """Whether ``text`` holds a character :func:`escape` would rewrite."""
    return text.translate(_ALL) != text
