"""Google's product taxonomy file (`taxonomy-with-ids`), read as a stream of categories.

Google publishes the taxonomy as text: a first line `# Google_Product_Taxonomy_Version: …`,
then one category per line, `ID - Level 1 > Level 2 > Leaf`, every parent listed before
its children. The file is Google's data: `mercato taxonomy load` reads it from a path, a
URL or the copy shipped as package data (`bundled.py`, gzip-compressed) and stores the
records.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

PATH_SEPARATOR = " > "
_VERSION_LINE = re.compile(r"#\s*Google_Product_Taxonomy_Version:\s*(\S.*?)\s*")
_CATEGORY_LINE = re.compile(r"(\d+) - (\S.*?)\s*")


@dataclass(frozen=True, slots=True)
class GoogleCategory:
    """One node of Google's product taxonomy; `level` 1 is a top-level category."""

    id: int
    path: str
    name: str
    parent_id: int | None
    level: int
    version: str


class TaxonomyFormatError(ValueError):
    """A line of the taxonomy file that does not follow Google's format."""

    def __init__(self, line_number: int, reason: str, line: str) -> None:
        super().__init__(f"taxonomy line {line_number}: {reason}: {line[:120]!r}")
        self.line_number = line_number
        self.reason = reason
        self.line = line


def parse_taxonomy(lines: Iterable[str]) -> Iterator[GoogleCategory]:
    """Yield the categories of a `taxonomy-with-ids` file, one per line, as they are read.

    Only the path → id map of categories already seen is kept (to resolve parents), so a
    file streamed from disk or HTTP never has to sit in memory whole. Raises
    `TaxonomyFormatError` naming the line for a missing version header, a malformed line,
    a duplicate id or path, or a child listed before its parent. Blank lines are skipped.
    """
    version: str | None = None
    ids_by_path: dict[str, int] = {}
    seen_ids: set[int] = set()
    for line_number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n").lstrip("\ufeff")
        if version is None:
            header = _VERSION_LINE.fullmatch(line)
            if header is None:
                raise TaxonomyFormatError(
                    line_number, "expected '# Google_Product_Taxonomy_Version: …'", line
                )
            version = header.group(1)
            continue
        if not line.strip():
            continue
        category = _parse_category(line_number, line, version, ids_by_path, seen_ids)
        ids_by_path[category.path] = category.id
        seen_ids.add(category.id)
        yield category
    if version is None:
        raise TaxonomyFormatError(1, "empty file, no version header", "")


def open_taxonomy_text(path: Path) -> TextIO:
    """The file's text (UTF-8, as Google publishes it), gunzipped when it ends in `.gz`."""
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8")
    return path.open(encoding="utf-8")


def read_taxonomy_file(path: Path) -> Iterator[GoogleCategory]:
    """Stream the categories of a taxonomy file on disk (plain or gzip)."""
    with open_taxonomy_text(path) as lines:
        yield from parse_taxonomy(lines)


def _parse_category(
    line_number: int,
    line: str,
    version: str,
    ids_by_path: dict[str, int],
    seen_ids: set[int],
) -> GoogleCategory:
    match = _CATEGORY_LINE.fullmatch(line)
    if match is None:
        raise TaxonomyFormatError(line_number, "expected 'ID - Level 1 > Level 2 > …'", line)
    category_id = int(match.group(1))
    segments = [segment.strip() for segment in match.group(2).split(">")]
    if not all(segments):
        raise TaxonomyFormatError(line_number, "empty level in the category path", line)
    path = PATH_SEPARATOR.join(segments)
    if category_id in seen_ids:
        raise TaxonomyFormatError(line_number, f"duplicate category id {category_id}", line)
    if path in ids_by_path:
        raise TaxonomyFormatError(line_number, "duplicate category path", line)
    parent_id: int | None = None
    if len(segments) > 1:
        parent_path = PATH_SEPARATOR.join(segments[:-1])
        parent_id = ids_by_path.get(parent_path)
        if parent_id is None:
            raise TaxonomyFormatError(
                line_number, f"parent {parent_path!r} is not listed before its child", line
            )
    return GoogleCategory(
        id=category_id,
        path=path,
        name=segments[-1],
        parent_id=parent_id,
        level=len(segments),
        version=version,
    )
