"""Who a charter may name: clients sales announced, users identity announced as agents.

Charters reads no other subgraph's tables, yet `createCharter` must not
accept a client id that names nothing, or a "sales agent" who is not one
(security review, finding 12). So charters keeps two projections of the
owners' events, each fed by a consumer (`app.DIRECTORY_PROJECTIONS`):

- Clients (`known_clients`), from sales' `sales.client_changed`: one row
  per client sales ever announced, its name kept current. A client id sales
  never announced is UNKNOWN_CLIENT.
- Sales agents (`known_sales_agents`), from identity's
  `identity.user_changed`: one row per announced user, `active` while the
  user holds the sales_agent role and is not disabled. A user who loses the
  role or is disabled keeps its row with `active` false: the row's time is
  what keeps an older, late event from naming it an agent again.

Both are upserts guarded by the event's `occurredAt` (stored as
`registered_at` and `last_seen_at`, the as-of time of what the row says):
delivery is at least once and replicas of charters consume concurrently, so
an event older than the row changes nothing.

Rules: a sales agent always quotes as itself (`salesAgentId` empty or its
own id); staff who edit any charter may name another agent, who must be an
active known sales agent. The same check guards `reassignCharter`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from protocol.roles import Role
from subgraphs.charters.error_codes import CharterErrorCode as Code
from subgraphs.charters.models import KnownClient, KnownSalesAgent
from subgraphs.charters.service.access import EDIT_ANY
from subgraphs.kit.errors import ServiceError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer

CLIENT_CHANGED = "sales.client_changed"
USER_CHANGED = "identity.user_changed"
MAX_CLIENT_NAME = 200


def _occurred_at(event: dict[str, Any]) -> datetime | None:
    value = event.get("occurredAt")
    return datetime.fromisoformat(value) if isinstance(value, str) else None


async def apply_client_event(session: AsyncSession, event: dict[str, Any]) -> None:
    """Upsert one client from `sales.client_changed`; idempotent and order-safe."""
    payload = event.get("payload") or {}
    at = _occurred_at(event)
    if "clientId" not in payload or at is None:
        return
    name = " ".join(str(payload.get("name") or "").split())[:MAX_CLIENT_NAME]
    stmt = insert(KnownClient).values(
        id=uuid.UUID(payload["clientId"]), name=name, registered_at=at
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[KnownClient.id],
            set_={"name": stmt.excluded.name, "registered_at": stmt.excluded.registered_at},
            where=KnownClient.registered_at <= at,
        )
    )


async def apply_user_event(session: AsyncSession, event: dict[str, Any]) -> None:
    """Upsert one user's agent standing from `identity.user_changed`; order-safe."""
    payload = event.get("payload") or {}
    at = _occurred_at(event)
    if "userId" not in payload or at is None:
        return
    agent = Role.SALES_AGENT.value in (payload.get("roles") or []) and bool(
        payload.get("active", False)
    )
    stmt = insert(KnownSalesAgent).values(
        user_id=uuid.UUID(payload["userId"]), active=agent, last_seen_at=at
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=[KnownSalesAgent.user_id],
            set_={"active": stmt.excluded.active, "last_seen_at": stmt.excluded.last_seen_at},
            where=KnownSalesAgent.last_seen_at <= at,
        )
    )


async def ensure_known_client(
    session: AsyncSession, client_id: uuid.UUID, field: str = "clientId"
) -> None:
    known = await session.scalar(select(KnownClient.id).where(KnownClient.id == client_id))
    if known is None:
        raise ServiceError.of(
            Code.UNKNOWN_CLIENT, "Unknown client: sales has not announced this client.", field
        )


async def choose_sales_agent(
    session: AsyncSession, named: uuid.UUID | None, actor: Viewer, field: str = "salesAgentId"
) -> uuid.UUID | None:
    """The agent of a new charter: the actor, or a known agent named by edit-any staff."""
    if named is None or named == actor.user_id:
        return actor.user_id
    if not actor.has_any_role(*EDIT_ANY):
        raise ServiceError.of(
            Code.FORBIDDEN, "A sales agent quotes as itself; it cannot name another agent.", field
        )
    await ensure_known_sales_agent(session, named, field)
    return named


async def ensure_known_sales_agent(session: AsyncSession, agent_id: uuid.UUID, field: str) -> None:
    agent = await session.scalar(
        select(KnownSalesAgent.user_id).where(
            KnownSalesAgent.user_id == agent_id, KnownSalesAgent.active
        )
    )
    if agent is None:
        raise ServiceError.of(
            Code.UNKNOWN_SALES_AGENT, "This user is not an active sales agent.", field
        )
