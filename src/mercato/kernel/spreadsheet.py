"""CSV cells a spreadsheet will not run: the OWASP guard against CSV (formula) injection.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is read by Excel,
LibreOffice and Google Sheets as a formula, so text a shopper or a browser key wrote
(a product name, a location code) could run `=HYPERLINK(…)` or worse in a merchant's
spreadsheet. Such text is exported with a leading `'`, the spreadsheets' own "this is
text" mark, which they do not display. Text that already starts with `'` gets one more,
so `text_from_cell` reverses the escape exactly when an export is read back in.

Only text is escaped: numbers are the application's own values (a negative number stays a
number), and the csv module's quoting handles separators and quotes. Rows end in CRLF
(RFC 4180), which also makes the csv module quote any cell holding a CR or LF: with a bare
LF terminator a cell `x<CR>=cmd…` went out unquoted, and a spreadsheet splitting on the CR
would read a new row starting with a formula.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, TextIO

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
TEXT_MARK = "'"


def cell_for_spreadsheet(value: object) -> object:
    """The value as a CSV cell no spreadsheet reads as a formula."""
    if isinstance(value, str) and value.startswith((*FORMULA_STARTS, TEXT_MARK)):
        return TEXT_MARK + value
    return value


def text_from_cell(cell: str) -> str:
    """Undo `cell_for_spreadsheet` for a cell read from one of our exports."""
    return cell[1:] if cell.startswith(TEXT_MARK) else cell


class SpreadsheetWriter:
    """`csv.writer` whose every text cell goes through `cell_for_spreadsheet`."""

    def __init__(self, out: TextIO) -> None:
        self._writer = csv.writer(out, lineterminator="\r\n")

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([cell_for_spreadsheet(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)
