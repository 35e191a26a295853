"""Google channels: product taxonomy and category suggestions, Merchant Center feed
precheck, hosted feed rendering and the Merchant API push.

This is the module's public surface; other modules import from here only.
"""

from mercato.modules.channels.category_suggestions import (
    CategorySuggestion,
    TaxonomyIndex,
    suggest_categories,
)
from mercato.modules.channels.taxonomy import (
    GoogleCategory,
    TaxonomyFormatError,
    parse_taxonomy,
    read_taxonomy_file,
)

__all__ = [
    "CategorySuggestion",
    "GoogleCategory",
    "TaxonomyFormatError",
    "TaxonomyIndex",
    "parse_taxonomy",
    "read_taxonomy_file",
    "suggest_categories",
]
