"""What a person does about the accounting sync: retry a dead letter, resolve a held conflict."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from subgraphs.finance.service import sync_outbox
from subgraphs.finance.service.access import WORK_SYNC_QUEUE
from subgraphs.finance.types.sync import SyncConflict, SyncRecord
from subgraphs.kit.ids import input_uuid
from subgraphs.kit.payloads import UserError, transact
from subgraphs.kit.permissions import allow


@strawberry.type
class SyncRecordPayload:
    record: SyncRecord | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SyncConflictPayload:
    conflict: SyncConflict | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SyncMutations:
    @strawberry.mutation(
        extensions=[allow(*WORK_SYNC_QUEUE)],
        description="Send a dead sync record again, attempts reset (after fixing its cause).",
    )
    async def retry_sync(self, info: Info, id: strawberry.ID) -> SyncRecordPayload:
        viewer = await info.context.get_viewer()
        row, errors = await transact(
            info, lambda s: sync_outbox.retry(s, input_uuid(id, "id"), viewer)
        )
        return SyncRecordPayload(
            record=SyncRecord.from_row(row) if row else None, user_errors=errors
        )

    @strawberry.mutation(
        extensions=[allow(*WORK_SYNC_QUEUE)],
        description="Close a held QuickBooks conflict, saying what was done about it.",
    )
    async def resolve_sync_conflict(
        self, info: Info, id: strawberry.ID, resolution: str
    ) -> SyncConflictPayload:
        viewer = await info.context.get_viewer()
        row, errors = await transact(
            info,
            lambda s: sync_outbox.resolve_conflict(s, input_uuid(id, "id"), resolution, viewer),
        )
        return SyncConflictPayload(
            conflict=SyncConflict.from_row(row) if row else None, user_errors=errors
        )
