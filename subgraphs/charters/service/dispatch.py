"""Dispatch status of each charter vehicle: operations, not content.

A dispatcher moves a charter vehicle along `states.DISPATCH` (not_ready ->
ready -> dispatched -> in_transit -> on_site -> completed, with `issue`
reachable from anywhere live). It is not a change to what was sold, so it
applies at once (no change case) and does not bump the charter's version
(an open change case does not go stale because a bus left the yard). Every
move is audited with its note and announced to the dispatch board.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from subgraphs.charters import states
from subgraphs.charters.error_codes import CharterErrorCode as Code
from subgraphs.charters.service import audit, events
from subgraphs.charters.service.access import DISPATCH, ensure_role
from subgraphs.charters.service.vehicles import get_charter_vehicle
from subgraphs.kit.errors import ServiceError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer
    from subgraphs.charters.models import CharterVehicle

#: Charter statuses in which its vehicles are dispatched: sold and not over.
DISPATCHABLE = frozenset({"booked", "confirmed", "in_progress"})
NOTE_MAX = 1000


async def set_dispatch_status(
    session: AsyncSession,
    charter_vehicle_id: uuid.UUID,
    status: str,
    actor: Viewer,
    *,
    note: str | None = None,
) -> CharterVehicle:
    """Move one charter vehicle's dispatch status; audited and announced."""
    ensure_role(actor, DISPATCH, "change dispatch status")
    note = note.strip() if note else None
    if note and len(note) > NOTE_MAX:
        raise ServiceError.of(Code.TOO_LONG, f"A note has at most {NOTE_MAX} characters.", "note")
    row, charter = await get_charter_vehicle(session, charter_vehicle_id)
    if charter.status not in DISPATCHABLE:
        raise ServiceError.of(
            Code.INVALID_TRANSITION,
            f"{charter.reference} is {charter.status}: only booked, confirmed or "
            "in-progress charters are dispatched.",
            "charterVehicleId",
        )
    states.DISPATCH.check(row.dispatch_status, status)
    old = audit.row_snapshot(row)
    row.dispatch_status = status
    # Sessions do not autoflush, and the next lock-and-refresh of this row in
    # the same transaction would otherwise read the old status back.
    await session.flush()
    audit.record(
        session,
        charter_id=charter.id,
        entity="charter_vehicle",
        entity_id=row.id,
        action=f"dispatch:{status}",
        actor=actor,
        old=old,
        new={**audit.row_snapshot(row), "dispatch_note": note},
    )
    await events.charter_changed(
        session,
        charter,
        ["dispatchStatus"],
        charterVehicleId=str(row.id),
        dispatchStatus=status,
        previousDispatchStatus=old["dispatch_status"],
    )
    return row
