"""A client's people, with exactly one primary contact among them.

The database holds "at most one primary per client" and "no two clients
share a primary e-mail" (partial unique indexes); this module keeps "at
least one": the first contact becomes primary, and the primary moves
(`set_primary`) rather than disappearing while others remain. The primary
contact needs an e-mail: it is what matches a lead to its client.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update

from subgraphs.kit.errors import Problem, ServiceError
from subgraphs.sales.error_codes import SalesErrorCode as Code
from subgraphs.sales.models import Client, ClientContact
from subgraphs.sales.service import audit, clients
from subgraphs.sales.service.access import ensure_may_edit
from subgraphs.sales.service.contact_details import (
    MAX_CONTACTS,
    ContactDetails,
    audit_contact,
    normalise,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer


async def get(session: AsyncSession, contact_id: uuid.UUID) -> ClientContact:
    row = await session.scalar(select(ClientContact).where(ClientContact.id == contact_id))
    if row is None:
        raise ServiceError.of(Code.NOT_FOUND, f"Contact {contact_id} does not exist.", "id")
    return row


async def _count(session: AsyncSession, client_id: uuid.UUID) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(ClientContact)
            .where(ClientContact.client_id == client_id)
        )
        or 0
    )


async def _unset_primary(session: AsyncSession, client_id: uuid.UUID) -> None:
    await session.execute(
        update(ClientContact)
        .where(ClientContact.client_id == client_id, ClientContact.is_primary)
        .values(is_primary=False)
        .execution_options(synchronize_session="fetch")
    )


async def _locked_client_of(session: AsyncSession, client_id: uuid.UUID, actor: Viewer) -> Client:
    """The client row locked: one contact change per client at a time."""
    clients.ensure_role(actor)
    client = await clients.get(session, client_id, lock=True, field="clientId")
    ensure_may_edit(actor, client)
    return client


async def add(
    session: AsyncSession,
    client_id: uuid.UUID,
    details: ContactDetails,
    actor: Viewer,
) -> ClientContact:
    """A new contact; the client's first becomes primary, `isPrimary` moves the primary."""
    client = await _locked_client_of(session, client_id, actor)
    clean, problems = normalise(details, creating=True)
    count = await _count(session, client.id)
    if count >= MAX_CONTACTS:
        problems.append(Problem(Code.OUT_OF_RANGE, f"At most {MAX_CONTACTS} contacts.", "clientId"))
    primary = bool(details.is_primary) or count == 0
    if primary and not clean.email and not any(p.field == "email" for p in problems):
        problems.append(Problem(Code.REQUIRED, "The primary contact needs an e-mail.", "email"))
    if problems:
        raise ServiceError(problems)
    if primary:
        await _unset_primary(session, client.id)
    row = ClientContact(
        id=uuid.uuid4(),
        client_id=client.id,
        name=clean.name,
        title=clean.title or None,
        email=clean.email or None,
        phone=clean.phone or None,
        is_primary=primary,
    )
    session.add(row)
    await clients.flush_contacts(session, [row])
    audit_contact(session, row, "add_contact", actor, None)
    await clients.announce(session, client, "contact_added")
    return row


async def change(
    session: AsyncSession, contact_id: uuid.UUID, details: ContactDetails, actor: Viewer
) -> ClientContact:
    row = await get(session, contact_id)
    client = await _locked_client_of(session, row.client_id, actor)
    await session.refresh(row)
    clean, problems = normalise(details, creating=False)
    if row.is_primary and clean.email == "":
        problems.append(Problem(Code.REQUIRED, "The primary contact needs an e-mail.", "email"))
    if problems:
        raise ServiceError(problems)
    before = audit.row_snapshot(row)
    for attr in ("name", "title", "email", "phone"):
        value = getattr(clean, attr)
        if value is not None:
            setattr(row, attr, value or None)
    await clients.flush_contacts(session, [row])
    if audit_contact(session, row, "update_contact", actor, before):
        await clients.announce(session, client, "contact_updated")
    return row


async def remove(session: AsyncSession, contact_id: uuid.UUID, actor: Viewer) -> Client:
    """Remove a contact; the primary goes only when it is the last one."""
    row = await get(session, contact_id)
    client = await _locked_client_of(session, row.client_id, actor)
    await session.refresh(row)
    if row.is_primary and await _count(session, client.id) > 1:
        raise ServiceError.of(
            Code.PRIMARY_CONTACT,
            "Make another contact primary before removing the primary contact.",
            "id",
        )
    before = audit.row_snapshot(row)
    await session.delete(row)
    await session.flush()
    audit_contact(session, row, "remove_contact", actor, before, None)
    await clients.announce(session, client, "contact_removed")
    return client


async def set_primary(session: AsyncSession, contact_id: uuid.UUID, actor: Viewer) -> ClientContact:
    row = await get(session, contact_id)
    client = await _locked_client_of(session, row.client_id, actor)
    await session.refresh(row)
    if row.is_primary:
        return row
    if not row.email:
        raise ServiceError.of(
            Code.REQUIRED, "Give the contact an e-mail before making it primary.", "id"
        )
    await _unset_primary(session, client.id)
    await session.refresh(row)
    row.is_primary = True
    await clients.flush_contacts(session, [row])
    audit.record(
        session,
        client_id=client.id,
        entity="contact",
        entity_id=row.id,
        action="set_primary",
        actor=actor,
        before={"is_primary": False},
        after={"is_primary": True},
    )
    await clients.announce(session, client, "primary_contact_changed")
    return row
