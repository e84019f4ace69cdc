"""Notifications' root queries: one mixin per aggregate, composed here."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from subgraphs.kit.auth.roles import Role
from subgraphs.kit.errors import UnauthenticatedError
from subgraphs.kit.permissions import allow
from subgraphs.notifications import loaders as L
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


@strawberry.type
class Query(PreferenceQueries):
    pass
