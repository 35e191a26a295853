"""Domain events the channels module emits.

- `feed_job.failed` `{"job_id": str, "error": str}`: a feed push job ended failed (Google
  link missing or revoked, Google unreachable after every attempt, or every item rejected).
  Notifications tell the merchant. Not emitted when staff cancel a job.
"""

from typing import Final

FEED_JOB_FAILED: Final = "feed_job.failed"
