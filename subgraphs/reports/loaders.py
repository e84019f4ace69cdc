"""Reports' dataloaders: one statement per kind of row per request.

Others add their loaders below (additively).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING

from subgraphs.kit.loaders import ByIdLoader, SessionLoader
from subgraphs.reports import models
from subgraphs.reports.service.dashboards import latest_runs

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


class TemplateByIdLoader(ByIdLoader[models.ReportTemplate]):
    model = models.ReportTemplate


class LatestRunLoader(SessionLoader[tuple[uuid.UUID, uuid.UUID, str], models.ReportRun | None]):
    """A dashboard widget's figures: the newest run by (runner, template, parameters key)."""

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[tuple[uuid.UUID, uuid.UUID, str]]
    ) -> list[models.ReportRun | None]:
        return await latest_runs(session, keys)
