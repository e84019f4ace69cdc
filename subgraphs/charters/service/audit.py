"""The charter audit log: every change to a charter, its stops and vehicles."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from subgraphs.charters.models import AuditEntry
from subgraphs.kit import auditing

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer

SKIPPED = frozenset({"created_at", "updated_at", "busy"})


def row_snapshot(row: Any) -> dict[str, Any]:
    return auditing.row_snapshot(row, SKIPPED)


def record(
    session: AsyncSession,
    *,
    charter_id: uuid.UUID,
    entity: str,
    entity_id: uuid.UUID,
    action: str,
    actor: Viewer | None,
    old: dict[str, Any] | None,
    new: dict[str, Any] | None,
) -> None:
    diff = auditing.changed_only(old, new)
    if diff is None:
        return
    old, new = diff
    session.add(
        AuditEntry(
            charter_id=charter_id,
            entity=entity,
            entity_id=entity_id,
            action=action,
            actor_id=actor.user_id if actor else None,
            impersonator_id=actor.impersonator_id if actor else None,
            old=old,
            new=new,
        )
    )


def charter_updated(
    session: AsyncSession,
    charter: Any,
    action: str,
    actor: Viewer | None,
    old: dict[str, Any],
) -> None:
    """Record a change to the charter row itself: `old` against its state now."""
    record(
        session,
        charter_id=charter.id,
        entity="charter",
        entity_id=charter.id,
        action=action,
        actor=actor,
        old=old,
        new=row_snapshot(charter),
    )
