"""Mutations on clients and their contacts, each one transaction, audited."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import strawberry
from strawberry.types import Info

from subgraphs.kit.ids import input_uuid
from subgraphs.kit.payloads import UserError, transact
from subgraphs.kit.permissions import allow
from subgraphs.kit.scalars import Money
from subgraphs.sales.enums import ClientStatus, ClientType, PaymentTerms
from subgraphs.sales.service import clients, contacts
from subgraphs.sales.service.access import EDIT_CLIENTS
from subgraphs.sales.service.contact_details import ContactDetails
from subgraphs.sales.types import Client, ClientContact

parse_id = input_uuid


@strawberry.input(description="A postal address; an empty string clears a part.")
class AddressInput:
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    region: str | None = None
    postal_code: str | None = None
    country: str | None = None


@strawberry.input
class ClientContactInput:
    name: str
    title: str | None = None
    email: str | None = None
    phone: str | None = strawberry.field(
        default=None, description="Any common form; stored in E.164 (US when no country code)."
    )
    is_primary: bool = strawberry.field(
        default=False, description="A client's first contact is primary anyway."
    )


@strawberry.input(description="Only the fields given change; an empty string clears one.")
class ClientContactChangeInput:
    name: str | None = None
    title: str | None = None
    email: str | None = None
    phone: str | None = None


@strawberry.input
class CreateClientInput:
    name: str
    type: ClientType
    billing_address: AddressInput | None = None
    tax_exempt: bool = False
    credit_limit: Money | None = None
    payment_terms: PaymentTerms = PaymentTerms.NET_30
    sales_agent_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The owning agent; a sales agent's new client is its own.",
    )
    notes: str | None = None
    contacts: list[ClientContactInput] = strawberry.field(default_factory=list)


@strawberry.input(description="Only the fields given change.")
class UpdateClientInput:
    name: str | None = None
    type: ClientType | None = None
    billing_address: AddressInput | None = None
    tax_exempt: bool | None = None
    credit_limit: Money | None = None
    payment_terms: PaymentTerms | None = None
    sales_agent_id: strawberry.ID | None = None
    notes: str | None = None


@strawberry.type
class ClientPayload:
    client: Client | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ClientContactPayload:
    contact: ClientContact | None = None
    client: Client | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _profile(data: CreateClientInput | UpdateClientInput) -> clients.ClientProfile:
    address = data.billing_address or AddressInput()
    agent = None
    if data.sales_agent_id is not None:
        agent = parse_id(data.sales_agent_id, "salesAgentId")
    return clients.ClientProfile(
        name=data.name,
        client_type=data.type.value if data.type else None,
        billing_line1=address.line1,
        billing_line2=address.line2,
        billing_city=address.city,
        billing_region=address.region,
        billing_postal_code=address.postal_code,
        billing_country=address.country,
        tax_exempt=data.tax_exempt,
        credit_limit=Decimal(data.credit_limit) if data.credit_limit is not None else None,
        payment_terms=data.payment_terms.value if data.payment_terms else None,
        sales_agent_id=agent,
        notes=data.notes,
    )


def _client(row: Any, errors: list[UserError]) -> ClientPayload:
    return ClientPayload(client=Client.from_row(row) if row else None, user_errors=errors)


async def _contact(info: Info, work: Any) -> ClientContactPayload:
    async def run(session: Any) -> tuple[Any, Any]:
        row = await work(session)
        return row, await clients.get(session, row.client_id)

    result, errors = await transact(info, run)
    if result is None:
        return ClientContactPayload(user_errors=errors)
    row, client = result
    return ClientContactPayload(contact=ClientContact.from_row(row), client=Client.from_row(client))


@strawberry.type
class ClientMutations:
    @strawberry.mutation(
        extensions=[allow(*EDIT_CLIENTS)],
        description="A new active client with its contacts (one of them primary).",
    )
    async def create_client(self, info: Info, input: CreateClientInput) -> ClientPayload:
        viewer = await info.context.get_viewer()
        people = [
            ContactDetails(
                name=c.name, title=c.title, email=c.email, phone=c.phone, is_primary=c.is_primary
            )
            for c in input.contacts
        ]
        row, errors = await transact(
            info, lambda s: clients.create(s, _profile(input), people, viewer)
        )
        return _client(row, errors)

    @strawberry.mutation(extensions=[allow(*EDIT_CLIENTS)])
    async def update_client(
        self, info: Info, id: strawberry.ID, input: UpdateClientInput
    ) -> ClientPayload:
        viewer = await info.context.get_viewer()
        row, errors = await transact(
            info, lambda s: clients.update(s, parse_id(id, "id"), _profile(input), viewer)
        )
        return _client(row, errors)

    @strawberry.mutation(extensions=[allow(*EDIT_CLIENTS)])
    async def set_client_status(
        self, info: Info, id: strawberry.ID, status: ClientStatus
    ) -> ClientPayload:
        viewer = await info.context.get_viewer()
        row, errors = await transact(
            info, lambda s: clients.set_status(s, parse_id(id, "id"), status.value, viewer)
        )
        return _client(row, errors)

    @strawberry.mutation(
        extensions=[allow(*EDIT_CLIENTS)],
        description="Add a contact; `isPrimary` (or being the first) makes it the primary.",
    )
    async def add_client_contact(
        self, info: Info, client_id: strawberry.ID, input: ClientContactInput
    ) -> ClientContactPayload:
        viewer = await info.context.get_viewer()
        details = ContactDetails(
            name=input.name,
            title=input.title,
            email=input.email,
            phone=input.phone,
            is_primary=input.is_primary,
        )
        return await _contact(
            info, lambda s: contacts.add(s, parse_id(client_id, "clientId"), details, viewer)
        )

    @strawberry.mutation(extensions=[allow(*EDIT_CLIENTS)])
    async def update_client_contact(
        self, info: Info, id: strawberry.ID, input: ClientContactChangeInput
    ) -> ClientContactPayload:
        viewer = await info.context.get_viewer()
        details = ContactDetails(
            name=input.name, title=input.title, email=input.email, phone=input.phone
        )
        return await _contact(
            info, lambda s: contacts.change(s, parse_id(id, "id"), details, viewer)
        )

    @strawberry.mutation(
        extensions=[allow(*EDIT_CLIENTS)],
        description="The primary contact goes only when it is the client's last contact.",
    )
    async def remove_client_contact(self, info: Info, id: strawberry.ID) -> ClientPayload:
        viewer = await info.context.get_viewer()
        row, errors = await transact(info, lambda s: contacts.remove(s, parse_id(id, "id"), viewer))
        return _client(row, errors)

    @strawberry.mutation(
        extensions=[allow(*EDIT_CLIENTS)],
        description="Make this contact its client's primary contact (the old one stays a contact).",
    )
    async def set_primary_contact(self, info: Info, id: strawberry.ID) -> ClientContactPayload:
        viewer = await info.context.get_viewer()
        return await _contact(info, lambda s: contacts.set_primary(s, parse_id(id, "id"), viewer))
