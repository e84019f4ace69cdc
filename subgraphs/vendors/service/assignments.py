"""Which vendor serves a charter vehicle, and the vendor's answer.

At most one assignment holds a charter vehicle at a time: a partial unique
index decides, whatever the concurrency. Only an active, compliant vendor
can be given work.

Who moves an assignment to each status is `MOVED_BY`: the vendor (or staff
for it) answers an offer, staff cancel, and the trip itself moves a
confirmed assignment to `in_progress` when the charter starts and to
`completed` when it ends (`follow_trip`, called by the projection of
charters' events). Nobody sets those two by hand: they say what happened
on the road, which charters' dispatch knows and vendors only hears.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from subgraphs.kit.errors import ServiceError
from subgraphs.kit.outbox import emit
from subgraphs.vendors import states
from subgraphs.vendors.error_codes import VendorErrorCode as Code
from subgraphs.vendors.models import CharterVehicleFacts, VendorAssignment, outbox
from subgraphs.vendors.service import audit
from subgraphs.vendors.service.access import STAFF_EDIT, ensure_role, ensure_vendor_scope
from subgraphs.vendors.service.certifications import certifications_of, compliance_of
from subgraphs.vendors.service.projection import charter_of_vehicle
from subgraphs.vendors.service.vendors import get as get_vendor

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer
    from subgraphs.vendors.models import Vendor


#: Who moves an assignment into each status: "vendor" (its own users, or
#: staff with `STAFF_EDIT` for it), "staff" (`STAFF_EDIT`), "trip" (only
#: `follow_trip`, from charters' events). Targets not listed are never moved to.
MOVED_BY: Mapping[str, str] = {
    "confirmed": "vendor",
    "declined": "vendor",
    "recovery_requested": "vendor",
    "cancelled": "staff",  # and the charter's own cancellation (TRIP_MOVES)
    "in_progress": "trip",
    "completed": "trip",
}
#: Charter status -> {assignment status -> the status the trip moves it to}.
#: A confirmed assignment goes straight to completed when the end of a trip
#: arrives without its start (an event missed, or both in one version jump).
TRIP_MOVES: Mapping[str, Mapping[str, str]] = {
    "in_progress": {"confirmed": "in_progress"},
    "completed": {"confirmed": "completed", "in_progress": "completed"},
    # A cancelled charter releases every vendor still holding it (announced to each).
    "cancelled": {
        "offered": "cancelled",
        "confirmed": "cancelled",
        "recovery_requested": "cancelled",
    },
}


async def ensure_eligible(
    session: AsyncSession, vendor: Vendor, required: Sequence[str], field: str = "vendorId"
) -> None:
    """Active and compliant, or a user error saying what is missing."""
    problems = []
    if vendor.status != "active":
        problems.append(f"the vendor is {vendor.status}")
    compliance = compliance_of(
        await certifications_of(session, vendor.id), required, datetime.now(UTC).date()
    )
    if compliance.missing:
        problems.append("missing " + ", ".join(m.upper() for m in compliance.missing))
    if problems:
        raise ServiceError.of(
            Code.NOT_ELIGIBLE,
            f"{vendor.business_name} is not eligible: {'; '.join(problems)}.",
            field,
        )


async def assign(
    session: AsyncSession,
    *,
    charter_vehicle_id: uuid.UUID,
    vendor_id: uuid.UUID,
    amount: Decimal,
    actor: Viewer,
    required: Sequence[str],
    bid_id: uuid.UUID | None = None,
) -> VendorAssignment:
    ensure_role(actor, STAFF_EDIT, "assign vendors")
    if amount < 0:
        raise ServiceError.of(Code.OUT_OF_RANGE, "The amount cannot be negative.", "amount")
    charter = await charter_of_vehicle(session, charter_vehicle_id)
    if charter is None:
        raise ServiceError.of(
            Code.NOT_FOUND,
            f"Charter vehicle {charter_vehicle_id} is not known.",
            "charterVehicleId",
        )
    if charter.status in ("cancelled", "completed"):
        raise ServiceError.of(
            Code.INVALID_TRANSITION, f"{charter.reference} is {charter.status}.", "charterVehicleId"
        )
    vendor = await get_vendor(session, vendor_id)
    await ensure_eligible(session, vendor, required)
    row = VendorAssignment(
        id=uuid.uuid4(),
        charter_vehicle_id=charter_vehicle_id,
        charter_id=charter.charter_id,
        vendor_id=vendor.id,
        bid_id=bid_id,
        amount=amount,
        status="offered",
        created_by=actor.user_id,
    )
    session.add(row)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError as exc:
        raise ServiceError.of(
            Code.ALREADY_ASSIGNED,
            "This charter vehicle already has a vendor; cancel that assignment first.",
            "charterVehicleId",
        ) from exc
    audit.record(
        session,
        vendor_id=vendor.id,
        entity="assignment",
        entity_id=row.id,
        action="assign",
        actor=actor,
        before=None,
        after=audit.row_snapshot(row),
    )
    await _announce(session, row)
    return row


async def _get(session: AsyncSession, assignment_id: uuid.UUID) -> VendorAssignment:
    row = await session.scalar(
        select(VendorAssignment).where(VendorAssignment.id == assignment_id).with_for_update()
    )
    if row is None:
        raise ServiceError.of(Code.NOT_FOUND, f"Assignment {assignment_id} does not exist.", "id")
    return row


async def respond(
    session: AsyncSession,
    assignment_id: uuid.UUID,
    status: str,
    actor: Viewer,
    *,
    reason: str | None = None,
) -> VendorAssignment:
    """The vendor confirms, declines (with a reason) or asks for recovery; staff cancel."""
    row = await _get(session, assignment_id)
    mover = MOVED_BY.get(status)
    if mover == "staff":
        ensure_role(actor, STAFF_EDIT, f"set vendor assignments {status}")
    else:
        await ensure_vendor_scope(session, actor, row.vendor_id, staff_roles=STAFF_EDIT)
    if mover == "trip":
        raise ServiceError.of(
            Code.INVALID_TRANSITION,
            f"An assignment becomes {status} with its trip (the charter's status), never by hand.",
            "status",
        )
    if status == "declined" and not (reason or "").strip():
        raise ServiceError.of(Code.REQUIRED, "Say why the assignment is declined.", "reason")
    if reason is not None and len(reason) > 500:
        raise ServiceError.of(Code.TOO_LONG, "Reason is longer than 500 characters.", "reason")
    states.ASSIGNMENT.check(row.status, status)
    before = audit.row_snapshot(row)
    row.status = status
    if reason:
        row.decline_reason = reason.strip()
    audit.record(
        session,
        vendor_id=row.vendor_id,
        entity="assignment",
        entity_id=row.id,
        action=f"status:{status}",
        actor=actor,
        before=before,
        after=audit.row_snapshot(row),
    )
    await _announce(session, row)
    return row


async def follow_trip(
    session: AsyncSession, charter_id: uuid.UUID, charter_status: str
) -> list[VendorAssignment]:
    """Move the charter's assignments with its trip; audited with no actor (the system).

    Idempotent: a re-delivered event finds nothing left to move. When the
    trip starts or ends, offered assignments nobody confirmed and vendors
    that asked for recovery are left for staff to settle (the trip does not
    answer for the vendor); when the charter is cancelled, all are released.
    """
    moves = TRIP_MOVES.get(charter_status)
    if not moves:
        return []
    vehicles = select(CharterVehicleFacts.charter_vehicle_id).where(
        CharterVehicleFacts.charter_id == charter_id
    )
    rows = list(
        await session.scalars(
            select(VendorAssignment)
            .where(
                or_(
                    VendorAssignment.charter_id == charter_id,
                    VendorAssignment.charter_vehicle_id.in_(vehicles),
                ),
                VendorAssignment.status.in_(moves),
            )
            .order_by(VendorAssignment.id)
            .with_for_update()
        )
    )
    for row in rows:
        target = moves[row.status]
        states.ASSIGNMENT.check(row.status, target)
        before = audit.row_snapshot(row)
        row.status = target
        audit.record(
            session,
            vendor_id=row.vendor_id,
            entity="assignment",
            entity_id=row.id,
            action=f"status:{target}",
            actor=None,
            before=before,
            after=audit.row_snapshot(row),
        )
        await _announce(session, row)
    await session.flush()
    return rows


async def _announce(session: AsyncSession, row: VendorAssignment) -> None:
    # The seats wanted: notifications' new-job mail says what vehicle the offer is for.
    capacity = await session.scalar(
        select(CharterVehicleFacts.capacity).where(
            CharterVehicleFacts.charter_vehicle_id == row.charter_vehicle_id
        )
    )
    await emit(
        session,
        outbox,
        "vendors.assignment_changed",
        {
            "assignmentId": str(row.id),
            "charterId": str(row.charter_id),
            "charterVehicleId": str(row.charter_vehicle_id),
            "vendorId": str(row.vendor_id),
            "status": row.status,
            "amount": str(row.amount),
            "capacity": capacity,
        },
    )
