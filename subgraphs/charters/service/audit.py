"""The charter audit log: every change to a charter, its stops and vehicles."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import inspect

from subgraphs.charters.models import AuditEntry

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from subgraphs.kit.auth.viewer import Viewer

SKIPPED = {"created_at", "updated_at", "busy"}


def plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def row_snapshot(row: Any) -> dict[str, Any]:
    return {
        attr.key: plain(getattr(row, attr.key))
        for attr in inspect(row).mapper.column_attrs
        if attr.key not in SKIPPED
    }


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
    if old is not None and new is not None:
        changed = {k for k in new if old.get(k) != new.get(k)}
        old = {k: old.get(k) for k in changed}
        new = {k: new[k] for k in changed}
        if not changed:
            return
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
