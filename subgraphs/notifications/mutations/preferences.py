"""Changing who wants to hear what: a company's choices and one's own."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from protocol.roles import Role
from subgraphs.kit.errors import ForbiddenError, UnauthenticatedError
from subgraphs.kit.ids import input_uuid, parse_uuid
from subgraphs.kit.payloads import UserError, transact
from subgraphs.kit.permissions import allow
from subgraphs.notifications.service import preferences
from subgraphs.notifications.service.access import (
    OWN_CLIENT_PREFERENCES,
    WORK_CLIENT_PREFERENCES,
    may_work_client_preferences,
)
from subgraphs.notifications.types.preferences import NotificationPreferences


@strawberry.input(description="Only the fields given change; the others keep their value.")
class NotificationPreferencesInput:
    quotes: bool | None = strawberry.UNSET
    reminders: bool | None = strawberry.UNSET
    follow_ups: bool | None = strawberry.UNSET
    marketing: bool | None = strawberry.UNSET
    email: bool | None = strawberry.UNSET
    sms_opt_in: bool | None = strawberry.UNSET
    sms_phone: str | None = strawberry.field(
        default=strawberry.UNSET, description="E.164, e.g. +13125550100; null removes it."
    )

    def changes(self) -> dict[str, Any]:
        """The given fields; a null switch is refused by the schema's shape, not here."""
        given = {k: v for k, v in vars(self).items() if v is not strawberry.UNSET}
        return {k: v for k, v in given.items() if v is not None or k == "sms_phone"}


@strawberry.type
class NotificationPreferencesPayload:
    preferences: NotificationPreferences | None
    user_errors: list[UserError]


#: every signed-in account has preferences of its own
ANY_ACCOUNT = tuple(Role)


@strawberry.type
class PreferenceMutations:
    @strawberry.mutation(
        extensions=[allow(*WORK_CLIENT_PREFERENCES, *OWN_CLIENT_PREFERENCES)],
        description="Change a client company's notification choices: its own users, and staff "
        "who work clients.",
    )
    async def update_client_notification_preferences(
        self, info: Info, client_id: strawberry.ID, input: NotificationPreferencesInput
    ) -> NotificationPreferencesPayload:
        viewer = await info.context.get_viewer()
        key = parse_uuid(client_id)
        if key is not None and not may_work_client_preferences(viewer, key):
            raise ForbiddenError("You may not change this client's notification preferences.")
        prefs, errors = await transact(
            info,
            lambda s: preferences.set_client_preferences(
                s, input_uuid(client_id, "clientId"), input.changes(), viewer
            ),
        )
        return NotificationPreferencesPayload(
            preferences=NotificationPreferences.of(prefs) if prefs else None, user_errors=errors
        )

    @strawberry.mutation(
        extensions=[allow(*ANY_ACCOUNT)],
        description="Change your own notification choices.",
    )
    async def update_my_notification_preferences(
        self, info: Info, input: NotificationPreferencesInput
    ) -> NotificationPreferencesPayload:
        viewer = await info.context.get_viewer()
        if viewer.user_id is None:  # allow() lets only signed-in callers through
            raise UnauthenticatedError()
        user_id = viewer.user_id
        prefs, errors = await transact(
            info, lambda s: preferences.set_user_preferences(s, user_id, input.changes(), viewer)
        )
        return NotificationPreferencesPayload(
            preferences=NotificationPreferences.of(prefs) if prefs else None, user_errors=errors
        )
