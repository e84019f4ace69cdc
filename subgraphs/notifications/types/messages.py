"""The delivery log: one `NotificationMessage` per decided message, and where it is listed."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from subgraphs.kit.errors import ForbiddenError, UnauthenticatedError
from subgraphs.kit.ids import parse_uuid
from subgraphs.kit.pages_by_parent import PageKey
from subgraphs.kit.pagination import Connection
from subgraphs.notifications import loaders as L
from subgraphs.notifications.service.access import READ_DELIVERY_LOG, may_read_client_messages


@strawberry.enum(description="Where a message is: decided, handed over, read.")
class MessageStatus(Enum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SUPPRESSED = "suppressed"
    OPENED = "opened"
    CLICKED = "clicked"


@strawberry.enum
class NotificationChannel(Enum):
    EMAIL = "email"
    SMS = "sms"


def _ref(value: Any) -> strawberry.ID | None:
    return strawberry.ID(str(value)) if value is not None else None


@strawberry.type(description="One message to one recipient on one channel, and what became of it.")
class NotificationMessage:
    id: strawberry.ID
    kind: str = strawberry.field(description="quote_sent, booking_confirmed, ...")
    channel: NotificationChannel
    recipient: str = strawberry.field(description="The e-mail address or phone number.")
    recipient_name: str | None
    status: MessageStatus
    failure_reason: str | None = strawberry.field(
        description="Why it failed or was suppressed (an opt-out, a template, the provider)."
    )
    attempts: int
    transactional: bool = strawberry.field(
        description="Receipts and password resets: sent whatever the topic opt-outs say."
    )
    template_version: int | None
    subject: str | None
    body_text: str | None
    client_id: strawberry.ID | None
    charter_id: strawberry.ID | None
    lead_id: strawberry.ID | None
    vendor_id: strawberry.ID | None
    created_at: datetime
    sent_at: datetime | None
    opened_at: datetime | None
    clicked_at: datetime | None

    @classmethod
    def from_row(cls, row: Any) -> NotificationMessage:
        return cls(
            id=strawberry.ID(str(row.id)),
            kind=row.kind,
            channel=NotificationChannel(row.channel),
            recipient=row.recipient,
            recipient_name=row.recipient_name,
            status=MessageStatus(row.status),
            failure_reason=row.failure_reason,
            attempts=row.attempts,
            transactional=row.transactional,
            template_version=row.template_version,
            subject=row.subject,
            body_text=row.body_text,
            client_id=_ref(row.client_id),
            charter_id=_ref(row.charter_id),
            lead_id=_ref(row.lead_id),
            vendor_id=_ref(row.vendor_id),
            created_at=row.created_at,
            sent_at=row.sent_at,
            opened_at=row.opened_at,
            clicked_at=row.clicked_at,
        )


async def _staff_only(info: Info) -> None:
    viewer = await info.context.get_viewer()
    if not viewer.is_authenticated:
        raise UnauthenticatedError()
    if not viewer.has_any_role(*READ_DELIVERY_LOG):
        raise ForbiddenError("Only staff read the delivery log.")


async def _page(
    info: Info, loader: type[Any], parent: strawberry.ID, first: int | None, after: str | None
) -> Connection[NotificationMessage] | None:
    """One page of a parent's messages, batched with the other parents' of the request."""
    key = parse_uuid(parent)
    if key is None:
        return None
    page = await info.context.loaders.get(loader).load(PageKey.of(key, first, after))
    return page.connection(NotificationMessage.from_row)


@strawberry.federation.type(keys=["id"])
class Charter:
    id: strawberry.ID

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Charter:
        return cls(id=id)

    @strawberry.field(description="Messages sent about this charter, newest first: staff only.")
    async def notification_messages(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> Connection[NotificationMessage] | None:
        await _staff_only(info)
        return await _page(info, L.MessagesByCharterLoader, self.id, first, after)


@strawberry.federation.type(keys=["id"])
class Lead:
    id: strawberry.ID

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Lead:
        return cls(id=id)

    @strawberry.field(description="Messages sent about this lead, newest first: staff only.")
    async def notification_messages(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> Connection[NotificationMessage] | None:
        await _staff_only(info)
        return await _page(info, L.MessagesByLeadLoader, self.id, first, after)


async def client_messages(
    info: Info, client_id: strawberry.ID, first: int | None, after: str | None
) -> Connection[NotificationMessage] | None:
    """`Client.notificationMessages`: staff, and the client's own users."""
    viewer = await info.context.get_viewer()
    if not viewer.is_authenticated:
        raise UnauthenticatedError()
    key = parse_uuid(client_id)
    if key is None:
        return None
    if not may_read_client_messages(viewer, key):
        raise ForbiddenError("You may not read this client's messages.")
    return await _page(info, L.MessagesByClientLoader, client_id, first, after)
