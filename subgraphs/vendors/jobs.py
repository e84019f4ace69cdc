"""The vendors subgraph's scheduled jobs (run by the kit's job runner)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from subgraphs.kit.jobs import ScheduledJob
from subgraphs.vendors.service.compliance_job import run

if TYPE_CHECKING:
    from subgraphs.kit.context import Services
    from subgraphs.kit.settings import Settings


async def _compliance(services: Services, due: datetime) -> None:
    # The operator's day it fell due on; a second run that day is skipped (DailyRun).
    await run(services.sessions, today=due.date())


def jobs(settings: Settings) -> list[ScheduledJob]:
    return [ScheduledJob("vendors.compliance", settings.compliance_job_cron, _compliance)]
