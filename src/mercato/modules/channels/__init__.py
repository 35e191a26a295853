"""Google channels: product taxonomy and category alignment (`taxonomy/`), Merchant Center
feed precheck, push jobs and the hosted feed (`feeds/`), the Google OAuth link
(`google/`) and Google Business Profile (`business_profile/`). `models.py` holds every
channels table; `router.py` and `jobs.py` gather the sub-packages' routes and tasks.

This is the module's public surface; other modules import from here only. The category
suggester loads on first use, so importing the package (as the `mercato` command does for
`taxonomy load`) does not load numpy and scipy. Events: `feed_job.failed` (`events.py`).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from mercato.modules.channels.events import FEED_JOB_FAILED
from mercato.modules.channels.feeds import (
    DEFAULT_BASE_URL,
    FEED_ATTRIBUTES,
    FeedChannel,
    FeedIssue,
    FeedItem,
    MerchantApiClient,
    MerchantTarget,
    PrecheckResult,
    PushOutcome,
    RetryPolicy,
    Severity,
    TokenSource,
    blocks_item,
    check_item,
    effective_availability,
    feed_values,
    precheck,
    product_input,
    render_rss,
    render_tsv,
    stream_rss,
    stream_tsv,
    valid_items,
)
from mercato.modules.channels.taxonomy import (
    GoogleCategory,
    TaxonomyFormatError,
    parse_taxonomy,
    read_taxonomy_file,
)

if TYPE_CHECKING:
    from mercato.modules.channels.taxonomy import (
        CategorySuggestion,
        TaxonomyIndex,
        suggest_categories,
    )

# The suggester needs numpy and scipy: it loads on first use.
_LAZY = {"CategorySuggestion", "TaxonomyIndex", "suggest_categories"}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.taxonomy"), name)


__all__ = [
    "DEFAULT_BASE_URL",
    "FEED_ATTRIBUTES",
    "FEED_JOB_FAILED",
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
    "stream_rss",
    "stream_tsv",
    "suggest_categories",
    "valid_items",
]
