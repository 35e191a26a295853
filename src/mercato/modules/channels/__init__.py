"""Google channels: product taxonomy and category suggestions, Merchant Center feed
precheck, hosted feed rendering and the Merchant API push.

This is the module's public surface; other modules import from here only.
"""

from mercato.modules.channels.category_suggestions import (
    CategorySuggestion,
    TaxonomyIndex,
    suggest_categories,
)
from mercato.modules.channels.feed_item import FeedItem, effective_availability
from mercato.modules.channels.feed_render import (
    FEED_ATTRIBUTES,
    FeedChannel,
    feed_values,
    render_rss,
    render_tsv,
)
from mercato.modules.channels.merchant_api import (
    DEFAULT_BASE_URL,
    MerchantApiClient,
    MerchantTarget,
    PushOutcome,
    RetryPolicy,
    TokenSource,
    product_input,
)
from mercato.modules.channels.precheck import (
    FeedIssue,
    PrecheckResult,
    Severity,
    blocks_item,
    check_item,
    precheck,
    valid_items,
)
from mercato.modules.channels.taxonomy import (
    GoogleCategory,
    TaxonomyFormatError,
    parse_taxonomy,
    read_taxonomy_file,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "FEED_ATTRIBUTES",
    "CategorySuggestion",
    "FeedChannel",
    "FeedIssue",
    "FeedItem",
    "GoogleCategory",
    "MerchantApiClient",
    "MerchantTarget",
    "PrecheckResult",
    "PushOutcome",
    "RetryPolicy",
    "Severity",
    "TaxonomyFormatError",
    "TaxonomyIndex",
    "TokenSource",
    "blocks_item",
    "check_item",
    "effective_availability",
    "feed_values",
    "parse_taxonomy",
    "precheck",
    "product_input",
    "read_taxonomy_file",
    "render_rss",
    "render_tsv",
    "suggest_categories",
    "valid_items",
]
