"""The channels module's routes, gathered from its sub-packages into the three routers the
app mounts (each at its place in the app's order, which the OpenAPI document follows):

- `router`: `{T}/google/taxonomy`, `{T}/categories/…alignment…` (taxonomy), `{T}/feed…`,
  `{T}/feed-jobs…` (feeds), mounted before the catalog's so that `/categories/alignment`
  is not read as a category id;
- `google_router`: `{T}/google/oauth…` (google), `{T}/google/merchant-links…` (feeds),
  `{T}/google/business…` (business_profile);
- `public_router`: the hosted feed files (feeds) and the OAuth callback (google).

- `sandbox_router`: the Merchant API sandbox (`feeds.sandbox`), mounted only with
  `MERCATO_GOOGLE_SANDBOX`.
"""

from __future__ import annotations

from fastapi import APIRouter

from mercato.modules.channels.business_profile import router as business_profile
from mercato.modules.channels.feeds import public_router as feeds_public
from mercato.modules.channels.feeds import router as feeds
from mercato.modules.channels.feeds import sandbox
from mercato.modules.channels.google import public_router as google_public
from mercato.modules.channels.google import router as google
from mercato.modules.channels.taxonomy import router as taxonomy

router = APIRouter()
router.include_router(taxonomy.router)
router.include_router(feeds.router)

google_router = APIRouter()
google_router.include_router(google.router)
google_router.include_router(feeds.merchant_links_router)
google_router.include_router(business_profile.router)

public_router = APIRouter()
public_router.include_router(feeds_public.router)
public_router.include_router(google_public.router)

sandbox_router = sandbox.router
