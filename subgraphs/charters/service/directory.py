"""Who a charter may name: known clients and known sales agents.

Charters reads no other subgraph's tables, yet `createCharter` must not
accept a client id that names nothing, or a "sales agent" who is not one
(security review, finding 12). Until the sales subgraph owns clients and
the check becomes a federated one (issue 10), charters keeps two small
directories of its own:

- Clients: `known_clients`, an interim registry. Sales staff register a
  client (id and name, `registerClient`) before quoting it; the clients of
  charters that existed before the check were registered by the migration.
- Sales agents: `known_sales_agents`, the users charters has seen holding
  the sales_agent role in a verified token (recorded by
  `SalesAgentSightings` on their requests, at most once per
  `SIGHTING_INTERVAL` per process). Only agents seen in the last
  `AGENT_SEEN_WITHIN` count, so a demoted or departed agent drops out.

Rules: a sales agent always quotes as itself (`salesAgentId` empty or its
own id); staff who edit any charter may name another agent, who must be a
known sales agent. The same check guards `reassignCharter`.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import SQLAlchemyError
from strawberry.extensions import SchemaExtension

from subgraphs.charters.error_codes import CharterErrorCode as Code
from subgraphs.charters.models import KnownClient, KnownSalesAgent
from subgraphs.charters.service.access import EDIT_ANY
from subgraphs.charters.service.timing import now
from subgraphs.kit.auth.roles import Role
from subgraphs.kit.errors import ServiceError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from subgraphs.kit.auth.viewer import Viewer

log = logging.getLogger(__name__)

MAX_CLIENT_NAME = 200
#: A sales agent counts as known when seen this recently.
AGENT_SEEN_WITHIN = timedelta(days=90)
#: Seconds between two recorded sightings of one agent by one process.
SIGHTING_INTERVAL = 600.0


async def register_client(
    session: AsyncSession, client_id: uuid.UUID, name: str, actor: Viewer
) -> KnownClient:
    """Register a client once; registering it again returns it unchanged."""
    clean = " ".join(name.split())
    if not clean or len(clean) > MAX_CLIENT_NAME:
        raise ServiceError.of(Code.INVALID, f"A name of 1 to {MAX_CLIENT_NAME} characters.", "name")
    await session.execute(
        insert(KnownClient)
        .values(id=client_id, name=clean, registered_by=actor.user_id)
        .on_conflict_do_nothing(index_elements=[KnownClient.id])
    )
    row = await session.scalar(select(KnownClient).where(KnownClient.id == client_id))
    if row is None:  # inserted or already there: the row exists in this transaction
        raise ServiceError.of(Code.NOT_FOUND, "The client could not be registered.", "id")
    return row


async def ensure_known_client(
    session: AsyncSession, client_id: uuid.UUID, field: str = "clientId"
) -> None:
    known = await session.scalar(select(KnownClient.id).where(KnownClient.id == client_id))
    if known is None:
        raise ServiceError.of(
            Code.UNKNOWN_CLIENT, "Unknown client: register the client first.", field
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
    seen = await session.scalar(
        select(KnownSalesAgent.user_id).where(
            KnownSalesAgent.user_id == agent_id,
            KnownSalesAgent.last_seen_at >= now() - AGENT_SEEN_WITHIN,
        )
    )
    if seen is None:
        raise ServiceError.of(
            Code.UNKNOWN_SALES_AGENT, "This user is not a known sales agent.", field
        )


async def record_sales_agent(session: AsyncSession, user_id: uuid.UUID) -> None:
    await session.execute(
        insert(KnownSalesAgent)
        .values(user_id=user_id, last_seen_at=now())
        .on_conflict_do_update(
            index_elements=[KnownSalesAgent.user_id], set_={"last_seen_at": now()}
        )
    )


class SalesAgentSightings(SchemaExtension):
    """Records each verified sales agent calling charters, for `ensure_known_sales_agent`."""

    #: user id -> monotonic time of the last recorded sighting (this process).
    recent: dict[uuid.UUID, float] = {}

    async def on_execute(self) -> AsyncIterator[None]:  # type: ignore[override]
        context = self.execution_context.context
        get_viewer = getattr(context, "get_viewer", None)
        if get_viewer is not None:
            viewer = await get_viewer()
            if viewer.user_id is not None and viewer.has_any_role(Role.SALES_AGENT):
                try:
                    await self._sighted(context, viewer.user_id)
                except SQLAlchemyError:
                    # Bookkeeping only: the agent's own request must not fail for it.
                    log.warning("could not record sales agent %s", viewer.user_id, exc_info=True)
        yield

    async def _sighted(self, context: object, user_id: uuid.UUID) -> None:
        moment = time.monotonic()
        last = self.recent.get(user_id)
        if last is not None and moment - last < SIGHTING_INTERVAL:
            return
        async with context.sessions() as session, session.begin():  # type: ignore[attr-defined]
            await record_sales_agent(session, user_id)
        if len(self.recent) > 10_000:
            self.recent.clear()
        self.recent[user_id] = moment
