"""A tiny subgraph built with the kit, only for the kit's own tests.

Its tables live in a `kit_test` schema that the kit tests create and drop,
so they never mix with a real subgraph's rows or its outbox relay.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

import strawberry
from sqlalchemy import DateTime, String, text
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from strawberry.types import Info

from protocol.roles import Role
from subgraphs.kit.errors import ConflictError
from subgraphs.kit.models import schema_metadata
from subgraphs.kit.outbox import outbox_table
from subgraphs.kit.pagination import Connection, KeysetOrder, paginate
from subgraphs.kit.permissions import allow
from subgraphs.kit.scalars import Money
from subgraphs.kit.schema import build_schema

SCHEMA = "kit_test"


class Base(AsyncAttrs, DeclarativeBase):
    metadata = schema_metadata(SCHEMA)


class ItemRow(Base):
    __tablename__ = "items"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    name: Mapped[str] = mapped_column(String(50))


outbox = outbox_table(Base.metadata)

SECRET_SQL = "SELECT password_hash FROM identity.users WHERE email = 'ceo@example.com'"


@strawberry.type
class Item:
    id: strawberry.ID
    name: str

    @classmethod
    def from_row(cls, row: ItemRow) -> Item:
        return cls(id=strawberry.ID(str(row.id)), name=row.name)


@strawberry.type
class WhoAmI:
    user_id: strawberry.ID
    roles: list[str]
    impersonator_id: strawberry.ID | None


async def _items(info: Info, first: int | None, after: str | None, *, descending: bool):
    order = KeysetOrder((ItemRow.created_at, ItemRow.id), descending=descending)
    async with info.context.sessions() as session:
        return await paginate(
            session,
            ItemRow.__table__.select().with_only_columns(ItemRow).select_from(ItemRow),
            order,
            first=first,
            after=after,
            to_node=Item.from_row,
        )


@strawberry.type
class Query:
    @strawberry.field
    def money(self, amount: Money) -> Money:
        return amount

    @strawberry.field
    def price(self) -> Money:
        return Money(Decimal("12.5"))

    @strawberry.field
    def instant(self, value: datetime) -> datetime:
        return value

    @strawberry.field(description="How the resolver received the DateTime.")
    def instant_as_received(self, value: datetime) -> str:
        return value.isoformat()

    @strawberry.field
    def day(self, value: date) -> date:
        return value

    @strawberry.field
    async def items(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Item]:
        return await _items(info, first, after, descending=False)

    @strawberry.field
    async def items_newest_first(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Item]:
        return await _items(info, first, after, descending=True)

    @strawberry.field
    def boom(self) -> str | None:
        raise RuntimeError(f"database said no to {SECRET_SQL}")

    @strawberry.field
    async def bad_sql(self, info: Info) -> str | None:
        async with info.context.sessions() as session:
            await session.execute(text("SELECT secret_column FROM no_such_table"))
        return None

    @strawberry.field
    def conflict(self) -> str | None:
        raise ConflictError("This seat is already booked.", seat="12A")

    @strawberry.field(extensions=[allow()])
    async def who_am_i(self, info: Info) -> WhoAmI:
        viewer = await info.context.get_viewer()
        return WhoAmI(
            user_id=strawberry.ID(str(viewer.user_id)),
            roles=sorted(r.value for r in viewer.roles),
            impersonator_id=(
                strawberry.ID(str(viewer.impersonator_id)) if viewer.impersonator_id else None
            ),
        )

    @strawberry.field(extensions=[allow(Role.ADMIN, Role.MANAGER)])
    def management_secret(self) -> str:
        return "42"

    @strawberry.field(description="The caller's address as the kit sees it.")
    def client_address(self, info: Info) -> str:
        return str(info.context.client_ip)


@strawberry.type
class Mutation:
    @strawberry.mutation(extensions=[allow()])
    def touch(self) -> bool:
        return True

    @strawberry.mutation(extensions=[allow()], description="On the impersonation allow-list.")
    def logout(self) -> bool:
        return True


schema = build_schema(Query, Mutation)
