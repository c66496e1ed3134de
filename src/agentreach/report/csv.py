"""The findings as CSV: one row per finding, for a spreadsheet or a ticket import.

``write_csv`` is the one writer of every CSV agentreach produces (this report and the
inventory): it makes each cell safe for a spreadsheet, so no caller can forget to.
"""

from __future__ import annotations

import csv
import io
from typing import Any, Iterable, Mapping, Sequence

from . import one_line

COLUMNS = ("rule", "severity", "title", "subject", "subject_name", "subject_type", "account", "evidence",
           "frameworks", "fingerprint")
JOIN = " | "
# OWASP, CSV Injection: a spreadsheet reads a cell that begins with one of these as a formula
# (=HYPERLINK(...), @SUM(...), +1, -2+3; tab, CR and LF are trimmed first by some importers).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def formula_safe(text: str) -> str:
    """``text`` as a cell no spreadsheet evaluates: prefixed with an apostrophe, which the
    spreadsheet takes as "this is text" and hides, when it begins with a formula character.

    Names come from the scanned estate, so any of them may be hostile.  Every such cell is
    prefixed, numbers included (``-2`` becomes ``'-2``), as OWASP lists the characters without
    exceptions and an exception for "numbers" is a parser an attacker can aim at.  Leading
    spaces are looked through (``  =1+1``), since importers may trim them.
    """
    return "'" + text if text.lstrip(" ").startswith(FORMULA_START) else text


def write_csv(columns: Sequence[str], rows: Iterable[Mapping[str, str]]) -> str:
    """CSV text with a header, "\\n" line ends, and every cell passed through ``formula_safe``.

    A cell must also not be able to end its row or open a cell of its own (OWASP's second
    point): the csv module quotes separators, quotes and "\\n", but before Python 3.12 not a
    bare "\\r" when the line end is "\\n", and a spreadsheet breaks the row there.  A row with
    a "\\r" in some cell is therefore written with every cell quoted.
    """
    buf = io.StringIO()
    plain = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    quoted = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n",
                            quoting=csv.QUOTE_ALL)
    plain.writeheader()
    for row in rows:
        cells = {col: formula_safe(row.get(col, "")) for col in columns}
        (quoted if any("\r" in cell for cell in cells.values()) else plain).writerow(cells)
    return buf.getvalue()


def _cell(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return JOIN.join(one_line(v) for v in value)
    return one_line(value)


def render_csv(report: Mapping[str, Any]) -> str:
    return write_csv(COLUMNS, ({col: _cell(f.get(col)) for col in COLUMNS} for f in report.get("findings") or []))
