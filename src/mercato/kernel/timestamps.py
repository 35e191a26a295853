"""`Timestamp`: a date-time as the API documents it (RFC 3339), never a bare number.

Pydantic also reads `0.5` or `1700000000` as Unix times, so a query like `?until=0.5`
quietly meant 1970. Inputs must start with a calendar date (`2026-01-31`, optionally
followed by a time and offset); a date alone means midnight UTC, as before.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated

from pydantic import BeforeValidator

CALENDAR_DATE_FIRST = re.compile(r"^\d{4}-\d{2}-\d{2}")


def _calendar_text(value: object) -> object:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not CALENDAR_DATE_FIRST.match(value):
        raise ValueError("use an RFC 3339 date-time, e.g. 2026-01-31T09:00:00Z")
    return value


Timestamp = Annotated[datetime, BeforeValidator(_calendar_text)]
