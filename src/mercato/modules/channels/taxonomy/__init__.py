"""Google's product taxonomy: its file format, the copy in PostgreSQL (`store`), category
suggestions by text similarity (`suggestions`) and the alignment of the merchant's
categories with it (`alignment`).

Feeds use `loaded_taxonomy`. The suggester needs numpy and scipy and the store builds it,
so both load on first use: importing the package (as the `mercato` command does for
`taxonomy load`) reads only the file format.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from mercato.modules.channels.taxonomy.file_format import (
    GoogleCategory,
    TaxonomyFormatError,
    parse_taxonomy,
    read_taxonomy_file,
)

if TYPE_CHECKING:
    from mercato.modules.channels.taxonomy.store import loaded_taxonomy
    from mercato.modules.channels.taxonomy.suggestions import (
        CategorySuggestion,
        TaxonomyIndex,
        suggest_categories,
    )

_LAZY = {
    "CategorySuggestion": "suggestions",
    "TaxonomyIndex": "suggestions",
    "suggest_categories": "suggestions",
    "loaded_taxonomy": "store",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_LAZY[name]}"), name)


__all__ = [
    "CategorySuggestion",
    "GoogleCategory",
    "TaxonomyFormatError",
    "TaxonomyIndex",
    "loaded_taxonomy",
    "parse_taxonomy",
    "read_taxonomy_file",
    "suggest_categories",
]
