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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Literal

from sqlalchemy import select, tuple_
from sqlalchemy.dialects.postgresql import distinct_on

from subgraphs.finance.error_codes import FinanceErrorCode
from subgraphs.finance.models import FinanceAudit, QboMapping, SyncConflict, SyncRecord
from subgraphs.kit.auditing import audit_row
from subgraphs.kit.errors import ServiceError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer

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


# --- what the graph reads and what a person does about it -----------------------------------


@dataclass(frozen=True)
class SyncState:
    """An entity's standing in QuickBooks: its latest record's status, and its QuickBooks id."""

    status: str
    attempts: int
    last_error: str | None
    synced_at: datetime | None
    qbo_id: str | None


async def latest_states(
    session: AsyncSession, keys: Sequence[tuple[str, uuid.UUID]]
) -> dict[tuple[str, uuid.UUID], SyncState]:
    """Each entity's latest record and mapping, in two statements whatever the number of keys."""
    if not keys:
        return {}
    key = tuple_(SyncRecord.entity, SyncRecord.entity_id)
    latest = await session.scalars(
        select(SyncRecord)
        .where(key.in_(list(keys)))
        .ext(distinct_on(SyncRecord.entity, SyncRecord.entity_id))
        .order_by(
            SyncRecord.entity,
            SyncRecord.entity_id,
            SyncRecord.created_at.desc(),
            SyncRecord.operation.desc(),
            SyncRecord.id.desc(),
        )
    )
    mapped = {
        (m.entity, m.entity_id): m
        for m in await session.scalars(
            select(QboMapping).where(
                tuple_(QboMapping.entity, QboMapping.entity_id).in_(list(keys))
            )
        )
    }
    out: dict[tuple[str, uuid.UUID], SyncState] = {}
    for record in latest:
        found = mapped.get((record.entity, record.entity_id))
        out[(record.entity, record.entity_id)] = SyncState(
            status=record.status,
            attempts=record.attempts,
            last_error=record.last_error,
            synced_at=found.synced_at if found else record.synced_at,
            qbo_id=found.qbo_id if found else None,
        )
    for pair, found in mapped.items():
        out.setdefault(pair, SyncState("synced", 0, None, found.synced_at, found.qbo_id))
    return out


def _audit(
    session: AsyncSession,
    entity: str,
    entity_id: uuid.UUID,
    action: str,
    actor: Viewer,
    before: dict[str, object],
    after: dict[str, object],
    reason: str | None = None,
) -> None:
    row = audit_row(
        FinanceAudit,
        actor,
        before,
        after,
        id=uuid.uuid4(),
        entity=entity,
        entity_id=entity_id,
        action=action,
        reason=reason,
    )
    if row is not None:
        session.add(row)


async def retry(
    session: AsyncSession, record_id: uuid.UUID, actor: Viewer, now: datetime | None = None
) -> SyncRecord:
    """A dead letter back to pending with fresh attempts, after a person fixed its cause."""
    record = await session.scalar(
        select(SyncRecord).where(SyncRecord.id == record_id).with_for_update()
    )
    if record is None:
        raise ServiceError.of(FinanceErrorCode.NOT_FOUND, "No such sync record.", "id")
    if record.status != "dead":
        raise ServiceError.of(
            FinanceErrorCode.INVALID_TRANSITION,
            f"Only a dead sync record is retried by hand; this one is {record.status}.",
            "id",
        )
    before = {"status": record.status, "attempts": record.attempts}
    record.status = "pending"
    record.attempts = 0
    record.next_attempt_at = now or datetime.now(UTC)
    record.locked_until = None
    _audit(
        session,
        "sync_record",
        record.id,
        "retried",
        actor,
        before,
        {"status": "pending", "attempts": 0},
        record.last_error,
    )
    return record


MAX_RESOLUTION = 500


async def resolve_conflict(
    session: AsyncSession,
    conflict_id: uuid.UUID,
    resolution: str,
    actor: Viewer,
    now: datetime | None = None,
) -> SyncConflict:
    """A person says what was done about a held QuickBooks change; Athena's books stay as they are."""
    text = " ".join(resolution.split())
    if not text:
        raise ServiceError.of(
            FinanceErrorCode.REQUIRED, "Say what was done about it.", "resolution"
        )
    if len(text) > MAX_RESOLUTION:
        raise ServiceError.of(
            FinanceErrorCode.INVALID,
            f"At most {MAX_RESOLUTION} characters.",
            "resolution",
        )
    conflict = await session.scalar(
        select(SyncConflict).where(SyncConflict.id == conflict_id).with_for_update()
    )
    if conflict is None:
        raise ServiceError.of(FinanceErrorCode.NOT_FOUND, "No such sync conflict.", "id")
    if conflict.status != "held":
        raise ServiceError.of(
            FinanceErrorCode.INVALID_TRANSITION, "This conflict is already resolved.", "id"
        )
    conflict.status = "resolved"
    conflict.resolution = text
    conflict.resolved_by = actor.user_id
    conflict.resolved_at = now or datetime.now(UTC)
    _audit(
        session,
        "sync_conflict",
        conflict.id,
        "resolved",
        actor,
        {"status": "held"},
        {"status": "resolved", "resolution": text},
        text,
    )
    return conflict
