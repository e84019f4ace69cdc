"""Reading templates: what the caller may run (shared and its own); broken ones for READ_BROKEN."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from subgraphs.kit.errors import ForbiddenError
from subgraphs.kit.ids import parse_uuid
from subgraphs.kit.permissions import allow
from subgraphs.kit.read_sessions import read_session
from subgraphs.reports.service import templates
from subgraphs.reports.service.access import READ_BROKEN, USE_REPORTS
from subgraphs.reports.types.templates import ReportTemplate


@strawberry.type
class TemplatesQueries:
    @strawberry.field(
        extensions=[allow(*USE_REPORTS)],
        description="The templates the caller may run (shared ones and its own), by name; "
        "broken ones too when asked (managers and admins, else FORBIDDEN).",
    )
    async def report_templates(
        self, info: Info, include_broken: bool = False
    ) -> list[ReportTemplate]:
        viewer = await info.context.get_viewer()
        if include_broken and not viewer.has_any_role(*READ_BROKEN):
            raise ForbiddenError("Only managers and admins list broken templates.")
        async with read_session(info) as session:
            rows = await templates.listed(session, viewer, include_broken=include_broken)
        return [ReportTemplate.from_row(r) for r in rows]

    @strawberry.field(
        extensions=[allow(*USE_REPORTS)],
        description="A template the caller may run; null otherwise.",
    )
    async def report_template(self, info: Info, id: strawberry.ID) -> ReportTemplate | None:
        key = parse_uuid(id)
        if key is None:
            return None
        viewer = await info.context.get_viewer()
        async with info.context.sessions() as session:
            row = await templates.visible(session, key, viewer)
        return ReportTemplate.from_row(row) if row is not None else None

    @strawberry.field(
        extensions=[allow(*READ_BROKEN)],
        description="Every template whose operation no longer validates against the graph.",
    )
    async def broken_report_templates(self, info: Info) -> list[ReportTemplate]:
        async with read_session(info) as session:
            rows = await templates.broken(session)
        return [ReportTemplate.from_row(r) for r in rows]
