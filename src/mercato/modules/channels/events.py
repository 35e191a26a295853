"""Domain events the channels module emits.

- `feed_job.failed` `{"job_id", "error", "id", "summary", "attempts"}`: a feed push job
  ended failed (Google link missing or revoked, Google unreachable after every attempt, or
  every item rejected); `id` and `summary` are what notifications require of every event.
  Not emitted when staff cancel a job.
- `feed_job.failed_again` `{"job_id", "account_id", "error", "id", "summary",
  "occurrence_id"}`: a push failed and the push before it to the same Merchant Center
  account had failed too (twice in a row); `id` is the account, `occurrence_id` the job,
  so each further failure in the run notifies once.
"""

from typing import Final

FEED_JOB_FAILED: Final = "feed_job.failed"
FEED_JOB_FAILED_AGAIN: Final = "feed_job.failed_again"
