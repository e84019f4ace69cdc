"""Saving templates: any staff member saves private ones; managers and admins shared ones.

Each mutation is one transaction around one service call: an operation that
does not validate, a path it does not select, an aggregation over a
non-number is `userErrors` naming the input field, and nothing is saved.
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from subgraphs.kit.ids import input_uuid
from subgraphs.kit.payloads import UserError, transact
from subgraphs.kit.permissions import allow
from subgraphs.reports.service import templates
from subgraphs.reports.service.access import USE_REPORTS
from subgraphs.reports.types.templates import AggregationFunction, ReportTemplate, Visualisation


@strawberry.input
class ReportColumnInput:
    path: str = strawberry.field(description="Dot path of response keys under each row.")
    label: str | None = strawberry.field(default=None, description="Default: the path's last key.")
    format: str = strawberry.field(
        default="text", description="text, money, number, date, datetime or percent."
    )


@strawberry.input
class ReportAggregationInput:
    column: str = strawberry.field(description="The path of one of the columns.")
    function: AggregationFunction


@strawberry.input
class CreateReportTemplateInput:
    name: str
    operation: str = strawberry.field(description="One GraphQL query over the public graph.")
    rows_path: str = strawberry.field(description="Dot path to the rows: charters.edges.node.")
    columns: list[ReportColumnInput]
    description: str | None = None
    variables: JSON | None = strawberry.field(
        default=None,
        description='Defaults by variable name; dates may be relative: {"relative": '
        '"month_start"}, {"relative": "days_ago", "days": 7}, {"relative": '
        '"month_start_instant"} (a DateTime).',
    )
    page_size: int | None = strawberry.field(default=None, description="1 to 500; default 100.")
    group_by: list[str] | None = strawberry.field(
        default=None, description="Column paths the rows are grouped by."
    )
    aggregations: list[ReportAggregationInput] | None = None
    visualisation: Visualisation | None = None
    shared: bool | None = strawberry.field(
        default=None, description="Shared with all staff (managers and admins only)."
    )


@strawberry.input(description="What changes; a field left out stays as it is.")
class UpdateReportTemplateInput:
    name: str | None = None
    description: str | None = None
    operation: str | None = None
    variables: JSON | None = None
    rows_path: str | None = None
    page_size: int | None = None
    columns: list[ReportColumnInput] | None = None
    group_by: list[str] | None = None
    aggregations: list[ReportAggregationInput] | None = None
    visualisation: Visualisation | None = None
    shared: bool | None = None


@strawberry.type
class ReportTemplatePayload:
    template: ReportTemplate | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _data(input: CreateReportTemplateInput | UpdateReportTemplateInput) -> templates.TemplateData:
    return templates.TemplateData(
        name=input.name,
        description=input.description,
        operation=input.operation,
        variables=input.variables,  # type: ignore[arg-type]  # JSON: checked by the service
        rows_path=input.rows_path,
        page_size=input.page_size,
        columns=(
            [{"path": c.path, "label": c.label, "format": c.format} for c in input.columns]
            if input.columns is not None
            else None
        ),
        group_by=input.group_by,
        aggregations=(
            [{"column": a.column, "function": a.function.value} for a in input.aggregations]
            if input.aggregations is not None
            else None
        ),
        visualisation=input.visualisation.value if input.visualisation is not None else None,
        shared=input.shared,
    )


def _payload(row: Any, errors: list[UserError]) -> ReportTemplatePayload:
    return ReportTemplatePayload(
        template=ReportTemplate.from_row(row) if row is not None else None, user_errors=errors
    )


@strawberry.type
class TemplatesMutations:
    @strawberry.mutation(
        extensions=[allow(*USE_REPORTS)],
        description="Save a template, validated against the current graph; private unless "
        "`shared` (managers and admins).",
    )
    async def create_report_template(
        self, info: Info, input: CreateReportTemplateInput
    ) -> ReportTemplatePayload:
        viewer = await info.context.get_viewer()
        row, errors = await transact(
            info, lambda s: templates.create_template(s, _data(input), viewer)
        )
        return _payload(row, errors)

    @strawberry.mutation(
        extensions=[allow(*USE_REPORTS)],
        description="Change a template (its owner; shared ones managers and admins); "
        "validated whole again, which also clears `broken`.",
    )
    async def update_report_template(
        self, info: Info, id: strawberry.ID, input: UpdateReportTemplateInput
    ) -> ReportTemplatePayload:
        viewer = await info.context.get_viewer()

        async def work(session: Any) -> Any:
            return await templates.update_template(
                session, input_uuid(id, "id"), _data(input), viewer
            )

        row, errors = await transact(info, work)
        return _payload(row, errors)

    @strawberry.mutation(
        extensions=[allow(*USE_REPORTS)],
        description="Archive a template: no longer listed or run; its past runs stay.",
    )
    async def delete_report_template(self, info: Info, id: strawberry.ID) -> ReportTemplatePayload:
        viewer = await info.context.get_viewer()

        async def work(session: Any) -> Any:
            return await templates.archive_template(session, input_uuid(id, "id"), viewer)

        row, errors = await transact(info, work)
        return _payload(row, errors)
