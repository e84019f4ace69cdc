"""Vendors' assignments of charter vehicles, as charters learns them from vendors' events.

Vendors owns assignments (offered, confirmed, declined, ...); charters keeps
the latest status of each (`VendorAssignmentFact`) so that readiness tasks
complete themselves when a vendor takes or confirms a vehicle, the board
shows the vendor's answer, and recovery hears of declines. The upsert is
guarded by the event's time (the relay's `occurredAt`), so a redelivered or
late event never overwrites a newer status; follow-ups (tasks, recovery, the
vendor's confirmation record) run only when the stored status changed.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from subgraphs.charters.models import Charter, CharterVehicle, VendorAssignmentFact
from subgraphs.charters.service import confirmations, events, recovery, tasks

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

ASSIGNMENT_CHANGED = "vendors.assignment_changed"
NEEDED = ("assignmentId", "charterId", "charterVehicleId", "vendorId", "status")


async def apply_assignment_event(session: AsyncSession, event: dict[str, Any]) -> None:
    payload = event.get("payload") or {}
    if any(not payload.get(k) for k in NEEDED) or "occurredAt" not in event:
        return
    assignment_id = uuid.UUID(str(payload["assignmentId"]))
    at = datetime.fromisoformat(event["occurredAt"])
    previous = await session.scalar(
        select(VendorAssignmentFact.status)
        .where(VendorAssignmentFact.assignment_id == assignment_id)
        .with_for_update()
    )
    stmt = insert(VendorAssignmentFact).values(
        assignment_id=assignment_id,
        charter_id=uuid.UUID(str(payload["charterId"])),
        charter_vehicle_id=uuid.UUID(str(payload["charterVehicleId"])),
        vendor_id=uuid.UUID(str(payload["vendorId"])),
        status=str(payload["status"])[:30],
        as_of=at,
    )
    written = await session.scalar(
        stmt.on_conflict_do_update(
            index_elements=[VendorAssignmentFact.assignment_id],
            set_={
                "charter_id": stmt.excluded.charter_id,
                "charter_vehicle_id": stmt.excluded.charter_vehicle_id,
                "vendor_id": stmt.excluded.vendor_id,
                "status": stmt.excluded.status,
                "as_of": stmt.excluded.as_of,
            },
            where=VendorAssignmentFact.as_of <= stmt.excluded.as_of,
        ).returning(VendorAssignmentFact.assignment_id)
    )
    if written is None:
        return
    fact = (
        await session.scalars(
            select(VendorAssignmentFact)
            .where(VendorAssignmentFact.assignment_id == assignment_id)
            .execution_options(populate_existing=True)
        )
    ).one()
    if fact.status == previous:
        return
    await on_fact_changed(session, previous, fact, at)


async def _held(session: AsyncSession, charter_vehicle_id: uuid.UUID) -> bool:
    """Whether some vendor's assignment holds the vehicle now."""
    return (
        await session.scalar(
            select(VendorAssignmentFact.assignment_id)
            .where(
                VendorAssignmentFact.charter_vehicle_id == charter_vehicle_id,
                VendorAssignmentFact.status.in_(tasks.VENDOR_HOLDING),
            )
            .limit(1)
        )
        is not None
    )


async def on_fact_changed(
    session: AsyncSession, previous: str | None, fact: VendorAssignmentFact, at: datetime
) -> None:
    """What a new assignment status means in charters: tasks, confirmation, recovery, board."""
    # Charter, then vehicle: the order every writer of a charter's vehicles locks them in
    # (assignment, recovery), so this handler and a dispatcher never wait on each other.
    charter = await session.scalar(
        select(Charter).where(Charter.id == fact.charter_id).with_for_update()
    )
    vehicle = await session.scalar(
        select(CharterVehicle).where(CharterVehicle.id == fact.charter_vehicle_id).with_for_update()
    )
    if charter is None or vehicle is None or vehicle.charter_id != charter.id:
        # Not (or no longer) ours to track: a vehicle removed since, or another deployment's.
        return
    changes = ["vendorAssignment"]
    if fact.status in tasks.VENDOR_HOLDING and await tasks.satisfy(
        session, charter.id, vehicle.id, "vendor_assigned", at, announce=False
    ):
        changes.append("tasks")
    if fact.status in tasks.VENDOR_CONFIRMED and previous not in tasks.VENDOR_CONFIRMED:
        # The vendor said yes through its portal: the same record a dispatcher's call makes.
        _, completed = await confirmations.confirm(
            session,
            charter,
            vehicle,
            party="vendor",
            party_id=fact.vendor_id,
            method="app",
            at=at,
            actor=None,
            note=None,
            announce=False,
        )
        changes += ["confirmations", "tasks"] if completed else ["confirmations"]
    if previous in tasks.VENDOR_HOLDING and charter.status in tasks.TASKED:
        # The vendor let the vehicle go (declined, cancelled) or asks to be replaced:
        # what it had satisfied is open again, unless another vendor holds the vehicle.
        reopened = []
        if fact.status not in tasks.VENDOR_CONFIRMED:
            reopened += await tasks.unsatisfy(
                session, charter.id, vehicle.id, "vendor_confirmed", at
            )
        if fact.status not in tasks.VENDOR_HOLDING and not await _held(session, vehicle.id):
            reopened += await tasks.unsatisfy(
                session, charter.id, vehicle.id, "vendor_assigned", at
            )
        if reopened:
            changes.append("tasks")
    await recovery.on_assignment_changed(session, previous, fact)
    await events.charter_changed(
        session,
        charter,
        changes,
        charterVehicleId=str(vehicle.id),
        vendorAssignmentStatus=fact.status,
        previousVendorAssignmentStatus=previous,
    )
