"""Reports' root queries for runs (issue 16): one run, and the history of runs."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from subgraphs.kit.errors import BadUserInputError
from subgraphs.kit.ids import parse_uuid
from subgraphs.kit.permissions import allow
from subgraphs.kit.read_sessions import read_session
from subgraphs.reports.service import runner
from subgraphs.reports.service.access import USE_REPORTS
from subgraphs.reports.types.runs import ReportRun


@strawberry.type
class RunsQueries:
    @strawberry.field(
        extensions=[allow(*USE_REPORTS)],
        description="One run with its table: the person who ran it, or an admin; null otherwise.",
    )
    async def report_run(self, info: Info, id: strawberry.ID) -> ReportRun | None:
        key = parse_uuid(id)
        if key is None:
            return None
        viewer = await info.context.get_viewer()
        async with info.context.sessions() as session:
            row = await runner.readable_run(session, key, viewer)
        return ReportRun.from_row(row) if row is not None else None

    @strawberry.field(
        extensions=[allow(*USE_REPORTS)],
        description="Run history, newest first (who, when, parameters, duration, rows): runs of "
        "templates you may run, of one template when `templateId` is given; your own runs, "
        f"everyone's for managers and admins. `first` from 1 to {runner.MAX_HISTORY}.",
    )
    async def report_runs(
        self, info: Info, template_id: strawberry.ID | None = None, first: int = 20
    ) -> list[ReportRun]:
        if not 1 <= first <= runner.MAX_HISTORY:
            raise BadUserInputError(f"`first` is 1 to {runner.MAX_HISTORY}.", field="first")
        key = None
        if template_id is not None:
            key = parse_uuid(template_id)
            if key is None:
                return []
        viewer = await info.context.get_viewer()
        async with read_session(info) as session:
            rows = await runner.history(session, viewer, key, first)
        return [ReportRun.from_row(r) for r in rows]
