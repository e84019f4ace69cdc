"""Reading schedules: managers and admins see every schedule, other staff their own."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from subgraphs.kit.errors import ServiceError
from subgraphs.kit.ids import parse_uuid
from subgraphs.kit.permissions import allow
from subgraphs.kit.read_sessions import read_session
from subgraphs.reports.service import schedules
from subgraphs.reports.service.access import USE_REPORTS
from subgraphs.reports.types.schedules import ReportSchedule


@strawberry.type
class SchedulesQueries:
    @strawberry.field(
        extensions=[allow(*USE_REPORTS)],
        description="Schedules by name (a template's when `templateId` is given): every one "
        "for managers and admins, your own otherwise; disabled ones included.",
    )
    async def report_schedules(
        self, info: Info, template_id: strawberry.ID | None = None
    ) -> list[ReportSchedule]:
        viewer = await info.context.get_viewer()
        key = parse_uuid(template_id) if template_id is not None else None
        if template_id is not None and key is None:
            return []
        async with read_session(info) as session:
            rows = await schedules.visible_schedules(session, viewer, key)
        return [ReportSchedule.from_row(r) for r in rows]

    @strawberry.field(
        extensions=[allow(*USE_REPORTS)],
        description="A schedule; null unless it is yours or you are a manager or admin.",
    )
    async def report_schedule(self, info: Info, id: strawberry.ID) -> ReportSchedule | None:
        viewer = await info.context.get_viewer()
        key = parse_uuid(id)
        if key is None:
            return None
        async with info.context.sessions() as session:
            try:
                row = await schedules.get_schedule(session, key, viewer)
            except ServiceError:
                return None
        return ReportSchedule.from_row(row)
