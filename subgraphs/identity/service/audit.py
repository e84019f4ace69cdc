"""Every change to an account is recorded: who, when, before, after."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from subgraphs.identity.models import User, UserAudit
from subgraphs.kit.auditing import plain

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

AUDITED_FIELDS = ("email", "name", "phone", "status", "roles", "mfa_enabled", "client_id")


def snapshot(user: User) -> dict[str, Any]:
    return {name: plain(getattr(user, name)) for name in AUDITED_FIELDS}


def record(
    session: AsyncSession,
    *,
    user_id: uuid.UUID,
    actor_id: uuid.UUID | None,
    action: str,
    impersonator_id: uuid.UUID | None = None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    """Add an audit entry; `impersonator_id` is the staff member behind an impersonated actor."""
    session.add(
        UserAudit(
            user_id=user_id,
            actor_id=actor_id,
            impersonator_id=impersonator_id,
            action=action,
            before=before,
            after=after,
        )
    )
