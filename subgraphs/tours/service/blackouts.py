"""Blackout dates (issue 15 §4): days a tour, or every tour, does not run.

A blackout is global (`tour_id` None) or one tour's; only active ones count.
It blocks new departures (generation skips its days) and new bookings and
waitlist entries (`blacked_out`, called by bookings and the waitlist), but
cancels nothing silently: departures already sold on its days are listed
(`sold_departures`) for staff to act on one by one (`cancelDepartureSlot`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, select

from subgraphs.kit.errors import Problem, ServiceError
from subgraphs.tours.error_codes import ToursErrorCode as Code
from subgraphs.tours.models import BLACKOUT_TYPES, BlackoutDate, DepartureSlot, Tour
from subgraphs.tours.service import audit
from subgraphs.tours.service.changes import SYSTEM

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from subgraphs.tours.service.changes import Actor

MAX_NAME = 200
MAX_DESCRIPTION = 5000
#: A blackout longer than this is a closed tour: deactivate the tour instead.
MAX_DAYS = 366


def _applies(tour_id: uuid.UUID | None) -> Any:
    """Active blackouts of this tour and the global ones (every tour's when None)."""
    if tour_id is None:
        return BlackoutDate.active.is_(True)
    return BlackoutDate.active.is_(True) & or_(
        BlackoutDate.tour_id == tour_id, BlackoutDate.tour_id.is_(None)
    )


async def blacked_out(session: AsyncSession, tour_id: uuid.UUID, day: date) -> BlackoutDate | None:
    """The blackout that closes `day` for the tour, if any (the tour's own before a global one)."""
    return await session.scalar(
        select(BlackoutDate)
        .where(_applies(tour_id), BlackoutDate.start_date <= day, BlackoutDate.end_date >= day)
        .order_by(BlackoutDate.tour_id.is_(None), BlackoutDate.start_date, BlackoutDate.id)
        .limit(1)
    )


async def blacked_out_days(
    session: AsyncSession, tour_id: uuid.UUID | None, start: date, end: date
) -> dict[date, str]:
    """Each blacked-out day in [start, end] and the name of the blackout that closes it."""
    rows = await session.scalars(
        select(BlackoutDate)
        .where(_applies(tour_id), BlackoutDate.start_date <= end, BlackoutDate.end_date >= start)
        # a tour's own blackout names the day when a global one overlaps it
        .order_by(BlackoutDate.tour_id.is_(None).desc(), BlackoutDate.start_date.desc())
    )
    days: dict[date, str] = {}
    for row in rows:
        day = max(row.start_date, start)
        while day <= min(row.end_date, end):
            days[day] = row.name
            day += timedelta(days=1)
    return dict(sorted(days.items()))


async def listed(
    session: AsyncSession,
    tour_id: uuid.UUID | None,
    start: date | None,
    end: date | None,
    *,
    include_inactive: bool,
) -> list[BlackoutDate]:
    """Blackouts overlapping [start, end]: a tour's list includes the global ones."""
    stmt = select(BlackoutDate)
    if tour_id is not None:
        stmt = stmt.where(or_(BlackoutDate.tour_id == tour_id, BlackoutDate.tour_id.is_(None)))
    if not include_inactive:
        stmt = stmt.where(BlackoutDate.active.is_(True))
    if start is not None:
        stmt = stmt.where(BlackoutDate.end_date >= start)
    if end is not None:
        stmt = stmt.where(BlackoutDate.start_date <= end)
    return list(await session.scalars(stmt.order_by(BlackoutDate.start_date, BlackoutDate.id)))


async def sold_departures(session: AsyncSession, blackout: BlackoutDate) -> list[DepartureSlot]:
    """Live departures on the blackout's days with seats sold: staff decide what to do."""
    if not blackout.active:
        return []
    stmt = select(DepartureSlot).where(
        DepartureSlot.date >= blackout.start_date,
        DepartureSlot.date <= blackout.end_date,
        DepartureSlot.cancelled_at.is_(None),
        DepartureSlot.seats_booked > 0,
    )
    if blackout.tour_id is not None:
        stmt = stmt.where(DepartureSlot.tour_id == blackout.tour_id)
    return list(await session.scalars(stmt.order_by(DepartureSlot.starts_at, DepartureSlot.id)))


# --- writing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BlackoutData:
    """A new blackout, or an edit (None leaves a field as it is; `tour_id` is fixed)."""

    name: str | None = None
    blackout_type: str | None = None
    start_date: date | None = None
    end_date: date | None = None
    description: str | None = None
    active: bool | None = None
    tour_id: uuid.UUID | None = None


def _problems(
    name: str, blackout_type: str, start: date, end: date, description: str
) -> list[Problem]:
    problems = []
    if not name or len(name) > MAX_NAME:
        problems.append(Problem(Code.INVALID, f"A name of 1 to {MAX_NAME} characters.", "name"))
    if blackout_type not in BLACKOUT_TYPES:
        problems.append(
            Problem(Code.INVALID, f"One of {', '.join(BLACKOUT_TYPES)}.", "blackoutType")
        )
    if end < start:
        problems.append(
            Problem(Code.OUT_OF_RANGE, "The blackout ends before it starts.", "endDate")
        )
    elif (end - start).days + 1 > MAX_DAYS:
        problems.append(
            Problem(
                Code.OUT_OF_RANGE,
                f"A blackout is at most {MAX_DAYS} days; deactivate the tour instead.",
                "endDate",
            )
        )
    if len(description) > MAX_DESCRIPTION:
        problems.append(
            Problem(Code.INVALID, f"At most {MAX_DESCRIPTION} characters.", "description")
        )
    return problems


async def create_blackout(session: AsyncSession, data: BlackoutData, actor: Actor) -> BlackoutDate:
    name = " ".join((data.name or "").split())
    problems = []
    if data.start_date is None:
        problems.append(Problem(Code.REQUIRED, "A first day.", "startDate"))
    if data.end_date is None:
        problems.append(Problem(Code.REQUIRED, "A last day.", "endDate"))
    if data.tour_id is not None and await session.get(Tour, data.tour_id) is None:
        problems.append(Problem(Code.NOT_FOUND, "No such tour.", "tourId"))
    if data.start_date is not None and data.end_date is not None:
        problems += _problems(
            name, data.blackout_type or "", data.start_date, data.end_date, data.description or ""
        )
    if problems or data.start_date is None or data.end_date is None:
        raise ServiceError(problems)
    row = BlackoutDate(
        id=uuid.uuid4(),
        tour_id=data.tour_id,
        start_date=data.start_date,
        end_date=data.end_date,
        blackout_type=data.blackout_type,
        name=name,
        description=data.description or "",
        active=True if data.active is None else data.active,
        created_by=actor.user_id,
    )
    session.add(row)
    await session.flush()
    audit.record(
        session,
        entity=audit.BLACKOUT,
        entity_id=row.id,
        tour_id=row.tour_id,
        action="create",
        actor=actor.viewer,
        before=None,
        after=audit.snapshot(row),
    )
    return row


async def update_blackout(
    session: AsyncSession, blackout_id: uuid.UUID, data: BlackoutData, *, actor: Actor = SYSTEM
) -> BlackoutDate:
    row = await session.scalar(
        select(BlackoutDate).where(BlackoutDate.id == blackout_id).with_for_update()
    )
    if row is None:
        raise ServiceError.of(Code.NOT_FOUND, "No such blackout.", "id")
    before = audit.snapshot(row)
    name = row.name if data.name is None else " ".join(data.name.split())
    blackout_type = data.blackout_type or row.blackout_type
    start = data.start_date or row.start_date
    end = data.end_date or row.end_date
    description = row.description if data.description is None else data.description
    problems = _problems(name, blackout_type, start, end, description)
    if problems:
        raise ServiceError(problems)
    row.name, row.blackout_type, row.description = name, blackout_type, description
    row.start_date, row.end_date = start, end
    if data.active is not None:
        row.active = data.active
    await session.flush()
    audit.record(
        session,
        entity=audit.BLACKOUT,
        entity_id=row.id,
        tour_id=row.tour_id,
        action="update",
        actor=actor.viewer,
        before=before,
        after=audit.snapshot(row),
    )
    return row
