"""Driver and vendor confirmations of a charter vehicle: who said yes, when, and how.

A dispatcher records the confirmation a driver or vendor gave by phone, SMS
or e-mail (`record`); the driver app and vendors' portal answer come in as
method `app` through the same `confirm`. Each one is a row (the history
stays: a driver may confirm twice), completes the matching readiness task,
is audited and shows on the board.

The party confirming is the one the vehicle has now: its assigned driver,
or the vendor holding its assignment (vendors' events). A confirmation with
nobody to confirm is refused rather than recorded against no one.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from subgraphs.charters.error_codes import CharterErrorCode as Code
from subgraphs.charters.models import (
    CONFIRMATION_PARTIES,
    CONTACT_CHANNELS,
    Charter,
    CharterVehicle,
    Confirmation,
    VendorAssignmentFact,
)
from subgraphs.charters.service import audit, events, tasks
from subgraphs.charters.service.access import DISPATCH, ensure_role
from subgraphs.charters.service.vehicles import get_charter_vehicle
from subgraphs.kit.errors import ServiceError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer

NOTE_MAX = 1000
#: Clocks differ: a confirmation stamped a little ahead of ours is still now.
CLOCK_SKEW = timedelta(minutes=5)
#: How far back a dispatcher may date a confirmation it forgot to record.
BACKDATE_MAX = timedelta(days=30)
#: The readiness task each party's confirmation completes.
TASK_OF = {"driver": "driver_confirmed", "vendor": "vendor_confirmed"}


async def holding_vendor(session: AsyncSession, charter_vehicle_id: uuid.UUID) -> uuid.UUID | None:
    """The vendor whose assignment holds the vehicle now (vendors' latest word)."""
    return await session.scalar(
        select(VendorAssignmentFact.vendor_id)
        .where(
            VendorAssignmentFact.charter_vehicle_id == charter_vehicle_id,
            VendorAssignmentFact.status.in_(tasks.VENDOR_HOLDING),
        )
        .order_by(VendorAssignmentFact.as_of.desc())
        .limit(1)
    )


async def record(
    session: AsyncSession,
    charter_vehicle_id: uuid.UUID,
    *,
    party: str,
    method: str,
    actor: Viewer,
    now: datetime,
    confirmed_at: datetime | None = None,
    note: str | None = None,
) -> Confirmation:
    """A dispatcher records a driver's or vendor's confirmation it received."""
    ensure_role(actor, DISPATCH, "record confirmations")
    if party not in CONFIRMATION_PARTIES:
        raise ServiceError.of(Code.INVALID, f"{party!r} is not a party that confirms.", "party")
    if method not in CONTACT_CHANNELS:
        raise ServiceError.of(Code.INVALID, f"{method!r} is not a contact method.", "method")
    note = note.strip() if note else None
    if note and len(note) > NOTE_MAX:
        raise ServiceError.of(Code.TOO_LONG, f"A note has at most {NOTE_MAX} characters.", "note")
    at = confirmed_at or now
    if at.tzinfo is None:
        raise ServiceError.of(Code.INVALID, "Give the time with its offset.", "confirmedAt")
    if at > now + CLOCK_SKEW:
        raise ServiceError.of(
            Code.OUT_OF_RANGE, "A confirmation cannot be in the future.", "confirmedAt"
        )
    if at < now - BACKDATE_MAX:
        raise ServiceError.of(
            Code.OUT_OF_RANGE, "A confirmation is at most 30 days old.", "confirmedAt"
        )
    row, charter = await get_charter_vehicle(session, charter_vehicle_id)
    if charter.status not in tasks.TASKED:
        raise ServiceError.of(
            Code.INVALID_TRANSITION,
            f"{charter.reference} is {charter.status}: only booked, confirmed or in-progress "
            "charters are confirmed.",
            "charterVehicleId",
        )
    if party == "driver":
        party_id = row.driver_id
        if party_id is None:
            raise ServiceError.of(
                Code.INVALID,
                "This vehicle has no driver yet: assign one before recording its confirmation.",
                "party",
            )
    else:
        party_id = await holding_vendor(session, row.id)
        if party_id is None:
            raise ServiceError.of(
                Code.INVALID,
                "No vendor holds this vehicle: assign one before recording its confirmation.",
                "party",
            )
    confirmation, _ = await confirm(
        session,
        charter,
        row,
        party=party,
        party_id=party_id,
        method=method,
        at=at,
        actor=actor,
        note=note,
    )
    return confirmation


async def confirm(
    session: AsyncSession,
    charter: Charter,
    vehicle: CharterVehicle,
    *,
    party: str,
    party_id: uuid.UUID | None,
    method: str,
    at: datetime,
    actor: Viewer | None,
    note: str | None,
    announce: bool = True,
) -> tuple[Confirmation, list[uuid.UUID]]:
    """Keep one confirmation and complete its task; (the row, the task ids completed).

    The caller has checked who may confirm and locked the charter; `actor` is
    None when the party confirmed itself through a system (vendors' portal).
    """
    row = Confirmation(
        id=uuid.uuid4(),
        charter_id=charter.id,
        charter_vehicle_id=vehicle.id,
        party=party,
        party_id=party_id,
        method=method,
        recorded_by=actor.user_id if actor else None,
        confirmed_at=at,
        note=note,
    )
    session.add(row)
    await session.flush()
    audit.record(
        session,
        charter_id=charter.id,
        entity="confirmation",
        entity_id=row.id,
        action=f"confirm:{party}",
        actor=actor,
        old=None,
        new=audit.row_snapshot(row),
    )
    completed = await tasks.satisfy(
        session,
        charter.id,
        vehicle.id,
        TASK_OF[party],
        at,
        actor.user_id if actor else None,
        announce=False,
    )
    if announce:
        await events.charter_changed(
            session,
            charter,
            ["confirmations", "tasks"] if completed else ["confirmations"],
            charterVehicleId=str(vehicle.id),
            confirmationParty=party,
        )
    return row, completed
