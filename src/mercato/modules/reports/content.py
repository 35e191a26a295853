"""The report of one branch for one period: numbers gathered through the analytics and
insights services (and the tenant's Merchant Center item statuses from channels), rendered
as inlined-CSS HTML, plain text and a PNG chart."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

import css_inline
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession

from mercato.kernel.formats import Formats
from mercato.kernel.permissions import Permission
from mercato.kernel.security import PrincipalKind, TenantPrincipal
from mercato.modules.analytics import (
    Granularity,
    Metric,
    TopProductsBy,
    overview,
    timeseries,
    top_products,
)
from mercato.modules.channels import feed_item_counts
from mercato.modules.identity import tenant_facts
from mercato.modules.insights import StatusFilter, TaskItem, TaskList, list_tasks
from mercato.modules.reports.chart_png import bar_chart_png

CHART_CID = "revenue-chart"
KPI_LABELS = (
    ("revenue", "Revenue"),
    ("purchases", "Orders"),
    ("average_order_value", "Average order value"),
    ("sessions", "Sessions"),
    ("users", "Visitors"),
    ("product_views", "Product views"),
    ("add_to_carts", "Added to cart"),
    ("conversion_rate", "Conversion rate"),
)
TASK_LABELS = {
    TaskList.purchase_followups: "Purchase follow-ups",
    TaskList.cart_abandonment: "Abandoned carts",
    TaskList.search_gaps: "Search gaps",
    TaskList.repeat_visitors: "Repeat visitors",
}
MERCHANT_LABELS = (
    ("approved", "Products approved"),
    ("pending", "Products pending review"),
    ("disapproved", "Products disapproved"),
)
REPORT_PERMISSIONS = frozenset(
    {Permission.ANALYTICS_READ, Permission.TASKS_READ, Permission.MASTERDATA_READ}
)


def report_principal(tenant_id: uuid.UUID) -> TenantPrincipal:
    """The identity reports read data as: no user, only the reads a report needs."""
    return TenantPrincipal(
        kind=PrincipalKind.api_key,
        subject_id=uuid.UUID(int=0),
        permissions=REPORT_PERMISSIONS,
        tenant_id=tenant_id,
    )


@lru_cache(maxsize=1)
def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("mercato.modules.reports", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=False,
    )


@dataclass(frozen=True)
class RenderedReport:
    subject: str
    html: str
    text: str
    attachments: list[dict[str, str]]
    figures: dict[str, Any]  # the raw numbers, for the job record and tests


MONEY_KPIS = frozenset({"revenue", "average_order_value"})


def _format(formats: Formats, name: str, value: Any) -> str:
    if name == "conversion_rate":
        return formats.percent(value)
    if name in MONEY_KPIS:
        return formats.money(value)
    return formats.number(value)


def _change(formats: Formats, value: float | None) -> tuple[str, str]:
    if value is None:
        return "n/a", ""
    text = formats.percent(value, digits=1)
    if value > 0:
        return "+" + text, "up"
    return text, "down" if value < 0 else ""


async def render_report(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    *,
    location_code: str,
    branch_name: str | None,
    start: date,
    end: date,
) -> RenderedReport:
    """Gather and render one branch's report for `start`..`end` (local days)."""
    principal = report_principal(tenant_id)
    location = location_code
    kpis = await overview(session, principal, start=start, end=end, location=location, compare=True)
    assert kpis.previous is not None
    assert kpis.change is not None
    series = await timeseries(
        session,
        principal,
        metric=Metric.revenue,
        start=start,
        end=end,
        granularity=Granularity.day,
        location=location,
    )
    best = await top_products(
        session,
        principal,
        start=start,
        end=end,
        by=TopProductsBy.revenue,
        limit=5,
        location=location,
    )
    tasks: list[dict[str, Any]] = []
    carts: list[TaskItem] = []
    for task_list, label in TASK_LABELS.items():
        page = await list_tasks(
            session, principal, task_list, location=location, status=StatusFilter.open, limit=500
        )
        tasks.append({"label": label, "count": len(page.data)})
        if task_list is TaskList.cart_abandonment:
            carts = page.data[:3]
    merchant = await feed_item_counts(session, tenant_id)
    tenant = await tenant_facts(session, tenant_id)
    formats = tenant.formats if tenant else Formats()
    rows = []
    for name, label in KPI_LABELS:
        change, direction = _change(formats, kpis.change.get(name))
        rows.append(
            {
                "label": label,
                "value": _format(formats, name, getattr(kpis, name)),
                "previous": _format(formats, name, getattr(kpis.previous, name)),
                "change": change,
                "direction": direction,
            }
        )
    tenant_name = tenant.name if tenant else "Your shop"
    branch_label = branch_name or location_code or "Online"
    subject = f"{tenant_name} · {branch_label}: report {start} to {end}"
    assert kpis.previous_range is not None
    context = {
        "subject": subject,
        "tenant_name": tenant_name,
        "branch_label": branch_label,
        "period_start": formats.day(start),
        "period_end": formats.day(end),
        "previous_start": formats.day(kpis.previous_range.start),
        "previous_end": formats.day(kpis.previous_range.end),
        "kpis": rows,
        "top_products": [
            {
                "product_id": p.product_id,
                "units": formats.number(p.units),
                "revenue": formats.money(p.revenue),
                "views": formats.number(p.views),
            }
            for p in best.data
        ],
        "tasks": [{**task, "count": formats.number(task["count"])} for task in tasks],
        "top_carts": [
            {
                "who": item.contact or item.user_id,
                "amount": formats.money(item.amount, item.details.get("currency")),
            }
            for item in carts
        ],
        "merchant_items": [
            {"label": label, "count": formats.number(merchant[status])}
            for status, label in MERCHANT_LABELS
        ]
        if any(merchant.values())
        else [],
        "chart_cid": CHART_CID,
    }
    html = css_inline.inline(_templates().get_template("report.html").render(context))
    plain = _templates().get_template("report.txt").render(context)
    png = bar_chart_png([(p.t.strftime("%d.%m"), float(p.value)) for p in series.points])
    figures = {name: str(getattr(kpis, name)) for name, _ in KPI_LABELS} | {
        "top_products": [p.product_id for p in best.data],
        "merchant_items": merchant,
    }
    return RenderedReport(
        subject=subject,
        html=html,
        text=plain,
        attachments=[
            {
                "cid": CHART_CID,
                "content_type": "image/png",
                "data_b64": base64.b64encode(png).decode(),
            }
        ],
        figures=figures,
    )


def last_full_period(today: date, days: int) -> tuple[date, date]:
    """The `days` local days that ended yesterday."""
    end = today - timedelta(days=1)
    return end - timedelta(days=days - 1), end
