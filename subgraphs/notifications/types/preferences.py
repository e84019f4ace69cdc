"""Preferences on the entities they belong to: `Client.notificationPreferences`, `User.notificationPreferences`."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from subgraphs.kit.errors import ForbiddenError, UnauthenticatedError
from subgraphs.kit.ids import parse_uuid
from subgraphs.kit.pagination import Connection
from subgraphs.notifications import loaders as L
from subgraphs.notifications.service.access import (
    may_work_client_preferences,
    may_work_user_preferences,
)
from subgraphs.notifications.service.preferences import Preferences
from subgraphs.notifications.types.messages import NotificationMessage, client_messages


@strawberry.type(
    description="What a company or person wants to hear. Transactional messages (password "
    "resets, receipts) ignore the topic switches and `email`; everything else honours them. "
    "SMS needs `smsOptIn` and a phone."
)
class NotificationPreferences:
    quotes: bool = strawberry.field(description="Quotes sent and revised, quote follow-ups.")
    reminders: bool = strawberry.field(description="Deposit, balance and trip reminders.")
    follow_ups: bool = strawberry.field(description="Sales follow-ups.")
    marketing: bool
    email: bool = strawberry.field(description="Any e-mail that is not transactional.")
    sms_opt_in: bool = strawberry.field(description="Text messages: off until opted in.")
    sms_phone: str | None = strawberry.field(description="E.164, e.g. +13125550100.")

    @classmethod
    def of(cls, prefs: Preferences) -> NotificationPreferences:
        return cls(
            quotes=prefs.quotes,
            reminders=prefs.reminders,
            follow_ups=prefs.follow_ups,
            marketing=prefs.marketing,
            email=prefs.email,
            sms_opt_in=prefs.sms_opt_in,
            sms_phone=prefs.sms_phone,
        )


@strawberry.federation.type(keys=["id"])
class Client:
    id: strawberry.ID

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Client:
        return cls(id=id)

    @strawberry.field(
        description="The company's notification choices: the client's own users and the staff "
        "who work clients."
    )
    async def notification_preferences(self, info: Info) -> NotificationPreferences | None:
        viewer = await info.context.get_viewer()
        if not viewer.is_authenticated:
            raise UnauthenticatedError()
        key = parse_uuid(self.id)
        if key is None:
            return None
        if not may_work_client_preferences(viewer, key):
            raise ForbiddenError("You may not see this client's notification preferences.")
        return NotificationPreferences.of(
            await info.context.loaders.get(L.ClientPreferencesLoader).load(key)
        )

    @strawberry.field(
        description="Messages sent to this company, newest first: staff and the client's own users."
    )
    async def notification_messages(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> Connection[NotificationMessage] | None:
        return await client_messages(info, self.id, first, after)


@strawberry.federation.type(keys=["id"])
class User:
    id: strawberry.ID

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> User:
        return cls(id=id)

    @strawberry.field(description="This person's notification choices: the person and admins.")
    async def notification_preferences(self, info: Info) -> NotificationPreferences | None:
        viewer = await info.context.get_viewer()
        if not viewer.is_authenticated:
            raise UnauthenticatedError()
        key = parse_uuid(self.id)
        if key is None:
            return None
        if not may_work_user_preferences(viewer, key):
            raise ForbiddenError("You may not see this person's notification preferences.")
        return NotificationPreferences.of(
            await info.context.loaders.get(L.UserPreferencesLoader).load(key)
        )
