"""Domain events of charters, written to the outbox with the change."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, inspect

from subgraphs.charters.models import Charter, outbox
from subgraphs.kit.outbox import emit

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

CHARTER_CHANGED = "charters.charter_changed"
_PREVIOUS_PICKUP = "charters.previous_pickup_at"


@event.listens_for(Charter.pickup_at, "set", active_history=True)
def _remember_previous_pickup(target: Charter, value: Any, old: Any, initiator: Any) -> None:
    """Keep the pickup a charter had before this transaction moved it.

    The event then carries `previousPickupAt`, so a dispatch board watching
    the old window learns the charter left it, whichever path moved it.
    """
    if isinstance(old, datetime) and value != old:
        inspect(target).info.setdefault(_PREVIOUS_PICKUP, old)


async def charter_changed(
    session: AsyncSession, charter: Charter, changes: Iterable[str], **extra: object
) -> None:
    """Tell the dispatch board (and anyone else) that a charter changed."""
    previous = inspect(charter).info.pop(_PREVIOUS_PICKUP, None)
    if previous is not None and previous != charter.pickup_at:
        extra = {"previousPickupAt": previous.isoformat(), **extra}
    await emit(
        session,
        outbox,
        CHARTER_CHANGED,
        {
            "charterId": str(charter.id),
            "reference": charter.reference,
            "status": charter.status,
            "pickupAt": charter.pickup_at.isoformat(),
            "changes": sorted(set(changes)),
            **extra,
        },
    )
