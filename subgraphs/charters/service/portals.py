"""What each portal lists (a client's charters, a driver's trips) and what it is told.

Plain statements over charters' own tables; who may read which field of
what they list is `visibility.py`'s business, applied by the field gate.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.dialects.postgresql import Range

from subgraphs.charters.error_codes import CharterErrorCode as Code
from subgraphs.charters.models import Charter, CharterVehicle
from subgraphs.charters.service import audit
from subgraphs.charters.service import charters as charter_service
from subgraphs.charters.service.access import DISPATCH, ensure_can_edit
from subgraphs.kit.errors import Problem, ServiceError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer

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


#: The longest instruction text and contact fields (the columns' sizes).
MAX_INSTRUCTIONS = 4000
MAX_CONTACT_NAME = 200
MAX_CONTACT_PHONE = 40


@dataclass(frozen=True)
class Instructions:
    """What the people running a trip are told: each text for its own audience."""

    pickup_contact_name: str | None = None
    pickup_contact_phone: str | None = None
    vendor_instructions: str | None = None
    driver_instructions: str | None = None


_LIMITS = {
    "pickup_contact_name": ("pickupContactName", MAX_CONTACT_NAME),
    "pickup_contact_phone": ("pickupContactPhone", MAX_CONTACT_PHONE),
    "vendor_instructions": ("vendorInstructions", MAX_INSTRUCTIONS),
    "driver_instructions": ("driverInstructions", MAX_INSTRUCTIONS),
}


async def set_instructions(
    session: AsyncSession, charter_id: uuid.UUID, values: Instructions, actor: Viewer
) -> Charter:
    """Replace the pickup contact and the instructions; audited (blank clears a field).

    Dispatch writes them for any charter (drivers' instructions are theirs);
    a sales agent only for the charters it owns, like any edit.
    """
    charter = await charter_service.get(session, charter_id, lock=True)
    if not actor.has_any_role(*DISPATCH):
        ensure_can_edit(actor, charter)
    problems = []
    cleaned: dict[str, str | None] = {}
    for attribute, (field, limit) in _LIMITS.items():
        text = (getattr(values, attribute) or "").strip()
        if len(text) > limit:
            problems.append(Problem(Code.TOO_LONG, f"At most {limit} characters.", field))
        cleaned[attribute] = text or None
    if problems:
        raise ServiceError(problems)
    old = audit.row_snapshot(charter)
    for attribute, text in cleaned.items():
        setattr(charter, attribute, text)
    await session.flush()
    audit.charter_updated(session, charter, "set_instructions", actor, old)
    return charter
