"""The accounting sync as finance staff see it: where a record stands in QuickBooks, and what is held."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from subgraphs.finance import loaders as L
from subgraphs.finance.service.access import READ_ACCOUNTING_SYNC
from subgraphs.finance.service.sync_outbox import SyncState
from subgraphs.kit.permissions import allow


def gid(value: uuid.UUID) -> strawberry.ID:
    return strawberry.ID(str(value))


@strawberry.enum
class SyncStatus(Enum):
    PENDING = "pending"
    PROCESSING = "processing"
    SYNCED = "synced"
    FAILED = "failed"
    DEAD = "dead"


@strawberry.enum
class SyncEntity(Enum):
    CUSTOMER = "customer"
    VENDOR = "vendor"
    INVOICE = "invoice"
    PAYMENT = "payment"
    BILL = "bill"


@strawberry.enum
class SyncConflictStatus(Enum):
    HELD = "held"
    RESOLVED = "resolved"


@strawberry.type(description="Where a record stands in QuickBooks Online (finance staff only).")
class AccountingSync:
    status: SyncStatus = strawberry.field(description="Of its latest change.")
    attempts: int = strawberry.field(description="Failed sends of its latest change.")
    last_error: str | None
    synced_at: datetime | None = strawberry.field(description="When QuickBooks last took it.")
    qbo_id: str | None = strawberry.field(description="Its id in QuickBooks, once there.")

    @classmethod
    def of(cls, state: SyncState) -> AccountingSync:
        return cls(
            status=SyncStatus(state.status),
            attempts=state.attempts,
            last_error=state.last_error,
            synced_at=state.synced_at,
            qbo_id=state.qbo_id,
        )


async def accounting_sync_of(info: Info, entity: str, entity_id: str) -> AccountingSync | None:
    state = await info.context.loaders.get(L.AccountingSyncLoader).load(
        (entity, uuid.UUID(entity_id))
    )
    return AccountingSync.of(state) if state else None


def accounting_sync_field(entity: str) -> Any:
    """The `accountingSync` field for a type whose `id` is the entity's: FORBIDDEN to non-staff."""

    async def resolve(root: Any, info: Info) -> AccountingSync | None:
        return await accounting_sync_of(info, entity, root.id)

    return strawberry.field(
        resolver=resolve,
        extensions=[allow(*READ_ACCOUNTING_SYNC)],
        description="Its standing in QuickBooks (null before its first change is queued); "
        "finance staff only, FORBIDDEN for anyone else.",
    )


@strawberry.type(description="One change queued for QuickBooks Online.")
class SyncRecord:
    id: strawberry.ID
    entity: SyncEntity
    entity_id: strawberry.ID
    operation: str = strawberry.field(description="`save` or `void`.")
    status: SyncStatus
    attempts: int
    last_error: str | None
    next_attempt_at: datetime
    created_at: datetime
    synced_at: datetime | None

    @classmethod
    def from_row(cls, row: Any) -> SyncRecord:
        return cls(
            id=gid(row.id),
            entity=SyncEntity(row.entity),
            entity_id=gid(row.entity_id),
            operation=row.operation,
            status=SyncStatus(row.status),
            attempts=row.attempts,
            last_error=row.last_error,
            next_attempt_at=row.next_attempt_at,
            created_at=row.created_at,
            synced_at=row.synced_at,
        )


@strawberry.type(
    description="A change made in QuickBooks that touches money, held for a person to decide."
)
class SyncConflict:
    id: strawberry.ID
    entity: SyncEntity
    entity_id: strawberry.ID | None
    qbo_id: str
    kind: str = strawberry.field(description="`amount`, `void`, `delete` or `status`.")
    detail: JSON = strawberry.field(description="Athena's and QuickBooks' values side by side.")
    status: SyncConflictStatus
    received_at: datetime
    resolved_by: strawberry.ID | None
    resolved_at: datetime | None
    resolution: str | None

    @classmethod
    def from_row(cls, row: Any) -> SyncConflict:
        return cls(
            id=gid(row.id),
            entity=SyncEntity(row.entity),
            entity_id=gid(row.entity_id) if row.entity_id else None,
            qbo_id=row.qbo_id,
            kind=row.operation,
            detail=cast(JSON, dict(row.detail or {})),
            status=SyncConflictStatus(row.status),
            received_at=row.received_at,
            resolved_by=gid(row.resolved_by) if row.resolved_by else None,
            resolved_at=row.resolved_at,
            resolution=row.resolution,
        )
