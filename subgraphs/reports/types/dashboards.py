"""Saved dashboards as the graph shows them: widgets with the reader's latest figures."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from subgraphs.kit.errors import ServiceError
from subgraphs.kit.ids import parse_uuid
from subgraphs.kit.payloads import UserError
from subgraphs.kit.read_sessions import read_loaders
from subgraphs.reports import loaders as L
from subgraphs.reports.service import access, dashboards
from subgraphs.reports.types.runs import ReportRun
from subgraphs.reports.types.templates import ReportTemplate


@strawberry.type(description="One widget: a template with parameters, and its latest figures.")
class DashboardWidget:
    id: strawberry.ID
    title: str
    parameters: JSON = strawberry.field(
        description="Values for the template's variables, over its defaults (relative dates "
        "resolved when it runs)."
    )
    position: int = strawberry.field(description="Place in the layout, lowest first.")
    template_id: strawberry.Private[uuid.UUID | None]
    raw: strawberry.Private[dict[str, Any]]

    @classmethod
    def from_json(cls, widget: dict[str, Any]) -> DashboardWidget:
        return cls(
            id=strawberry.ID(str(widget.get("id", ""))),
            title=str(widget.get("title", "")),
            parameters=cast(JSON, dict(widget.get("parameters") or {})),
            position=int(widget.get("position") or 0),
            template_id=parse_uuid(widget.get("templateId")),
            raw=widget,
        )

    async def _template_row(self, info: Info) -> Any:
        if self.template_id is None:
            return None
        row = await read_loaders(info).get(L.TemplateByIdLoader).load(self.template_id)
        viewer = await info.context.get_viewer()
        if row is None or not row.active or not access.may_run(viewer, row.shared, row.owner_id):
            return None
        return row

    @strawberry.field(description="The template it shows; null if you may no longer run it.")
    async def template(self, info: Info) -> ReportTemplate | None:
        row = await self._template_row(info)
        return ReportTemplate.from_row(row) if row is not None else None

    @strawberry.field(
        description="Your latest run of its template with its parameters as they resolve "
        "today (refreshDashboard makes one); null before the first refresh, or when a "
        "relative date has moved on since (last month's run is not this month's)."
    )
    async def latest_run(self, info: Info) -> ReportRun | None:
        row = await self._template_row(info)
        viewer = await info.context.get_viewer()
        if row is None or viewer.user_id is None:
            return None
        try:
            parameters = dashboards.widget_parameters(
                row, self.raw, datetime.now(UTC), info.context.settings.operator_time_zone
            )
        except ServiceError:
            return None
        key = (viewer.user_id, row.id, dashboards.parameters_key(parameters))
        run = await read_loaders(info).get(L.LatestRunLoader).load(key)
        return ReportRun.from_row(run) if run is not None else None


@strawberry.type(description="A saved layout of widgets; its owner's (admins may open any).")
class Dashboard:
    id: strawberry.ID
    name: str
    owner: strawberry.ID
    widgets: list[DashboardWidget] = strawberry.field(description="In layout order.")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> Dashboard:
        return cls(
            id=strawberry.ID(str(row.id)),
            name=row.name,
            owner=strawberry.ID(str(row.owner_id)),
            widgets=[DashboardWidget.from_json(w) for w in row.widgets or ()],
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


@strawberry.type
class DashboardPayload:
    dashboard: Dashboard | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeleteDashboardPayload:
    deleted_id: strawberry.ID | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
