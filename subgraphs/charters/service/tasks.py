"""Readiness tasks: what must be true before a booked charter departs, and by when.

Each kind is due a fixed time before pickup (`PLAN`); per-vehicle kinds get
one task per charter vehicle, charter-wide kinds one per charter. A task
completes itself when its condition becomes true (`satisfy`), whichever
subgraph the fact came from (vendors' events reach charters through
`service/vendor_assignments.py`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import update

from subgraphs.charters.models import DispatchTask

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

#: Statuses a task is still open in.
OPEN = ("pending", "in_progress")


@dataclass(frozen=True)
class Step:
    kind: str
    minutes_before_pickup: int
    per_vehicle: bool


DAY = 24 * 60
#: Seed 001 section 8's readiness steps, in the order a dispatcher works them.
PLAN = (
    Step("vehicle_assigned", 7 * DAY, per_vehicle=True),
    Step("vendor_assigned", 5 * DAY, per_vehicle=True),
    Step("vendor_confirmed", 3 * DAY, per_vehicle=True),
    Step("driver_assigned", 2 * DAY, per_vehicle=True),
    Step("driver_confirmed", DAY, per_vehicle=True),
    Step("route_verified", DAY, per_vehicle=False),
    Step("documents_ready", DAY, per_vehicle=False),
)


async def satisfy(
    session: AsyncSession,
    charter_id: uuid.UUID,
    charter_vehicle_id: uuid.UUID | None,
    kind: str,
    at: datetime,
    by: uuid.UUID | None = None,
) -> list[uuid.UUID]:
    """Complete the open task of `kind` (its condition just became true); the ids completed.

    `by` is None when the fact completed it (an event, an assignment), a
    user when a person did. Completing an already completed task is a no-op.
    """
    done = await session.scalars(
        update(DispatchTask)
        .where(
            DispatchTask.charter_id == charter_id,
            DispatchTask.charter_vehicle_id.is_(None)
            if charter_vehicle_id is None
            else DispatchTask.charter_vehicle_id == charter_vehicle_id,
            DispatchTask.kind == kind,
            DispatchTask.status.in_(OPEN),
        )
        .values(status="completed", completed_at=at, completed_by=by, overdue_since=None)
        .returning(DispatchTask.id)
    )
    return list(done)
