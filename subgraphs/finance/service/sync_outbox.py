"""The accounting sync's outbox: every customer, vendor, invoice, payment and bill change.

Called in the transaction that made the change, so a change is never
committed without its sync record nor a record left for a rolled-back
change. The record names the entity, not its contents: the worker builds
QuickBooks' payload from the row as it is when sent, so a burst of edits
sends the latest state, and one pending record per entity and operation
is enough.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Literal

from sqlalchemy import select

from subgraphs.finance.models import SyncRecord

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

Entity = Literal["customer", "vendor", "invoice", "payment", "bill"]
Operation = Literal["save", "void"]


async def enqueue(
    session: AsyncSession, entity: Entity, entity_id: uuid.UUID, operation: Operation = "save"
) -> None:
    """Note that `entity_id` changed; a record already pending for it covers this change too."""
    waiting = await session.scalar(
        select(SyncRecord.id)
        .where(
            SyncRecord.entity == entity,
            SyncRecord.entity_id == entity_id,
            SyncRecord.operation == operation,
            SyncRecord.status == "pending",
        )
        .limit(1)
    )
    if waiting is None:
        session.add(SyncRecord(entity=entity, entity_id=entity_id, operation=operation))
