"""The sales agents sales may name, kept from identity's `identity.user_changed` events.

Identity owns users and their roles; sales never reads its tables and does
not ask it on every request. Each user event upserts the user's row here
(name, e-mail, whether it holds the sales_agent role, whether it is
active), guarded by the event's time so a late, older event changes
nothing. An agent named anywhere in sales (a lead's or client's owner, a
queue entry) must be a known, active sales agent; otherwise the input is a
user error naming the field.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from protocol.roles import Role
from subgraphs.kit.errors import ServiceError
from subgraphs.sales.error_codes import SalesErrorCode as Code
from subgraphs.sales.models import SalesAgent

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

USER_CHANGED = "identity.user_changed"


async def apply_user_event(session: AsyncSession, event: dict[str, Any]) -> None:
    """Upsert one user from `identity.user_changed`; idempotent and order-safe."""
    payload = event.get("payload") or {}
    if "userId" not in payload or "occurredAt" not in event:
        return
    at = datetime.fromisoformat(event["occurredAt"])
    values = {
        "user_id": uuid.UUID(payload["userId"]),
        "name": (payload.get("name") or "")[:200],
        "email": (payload.get("email") or "")[:254],
        "is_sales_agent": Role.SALES_AGENT.value in (payload.get("roles") or []),
        "active": bool(payload.get("active", True)),
        "updated_at": at,
    }
    stmt = insert(SalesAgent).values(**values)
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[SalesAgent.user_id],
            set_={k: stmt.excluded[k] for k in values if k != "user_id"},
            where=SalesAgent.updated_at <= at,
        )
    )


async def ensure_sales_agent(session: AsyncSession, user_id: uuid.UUID, field: str) -> SalesAgent:
    """The known, active sales agent `user_id`, or a user error on `field`."""
    agent = await session.scalar(select(SalesAgent).where(SalesAgent.user_id == user_id))
    if agent is None or not agent.is_sales_agent or not agent.active:
        raise ServiceError.of(Code.UNKNOWN_AGENT, "This user is not an active sales agent.", field)
    return agent
