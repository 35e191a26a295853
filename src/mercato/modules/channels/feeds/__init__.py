"""Google Merchant Center feeds: products as feed items, the precheck against Google's data
specification, the hosted feed files, and push jobs through the Merchant API.

Lists what the channels package publishes of it. It stays light: the push, the hosted feed
and the routes load only when imported.
"""

from mercato.modules.channels.feeds.item import FeedItem, effective_availability
from mercato.modules.channels.feeds.merchant_api import (
    DEFAULT_BASE_URL,
    MerchantApiClient,
    MerchantTarget,
    PushOutcome,
    RetryPolicy,
    TokenSource,
    product_input,
)
from mercato.modules.channels.feeds.precheck import (
    FeedIssue,
    PrecheckResult,
    Severity,
    blocks_item,
    check_item,
    precheck,
    valid_items,
)
from mercato.modules.channels.feeds.render import (
    FEED_ATTRIBUTES,
    FeedChannel,
    feed_values,
    render_rss,
    render_tsv,
    stream_rss,
    stream_tsv,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "FEED_ATTRIBUTES",
    "FeedChannel",
    "FeedIssue",
    "FeedItem",
    "MerchantApiClient",
    "MerchantTarget",
    "PrecheckResult",
    "PushOutcome",
    "RetryPolicy",
    "Severity",
    "TokenSource",
    "blocks_item",
    "check_item",
    "effective_availability",
    "feed_values",
    "precheck",
    "product_input",
    "render_rss",
    "render_tsv",
    "stream_rss",
    "stream_tsv",
    "valid_items",
]
