"""Notifications' dataloaders: one statement per kind of row per request."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING

from subgraphs.kit.loaders import SessionLoader
from subgraphs.kit.pages_by_parent import PagesByParentLoader
from subgraphs.notifications import models
from subgraphs.notifications.service.preferences import (
    DEFAULTS,
    Preferences,
    many_client_preferences,
    many_user_preferences,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


class ClientPreferencesLoader(SessionLoader[uuid.UUID, Preferences]):
    async def load_batch(
        self, session: AsyncSession, keys: Sequence[uuid.UUID]
    ) -> list[Preferences]:
        found = await many_client_preferences(session, list(keys))
        return [found.get(key, DEFAULTS) for key in keys]


class UserPreferencesLoader(SessionLoader[uuid.UUID, Preferences]):
    async def load_batch(
        self, session: AsyncSession, keys: Sequence[uuid.UUID]
    ) -> list[Preferences]:
        found = await many_user_preferences(session, list(keys))
        return [found.get(key, DEFAULTS) for key in keys]


class MessagesByCharterLoader(PagesByParentLoader):
    """`Charter.notificationMessages` pages, newest first."""

    model = models.Message
    parent_column = "charter_id"
    order_by = ("created_at", "id")
    descending = True


class MessagesByLeadLoader(PagesByParentLoader):
    """`Lead.notificationMessages` pages, newest first."""

    model = models.Message
    parent_column = "lead_id"
    order_by = ("created_at", "id")
    descending = True


class MessagesByClientLoader(PagesByParentLoader):
    """`Client.notificationMessages` pages, newest first."""

    model = models.Message
    parent_column = "client_id"
    order_by = ("created_at", "id")
    descending = True
