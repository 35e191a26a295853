"""Demo seed for channels: Google's taxonomy, the alignment trail of the demo tree, and the
hosted feed.

There is no Google in the demo: unless a Google client is configured, `serve --demo` links
the tenant to the built-in Merchant API sandbox and queues a push the worker runs through
the real push path (`sandbox.py`), which also sends each store's stock as local inventory
(the demo's stores stand in for Business Profile locations) and, half a minute later, reads
Google's item statuses back (the sandbox disapproves a stable tenth of the products). The
demo also shows the precheck over the demo catalog,
the alignment (with how often the suggestions agree with the tree's hand-made alignment)
and the hosted feed address.
"""

from __future__ import annotations

import uuid
from pathlib import Path

from mercato.demo import DEMO_TENANT_SLUG, DemoContext, SeedStep
from mercato.modules.catalog import category_alignments, category_product_names
from mercato.modules.channels import (
    bundled_taxonomy,
    feed_urls,
    hosted_feed,
    link_merchant_sandbox,
    link_sandbox_stores,
    load_taxonomy_file,
    loaded_taxonomy,
    precheck_products,
    queue_push,
    queue_status_read,
    record_alignment_trail,
    suggest_categories,
)
from mercato.modules.identity import resolve_tenant

REPO_ROOT = Path(__file__).resolve().parents[3]
TAXONOMY_FILE = REPO_ROOT.parent / "shared" / "data" / "google-product-taxonomy-with-ids.en-US.txt"
DEMO_ACTOR = "system:demo"
SERVER_START_GRACE_S = 5  # the in-process worker starts before the server listens
STATUS_READ_AFTER_S = 35  # the first push has run by then


async def _demo_tenant(context: DemoContext) -> uuid.UUID:
    return await resolve_tenant(context.database, DEMO_TENANT_SLUG)


async def load_demo_taxonomy(context: DemoContext) -> None:
    """Google's file as Mercato ships it (package data), else from ../shared/data when this
    checkout has it; else say how to load it."""
    with bundled_taxonomy() as shipped:
        path = shipped or (TAXONOMY_FILE if TAXONOMY_FILE.exists() else None)
        if path is None:
            context.notes.append(
                "  taxonomy:  not loaded; run `mercato taxonomy load` (downloads Google's file)"
            )
            return
        report = await load_taxonomy_file(context.database.urls.owner, path)
    context.notes.append(f"  taxonomy:  Google {report.version}, {report.loaded} categories")


async def record_demo_alignment(context: DemoContext) -> None:
    """Write the trail of the alignment the catalog seed gave the demo tree, and measure how
    often the suggester's first choice is that same category."""
    tenant_id = await _demo_tenant(context)
    async with context.database.tenant_session(tenant_id) as session:
        aligned = [
            row
            for row in await category_alignments(session, tenant_id)
            if row.google_category_id is not None
        ]
        await record_alignment_trail(session, tenant_id, aligned, DEMO_ACTOR)
        taxonomy = await loaded_taxonomy(session)
        agree = 0
        if taxonomy is not None:
            for row in aligned:
                names = await category_product_names(session, tenant_id, row.category_id, limit=200)
                best = suggest_categories(row.path, names, taxonomy.index, limit=1)
                agree += bool(best) and best[0].category.id == row.google_category_id
    line = f"  alignment: {len(aligned)} categories aligned"
    if taxonomy is not None:
        line += f"; the first suggestion matches for {agree} of them"
    context.notes.append(line)


async def show_demo_feed(context: DemoContext) -> None:
    tenant_id = await _demo_tenant(context)
    async with context.database.tenant_session(tenant_id) as session:
        feed = await hosted_feed(session, tenant_id)
        xml_url, _ = feed_urls(feed)
        result = await precheck_products(session, tenant_id, None)
    context.notes.append(
        f"  feed:      {xml_url} ({result.valid} valid products, {result.invalid} invalid)"
    )


async def queue_demo_push(context: DemoContext) -> None:
    """Link the Merchant API sandbox (when the demo serves one) and queue a first push.

    The in-process worker runs it once the server listens: the production push path, over
    HTTP, against `/sandbox/google` (see `mercato.modules.channels.feeds.sandbox`).
    """
    if not context.settings.google_sandbox:
        context.notes.append(
            "  push jobs: none until a Merchant Center account is linked (docs/channels.md)"
        )
        return
    tenant_id = await _demo_tenant(context)
    async with context.database.tenant_session(tenant_id) as session:
        account_id = await link_merchant_sandbox(session, tenant_id, DEMO_ACTOR)
        stores = await link_sandbox_stores(session, tenant_id)
        job = await queue_push(
            session,
            tenant_id,
            account_id=account_id,
            requested_by=DEMO_ACTOR,
            trigger="manual",
            delay_s=SERVER_START_GRACE_S,
        )
        await queue_status_read(session, tenant_id, STATUS_READ_AFTER_S)
    context.notes.append(
        f"  push jobs: job {job.id} queued to the Merchant API sandbox "
        f"(account {account_id}, local inventory for {stores} stores); GET {{T}}/feed-jobs, "
        "item statuses at GET {T}/feed/items"
    )


STEPS = [
    SeedStep("channels.google_taxonomy", 21, load_demo_taxonomy),
    SeedStep("channels.demo_alignment", 26, record_demo_alignment),
    SeedStep("channels.demo_feed", 90, show_demo_feed),
    SeedStep("channels.demo_push", 91, queue_demo_push),
]
