"""The delivery log as staff search it (seed 001 section 1: e-mail tracking)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from subgraphs.kit.pagination import Connection, KeysetOrder, paginate
from subgraphs.notifications.models import Message

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

ORDER = KeysetOrder((Message.created_at, Message.id), descending=True)


@dataclass(frozen=True, slots=True)
class LogFilter:
    kind: str | None = None
    channel: str | None = None
    status: str | None = None
    client_id: uuid.UUID | None = None
    charter_id: uuid.UUID | None = None
    lead_id: uuid.UUID | None = None
    vendor_id: uuid.UUID | None = None
    #: part of the address, any case
    recipient: str | None = None
    since: datetime | None = None
    until: datetime | None = None


async def search(
    session: AsyncSession, where: LogFilter, first: int | None, after: str | None
) -> Connection[Message]:
    """Newest first; every filter given narrows it."""
    stmt = select(Message)
    for column, value in (
        (Message.kind, where.kind),
        (Message.channel, where.channel),
        (Message.status, where.status),
        (Message.client_id, where.client_id),
        (Message.charter_id, where.charter_id),
        (Message.lead_id, where.lead_id),
        (Message.vendor_id, where.vendor_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if where.recipient:
        escaped = where.recipient.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(Message.recipient.ilike(f"%{escaped}%", escape="\\"))
    if where.since is not None:
        stmt = stmt.where(Message.created_at >= where.since)
    if where.until is not None:
        stmt = stmt.where(Message.created_at < where.until)
    return await paginate(session, stmt, ORDER, first=first, after=after)
