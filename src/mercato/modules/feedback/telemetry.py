"""`mercato_feedback_ratings_total{rating}`: feedback received, by rating 1 to 5 (counted
once stored). Satisfaction, as the dashboard defines it, is the share rated 4 or 5; the
platform-wide alert on it is in deploy/alerts.yml."""

from __future__ import annotations

from prometheus_client import Counter

RATINGS = Counter(
    "mercato_feedback_ratings_total", "Feedback received, by rating (1 to 5).", ["rating"]
)


async def count_rating(rating: int) -> None:
    RATINGS.labels(str(rating)).inc()
