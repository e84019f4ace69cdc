"""Recovery: a charter vehicle that lost its vendor (or driver) and needs a replacement."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from subgraphs.charters.models import VendorAssignmentFact


async def on_assignment_changed(
    session: AsyncSession, previous_status: str | None, fact: VendorAssignmentFact
) -> None:
    """Vendors moved an assignment (`fact`, now as stored; `previous_status` before, or None).

    A decline or a recovery request close to pickup opens a recovery case.
    """
