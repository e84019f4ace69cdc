"""The audit logs: every change to a client, its contacts and a lead."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from subgraphs.kit import auditing
from subgraphs.sales.models import ClientAudit, LeadAudit

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from subgraphs.kit.auth.viewer import Viewer

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
    diff = auditing.changed_only(before, after)
    if diff is None:
        return False
    before, after = diff
    session.add(
        ClientAudit(
            client_id=client_id,
            entity=entity,
            entity_id=entity_id,
            action=action,
            actor_id=actor.user_id,
            impersonator_id=actor.impersonator_id,
            before=before,
            after=after,
        )
    )
    return True


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
    diff = auditing.changed_only(before, after)
    if diff is None:
        return False
    before, after = diff
    session.add(
        LeadAudit(
            lead_id=lead_id,
            action=action,
            actor_id=actor.user_id,
            impersonator_id=actor.impersonator_id,
            before=before,
            after=after,
        )
    )
    return True
