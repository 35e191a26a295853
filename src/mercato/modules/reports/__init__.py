"""Reports: per-branch HTML e-mail reports (KPIs vs the previous period, top products, open
tasks, a revenue chart), sent on demand or on daily/weekly schedules in the tenant's zone."""

from mercato.modules.reports.content import RenderedReport, render_report

__all__ = ["RenderedReport", "render_report"]
