"""Which charter operates a departure: tours' consumer of `charters.charter_changed`.

Charters creates the shuttle charter of a departure confirmed to run (its
consumer of `tours.departure_changed`) and announces it with `tourSlotId`;
tours keeps the charter's id on the departure so that `DepartureSlot.charter`
resolves through federation. Charters makes one charter per departure, so
the link never changes once set: applying an event twice, or late, writes
the same value.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import update

from subgraphs.tours.models import DepartureSlot

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

CHARTER_CHANGED = "charters.charter_changed"


async def apply_charter_event(session: AsyncSession, event: dict[str, Any]) -> None:
    """Link a departure to the charter that operates it; every other charter is ignored."""
    payload = event.get("payload") or {}
    slot_id, charter_id = payload.get("tourSlotId"), payload.get("charterId")
    if not slot_id or not charter_id:
        return
    await session.execute(
        update(DepartureSlot)
        .where(
            DepartureSlot.id == uuid.UUID(str(slot_id)),
            DepartureSlot.charter_id.is_distinct_from(uuid.UUID(str(charter_id))),
        )
        .values(charter_id=uuid.UUID(str(charter_id)))
        .execution_options(synchronize_session=False)
    )
