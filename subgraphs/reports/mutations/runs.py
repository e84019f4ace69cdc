"""Reports' root mutations for runs (issue 16): run a template now, as the caller."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from subgraphs.kit.errors import ServiceError
from subgraphs.kit.ids import input_uuid
from subgraphs.kit.payloads import UserError, user_errors
from subgraphs.kit.permissions import allow
from subgraphs.reports.error_codes import ReportsErrorCode as Code
from subgraphs.reports.service import runner, templates
from subgraphs.reports.service.access import USE_REPORTS
from subgraphs.reports.service.graph_port import http_graph
from subgraphs.reports.types.runs import ReportRun, RunReportPayload

if TYPE_CHECKING:
    from subgraphs.reports.models import ReportTemplate


@strawberry.type
class RunsMutations:
    @strawberry.mutation(
        extensions=[allow(*USE_REPORTS)],
        description="Run a template now through the router with your own token, so it shows "
        "only what you may see; `parameters` override its variables' defaults (declared "
        "variables only). Every page of its rows is followed. A template you may not run is "
        "NOT_FOUND, a broken one BROKEN_TEMPLATE; a run the graph fails is kept with status "
        "FAILED and reported as RUN_FAILED (its id in the message). Staff only.",
    )
    async def run_report(
        self,
        info: Info,
        template_id: strawberry.ID,
        parameters: JSON | None = None,
    ) -> RunReportPayload:
        context = info.context
        viewer = await context.get_viewer()
        settings = context.settings
        now = datetime.now(UTC)
        given: Any = parameters
        try:
            async with context.sessions() as session:
                template: ReportTemplate = await templates.get_runnable(
                    session, input_uuid(template_id, "templateId"), viewer
                )
            sent = runner.resolve_parameters(template, given, now, settings.operator_time_zone)
        except ServiceError as error:
            return RunReportPayload(run=None, user_errors=user_errors(error))
        # The graph is asked outside any transaction: a slow router holds no connection.
        outcome = await runner.execute(
            template,
            sent,
            graph=http_graph(context.services),
            authorization=context.request.headers.get("authorization"),
        )
        async with context.sessions() as session, session.begin():
            row = runner.record(
                session,
                template.id,
                outcome,
                run_by=viewer.user_id,
                now=now,
                retention_days=settings.reports_run_retention_days,
            )
        errors = []
        if outcome.status == runner.FAILED:
            errors.append(
                UserError(
                    field=None, code=str(Code.RUN_FAILED), message=runner.failure_message(row)
                )
            )
        return RunReportPayload(run=ReportRun.from_row(row), user_errors=errors)
