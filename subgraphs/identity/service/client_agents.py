"""Which sales agent owns which client company, kept from sales' `sales.client_changed`.

Sales owns clients (DESIGN.md "Ownership"); identity reads no other subgraph's
tables and asks no subgraph per request, so it keeps the one fact "view as
client" needs (`access.IMPERSONATION_SCOPE`'s `OWN`): each client company's
`salesAgentId`. A client *account* acts for its company through
`User.client_id`; the agent owns the account when it owns that company.

Events arrive at least once and possibly out of order: the upsert is keyed by
the company and guarded by the event's time (`kit/facts.upsert_newer`). Until
the first event of a company arrives, no agent owns it (refused, never
wrongly admitted).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from subgraphs.identity.models import ClientAgent, User
from subgraphs.kit.facts import upsert_newer

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

#: Sales' event (`subgraphs/sales/service/clients.py`).
CLIENT_CHANGED = "sales.client_changed"
GROUP = "identity.client-agents"


def _uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


async def apply_client_event(session: AsyncSession, event: dict[str, Any]) -> None:
    """Record the company's owning agent, unless a newer event already did."""
    payload = event.get("payload")
    payload = payload if isinstance(payload, dict) else {}
    client_id = _uuid(payload.get("clientId"))
    raw_at = payload.get("occurredAt") or event.get("occurredAt")
    if client_id is None or not raw_at:
        return
    at = datetime.fromisoformat(str(raw_at))
    values = {
        "client_id": client_id,
        "sales_agent_id": _uuid(payload.get("salesAgentId")),
        "as_of": at if at.tzinfo else at.replace(tzinfo=UTC),
    }
    await upsert_newer(session, ClientAgent, "client_id", values)


async def owns_client(
    session: AsyncSession, agent_id: uuid.UUID, client_user_id: uuid.UUID
) -> bool:
    """Whether `agent_id` is the sales agent of the company the client account acts for."""
    owner = await session.scalar(
        select(ClientAgent.sales_agent_id)
        .join(User, User.client_id == ClientAgent.client_id)
        .where(User.id == client_user_id)
    )
    return owner is not None and owner == agent_id
