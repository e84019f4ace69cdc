"""Notifications' scheduled jobs (the kit's job runner; cron in the operator's time zone).

- `notifications.payment_reminders` (daily): deposit and balance reminders for open
  instalments due in 7 and in 2 days, by the operator's calendar.
- `notifications.trip_reminders` (hourly): a reminder the day before each booked trip, by
  the calendar where the trip starts (a job running hourly reaches every zone's "day before").

Both are safe to run twice, on two replicas at once: each message's idempotency key
(`<kind>:<instalment>:<days>`, `trip_reminder:<charter>`) is unique, so a second run decides
nothing new (`service/client_messages.py`).

- `notifications.attachments_purge` (daily): report files older than the retention lose
  their bytes, their messages stay (`service/attachments_purge.py`); safe twice too.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from subgraphs.kit.jobs import ScheduledJob
from subgraphs.notifications.service import attachments_purge, client_messages

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from subgraphs.kit.context import Services
    from subgraphs.kit.settings import Settings

log = logging.getLogger(__name__)

PAYMENT_REMINDERS = "notifications.payment_reminders"
TRIP_REMINDERS = "notifications.trip_reminders"
ATTACHMENTS_PURGE = "notifications.attachments_purge"


async def run_payment_reminders(
    sessions: async_sessionmaker[AsyncSession], today: date, now: datetime
) -> int:
    """Decide the reminders for `today` (an operator-local date); how many were new."""
    async with sessions() as session, session.begin():
        decided = await client_messages.payment_reminders(session, today, now)
    log.info("payment reminders for %s: %d new", today, len(decided))
    return len(decided)


async def run_trip_reminders(sessions: async_sessionmaker[AsyncSession], now: datetime) -> int:
    async with sessions() as session, session.begin():
        decided = await client_messages.trip_reminders(session, now)
    log.info("trip reminders at %s: %d new", now.isoformat(), len(decided))
    return len(decided)


async def _payment_reminders(services: Services, due: datetime) -> None:
    zone = ZoneInfo(services.settings.operator_time_zone)
    local = due.astimezone(zone) if due.tzinfo else due.replace(tzinfo=zone)
    await run_payment_reminders(services.sessions, local.date(), datetime.now(UTC))


async def _trip_reminders(services: Services, due: datetime) -> None:
    await run_trip_reminders(services.sessions, datetime.now(UTC))


def jobs(settings: Settings) -> list[ScheduledJob]:
    return [
        ScheduledJob(
            PAYMENT_REMINDERS, settings.notifications_payment_reminders_cron, _payment_reminders
        ),
        ScheduledJob(TRIP_REMINDERS, settings.notifications_trip_reminders_cron, _trip_reminders),
        ScheduledJob(
            ATTACHMENTS_PURGE,
            settings.notifications_attachments_purge_cron,
            attachments_purge.purge_job,
        ),
    ]
