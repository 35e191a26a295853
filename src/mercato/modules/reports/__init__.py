"""Reports: per-branch HTML e-mail reports (KPIs vs the previous period, top products, open
tasks, a revenue chart), sent on demand or on daily/weekly schedules in the tenant's zone.

Public surface: rendering, the service calls and shapes the dashboard uses, and
`seed_report_settings` for the demo seed.
"""

from mercato.modules.reports.content import RenderedReport, render_report
from mercato.modules.reports.schemas import (
    BranchRecipientsWrite,
    Frequency,
    Period,
    ReportSend,
    ScheduleWrite,
)
from mercato.modules.reports.seeding import seed_report_settings
from mercato.modules.reports.service import (
    list_branches,
    list_jobs,
    list_schedules,
    put_schedule,
    request_send,
    set_branch_recipients,
)

__all__ = [
    "BranchRecipientsWrite",
    "Frequency",
    "Period",
    "RenderedReport",
    "ReportSend",
    "ScheduleWrite",
    "list_branches",
    "list_jobs",
    "list_schedules",
    "put_schedule",
    "render_report",
    "request_send",
    "seed_report_settings",
    "set_branch_recipients",
]
