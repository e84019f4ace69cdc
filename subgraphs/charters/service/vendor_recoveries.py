"""Recoveries a vendor caused (issue 16 §2, vendor performance): `Vendor.recoveryCount`.

A recovery case counts against the vendor that held the charter vehicle when
the case opened: `recovery_cases.previous_vendor_id`, which recovery fills
from vendors' assignment facts (`vendor_assignment_facts`) at that moment,
whether the case opened by hand or on the vendor's decline. Not every vendor
ever assigned to the vehicle: the replacement a case found did not cause it.
A driver case (the operator's own driver) names no vendor and counts for
none. Cases are counted by when they opened, `[from, to)`, whatever their
status now (a resolved case was still a recovery).

One statement per window asked, however many vendors: the loader batches
every vendor of a request asking the same window.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from subgraphs.charters.models import RecoveryCase
from subgraphs.charters.service.utilisation import check_window

#: The window when none is given: the 90 days to now.
DEFAULT_WINDOW = timedelta(days=90)


def window(
    start: datetime | None, end: datetime | None, now: datetime
) -> tuple[datetime, datetime]:
    """`[from, to)` with the defaults filled in: `to` now, `from` 90 days before `to`."""
    end = end or now
    start = start or end - DEFAULT_WINDOW
    check_window(start, end)
    return start, end


async def recovery_counts(
    session: AsyncSession, vendor_ids: Sequence[uuid.UUID], start: datetime, end: datetime
) -> dict[uuid.UUID, int]:
    """Recovery cases opened in `[start, end)` per vendor (vendors with none: 0)."""
    rows = (
        await session.execute(
            select(RecoveryCase.previous_vendor_id, func.count())
            .where(
                RecoveryCase.previous_vendor_id.in_(set(vendor_ids)),
                RecoveryCase.opened_at >= start,
                RecoveryCase.opened_at < end,
            )
            .group_by(RecoveryCase.previous_vendor_id)
        )
    ).all()
    counted = {vendor: int(count) for vendor, count in rows if vendor is not None}
    return {vendor: counted.get(vendor, 0) for vendor in vendor_ids}
