"""Sales' `Query` root: clients for staff, `myClient` for client accounts."""

from __future__ import annotations

import strawberry
from sqlalchemy import func, select
from strawberry.types import Info

from subgraphs.kit.errors import BadUserInputError, NotFoundError
from subgraphs.kit.ids import parse_uuid
from subgraphs.kit.pagination import Connection, KeysetOrder, paginate
from subgraphs.kit.permissions import allow
from subgraphs.sales import models
from subgraphs.sales.enums import ClientStatus, ClientType
from subgraphs.sales.service.access import READ_CLIENTS, READ_OWN_CLIENT
from subgraphs.sales.types import Client, client_or_none


@strawberry.input(description="Narrow `clients`; every given filter applies.")
class ClientFilter:
    status: list[ClientStatus] | None = None
    type: list[ClientType] | None = None
    sales_agent_id: strawberry.ID | None = strawberry.field(
        default=None, description="Clients owned by this sales agent."
    )
    search: str | None = strawberry.field(default=None, description="Part of the name, any case.")


@strawberry.type
class Query:
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
