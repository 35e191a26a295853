"""Events and catalog rows from JSON Lines files (a simulator's output, an export).

One JSON object per line in the tracking API's event shape (`user_id`, `session_id`,
`type`, `product_id`, `timestamp`, `order_id`, …) or the catalog's product shape; blank
lines are skipped.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mercato.modules.recommendations.event_log import CatalogTable, EventLog


def _objects(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            row = json.loads(line)
            if not isinstance(row, dict):
                raise ValueError(f"{path}:{number}: expected a JSON object per line")
            yield row


def read_event_lines(path: Path) -> EventLog:
    return EventLog.from_rows(_objects(path))


def read_catalog_lines(path: Path) -> CatalogTable:
    return CatalogTable.from_rows(_objects(path))
