"""Report templates as the graph shows them; built from rows, no SQL of their own."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON


@strawberry.enum(description="How a column is aggregated (exactly: Decimal for money).")
class AggregationFunction(Enum):
    SUM = "sum"
    COUNT = "count"
    AVERAGE = "average"
    MIN = "min"
    MAX = "max"


@strawberry.enum(description="How a client is advised to draw the result.")
class Visualisation(Enum):
    TABLE = "table"
    BAR = "bar"
    LINE = "line"
    PIE = "pie"


@strawberry.type(description="A column: a field path under the rows, its label and format.")
class ReportColumn:
    path: str = strawberry.field(description="Dot path of response keys under each row.")
    label: str
    format: str = strawberry.field(description="text, money, number, date, datetime or percent.")


@strawberry.type
class ReportAggregation:
    column: str = strawberry.field(description="The path of one of the template's columns.")
    function: AggregationFunction


@strawberry.type(
    description="A saved GraphQL query over the public graph, run through the router as "
    "its reader, and what to do with its rows."
)
class ReportTemplate:
    id: strawberry.ID
    key: str | None = strawberry.field(description="Set on the templates shipped with Athena.")
    name: str
    description: str
    operation: str
    variables: JSON = strawberry.field(
        description='Variable defaults; a date may be relative, e.g. {"relative": "month_start"}.'
    )
    rows_path: str = strawberry.field(description="Dot path to the rows, e.g. charters.edges.node.")
    page_size: int
    columns: list[ReportColumn]
    group_by: list[str]
    aggregations: list[ReportAggregation]
    visualisation: Visualisation
    shared: bool
    owner: strawberry.ID | None = strawberry.field(description="The user who saved it.")
    broken: bool = strawberry.field(
        description="Its operation no longer validates against the graph; it is not run."
    )
    broken_reason: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> ReportTemplate:
        return cls(
            id=strawberry.ID(str(row.id)),
            key=row.key,
            name=row.name,
            description=row.description,
            operation=row.operation,
            variables=cast(JSON, dict(row.variables or {})),
            rows_path=row.rows_path,
            page_size=row.page_size,
            columns=[
                ReportColumn(path=c["path"], label=c["label"], format=c["format"])
                for c in row.columns or ()
            ],
            group_by=list(row.group_by or ()),
            aggregations=[
                ReportAggregation(column=a["column"], function=AggregationFunction(a["function"]))
                for a in row.aggregations or ()
            ],
            visualisation=Visualisation(row.visualisation),
            shared=row.shared,
            owner=strawberry.ID(str(row.owner_id)) if row.owner_id else None,
            broken=row.broken_at is not None,
            broken_reason=row.broken_reason,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )
