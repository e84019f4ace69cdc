"""Report schedules as the graph shows them: when, to whom, in what format, last and next run."""

from __future__ import annotations

import uuid
from datetime import datetime, time
from enum import Enum
from typing import Any, cast

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from subgraphs.kit.read_sessions import read_loaders
from subgraphs.reports import loaders as L
from subgraphs.reports.service import access
from subgraphs.reports.types.templates import ReportTemplate


def gid(value: uuid.UUID) -> strawberry.ID:
    return strawberry.ID(str(value))


def hhmm(value: time | None) -> str | None:
    return value.strftime("%H:%M") if value is not None else None


@strawberry.enum(description="How often a schedule fires, in its own time zone.")
class ReportScheduleFrequency(Enum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    CRON = "cron"


@strawberry.enum(description="The file mailed with a scheduled report.")
class ReportScheduleFormat(Enum):
    CSV = "csv"
    XLSX = "xlsx"
    PDF = "pdf"


@strawberry.type(
    description="A template run on a schedule with its owner's access and mailed to recipients."
)
class ReportSchedule:
    id: strawberry.ID
    name: str
    template_id: strawberry.ID
    owner: strawberry.ID | None = strawberry.field(
        description="Whose access it runs with: its creator, or whoever enabled it last; "
        "null for a shipped schedule no one has enabled."
    )
    frequency: ReportScheduleFrequency
    at_time: str | None = strawberry.field(
        description="Local time of day, HH:MM (daily, weekly, monthly)."
    )
    weekday: int | None = strawberry.field(description="ISO weekday, 1 = Monday (weekly).")
    month_day: int | None = strawberry.field(
        description="Day of the month (monthly); a shorter month fires on its last day."
    )
    cron: str | None = strawberry.field(description="Five-field cron expression (cron).")
    time_zone: str = strawberry.field(description="The IANA zone its times are in.")
    recipients: list[str]
    format: ReportScheduleFormat
    parameters: JSON = strawberry.field(
        description="Values for the template's variables, over its defaults."
    )
    enabled: bool
    next_run_at: datetime | None = strawberry.field(description="Null while disabled.")
    last_run_at: datetime | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    _row: strawberry.Private[Any]

    @classmethod
    def from_row(cls, row: Any) -> ReportSchedule:
        return cls(
            id=gid(row.id),
            name=row.name,
            template_id=gid(row.template_id),
            owner=gid(row.owner_id) if row.owner_id is not None else None,
            frequency=ReportScheduleFrequency(row.frequency),
            at_time=hhmm(row.at_time),
            weekday=row.weekday,
            month_day=row.month_day,
            cron=row.cron,
            time_zone=row.time_zone,
            recipients=list(row.recipients or []),
            format=ReportScheduleFormat(row.format),
            parameters=cast(JSON, dict(row.parameters or {})),
            enabled=row.enabled,
            next_run_at=row.next_run_at,
            last_run_at=row.last_run_at,
            last_error=row.last_error,
            created_at=row.created_at,
            updated_at=row.updated_at,
            _row=row,
        )

    @strawberry.field(
        description="The template it runs; null if you may no longer run it (or it is gone)."
    )
    async def template(self, info: Info) -> ReportTemplate | None:
        row = await read_loaders(info).get(L.TemplateByIdLoader).load(self._row.template_id)
        viewer = await info.context.get_viewer()
        if row is None or not access.may_run(viewer, row.shared, row.owner_id):
            return None
        return ReportTemplate.from_row(row)
