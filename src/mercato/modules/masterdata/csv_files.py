"""Parse and check the two master-data files; every bad row becomes a problem, not a failure.

`users.csv` — `id,name,email,location_codes` (codes separated by `;` or `|`).
`locations.csv` — `code,name` and optionally `address,timezone,kind`.
The header row is line 1, so a problem's `row` is the line a person sees in a spreadsheet.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from email_validator import EmailNotValidError, validate_email

from mercato.settings import get_settings

CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
KINDS = ("store", "branch", "warehouse", "online")


class FileRejected(ValueError):
    """The whole file is unusable (wrong header, not text, too large)."""


class FileTooLarge(FileRejected):
    """Over `MERCATO_MASTERDATA_MAX_FILE_BYTES`: the sync's 413, nothing of it applied."""

    def __init__(self, name: str, limit: int) -> None:
        super().__init__(f"{name} is larger than the limit of {limit:,} bytes")


def max_file_bytes() -> int:
    return get_settings().masterdata_max_file_bytes


@dataclass(frozen=True)
class Problem:
    file: str
    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file} row {self.row}, {self.column}: {self.reason}"


@dataclass(frozen=True)
class RepRow:
    rep_id: str
    name: str
    email: str | None
    location_codes: tuple[str, ...]


@dataclass(frozen=True)
class LocationRow:
    code: str
    name: str
    address: str | None
    timezone: str | None
    kind: str


@dataclass
class Parsed:
    reps: list[RepRow] = field(default_factory=list)
    locations: list[LocationRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    rows: int = 0


def _rows(name: str, content: bytes, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    if len(content) > max_file_bytes():
        raise FileTooLarge(name, max_file_bytes())
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileRejected(f"{name} is not UTF-8 text") from exc
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = [h.strip().lower() for h in (reader.fieldnames or [])]
    missing = [column for column in required if column not in header]
    if missing:
        raise FileRejected(f"{name} lacks the column(s) {', '.join(missing)}")
    reader.fieldnames = header
    return [
        (reader.line_num, {k: (v or "").strip() for k, v in row.items() if k is not None})
        for row in reader
        if any((v or "").strip() for v in row.values() if isinstance(v, str))
    ]


def parse_locations(name: str, content: bytes, parsed: Parsed) -> None:
    seen: set[str] = set()
    for line, row in _rows(name, content, ("code", "name")):
        parsed.rows += 1
        problems = []
        code, kind, timezone = (
            row["code"],
            (row.get("kind") or "branch").lower(),
            row.get("timezone") or None,
        )
        if not CODE.match(code):
            problems.append(Problem(name, line, "code", "must be 1 to 64 letters, digits, . _ -"))
        elif code in seen:
            problems.append(Problem(name, line, "code", f"{code} appears twice"))
        if not row["name"]:
            problems.append(Problem(name, line, "name", "is empty"))
        if kind not in KINDS:
            problems.append(Problem(name, line, "kind", f"must be one of {', '.join(KINDS)}"))
        if timezone:
            try:
                ZoneInfo(timezone)
            except (ZoneInfoNotFoundError, ValueError):
                problems.append(Problem(name, line, "timezone", f"unknown time zone {timezone!r}"))
        seen.add(code)
        if problems:
            parsed.problems.extend(problems)
            continue
        parsed.locations.append(
            LocationRow(code, row["name"][:200], (row.get("address") or None), timezone, kind)
        )


def parse_reps(name: str, content: bytes, known_codes: set[str], parsed: Parsed) -> None:
    seen: set[str] = set()
    for line, row in _rows(name, content, ("id", "name", "email", "location_codes")):
        parsed.rows += 1
        problems = []
        rep_id, email = row["id"], row["email"] or None
        if not rep_id or len(rep_id) > 128:
            problems.append(Problem(name, line, "id", "must be 1 to 128 characters"))
        elif rep_id in seen:
            problems.append(Problem(name, line, "id", f"{rep_id} appears twice"))
        if not row["name"]:
            problems.append(Problem(name, line, "name", "is empty"))
        if email:
            try:
                email = validate_email(email, check_deliverability=False).normalized
            except EmailNotValidError as exc:
                problems.append(Problem(name, line, "email", str(exc)))
        codes = tuple(
            dict.fromkeys(c.strip() for c in re.split(r"[;|]", row["location_codes"]) if c.strip())
        )
        unknown = [c for c in codes if c not in known_codes]
        if unknown:
            problems.append(
                Problem(
                    name, line, "location_codes", f"unknown location code(s): {', '.join(unknown)}"
                )
            )
        seen.add(rep_id)
        if problems:
            parsed.problems.extend(problems)
            continue
        parsed.reps.append(RepRow(rep_id, row["name"][:200], email, codes))
