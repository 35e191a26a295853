"""Feedback jobs: the daily check of each tenant's satisfaction against its threshold."""

from __future__ import annotations

from mercato.kernel.jobs import periodic, task
from mercato.kernel.logging import get_logger
from mercato.modules.feedback.satisfaction_alerts import alert_unsatisfied_tenants

log = get_logger("mercato.feedback.jobs")


@periodic("20 7 * * *", periodic_id="feedback-satisfaction-alerts")
@task("feedback.check_satisfaction", queue="default", timeout_s=900)
async def check_satisfaction(*, timestamp: int) -> None:
    alerted = await alert_unsatisfied_tenants()
    if alerted:
        log.info("satisfaction_alerts_sent", tenants=alerted)
