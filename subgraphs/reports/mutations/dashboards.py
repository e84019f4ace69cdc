"""Reports' root mutations for dashboards (issue 16 §4): save, change, delete, refresh.

Saving is one transaction around one service call: bad input is
`userErrors` naming the GraphQL input field, nothing written. Refreshing
runs every widget as the caller, outside any transaction, then keeps the runs.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from subgraphs.kit.errors import ServiceError
from subgraphs.kit.ids import input_uuid
from subgraphs.kit.payloads import UserError, transact, user_errors
from subgraphs.kit.permissions import allow
from subgraphs.reports.service import dashboards
from subgraphs.reports.service.access import USE_REPORTS
from subgraphs.reports.service.graph_port import http_graph
from subgraphs.reports.types.dashboards import (
    Dashboard,
    DashboardPayload,
    DeleteDashboardPayload,
)


@strawberry.input
class DashboardWidgetInput:
    template_id: strawberry.ID = strawberry.field(description="A template you may run.")
    title: str | None = strawberry.field(default=None, description="Default: the template's name.")
    parameters: JSON | None = strawberry.field(
        default=None, description="Values for the template's declared variables."
    )
    position: int | None = strawberry.field(
        default=None, description="Place in the layout, lowest first; default its index."
    )


@strawberry.input
class CreateDashboardInput:
    name: str
    widgets: list[DashboardWidgetInput] = strawberry.field(default_factory=list)


@strawberry.input(description="What changes; `widgets`, when given, replaces them all.")
class UpdateDashboardInput:
    name: str | None = None
    widgets: list[DashboardWidgetInput] | None = None


def _data(input: CreateDashboardInput | UpdateDashboardInput) -> dashboards.DashboardData:
    widgets = None
    if input.widgets is not None:
        widgets = [
            dashboards.WidgetData(
                template_id=w.template_id,
                title=w.title,
                parameters=w.parameters,
                position=w.position,
            )
            for w in input.widgets
        ]
    return dashboards.DashboardData(name=input.name, widgets=widgets)


def _payload(row: Any, errors: list[UserError]) -> DashboardPayload:
    return DashboardPayload(
        dashboard=Dashboard.from_row(row) if row is not None else None, user_errors=errors
    )


@strawberry.type
class DashboardsMutations:
    @strawberry.mutation(
        extensions=[allow(*USE_REPORTS)],
        description="Save a dashboard of your own: widgets of templates you may run.",
    )
    async def create_dashboard(self, info: Info, input: CreateDashboardInput) -> DashboardPayload:
        viewer = await info.context.get_viewer()

        async def work(session: Any) -> Any:
            return await dashboards.create_dashboard(session, _data(input), viewer)

        return _payload(*await transact(info, work))

    @strawberry.mutation(
        extensions=[allow(*USE_REPORTS)],
        description="Rename your dashboard or replace its widgets.",
    )
    async def update_dashboard(
        self, info: Info, id: strawberry.ID, input: UpdateDashboardInput
    ) -> DashboardPayload:
        viewer = await info.context.get_viewer()

        async def work(session: Any) -> Any:
            return await dashboards.update_dashboard(
                session, input_uuid(id, "id"), _data(input), viewer
            )

        return _payload(*await transact(info, work))

    @strawberry.mutation(
        extensions=[allow(*USE_REPORTS)],
        description="Delete your dashboard (the runs it showed stay in the run history).",
    )
    async def delete_dashboard(self, info: Info, id: strawberry.ID) -> DeleteDashboardPayload:
        viewer = await info.context.get_viewer()

        async def work(session: Any) -> Any:
            return await dashboards.delete_dashboard(session, input_uuid(id, "id"), viewer)

        deleted, errors = await transact(info, work)
        return DeleteDashboardPayload(
            deleted_id=strawberry.ID(str(deleted)) if deleted is not None else None,
            user_errors=errors,
        )

    @strawberry.mutation(
        extensions=[allow(*USE_REPORTS)],
        description="Run every widget's template now, at once, through the router with YOUR "
        "token, and return the dashboard with the new figures. A widget whose template you "
        "may no longer run (NOT_FOUND, BROKEN_TEMPLATE) or whose run fails (RUN_FAILED) is a "
        "user error on `widgets.<i>`; the others still run.",
    )
    async def refresh_dashboard(self, info: Info, id: strawberry.ID) -> DashboardPayload:
        context = info.context
        viewer = await context.get_viewer()
        try:
            refreshed = await dashboards.refresh_dashboard(
                context.sessions,
                input_uuid(id, "id"),
                viewer,
                graph=http_graph(context.services),
                authorization=context.request.headers.get("authorization"),
                now=datetime.now(UTC),
                tz=context.settings.operator_time_zone,
                retention_days=context.settings.reports_run_retention_days,
            )
        except ServiceError as error:
            return DashboardPayload(dashboard=None, user_errors=user_errors(error))
        errors = user_errors(ServiceError(refreshed.problems)) if refreshed.problems else []
        return _payload(refreshed.dashboard, errors)
