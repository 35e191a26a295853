"""Every channels task and schedule: the worker and `import_all("jobs")` import
`<module>.jobs`, and the tasks live with their capability (`feeds/jobs.py`: push, daily
push, item retention; `business_profile/jobs.py`: import, daily import)."""

from mercato.modules.channels.business_profile import jobs as business_profile_jobs
from mercato.modules.channels.feeds import jobs as feed_jobs

__all__ = ["business_profile_jobs", "feed_jobs"]
