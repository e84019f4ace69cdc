"""Sales' dataloaders: one statement per kind of row per request."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from subgraphs.kit.loaders import ByIdLoader, ByParentIdLoader, SessionLoader
from subgraphs.kit.pages_by_parent import PagesByParentLoader
from subgraphs.sales import models
from subgraphs.sales.service import dashboard
from subgraphs.sales.service.dashboard import Figures

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


class ClientByIdLoader(ByIdLoader[models.Client]):
    model = models.Client


class ContactsByClientIdLoader(ByParentIdLoader[models.ClientContact]):
    """A client's contacts by name (the type puts the primary first)."""

    model = models.ClientContact
    parent_column = "client_id"
    order_by = ("client_id", "name", "id")


class LeadByIdLoader(ByIdLoader[models.Lead]):
    model = models.Lead


class ActivitiesPageByLeadIdLoader(PagesByParentLoader):
    """`Lead.activities`, newest first, for every lead of a request at once."""

    model = models.LeadActivity
    parent_column = "lead_id"
    order_by = ("at", "id")
    descending = True


class SalesFiguresByAgentLoader(SessionLoader[tuple[uuid.UUID, str], Figures]):
    """`User.salesDashboard` of many agents in one statement; keys are (agent, time zone)."""

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[tuple[uuid.UUID, str]]
    ) -> list[Figures]:
        now = datetime.now(UTC)
        found: dict[tuple[uuid.UUID, str], Figures] = {}
        for zone in {zone for _agent, zone in keys}:
            agents = [agent for agent, z in keys if z == zone]
            by_agent = await dashboard.figures(session, agents, now=now, zone=zone)
            found.update({(agent, zone): by_agent[agent] for agent in agents})
        return [found[key] for key in keys]
