"""A task list as CSV, for reps who work from a spreadsheet.

Search queries and user ids come from shoppers, so every cell goes through
`kernel.spreadsheet` (no cell a spreadsheet would run as a formula).
"""

from __future__ import annotations

import io

from mercato.kernel.formats import Formats
from mercato.kernel.spreadsheet import SpreadsheetWriter
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
    "currency",
    "amount_formatted",
)
"""`amount` stays a plain number; the amount's currency (the cart's or order's own, else the
tenant's) and the amount as the tenant's locale writes it come last, for people."""


def tasks_csv(page: TaskPage, formats: Formats) -> str:
    out = io.StringIO()
    writer = SpreadsheetWriter(out)
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
            None if item.amount is None else item.details.get("currency") or formats.currency,
            None
            if item.amount is None
            else formats.money(item.amount, item.details.get("currency")),
        ]
        writer.writerow(["" if cell is None else str(cell) for cell in cells])
    return out.getvalue()
