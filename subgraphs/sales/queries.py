"""Sales' `Query` root: clients for staff, `myClient` for client accounts, leads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import strawberry
from sqlalchemy import Select, func, select
from strawberry.types import Info

from subgraphs.kit.errors import BadUserInputError, NotFoundError
from subgraphs.kit.ids import parse_uuid
from subgraphs.kit.pagination import Connection, KeysetOrder, paginate
from subgraphs.kit.permissions import allow
from subgraphs.sales import models
from subgraphs.sales.enums import ClientStatus, ClientType, LeadSource, LeadStatus
from subgraphs.sales.service import dashboard, leads
from subgraphs.sales.service.access import (
    EDIT_ANY_LEAD,
    READ_ANY_DASHBOARD,
    READ_CLIENTS,
    READ_LEADS,
    READ_OWN_CLIENT,
    READ_QUEUE,
)
from subgraphs.sales.states import OPEN_LEAD_STATUSES
from subgraphs.sales.types import (
    Client,
    Lead,
    LeadQueueEntry,
    User,
    client_or_none,
    gid,
    lead_or_none,
)

RECENT_DAYS = 30
NEWEST_FIRST = KeysetOrder((models.Lead.created_at, models.Lead.id), descending=True)
SOONEST_FOLLOW_UP = KeysetOrder((models.Lead.next_follow_up_at, models.Lead.id))
OLDEST_FIRST = KeysetOrder((models.Lead.created_at, models.Lead.id))


@strawberry.input(description="Narrow `clients`; every given filter applies.")
class ClientFilter:
    status: list[ClientStatus] | None = None
    type: list[ClientType] | None = None
    sales_agent_id: strawberry.ID | None = strawberry.field(
        default=None, description="Clients owned by this sales agent."
    )
    search: str | None = strawberry.field(default=None, description="Part of the name, any case.")


@strawberry.input(description="Narrow `leads`; every given filter applies.")
class LeadFilter:
    status: list[LeadStatus] | None = None
    agent_id: strawberry.ID | None = strawberry.field(
        default=None, description="Leads owned by this sales agent."
    )
    unassigned: bool | None = strawberry.field(
        default=None, description="True: only leads without an agent."
    )
    source: list[LeadSource] | None = None
    created_from: datetime | None = strawberry.field(
        default=None, description="Created at or after."
    )
    created_to: datetime | None = strawberry.field(default=None, description="Created before.")


@strawberry.type(description="How many leads (that you may see) have one status.")
class PipelineStage:
    status: LeadStatus
    count: int


def _filtered(f: LeadFilter) -> Select[Any]:
    stmt = select(models.Lead)
    if f.status:
        stmt = stmt.where(models.Lead.status.in_([s.value for s in f.status]))
    if f.source:
        stmt = stmt.where(models.Lead.source.in_([s.value for s in f.source]))
    if f.agent_id is not None:
        agent = parse_uuid(f.agent_id)
        if agent is None:
            raise BadUserInputError("`filter.agentId` is not an id.")
        stmt = stmt.where(models.Lead.agent_id == agent)
    if f.unassigned:
        stmt = stmt.where(models.Lead.agent_id.is_(None))
    for name, value in (("createdFrom", f.created_from), ("createdTo", f.created_to)):
        if value is not None and value.tzinfo is None:
            raise BadUserInputError(f"`filter.{name}` needs a time zone offset.")
    if f.created_from is not None:
        stmt = stmt.where(models.Lead.created_at >= f.created_from)
    if f.created_to is not None:
        stmt = stmt.where(models.Lead.created_at < f.created_to)
    return stmt


async def _leads(
    info: Info, stmt: Select[Any], order: KeysetOrder, first: int | None, after: str | None
) -> Connection[Lead]:
    viewer = await info.context.get_viewer()
    async with info.context.sessions() as session:
        return await paginate(
            session,
            leads.visible(stmt, viewer),
            order,
            first=first,
            after=after,
            to_node=Lead.from_row,
        )


@strawberry.type
class Query:
    @strawberry.field(extensions=[allow(*READ_LEADS)])
    async def lead(self, info: Info, id: strawberry.ID) -> Lead:
        lead = await lead_or_none(info, parse_uuid(id))
        if lead is None:
            raise NotFoundError("Lead", id)
        return lead

    @strawberry.field(
        extensions=[allow(*READ_LEADS)],
        description="Leads you may see (agents: their own), newest first.",
    )
    async def leads(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        filter: LeadFilter | None = None,
    ) -> Connection[Lead]:
        return await _leads(info, _filtered(filter or LeadFilter()), NEWEST_FIRST, first, after)

    @strawberry.field(extensions=[allow(*READ_LEADS)], description="Your leads, newest first.")
    async def my_leads(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> Connection[Lead]:
        viewer = await info.context.get_viewer()
        stmt = select(models.Lead).where(models.Lead.agent_id == viewer.user_id)
        return await _leads(info, stmt, NEWEST_FIRST, first, after)

    @strawberry.field(
        extensions=[allow(*READ_LEADS)],
        description=f"Leads created in the last {RECENT_DAYS} days, newest first.",
    )
    async def recent_leads(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> Connection[Lead]:
        since = datetime.now(UTC) - timedelta(days=RECENT_DAYS)
        stmt = select(models.Lead).where(models.Lead.created_at >= since)
        return await _leads(info, stmt, NEWEST_FIRST, first, after)

    @strawberry.field(
        extensions=[allow(*READ_LEADS)],
        description="Open leads whose next follow-up is due today or overdue (the operator's "
        "time zone), the longest overdue first.",
    )
    async def follow_ups_due(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> Connection[Lead]:
        due_before = leads.end_of_today(info.context.settings.operator_time_zone)
        stmt = select(models.Lead).where(
            models.Lead.next_follow_up_at < due_before,
            models.Lead.status.in_(sorted(OPEN_LEAD_STATUSES)),
        )
        return await _leads(info, stmt, SOONEST_FOLLOW_UP, first, after)

    @strawberry.field(
        extensions=[allow(*READ_LEADS)],
        description="How many leads you may see have each status, in pipeline order.",
    )
    async def lead_pipeline(self, info: Info) -> list[PipelineStage]:
        viewer = await info.context.get_viewer()
        stmt = select(models.Lead.status, func.count()).group_by(models.Lead.status)
        async with info.context.sessions() as session:
            counts = dict((await session.execute(leads.visible(stmt, viewer))).all())
        return [PipelineStage(status=s, count=int(counts.get(s.value, 0))) for s in LeadStatus]

    @strawberry.field(
        extensions=[allow(*EDIT_ANY_LEAD)],
        description="Open leads nobody has (every queue agent was capped), oldest first.",
    )
    async def unassigned_leads(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> Connection[Lead]:
        stmt = select(models.Lead).where(
            models.Lead.agent_id.is_(None),
            models.Lead.status.in_(sorted(OPEN_LEAD_STATUSES)),
        )
        return await _leads(info, stmt, OLDEST_FIRST, first, after)

    @strawberry.field(
        extensions=[allow(*READ_QUEUE)],
        description="The round-robin lead queue in order, with today's counts.",
    )
    async def lead_queue(self, info: Info) -> list[LeadQueueEntry]:
        stmt = select(models.LeadQueueEntry).order_by(
            models.LeadQueueEntry.position, models.LeadQueueEntry.user_id
        )
        async with info.context.sessions() as session:
            rows = (await session.scalars(stmt)).all()
        return [LeadQueueEntry.from_row(r) for r in rows]

    @strawberry.field(extensions=[allow(*READ_CLIENTS, *READ_OWN_CLIENT)])
    async def client(self, info: Info, id: strawberry.ID) -> Client:
        client = await client_or_none(info, parse_uuid(id))
        if client is None:
            raise NotFoundError("Client", id)
        return client

    @strawberry.field(
        extensions=[allow(*READ_OWN_CLIENT)], description="The company your account books for."
    )
    async def my_client(self, info: Info) -> Client:
        viewer = await info.context.get_viewer()
        client = await client_or_none(info, viewer.client_id)
        if client is None:
            raise NotFoundError("Client")
        return client

    @strawberry.field(extensions=[allow(*READ_CLIENTS)], description="Clients by name.")
    async def clients(
        self,
        info: Info,
        first: int | None = 20,
        after: str | None = None,
        filters: ClientFilter | None = None,
    ) -> Connection[Client]:
        stmt = select(models.Client)
        f = filters or ClientFilter()
        if f.status:
            stmt = stmt.where(models.Client.status.in_([s.value for s in f.status]))
        if f.type:
            stmt = stmt.where(models.Client.client_type.in_([t.value for t in f.type]))
        if f.sales_agent_id is not None:
            agent = parse_uuid(f.sales_agent_id)
            if agent is None:
                raise BadUserInputError("`filters.salesAgentId` is not an id.")
            stmt = stmt.where(models.Client.sales_agent_id == agent)
        if f.search and f.search.strip():
            if len(f.search) > 200:
                raise BadUserInputError("`filters.search` is longer than 200 characters.")
            pattern = f.search.strip().lower().replace("\\", "\\\\")
            pattern = pattern.replace("%", "\\%").replace("_", "\\_")
            stmt = stmt.where(func.lower(models.Client.name).like(f"%{pattern}%", escape="\\"))
        order = KeysetOrder((models.Client.name, models.Client.id))
        async with info.context.sessions() as session:
            return await paginate(
                session, stmt, order, first=first, after=after, to_node=Client.from_row
            )

    @strawberry.field(
        extensions=[allow(*READ_ANY_DASHBOARD)],
        description="The active sales agents by name: with `salesDashboard`, `openQuoteCount` "
        "and `upcomingDepartureCount`, the cross-agent dashboard table.",
    )
    async def sales_team(self, info: Info) -> list[User]:
        async with info.context.sessions() as session:
            agents = await dashboard.team(session)
        return [User(id=gid(agent)) for agent in agents]
