"""Reports' scheduled jobs (the kit's job runner; cron in the operator's time zone)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from subgraphs.kit.jobs import ScheduledJob
    from subgraphs.kit.settings import Settings


#: Schedules' fire times are minutes: the delivery job looks every minute.
DELIVERIES_CRON = "* * * * *"


def jobs(settings: Settings) -> list[ScheduledJob]:
    from subgraphs.kit.jobs import ScheduledJob
    from subgraphs.reports.service.deliveries import delivery_job
    from subgraphs.reports.service.runner import purge_job

    return [
        # Runs past their retention (settings.reports_run_retention_days), when the setting says.
        ScheduledJob("reports.runs_purge", settings.reports_runs_purge_cron, purge_job),
        # One attempt: a delivery retries itself on the next ticks (service/deliveries.py).
        ScheduledJob("reports.deliveries", DELIVERIES_CRON, delivery_job, max_attempts=1),
    ]
