"""The audit logs: every change to a client, its contacts and a lead."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from subgraphs.kit import auditing
from subgraphs.sales.models import ClientAudit, LeadAudit

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer

row_snapshot = auditing.row_snapshot


def record(
    session: AsyncSession,
    *,
    client_id: uuid.UUID,
    entity: str,
    entity_id: uuid.UUID,
    action: str,
    actor: Viewer,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> bool:
    """Store one change with its actor and, in an impersonated session, the real person.

    Returns False (and stores nothing) when nothing changed.
    """
    row = auditing.audit_row(
        ClientAudit,
        actor,
        before,
        after,
        client_id=client_id,
        entity=entity,
        entity_id=entity_id,
        action=action,
    )
    if row is not None:
        session.add(row)
    return row is not None


def record_lead(
    session: AsyncSession,
    *,
    lead_id: uuid.UUID,
    action: str,
    actor: Viewer,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> bool:
    """The lead audit log's `record`: one change, its actor and impersonator; False if none."""
    row = auditing.audit_row(LeadAudit, actor, before, after, lead_id=lead_id, action=action)
    if row is not None:
        session.add(row)
    return row is not None
