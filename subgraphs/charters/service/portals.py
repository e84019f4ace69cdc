"""What each portal lists: a client's charters, a driver's trips.

Plain statements over charters' own tables; who may read which field of
what they list is `visibility.py`'s business, applied by the field gate.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.dialects.postgresql import Range

from subgraphs.charters.models import Charter, CharterVehicle

#: A driver's portal shows today and the next seven days.
TRIP_WINDOW_DAYS = 7
#: Trips a driver's window can hold: they never overlap (exclusion constraint).
MAX_TRIPS = 100
#: Charters whose trips a driver still has to drive or has driven.
TRIP_STATUSES = ("booked", "confirmed", "in_progress", "completed")


@dataclass(frozen=True)
class ClientCharterFilter:
    statuses: tuple[str, ...] = ()
    pickup_from: datetime | None = None
    pickup_to: datetime | None = None


def client_charters(client_id: uuid.UUID, where: ClientCharterFilter) -> Select[Any]:
    """The client company's charters (quotes included, templates never)."""
    stmt = select(Charter).where(Charter.client_id == client_id, Charter.is_template.is_(False))
    if where.statuses:
        stmt = stmt.where(Charter.status.in_(where.statuses))
    if where.pickup_from is not None:
        stmt = stmt.where(Charter.pickup_at >= where.pickup_from)
    if where.pickup_to is not None:
        stmt = stmt.where(Charter.pickup_at < where.pickup_to)
    return stmt


def trip_window(today: date, zone: str) -> tuple[datetime, datetime]:
    """From the start of today to the end of the seventh day after, in the operator's zone."""
    tz = ZoneInfo(zone)
    start = datetime.combine(today, time(0), tzinfo=tz)
    end = datetime.combine(today + timedelta(days=TRIP_WINDOW_DAYS + 1), time(0), tzinfo=tz)
    return start, end


def driver_trips(driver_id: uuid.UUID, start: datetime, end: datetime) -> Select[Any]:
    """The driver's vehicles on live charters whose time overlaps the window, soonest first."""
    return (
        select(CharterVehicle)
        .join(Charter, Charter.id == CharterVehicle.charter_id)
        .where(
            CharterVehicle.driver_id == driver_id,
            CharterVehicle.busy.overlaps(Range(start, end, bounds="[)")),
            Charter.status.in_(TRIP_STATUSES),
            Charter.is_template.is_(False),
        )
        .order_by(func.lower(CharterVehicle.busy), CharterVehicle.id)
        .limit(MAX_TRIPS)
    )
