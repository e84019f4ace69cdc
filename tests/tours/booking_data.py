"""Tours and departures for the booking tests, written straight to the tables.

The booking tests need a departure, not the catalogue's generation rules,
so they insert the rows themselves (the catalogue's own tests cover those).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from protocol.roles import Role
from protocol.viewer import Viewer
from subgraphs.tours.models import DepartureSlot, Tour
from subgraphs.tours.service.bookings import NewBooking
from subgraphs.tours.service.changes import Actor

ZONE = "America/Chicago"
#: A fixed "now" for service calls: departures are placed relative to it.
NOW = datetime(2026, 6, 1, 15, 0, tzinfo=UTC)

ANONYMOUS = Actor(ip_address="203.0.113.7", user_agent="pytest")
STAFF = Actor(viewer=Viewer(user_id=uuid.uuid4(), roles=frozenset({Role.SALES_AGENT})))


def customer(user_id: uuid.UUID | None = None) -> Actor:
    return Actor(
        viewer=Viewer(user_id=user_id or uuid.uuid4(), roles=frozenset({Role.CLIENT})),
        ip_address="198.51.100.4",
        user_agent="pytest-customer",
    )


async def make_tour(session: AsyncSession, **fields: object) -> Tour:
    tour = Tour(
        name=str(fields.pop("name", "River walk")),
        duration_minutes=120,
        base_price=Decimal("75.00"),
        time_zone=ZONE,
        meeting_point="Dock 3",
        **fields,
    )
    session.add(tour)
    await session.flush()
    return tour


async def make_slot(
    session: AsyncSession,
    tour: Tour,
    *,
    days_ahead: int = 10,
    hours_ahead: float | None = None,
    capacity: int = 15,
    price: str = "75.00",
    min_capacity: int = 0,
    now: datetime = NOW,
) -> DepartureSlot:
    """A departure `days_ahead` days (or `hours_ahead` hours) after `now`."""
    zone = ZoneInfo(ZONE)
    if hours_ahead is not None:
        starts = now + timedelta(hours=hours_ahead)
    else:
        day = (now.astimezone(zone) + timedelta(days=days_ahead)).date()
        starts = datetime.combine(day, time(9, 0), zone).astimezone(UTC)
    local = starts.astimezone(zone)
    ends = starts + timedelta(minutes=tour.duration_minutes)
    slot = DepartureSlot(
        tour_id=tour.id,
        date=local.date(),
        local_start=local.time().replace(second=0, microsecond=0),
        local_end=ends.astimezone(zone).time().replace(second=0, microsecond=0),
        time_zone=ZONE,
        starts_at=starts,
        ends_at=ends,
        max_capacity=capacity,
        min_capacity=min_capacity,
        price_per_person=Decimal(price),
    )
    session.add(slot)
    await session.flush()
    return slot


def new_booking(slot: DepartureSlot, adults: int = 2, **fields: object) -> NewBooking:
    values: dict[str, object] = {
        "customer_name": "Ana Lima",
        "customer_email": "ana@example.com",
        **fields,
    }
    return NewBooking(slot_id=slot.id, adults=adults, **values)  # type: ignore[arg-type]
