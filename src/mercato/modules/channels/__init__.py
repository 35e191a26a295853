"""Google channels: product taxonomy and category alignment (`taxonomy/`), Merchant Center
feed precheck, push jobs and the hosted feed (`feeds/`), the Google OAuth link
(`google/`) and Google Business Profile (`business_profile/`). `models.py` holds every
channels table; `router.py` and `jobs.py` gather the sub-packages' routes and tasks.

This is the module's public surface; other modules, the dashboard and the demo import
from here only. What needs the category suggester (numpy and scipy) loads on first use, so
importing the package (as the `mercato` command does for `taxonomy load`) stays light.
Events: `feed_job.failed` (`events.py`). Listens to `product.*`, `inventory.stock_changed`
and `location.*` for the live Merchant Center sync (`feeds/live_sync.py`).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from mercato.modules.channels.business_profile.push import (
    choose_location as choose_profile_location,
)
from mercato.modules.channels.business_profile.push import (
    get_sync as profile_push_state,
)
from mercato.modules.channels.business_profile.push import (
    queue_push_now as push_profile_now,
)
from mercato.modules.channels.business_profile.push import (
    resolve_conflict as resolve_profile_conflict,
)
from mercato.modules.channels.business_profile.push import (
    sync_read as profile_push_read,
)
from mercato.modules.channels.business_profile.schemas import (
    ConflictResolution,
    ProfileTarget,
)
from mercato.modules.channels.business_profile.service import (
    list_gbp_locations,
)
from mercato.modules.channels.business_profile.service import (
    list_insights as business_profile_insights,
)
from mercato.modules.channels.events import FEED_JOB_FAILED, FEED_JOB_FAILED_AGAIN
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
from mercato.modules.channels.feeds.item_status import list_items as list_feed_items
from mercato.modules.channels.feeds.item_status import queue_status_read
from mercato.modules.channels.feeds.item_status import status_counts as feed_item_counts
from mercato.modules.channels.feeds.item_status import to_read as feed_item_read
from mercato.modules.channels.feeds.merchant_items import local_inventory_counts
from mercato.modules.channels.feeds.push_jobs import list_jobs as list_feed_jobs
from mercato.modules.channels.feeds.push_jobs import queue_push
from mercato.modules.channels.feeds.push_jobs import set_job_status as set_feed_job_status
from mercato.modules.channels.feeds.schemas import FeedItemRead, FeedJobRead, FeedJobStatusBody
from mercato.modules.channels.google.oauth import get_link as google_link
from mercato.modules.channels.google.oauth import remember_browser, start_link
from mercato.modules.channels.google.oauth import unlink as unlink_google
from mercato.modules.channels.seeding import (
    link_merchant_sandbox,
    link_sandbox_stores,
    record_alignment_trail,
)
from mercato.modules.channels.taxonomy import (
    GoogleCategory,
    TaxonomyFormatError,
    parse_taxonomy,
    read_taxonomy_file,
)

if TYPE_CHECKING:
    from mercato.modules.channels.feeds.catalog_precheck import precheck_products
    from mercato.modules.channels.feeds.hosted_feed import feed_urls, hosted_feed, rotate_feed_token
    from mercato.modules.channels.taxonomy import (
        CategorySuggestion,
        TaxonomyIndex,
        suggest_categories,
    )
    from mercato.modules.channels.taxonomy.alignment import (
        accept_suggestion,
        align_category,
        alignment_coverage,
        suggest_alignment,
    )
    from mercato.modules.channels.taxonomy.bundled import (
        bundled_taxonomy,
        load_bundled_if_empty,
    )
    from mercato.modules.channels.taxonomy.store import (
        google_category_paths,
        load_taxonomy_file,
        loaded_taxonomy,
        search_taxonomy,
    )

# These need the category suggester (numpy and scipy): they load on first use.
_LAZY = {
    "CategorySuggestion": "taxonomy",
    "TaxonomyIndex": "taxonomy",
    "suggest_categories": "taxonomy",
    "accept_suggestion": "taxonomy.alignment",
    "align_category": "taxonomy.alignment",
    "alignment_coverage": "taxonomy.alignment",
    "suggest_alignment": "taxonomy.alignment",
    "bundled_taxonomy": "taxonomy.bundled",
    "load_bundled_if_empty": "taxonomy.bundled",
    "google_category_paths": "taxonomy.store",
    "load_taxonomy_file": "taxonomy.store",
    "loaded_taxonomy": "taxonomy.store",
    "search_taxonomy": "taxonomy.store",
    "precheck_products": "feeds.catalog_precheck",
    "feed_urls": "feeds.hosted_feed",
    "hosted_feed": "feeds.hosted_feed",
    "rotate_feed_token": "feeds.hosted_feed",
}


def __getattr__(name: str) -> Any:
    home = _LAZY.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{home}"), name)


__all__ = [
    "DEFAULT_BASE_URL",
    "FEED_ATTRIBUTES",
    "FEED_JOB_FAILED",
    "FEED_JOB_FAILED_AGAIN",
    "CategorySuggestion",
    "ConflictResolution",
    "FeedChannel",
    "FeedIssue",
    "FeedItem",
    "FeedItemRead",
    "FeedJobRead",
    "FeedJobStatusBody",
    "GoogleCategory",
    "MerchantApiClient",
    "MerchantTarget",
    "PrecheckResult",
    "ProfileTarget",
    "PushOutcome",
    "RetryPolicy",
    "Severity",
    "TaxonomyFormatError",
    "TaxonomyIndex",
    "TokenSource",
    "accept_suggestion",
    "align_category",
    "alignment_coverage",
    "blocks_item",
    "bundled_taxonomy",
    "business_profile_insights",
    "check_item",
    "choose_profile_location",
    "effective_availability",
    "feed_item_counts",
    "feed_item_read",
    "feed_urls",
    "feed_values",
    "google_category_paths",
    "google_link",
    "hosted_feed",
    "link_merchant_sandbox",
    "link_sandbox_stores",
    "list_feed_items",
    "list_feed_jobs",
    "list_gbp_locations",
    "load_bundled_if_empty",
    "load_taxonomy_file",
    "loaded_taxonomy",
    "local_inventory_counts",
    "parse_taxonomy",
    "precheck",
    "precheck_products",
    "product_input",
    "profile_push_read",
    "profile_push_state",
    "push_profile_now",
    "queue_push",
    "queue_status_read",
    "read_taxonomy_file",
    "record_alignment_trail",
    "remember_browser",
    "render_rss",
    "render_tsv",
    "resolve_profile_conflict",
    "rotate_feed_token",
    "search_taxonomy",
    "set_feed_job_status",
    "start_link",
    "stream_rss",
    "stream_tsv",
    "suggest_alignment",
    "suggest_categories",
    "unlink_google",
    "valid_items",
]
