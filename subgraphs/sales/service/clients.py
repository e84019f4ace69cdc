"""A client's profile and status; every change audited and announced.

Agents create clients they own and edit only those; admins, managers and
sales support edit any client and assign it to an agent (`access`). Bad
input is a user error naming the field and changes nothing.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from protocol.roles import Role
from subgraphs.kit.errors import Problem, ServiceError
from subgraphs.kit.outbox import emit
from subgraphs.sales.error_codes import SalesErrorCode as Code
from subgraphs.sales.models import CLIENT_STATUSES, Client, ClientContact, outbox
from subgraphs.sales.service import audit
from subgraphs.sales.service import contact_details as contacts
from subgraphs.sales.service.access import (
    EDIT_ANY_CLIENT,
    EDIT_CLIENTS,
    ensure_may_assign,
    ensure_may_edit,
)
from subgraphs.sales.service.agents import ensure_sales_agent

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer

TOPIC = "sales.client_changed"
MAX_NOTES = 5000
_COUNTRY = re.compile(r"^[A-Z]{2}$")
#: Text fields and their longest value; an empty string clears an optional one.
TEXT_LIMITS = {
    "name": 200,
    "billing_line1": 200,
    "billing_line2": 200,
    "billing_city": 100,
    "billing_region": 100,
    "billing_postal_code": 20,
    "notes": MAX_NOTES,
}
#: Service field names as the GraphQL input names them (for userErrors).
INPUT_NAMES = {
    "name": "name",
    "client_type": "type",
    "billing_line1": "billingAddress.line1",
    "billing_line2": "billingAddress.line2",
    "billing_city": "billingAddress.city",
    "billing_region": "billingAddress.region",
    "billing_postal_code": "billingAddress.postalCode",
    "billing_country": "billingAddress.country",
    "tax_exempt": "taxExempt",
    "credit_limit": "creditLimit",
    "payment_terms": "paymentTerms",
    "sales_agent_id": "salesAgentId",
    "notes": "notes",
}


@dataclass
class ClientProfile:
    """Editable client fields; None means "leave as is" on update."""

    name: str | None = None
    client_type: str | None = None
    billing_line1: str | None = None
    billing_line2: str | None = None
    billing_city: str | None = None
    billing_region: str | None = None
    billing_postal_code: str | None = None
    billing_country: str | None = None
    tax_exempt: bool | None = None
    credit_limit: Decimal | None = None
    payment_terms: str | None = None
    sales_agent_id: uuid.UUID | None = None
    notes: str | None = None


def profile_problems(p: ClientProfile, *, creating: bool) -> list[Problem]:
    problems: list[Problem] = []
    if (creating or p.name is not None) and not (p.name or "").strip():
        problems.append(Problem(Code.REQUIRED, "Name is required.", "name"))
    if creating and p.client_type is None:
        problems.append(Problem(Code.REQUIRED, "Type is required.", "type"))
    for name, limit in TEXT_LIMITS.items():
        value = getattr(p, name)
        if value is not None and len(value.strip()) > limit:
            problems.append(
                Problem(Code.TOO_LONG, f"Longer than {limit} characters.", INPUT_NAMES[name])
            )
    country = (p.billing_country or "").strip()
    if country and not _COUNTRY.match(country.upper()):
        problems.append(
            Problem(
                Code.INVALID,
                "Country is a two-letter ISO code such as US.",
                INPUT_NAMES["billing_country"],
            )
        )
    if p.credit_limit is not None and p.credit_limit < 0:
        problems.append(
            Problem(Code.OUT_OF_RANGE, "Credit limit cannot be negative.", "creditLimit")
        )
    return problems


def _apply(client: Client, p: ClientProfile) -> None:
    for f in fields(p):
        value = getattr(p, f.name)
        if value is None:
            continue
        if isinstance(value, str):
            value = value.strip() or None
            if f.name == "billing_country" and value:
                value = value.upper()
            if value is None and f.name == "name":
                continue
        setattr(client, f.name, value)


async def get(
    session: AsyncSession, client_id: uuid.UUID, *, lock: bool = False, field: str = "id"
) -> Client:
    stmt = select(Client).where(Client.id == client_id)
    if lock:
        stmt = stmt.with_for_update()
    client = await session.scalar(stmt)
    if client is None:
        raise ServiceError.of(Code.NOT_FOUND, f"Client {client_id} does not exist.", field)
    return client


async def announce(session: AsyncSession, client: Client, action: str) -> None:
    """`sales.client_changed`: who the client is now, for other subgraphs' copies."""
    # Finance prints the billing address and e-mail on invoices; the primary contact's
    # e-mail is the client's (sales keeps no separate billing e-mail).
    email = await session.scalar(
        select(ClientContact.email).where(
            ClientContact.client_id == client.id, ClientContact.is_primary.is_(True)
        )
    )
    await emit(
        session,
        outbox,
        TOPIC,
        {
            "clientId": str(client.id),
            "action": action,
            "name": client.name,
            "type": client.client_type,
            "status": client.status,
            "salesAgentId": str(client.sales_agent_id) if client.sales_agent_id else None,
            # Finance's terms: when invoices fall due, purchase orders, credit.
            "paymentTerms": client.payment_terms,
            "creditLimit": str(client.credit_limit) if client.credit_limit is not None else None,
            "taxExempt": client.tax_exempt,
            "billingAddress": {
                "line1": client.billing_line1,
                "line2": client.billing_line2,
                "city": client.billing_city,
                "region": client.billing_region,
                "postalCode": client.billing_postal_code,
                "country": client.billing_country,
            },
            "email": email,
        },
    )


async def ensure_named_agent(
    session: AsyncSession, agent_id: uuid.UUID | None, actor: Viewer
) -> None:
    """A client's owner must be a sales agent as identity last announced it.

    Staff could otherwise hand a client to a typo or a departed agent. An
    agent owning its own new client needs no lookup: its verified token
    says it holds the role.
    """
    if agent_id is None:
        return
    if agent_id == actor.user_id and actor.has_any_role(Role.SALES_AGENT):
        return
    await ensure_sales_agent(session, agent_id, "salesAgentId")


def ensure_role(actor: Viewer) -> None:
    if not actor.has_any_role(*EDIT_CLIENTS):
        raise ServiceError.of(Code.FORBIDDEN, "Your role cannot change clients.")


async def create(
    session: AsyncSession,
    profile: ClientProfile,
    people: list[contacts.ContactDetails],
    actor: Viewer,
    *,
    client_id: uuid.UUID | None = None,
) -> Client:
    """A new active client with its contacts; an agent's own client unless staff assign one."""
    ensure_role(actor)
    if profile.sales_agent_id is None and not actor.has_any_role(*EDIT_ANY_CLIENT):
        profile.sales_agent_id = actor.user_id
    ensure_may_assign(actor, profile.sales_agent_id, "salesAgentId")
    await ensure_named_agent(session, profile.sales_agent_id, actor)
    problems = profile_problems(profile, creating=True)
    normalised, contact_problems = contacts.check_new(people)
    if problems or contact_problems:
        raise ServiceError([*problems, *contact_problems])
    client = Client(
        id=client_id or uuid.uuid4(), status="active", tax_exempt=False, payment_terms="net_30"
    )
    _apply(client, profile)
    session.add(client)
    rows = [ClientContact(client_id=client.id, **vars(person)) for person in normalised]
    session.add_all(rows)
    await flush_contacts(session, rows, prefix="contacts.")
    audit.record(
        session,
        client_id=client.id,
        entity="client",
        entity_id=client.id,
        action="create",
        actor=actor,
        before=None,
        after=audit.row_snapshot(client),
    )
    for row in rows:
        contacts.audit_contact(session, row, "add_contact", actor, None)
    await announce(session, client, "created")
    return client


async def flush_contacts(
    session: AsyncSession, rows: list[ClientContact], *, prefix: str = ""
) -> None:
    """Flush, turning the database's contact rules into user errors.

    Two clients sharing a primary e-mail (even when created at the same
    moment: the unique index decides, the loser waits for the winner's
    commit and then fails here) is `CONFLICT` on that contact's e-mail.
    """
    index = next((i for i, r in enumerate(rows) if r.is_primary), 0)
    try:
        await session.flush()
    except IntegrityError as exc:
        # The transaction is lost either way: the ServiceError rolls it back whole.
        message = str(exc.orig)
        if "uq_client_contacts_primary_email" in message:
            field = f"{prefix}{index}.email" if prefix else "email"
            raise ServiceError.of(
                Code.CONFLICT,
                "Another client already has a primary contact with this e-mail.",
                field,
            ) from exc
        if "uq_client_contacts_one_primary" in message:
            raise ServiceError.of(
                Code.CONFLICT, "The client's primary contact changed meanwhile; try again.", "id"
            ) from exc
        raise


async def update(
    session: AsyncSession, client_id: uuid.UUID, profile: ClientProfile, actor: Viewer
) -> Client:
    ensure_role(actor)
    client = await get(session, client_id, lock=True)
    ensure_may_edit(actor, client)
    if profile.sales_agent_id is not None and profile.sales_agent_id != client.sales_agent_id:
        ensure_may_assign(actor, profile.sales_agent_id, "salesAgentId")
        await ensure_named_agent(session, profile.sales_agent_id, actor)
    problems = profile_problems(profile, creating=False)
    if problems:
        raise ServiceError(problems)
    before = audit.row_snapshot(client)
    _apply(client, profile)
    await session.flush()
    if audit.record(
        session,
        client_id=client.id,
        entity="client",
        entity_id=client.id,
        action="update",
        actor=actor,
        before=before,
        after=audit.row_snapshot(client),
    ):
        await announce(session, client, "updated")
    return client


async def set_status(
    session: AsyncSession, client_id: uuid.UUID, status: str, actor: Viewer
) -> Client:
    ensure_role(actor)
    if status not in CLIENT_STATUSES:
        raise ServiceError.of(Code.INVALID, f"Unknown status {status!r}.", "status")
    client = await get(session, client_id, lock=True)
    ensure_may_edit(actor, client)
    before = audit.row_snapshot(client)
    client.status = status
    await session.flush()
    if audit.record(
        session,
        client_id=client.id,
        entity="client",
        entity_id=client.id,
        action=f"status:{status}",
        actor=actor,
        before=before,
        after=audit.row_snapshot(client),
    ):
        await announce(session, client, "status_changed")
    return client
