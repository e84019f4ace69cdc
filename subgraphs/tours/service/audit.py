"""The tours audit log: every change to the catalogue and to waitlist entries.

Bookings keep their own, richer log (`service/changes.py`); this one is the
kit's before/after trail (`kit/auditing`), so an edit that changes nothing
leaves no row. Rows carry their tour, so a tour's whole history (its
schedules, departures, blackouts and waitlist) is one indexed read.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from subgraphs.kit import auditing
from subgraphs.tours.models import TourAudit

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer

TOUR = "tour"
SCHEDULE = "schedule"
DEPARTURE = "departure"
BLACKOUT = "blackout"
CONFIG = "config"
WAITLIST_ENTRY = "waitlist_entry"
ENTITIES = (TOUR, SCHEDULE, DEPARTURE, BLACKOUT, CONFIG, WAITLIST_ENTRY)

#: Seat counts move with every booking and offer, which their own logs record; a
#: departure's trail is what staff changed on it (capacity, price, open, cancelled).
SEAT_COUNTS = frozenset({"seats_booked", "seats_held", "seats_available"})

MAX_READ = 200


def snapshot(row: Any, skip: Iterable[str] = ()) -> dict[str, Any]:
    """`auditing.row_snapshot` without the bookkeeping columns and those in `skip`."""
    return auditing.row_snapshot(row, auditing.SKIPPED | set(skip))


def record(
    session: AsyncSession,
    *,
    entity: str,
    entity_id: uuid.UUID | None,
    tour_id: uuid.UUID | None,
    action: str,
    actor: Viewer | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    """Store one change in the transaction that makes it; None as actor is the system (a job).

    `at` is the clock, not the transaction's start, so the changes one
    transaction makes (a cancellation and the offers it frees) keep their order.
    """
    row = auditing.audit_row(
        TourAudit,
        actor,
        before,
        after,
        entity=entity,
        entity_id=entity_id,
        tour_id=tour_id,
        action=action,
        at=datetime.now(UTC),
    )
    if row is not None:
        session.add(row)


async def entries(
    session: AsyncSession,
    *,
    tour_id: uuid.UUID | None = None,
    entity: str | None = None,
    entity_id: uuid.UUID | None = None,
    first: int = 50,
) -> Sequence[TourAudit]:
    """The newest `first` rows matching every filter given."""
    stmt = select(TourAudit)
    if tour_id is not None:
        stmt = stmt.where(TourAudit.tour_id == tour_id)
    if entity is not None:
        stmt = stmt.where(TourAudit.entity == entity)
    if entity_id is not None:
        stmt = stmt.where(TourAudit.entity_id == entity_id)
    rows = await session.scalars(
        stmt.order_by(TourAudit.at.desc(), TourAudit.id.desc()).limit(first)
    )
    return rows.all()
