"""Reading the accounting sync's queue and its held conflicts (finance staff)."""

from __future__ import annotations

import strawberry
from sqlalchemy import select
from strawberry.types import Info

from subgraphs.finance import models
from subgraphs.finance.service.access import READ_SYNC_QUEUE
from subgraphs.finance.types.sync import SyncConflict, SyncConflictStatus, SyncRecord, SyncStatus
from subgraphs.kit.pagination import Connection, KeysetOrder, paginate
from subgraphs.kit.permissions import allow

#: Newest first: what a person looks at is what just went wrong.
NEWEST_FIRST = KeysetOrder((models.SyncRecord.created_at, models.SyncRecord.id), descending=True)
#: Held conflicts are few; a page this long is every one of them in practice.
MAX_CONFLICTS = 500


@strawberry.type
class SyncQueries:
    @strawberry.field(
        extensions=[allow(*READ_SYNC_QUEUE)],
        description="Changes queued for QuickBooks, newest first; `status: DEAD` is the dead letter.",
    )
    async def sync_records(
        self,
        info: Info,
        status: SyncStatus | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[SyncRecord]:
        stmt = select(models.SyncRecord)
        if status is not None:
            stmt = stmt.where(models.SyncRecord.status == status.value)
        async with info.context.sessions() as session:
            return await paginate(
                session, stmt, NEWEST_FIRST, first=first, after=after, to_node=SyncRecord.from_row
            )

    @strawberry.field(
        extensions=[allow(*READ_SYNC_QUEUE)],
        description="Changes made in QuickBooks that touch money, oldest first (default: held).",
    )
    async def sync_conflicts(
        self, info: Info, status: SyncConflictStatus = SyncConflictStatus.HELD
    ) -> list[SyncConflict]:
        async with info.context.sessions() as session:
            rows = await session.scalars(
                select(models.SyncConflict)
                .where(models.SyncConflict.status == status.value)
                .order_by(models.SyncConflict.received_at, models.SyncConflict.id)
                .limit(MAX_CONFLICTS)
            )
            return [SyncConflict.from_row(row) for row in rows]
