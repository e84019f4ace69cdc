"""Domain events of charters, written to the outbox with the change."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from subgraphs.charters.models import outbox
from subgraphs.kit.outbox import emit

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from subgraphs.charters.models import Charter

CHARTER_CHANGED = "charters.charter_changed"


async def charter_changed(
    session: AsyncSession, charter: Charter, changes: Iterable[str], **extra: object
) -> None:
    """Tell the dispatch board (and anyone else) that a charter changed."""
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
