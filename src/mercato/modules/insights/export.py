"""A task list as CSV, for reps who work from a spreadsheet.

Search queries and user ids come from shoppers: a cell starting with `=`, `+`, `-`, `@`
(or a tab/carriage return) would run as a formula in Excel or Sheets, so such cells are
prefixed with an apostrophe.
"""

from __future__ import annotations

import csv
import io

from mercato.modules.insights.schemas import TaskPage

COLUMNS = (
    "key",
    "user_id",
    "contact",
    "products",
    "amount",
    "location_code",
    "sales_reps",
    "reason",
    "status",
    "occurred_at",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def tasks_csv(page: TaskPage) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for item in page.data:
        cells = [
            item.key,
            item.user_id,
            item.contact,
            " ".join(item.products),
            item.amount,
            item.location_code,
            " ".join(rep.rep_id for rep in item.sales_reps),
            item.reason,
            item.status.value,
            item.occurred_at.isoformat(),
        ]
        writer.writerow([spreadsheet_safe(cell) for cell in cells])
    return out.getvalue()
