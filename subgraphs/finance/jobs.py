"""Finance's scheduled jobs (run by the kit's job runner, cron in the operator's time zone).

- `finance.month_end` (the 1st, 06:00): each client's consolidated invoice for the
  previous month (`service/consolidated_invoices.py`).
- `finance.overdue` (daily): sent and partly paid invoices past due, and approved
  vendor bills past due, become overdue.
- `finance.autopay` (daily): autopay clients' instalments due that day (or overdue
  and not yet tried that day) charged to their saved method
  (`service/autopay.py`: once per instalment and day, by its claim row and key).

Both are safe to run twice: the month end per period (live-invoice checks under
row locks, the unique period index, its `daily_runs` row), the overdue job per day
(its `daily_runs` row, claimed first in the same transaction, so a second run that
day, even concurrent on another replica, waits and then finds the day done; a
failed run rolls back with its claim, so the retry redoes it).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, update
from sqlalchemy.dialects.postgresql import insert

from protocol.viewer import ANONYMOUS
from subgraphs.finance.models import DailyRun
from subgraphs.finance.service import autopay, bills, invoices
from subgraphs.finance.service.consolidated_invoices import run_month_end
from subgraphs.finance.service.providers import payment_provider
from subgraphs.kit.jobs import ScheduledJob

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from subgraphs.kit.context import Services
    from subgraphs.kit.settings import Settings

log = logging.getLogger(__name__)

MONTH_END = "finance.month_end"
OVERDUE = "finance.overdue"
AUTOPAY = "finance.autopay"


@dataclass
class Overdue:
    run_on: date
    skipped: bool = False
    invoices: list[str] = field(default_factory=list)
    bills: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["run_on"] = self.run_on.isoformat()
        return data


async def run_overdue(sessions: async_sessionmaker[AsyncSession], today: date) -> Overdue:
    """Mark what fell due before `today` (an operator-local date) overdue, once that day."""
    summary = Overdue(run_on=today)
    async with sessions() as session, session.begin():
        claimed = await session.scalar(
            insert(DailyRun)
            .values(job=OVERDUE, run_on=today)
            .on_conflict_do_nothing(index_elements=[DailyRun.job, DailyRun.run_on])
            .returning(DailyRun.job)
        )
        if claimed is None:
            summary.skipped = True
            return summary
        summary.invoices = await invoices.mark_overdue(session, today, ANONYMOUS)
        summary.bills = [bill.number for bill in await bills.mark_overdue(session, today)]
        await session.execute(
            update(DailyRun)
            .where(DailyRun.job == OVERDUE, DailyRun.run_on == today)
            .values(finished_at=func.now(), summary=summary.as_json())
        )
    log.info("overdue job for %s: %s", today, summary.as_json())
    return summary


async def _month_end(services: Services, due: datetime) -> None:
    settings = services.settings
    await run_month_end(
        services.sessions,
        due.date(),  # the runner's time is the operator's: the 1st of the new month
        zone=ZoneInfo(settings.operator_time_zone),
        send=settings.finance_month_end_send,
    )


async def _overdue(services: Services, due: datetime) -> None:
    await run_overdue(services.sessions, due.date())


async def _autopay(services: Services, due: datetime) -> None:
    summary = await autopay.run_autopay(
        services.sessions, due.date(), payment_provider(services.settings)
    )
    if summary.unavailable:  # the runner's retry charges them, with the same keys
        raise RuntimeError(
            f"the provider did not answer for {len(summary.unavailable)} instalments"
        )


def jobs(settings: Settings) -> list[ScheduledJob]:
    return [
        ScheduledJob(MONTH_END, settings.finance_month_end_cron, _month_end),
        ScheduledJob(OVERDUE, settings.finance_overdue_cron, _overdue),
    ]


def autopay_jobs(settings: Settings) -> list[ScheduledJob]:
    """Issue 14's autopay run, kept apart from `jobs` whose two-job shape tests unpack."""
    return [ScheduledJob(AUTOPAY, settings.finance_autopay_cron, _autopay)]
