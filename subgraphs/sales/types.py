"""Sales' GraphQL types: thin views over rows; relations through loaders.

Every path to a `Client` (queries, entity references from other subgraphs)
goes through `client_or_none`, which applies `service/access.py`: staff see
every client, a client account its own company only, anyone else nothing.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import strawberry
from strawberry.federation.schema_directives import Key
from strawberry.types import Info

from subgraphs.kit.errors import ForbiddenError
from subgraphs.kit.ids import parse_uuid
from subgraphs.kit.scalars import Money
from subgraphs.sales import loaders as L
from subgraphs.sales.enums import ClientStatus, ClientType, PaymentTerms
from subgraphs.sales.service.access import may_read_client


def gid(value: uuid.UUID) -> strawberry.ID:
    return strawberry.ID(str(value))


@strawberry.federation.type(keys=[Key(fields="id", resolvable=False)])
class User:
    id: strawberry.ID


@strawberry.type(description="A postal address.")
class Address:
    line1: str | None
    line2: str | None
    city: str | None
    region: str | None = strawberry.field(description="State or province.")
    postal_code: str | None
    country: str | None = strawberry.field(description="ISO 3166-1 alpha-2, such as US.")


@strawberry.type(description="A person at a client.")
class ClientContact:
    id: strawberry.ID
    name: str
    title: str | None
    email: str | None = strawberry.field(description="Stored lower-case.")
    phone: str | None = strawberry.field(description="E.164, such as +19015550123.")
    is_primary: bool

    @classmethod
    def from_row(cls, row: Any) -> ClientContact:
        return cls(
            id=gid(row.id),
            name=row.name,
            title=row.title,
            email=row.email,
            phone=row.phone,
            is_primary=row.is_primary,
        )


@strawberry.federation.type(keys=["id"], description="A client of the operator (the CRM).")
class Client:
    id: strawberry.ID
    name: str
    type: ClientType
    status: ClientStatus
    tax_exempt: bool
    credit_limit: Money | None = strawberry.field(description="Null: no limit agreed.")
    payment_terms: PaymentTerms
    created_at: datetime
    updated_at: datetime
    _row: strawberry.Private[Any]

    @classmethod
    def from_row(cls, row: Any) -> Client:
        return cls(
            id=gid(row.id),
            name=row.name,
            type=ClientType(row.client_type),
            status=ClientStatus(row.status),
            tax_exempt=row.tax_exempt,
            credit_limit=row.credit_limit,
            payment_terms=PaymentTerms(row.payment_terms),
            created_at=row.created_at,
            updated_at=row.updated_at,
            _row=row,
        )

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> Client | None:
        return await client_or_none(info, parse_uuid(id))

    @strawberry.field
    def billing_address(self) -> Address | None:
        row = self._row
        address = Address(
            line1=row.billing_line1,
            line2=row.billing_line2,
            city=row.billing_city,
            region=row.billing_region,
            postal_code=row.billing_postal_code,
            country=row.billing_country,
        )
        return address if any(vars(address).values()) else None

    @strawberry.field(description="The owning sales agent.")
    def sales_agent(self) -> User | None:
        agent = self._row.sales_agent_id
        return User(id=gid(agent)) if agent else None

    @strawberry.field(description="Internal notes: staff only.")
    async def notes(self, info: Info) -> str | None:
        viewer = await info.context.get_viewer()
        if not viewer.is_staff:
            raise ForbiddenError("Only staff read a client's notes.")
        return self._row.notes  # type: ignore[no-any-return]

    @strawberry.field(description="The client's people, the primary contact first.")
    async def contacts(self, info: Info) -> list[ClientContact]:
        rows = await info.context.loaders.get(L.ContactsByClientIdLoader).load(self._row.id)
        ordered = sorted(rows, key=lambda r: not r.is_primary)
        return [ClientContact.from_row(r) for r in ordered]

    @strawberry.field
    async def primary_contact(self, info: Info) -> ClientContact | None:
        rows = await info.context.loaders.get(L.ContactsByClientIdLoader).load(self._row.id)
        primary = next((r for r in rows if r.is_primary), None)
        return ClientContact.from_row(primary) if primary else None


async def client_or_none(info: Info, client_id: uuid.UUID | None) -> Client | None:
    """The client if it exists and the viewer may read it; never another company's."""
    if client_id is None:
        return None
    viewer = await info.context.get_viewer()
    if not may_read_client(viewer, client_id):
        return None
    row = await info.context.loaders.get(L.ClientByIdLoader).load(client_id)
    return Client.from_row(row) if row else None
