"""GraphQL types of report runs: the table a run produced, and its record."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from subgraphs.kit.payloads import UserError
from subgraphs.kit.read_sessions import read_loaders
from subgraphs.reports.loaders import TemplateByIdLoader

if TYPE_CHECKING:
    from subgraphs.reports.models import ReportRun as RunRow
    from subgraphs.reports.types.templates import ReportTemplate


@strawberry.enum
class ReportRunStatus(Enum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@strawberry.type(description="One column of a run's table.")
class ReportRunColumn:
    key: str = strawberry.field(
        description="The column's field path, or `function(path)` for an aggregate."
    )
    label: str
    format: str = strawberry.field(
        description="text, money, number, date, datetime or percent: how to show the values."
    )


def csv_url(run_id: uuid.UUID) -> str:
    return f"/report-runs/{run_id}.csv"


def xlsx_url(run_id: uuid.UUID) -> str:
    return f"/report-runs/{run_id}.xlsx"


@strawberry.type(
    description="A run of a template: who ran it, when, with which parameters, and its table "
    "(kept for the retention period, 30 days by default)."
)
class ReportRun:
    id: strawberry.ID
    template_id: strawberry.Private[uuid.UUID]
    ran_at: datetime
    run_by: strawberry.ID | None = strawberry.field(
        description="The person whose token ran it (what the table shows is what they may see)."
    )
    parameters: JSON = strawberry.field(description="The variables sent, relative dates resolved.")
    duration_ms: int
    row_count: int = strawberry.field(description="Rows of the table (groups when grouped).")
    requests: int = strawberry.field(description="Requests made to the graph (one per page).")
    status: ReportRunStatus
    error: str | None = strawberry.field(description="Why a failed run failed.")
    columns: list[ReportRunColumn]
    rows: list[list[JSON | None]] = strawberry.field(
        description="Cells in column order; money as exact strings with 2 places."
    )
    totals: JSON = strawberry.field(
        description="Aggregates over all rows, by aggregate column key (`sum(quote.total)`)."
    )
    expires_at: datetime
    csv_url: str = strawberry.field(description="The table as CSV (GET with the bearer token).")
    xlsx_url: str = strawberry.field(description="The table as XLSX (GET with the bearer token).")

    @strawberry.field(description="The template run (as it is now).")
    async def template(
        self, info: Info
    ) -> Annotated[ReportTemplate, strawberry.lazy("subgraphs.reports.types.templates")] | None:
        from subgraphs.reports.types.templates import ReportTemplate

        row = await read_loaders(info).get(TemplateByIdLoader).load(self.template_id)
        return ReportTemplate.from_row(row) if row is not None else None

    @classmethod
    def from_row(cls, row: RunRow) -> ReportRun:
        return cls(
            id=strawberry.ID(str(row.id)),
            template_id=row.template_id,
            ran_at=row.ran_at,
            run_by=strawberry.ID(str(row.run_by)) if row.run_by else None,
            parameters=cast(JSON, dict(row.parameters or {})),
            duration_ms=row.duration_ms,
            row_count=row.row_count,
            requests=row.requests,
            status=ReportRunStatus(row.status),
            error=row.error,
            columns=[
                ReportRunColumn(key=c["key"], label=c["label"], format=c["format"])
                for c in row.columns or ()
            ],
            rows=cast(Any, row.rows or []),
            totals=cast(JSON, dict(row.totals or {})),
            expires_at=row.expires_at,
            csv_url=csv_url(row.id),
            xlsx_url=xlsx_url(row.id),
        )


@strawberry.type
class RunReportPayload:
    run: ReportRun | None = strawberry.field(
        description="The run, also when it failed (its status and error say why)."
    )
    user_errors: list[UserError]
