"""The sales subgraph's scheduled jobs (run by the kit's job runner)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from subgraphs.kit.jobs import ScheduledJob
from subgraphs.sales.service import follow_ups

if TYPE_CHECKING:
    from subgraphs.kit.context import Services
    from subgraphs.kit.settings import Settings

log = logging.getLogger(__name__)


async def _follow_ups(services: Services, due: datetime) -> None:
    # Decided as of the time the run fell due, so a retry decides the same; a
    # second run announces nothing twice (follow_ups rows are unique).
    settings = services.settings
    async with services.sessions() as session, session.begin():
        decided = await follow_ups.decide(
            session,
            now=due.astimezone(UTC),
            quote_days=settings.sales_quote_follow_up_days,
            lead_days=settings.sales_lead_follow_up_days,
        )
    log.info("sales.follow_ups: %d follow-ups due", len(decided))


def jobs(settings: Settings) -> list[ScheduledJob]:
    if not settings.sales_follow_up_job_enabled:
        return []
    return [ScheduledJob("sales.follow_ups", settings.sales_follow_up_job_cron, _follow_ups)]
