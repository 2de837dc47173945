"""Every CSV we write (the payroll export, the Program page's tables) is written here, with one
guard against spreadsheet formulas.

A spreadsheet reads a cell starting with `=`, `+`, `-` or `@` as a formula, and skips a leading
tab or carriage return before reading it so; a formula can fetch a URL with the sheet's data or
run a command (CSV injection). The text in our files is typed by people (a name, a team, a
category, a claim's description), so every text cell that starts so is written with a leading
apostrophe: spreadsheets show it as text and keep the apostrophe out of the value. Numbers are
written as numbers (a negative number is not a formula), dates as ISO dates.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal

# What makes a spreadsheet (Excel, LibreOffice, Google Sheets) read a cell as a formula; the
# full-width forms too, which some locales' spreadsheets read the same way.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def cell(value: object) -> str:
    """`value` as one CSV cell: numbers as numbers (Decimals, our money, with two decimals),
    dates in ISO form, None as empty, and text that would start a formula as text."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def to_csv(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    """A whole CSV file: the header, then one line per row, every cell through `cell`.

    Lines end in CRLF (RFC 4180), which also makes the writer quote a cell holding a lone
    carriage return: with LF endings it would be written bare and split the row in two."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([cell(c) for c in columns])
    writer.writerows([cell(v) for v in row] for row in rows)
    return out.getvalue()
