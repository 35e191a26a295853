"""Demo seed: eight weeks of feedback, so the summary and the pilot KPIs have a trend."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from mercato.demo import DemoContext, SeedStep, demo_tenant_id
from mercato.modules.feedback import has_feedback, seed_shopper_feedback

CATEGORIES = ("checkout", "search", "recommendations", "dashboard", "delivery")
COMMENTS = {
    1: "Could not find the sofa I saw in the store.",
    2: "Delivery took longer than promised.",
    3: "Fine, but the filters are hard to use.",
    4: "Good suggestions on the product page.",
    5: "Checkout was quick and painless.",
}
WEEKS = 8


async def seed_feedback(context: DemoContext) -> None:
    tenant_id = await demo_tenant_id(context)
    async with context.database.tenant_session(tenant_id) as session:
        if await has_feedback(session):
            return
        draw = random.Random(1998)  # the same demo every time  # noqa: S311 - not security
        now = datetime.now(UTC)
        for week in range(WEEKS):
            # Satisfaction improves over the weeks, as a pilot's should.
            weights = [4, 5, 6, 8 + week, 6 + 2 * week]
            for _ in range(6 + draw.randrange(5)):
                rating = draw.choices(range(1, 6), weights=weights)[0]
                consent = draw.random() < 0.2
                seed_shopper_feedback(
                    session,
                    tenant_id,
                    rating=rating,
                    category=draw.choice(CATEGORIES),
                    comment=COMMENTS[rating] if draw.random() < 0.5 else None,
                    context={"page": draw.choice(["/", "/checkout", "/search", "/p/oslo"])},
                    contact_email=f"shopper{draw.randrange(900)}@mail.example" if consent else None,
                    created_at=now - timedelta(weeks=WEEKS - 1 - week, hours=draw.randrange(160)),
                )


STEPS = [SeedStep("feedback.samples", 61, seed_feedback)]
