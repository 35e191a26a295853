"""Routes without a staff credential: the hosted feed files Merchant Center fetches."""

from __future__ import annotations

from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from functools import partial
from typing import Any

from fastapi import APIRouter, Request, Response

from mercato.kernel.db import get_database
from mercato.kernel.errors import NotFound
from mercato.modules.channels.feeds.hosted_feed import FeedFormat, find_feed_tenant, rendered_feed

router = APIRouter(tags=["channels"])
MEDIA_TYPES: dict[FeedFormat, str] = {
    "xml": "application/rss+xml; charset=utf-8",
    "tsv": "text/tab-separated-values; charset=utf-8",
}
FEED_RESPONSES: dict[int | str, dict[str, Any]] = {
    404: {"description": "Unknown or rotated feed token"},
    304: {"description": "Not modified since the ETag or date the client has"},
}


async def _serve_feed(request: Request, token: str, feed_format: FeedFormat) -> Response:
    async with get_database().session() as lookup:
        tenant_id = await find_feed_tenant(lookup, token)
    if tenant_id is None:
        raise NotFound("No feed at this address (the token is unknown or was rotated)")
    feed = await rendered_feed(tenant_id, feed_format)
    headers = {
        "ETag": feed.etag,
        "Last-Modified": format_datetime(feed.last_modified, usegmt=True),
        "Cache-Control": "private, no-cache",
        "X-Robots-Tag": "noindex",
    }
    not_modified = _not_modified(request, feed.etag, feed.last_modified)
    if not_modified or request.method == "HEAD":
        return Response(
            status_code=304 if not_modified else 200,
            headers=headers,
            media_type=MEDIA_TYPES[feed_format],
        )
    return Response(feed.body, media_type=MEDIA_TYPES[feed_format], headers=headers)


def _not_modified(request: Request, etag: str, last_modified: datetime) -> bool:
    """`If-None-Match` decides when sent; otherwise `If-Modified-Since` (RFC 9110 §13.2.2)."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
        return etag in candidates or "*" in candidates
    if_modified_since = request.headers.get("if-modified-since")
    if if_modified_since is None:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False
    return since.tzinfo is not None and last_modified <= since


# GET and HEAD are separate handlers so that each operation has its own operation id.
XML_FEED, TSV_FEED = "/feeds/{feed_token}.xml", "/feeds/{feed_token}.tsv"
feed_get = partial(router.get, response_class=Response, responses=FEED_RESPONSES)
feed_head = partial(router.head, response_class=Response, responses=FEED_RESPONSES)
HEAD_SUMMARY = "The feed's headers (ETag, Last-Modified) without the body"


@feed_get(XML_FEED, summary="The products as RSS 2.0 with the g: namespace (Merchant Center)")
async def feed_xml(feed_token: str, request: Request) -> Response:
    return await _serve_feed(request, feed_token, "xml")


@feed_head(XML_FEED, summary=HEAD_SUMMARY)
async def feed_xml_head(feed_token: str, request: Request) -> Response:
    return await _serve_feed(request, feed_token, "xml")


@feed_get(TSV_FEED, summary="The same feed as tab-separated values")
async def feed_tsv(feed_token: str, request: Request) -> Response:
    return await _serve_feed(request, feed_token, "tsv")


@feed_head(TSV_FEED, summary=HEAD_SUMMARY)
async def feed_tsv_head(feed_token: str, request: Request) -> Response:
    return await _serve_feed(request, feed_token, "tsv")
