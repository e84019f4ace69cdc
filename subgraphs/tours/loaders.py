"""Tours' dataloaders: one statement per kind of row per request.

Others add their loaders below (additively); the catalogue's come first.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, or_, select

from subgraphs.kit.loaders import ByIdLoader, ByParentIdLoader, SessionLoader
from subgraphs.tours import models

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


class TourByIdLoader(ByIdLoader[models.Tour]):
    model = models.Tour


class ScheduleByIdLoader(ByIdLoader[models.Schedule]):
    model = models.Schedule


class DepartureSlotByIdLoader(ByIdLoader[models.DepartureSlot]):
    model = models.DepartureSlot


class SchedulesByTourIdLoader(ByParentIdLoader[models.Schedule]):
    model = models.Schedule
    parent_column = "tour_id"
    order_by = ("tour_id", "start_time", "name", "id")


#: (tour id, first day, last day, include cancelled): a tour's departures in a range.
DeparturesKey = tuple[uuid.UUID, date, date, bool]


class DeparturesByTourLoader(SessionLoader[DeparturesKey, list[Any]]):
    """`Tour.departures(from, to)` of many tours: one statement per distinct range asked."""

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[DeparturesKey]
    ) -> list[list[Any]]:
        table = models.DepartureSlot.__table__
        by_range: dict[tuple[date, date, bool], set[uuid.UUID]] = defaultdict(set)
        for tour_id, start, end, cancelled in keys:
            by_range[(start, end, cancelled)].add(tour_id)
        found: dict[DeparturesKey, list[Any]] = defaultdict(list)
        for (start, end, cancelled), tours in by_range.items():
            stmt = select(table).where(
                table.c.tour_id.in_(tours), table.c.date >= start, table.c.date <= end
            )
            if not cancelled:
                stmt = stmt.where(table.c.cancelled_at.is_(None))
            for row in (await session.execute(stmt.order_by(table.c.starts_at, table.c.id))).all():
                found[(row.tour_id, start, end, cancelled)].append(row)
        return [found.get(key, []) for key in keys]


class SoldDeparturesByBlackoutIdLoader(SessionLoader[uuid.UUID, list[Any]]):
    """`TourBlackout.soldDepartures`: live departures with seats sold on its days, in one join."""

    async def load_batch(self, session: AsyncSession, keys: Sequence[uuid.UUID]) -> list[list[Any]]:
        slot = models.DepartureSlot.__table__
        blackout = models.BlackoutDate.__table__
        stmt = (
            select(blackout.c.id.label("blackout_id"), slot)
            .join(
                blackout,
                and_(
                    slot.c.date >= blackout.c.start_date,
                    slot.c.date <= blackout.c.end_date,
                    or_(blackout.c.tour_id.is_(None), blackout.c.tour_id == slot.c.tour_id),
                ),
            )
            .where(
                blackout.c.id.in_(keys),
                blackout.c.active.is_(True),
                slot.c.cancelled_at.is_(None),
                slot.c.seats_booked > 0,
            )
            .order_by(slot.c.starts_at, slot.c.id)
        )
        grouped: dict[uuid.UUID, list[Any]] = defaultdict(list)
        for row in (await session.execute(stmt)).all():
            grouped[row.blackout_id].append(row)
        return [grouped.get(key, []) for key in keys]


# --- bookings (H2) -------------------------------------------------------------


class BookingsBySlotIdLoader(ByParentIdLoader[models.Booking]):
    """`DepartureSlot.bookings`: every booking of many departures in one statement."""

    model = models.Booking
    parent_column = "slot_id"
    order_by = ("slot_id", "created_at", "id")


class ChangesByBookingIdLoader(ByParentIdLoader[models.BookingChange]):
    """`TourBooking.changes`: the change logs of many bookings in one statement, oldest first."""

    model = models.BookingChange
    parent_column = "booking_id"
    order_by = ("booking_id", "created_at", "id")


# --- waitlist (H3) -------------------------------------------------------------


class BookingByIdLoader(ByIdLoader[models.Booking]):
    """`TourWaitlistEntry.booking`: the bookings accepted offers became, in one statement."""

    model = models.Booking
