"""Domain events the channels module emits.

- `feed_job.failed` `{"job_id", "error", "id", "summary", "attempts"}`: a feed push job
  ended failed (Google link missing or revoked, Google unreachable after every attempt, or
  every item rejected); `id` and `summary` are what notifications require of every event.
  Not emitted when staff cancel a job.
"""

from typing import Final

FEED_JOB_FAILED: Final = "feed_job.failed"
