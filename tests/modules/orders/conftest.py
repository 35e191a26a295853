"""`stripe`: the local fake Stripe server, with the settings pointing Mercato at it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes import stripe as fake_stripe
from tests.fakes.server import serve
from tests.fakes.stripe import FakeStripe
from tests.modules.integrations.fakes import patched_settings


@pytest.fixture
async def stripe() -> AsyncIterator[FakeStripe]:
    fake = FakeStripe()
    async with serve(fake.app()) as url:
        with patched_settings(
            stripe_api_base=url,
            stripe_secret_key=fake_stripe.SECRET_KEY,
            stripe_webhook_secret=fake_stripe.WEBHOOK_SECRET,
        ):
            yield fake
