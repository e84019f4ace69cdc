"""Reports' root queries for dashboards (issue 16 §4): your own, or one by id."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from subgraphs.kit.errors import ServiceError
from subgraphs.kit.ids import parse_uuid
from subgraphs.kit.permissions import allow
from subgraphs.kit.read_sessions import read_session
from subgraphs.reports.service import dashboards
from subgraphs.reports.service.access import USE_REPORTS
from subgraphs.reports.types.dashboards import Dashboard


@strawberry.type
class DashboardsQueries:
    @strawberry.field(
        extensions=[allow(*USE_REPORTS)],
        description="Your saved dashboards by name, each widget with your latest figures.",
    )
    async def my_dashboards(self, info: Info) -> list[Dashboard]:
        viewer = await info.context.get_viewer()
        async with read_session(info) as session:
            rows = await dashboards.own_dashboards(session, viewer)
        return [Dashboard.from_row(r) for r in rows]

    @strawberry.field(
        extensions=[allow(*USE_REPORTS)],
        description="A dashboard: yours (admins: anyone's); null otherwise.",
    )
    async def dashboard(self, info: Info, id: strawberry.ID) -> Dashboard | None:
        key = parse_uuid(id)
        if key is None:
            return None
        viewer = await info.context.get_viewer()
        async with info.context.sessions() as session:
            try:
                row = await dashboards.get_dashboard(session, key, viewer)
            except ServiceError:
                return None
        return Dashboard.from_row(row)
