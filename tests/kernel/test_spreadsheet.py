"""CSV cells never start a formula, and our own exports read back to the same text."""

from __future__ import annotations

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from mercato.kernel.spreadsheet import SpreadsheetWriter, cell_for_spreadsheet, text_from_cell

DANGEROUS = ["=1+1", "+1", "-2", "@SUM(A1)", "\tx", "\rx", "=cmd|' /C calc'!A0"]


def _written(row: list[object]) -> list[str]:
    out = io.StringIO()
    SpreadsheetWriter(out).writerow(row)
    return next(csv.reader(io.StringIO(out.getvalue(), newline="")))


def test_every_formula_start_is_marked_as_text() -> None:
    for value in DANGEROUS:
        (cell,) = _written([value])
        assert cell == "'" + value


def test_numbers_and_plain_text_are_left_alone() -> None:
    assert _written([-5, 3.5, "shoes", "", None]) == ["-5", "3.5", "shoes", "", ""]


@given(st.text())
def test_an_escaped_cell_reads_back_to_the_same_text(value: str) -> None:
    escaped = cell_for_spreadsheet(value)
    assert isinstance(escaped, str)
    assert not escaped.startswith(("=", "+", "-", "@", "\t", "\r"))
    assert text_from_cell(escaped) == value


def test_a_line_break_inside_a_cell_cannot_start_a_row() -> None:
    out = io.StringIO()
    SpreadsheetWriter(out).writerow(["ok", "x\r=cmd|' /C calc'!A0", "y\n@SUM(1)"])
    rows = list(csv.reader(io.StringIO(out.getvalue(), newline="")))
    assert rows == [["ok", "x\r=cmd|' /C calc'!A0", "y\n@SUM(1)"]]
    assert out.getvalue().count("\r\n") == 1
