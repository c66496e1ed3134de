"""The findings as CSV: one row per finding, for a spreadsheet or a ticket import."""

from __future__ import annotations

import csv
import io
from typing import Any, Mapping

from . import one_line

COLUMNS = ("rule", "severity", "title", "subject", "subject_name", "subject_type", "account", "evidence",
           "frameworks", "fingerprint")
JOIN = " | "
# A cell starting with one of these is a formula to a spreadsheet (CSV injection): names come from
# the scanned estate, so such a cell is prefixed with an apostrophe, which spreadsheets hide.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        text = JOIN.join(one_line(v) for v in value)
    else:
        text = one_line(value)
    if text.startswith(_FORMULA_START):
        text = "'" + text
    return text


def render_csv(report: Mapping[str, Any]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for finding in report.get("findings") or []:
        writer.writerow({col: _cell(finding.get(col)) for col in COLUMNS})
    return buf.getvalue()
