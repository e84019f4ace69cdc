"""Notifications' root queries: one mixin per aggregate, composed here."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry.types import Info

from protocol.roles import Role
from subgraphs.kit.errors import BadUserInputError, UnauthenticatedError
from subgraphs.kit.ids import parse_uuid
from subgraphs.kit.pagination import Connection, Edge
from subgraphs.kit.permissions import allow
from subgraphs.notifications import loaders as L
from subgraphs.notifications.queries_templates import TemplateQueries
from subgraphs.notifications.service import delivery_log
from subgraphs.notifications.service.access import READ_DELIVERY_LOG
from subgraphs.notifications.service.delivery_log import LogFilter
from subgraphs.notifications.types.messages import (
    MessageStatus,
    NotificationChannel,
    NotificationMessage,
)
from subgraphs.notifications.types.preferences import NotificationPreferences


@strawberry.type
class PreferenceQueries:
    @strawberry.field(
        extensions=[allow(*Role)], description="Your own notification choices (any account)."
    )
    async def my_notification_preferences(self, info: Info) -> NotificationPreferences:
        viewer = await info.context.get_viewer()
        if viewer.user_id is None:  # allow() lets only signed-in callers through
            raise UnauthenticatedError()
        return NotificationPreferences.of(
            await info.context.loaders.get(L.UserPreferencesLoader).load(viewer.user_id)
        )


@strawberry.input(description="Every filter given narrows the log.")
class NotificationMessageFilter:
    kind: str | None = None
    channel: NotificationChannel | None = None
    status: MessageStatus | None = None
    client_id: strawberry.ID | None = None
    charter_id: strawberry.ID | None = None
    lead_id: strawberry.ID | None = None
    vendor_id: strawberry.ID | None = None
    recipient: str | None = strawberry.field(default=None, description="Part of the address.")
    since: datetime | None = None
    until: datetime | None = None

    def as_filter(self) -> LogFilter:
        return LogFilter(
            kind=self.kind,
            channel=self.channel.value if self.channel else None,
            status=self.status.value if self.status else None,
            client_id=_id(self.client_id, "clientId"),
            charter_id=_id(self.charter_id, "charterId"),
            lead_id=_id(self.lead_id, "leadId"),
            vendor_id=_id(self.vendor_id, "vendorId"),
            recipient=self.recipient,
            since=self.since,
            until=self.until,
        )


def _id(value: strawberry.ID | None, field: str) -> uuid.UUID | None:
    if value is None:
        return None
    key = parse_uuid(value)
    if key is None:
        raise BadUserInputError(f"`filter.{field}` is not an id.", field=f"filter.{field}")
    return key


@strawberry.type
class DeliveryLogQueries:
    @strawberry.field(
        extensions=[allow(*READ_DELIVERY_LOG)],
        description="Every message the business decided to send, newest first: staff only.",
    )
    async def notification_messages(
        self,
        info: Info,
        filter: NotificationMessageFilter | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> Connection[NotificationMessage]:
        where = filter.as_filter() if filter else LogFilter()
        async with info.context.sessions() as session:
            page = await delivery_log.search(session, where, first, after)
        return Connection(
            edges=[
                Edge(cursor=e.cursor, node=NotificationMessage.from_row(e.node)) for e in page.edges
            ],
            page_info=page.page_info,
            total_count=page.total_count,
        )


@strawberry.type
class Query(PreferenceQueries, DeliveryLogQueries, TemplateQueries):
    pass
