"""Scheduling reports (issue 16 §3): staff their private templates, managers shared ones.

Each mutation is one transaction around one service call: bad input is
`userErrors` naming the GraphQL input field, and nothing is written.
"""

from __future__ import annotations

from datetime import time
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.types import Info

from subgraphs.kit.errors import ServiceError
from subgraphs.kit.ids import input_uuid
from subgraphs.kit.payloads import UserError, transact
from subgraphs.kit.permissions import allow
from subgraphs.reports.error_codes import ReportsErrorCode as Code
from subgraphs.reports.service import run_tokens, schedules
from subgraphs.reports.service.access import USE_REPORTS
from subgraphs.reports.types.schedules import (
    ReportSchedule,
    ReportScheduleFormat,
    ReportScheduleFrequency,
)


def parse_local_time(text: str | None) -> time | None:
    """'HH:MM' (24-hour) local wall time, INVALID on `atTime` otherwise."""
    if text is None:
        return None
    try:
        hours, minutes = text.strip().split(":")
        if len(hours) != 2 or len(minutes) != 2:
            raise ValueError(text)
        return time(int(hours), int(minutes))
    except ValueError as exc:
        raise ServiceError.of(Code.INVALID, "A local time as HH:MM, e.g. 08:00.", "atTime") from exc


@strawberry.input
class CreateReportScheduleInput:
    template_id: strawberry.ID
    name: str
    frequency: ReportScheduleFrequency
    recipients: list[str] = strawberry.field(description="At least one e-mail address.")
    at_time: str | None = strawberry.field(
        default=None, description="Local time, HH:MM (daily, weekly, monthly)."
    )
    weekday: int | None = strawberry.field(default=None, description="ISO, 1 = Monday (weekly).")
    month_day: int | None = strawberry.field(
        default=None, description="1-31 (monthly); a shorter month fires on its last day."
    )
    cron: str | None = strawberry.field(
        default=None, description="Five fields: minute hour day-of-month month day-of-week."
    )
    time_zone: str | None = strawberry.field(
        default=None, description="IANA zone; default the operator's."
    )
    format: ReportScheduleFormat | None = strawberry.field(default=None, description="Default CSV.")
    parameters: JSON | None = strawberry.field(
        default=None, description="Values for the template's declared variables."
    )


@strawberry.input(description="What changes; a field left out stays as it is.")
class UpdateReportScheduleInput:
    name: str | None = None
    frequency: ReportScheduleFrequency | None = None
    recipients: list[str] | None = None
    at_time: str | None = None
    weekday: int | None = None
    month_day: int | None = None
    cron: str | None = None
    time_zone: str | None = None
    format: ReportScheduleFormat | None = None
    parameters: JSON | None = None


def _data(input: CreateReportScheduleInput | UpdateReportScheduleInput) -> schedules.ScheduleData:
    parameters: Any = input.parameters
    if parameters is not None and not isinstance(parameters, dict):
        raise ServiceError.of(Code.INVALID, "An object of variable values.", "parameters")
    return schedules.ScheduleData(
        name=input.name,
        frequency=input.frequency.value if input.frequency is not None else None,
        at_time=parse_local_time(input.at_time),
        weekday=input.weekday,
        month_day=input.month_day,
        cron=input.cron,
        time_zone=input.time_zone,
        recipients=input.recipients,
        format=input.format.value if input.format is not None else None,
        parameters=parameters,
    )


@strawberry.type
class ReportSchedulePayload:
    schedule: ReportSchedule | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _payload(row: Any, errors: list[UserError]) -> ReportSchedulePayload:
    return ReportSchedulePayload(
        schedule=ReportSchedule.from_row(row) if row is not None else None, user_errors=errors
    )


@strawberry.type
class SchedulesMutations:
    @strawberry.mutation(
        extensions=[allow(*USE_REPORTS)],
        description="Schedule a template you may run: your own private one, or (managers and "
        "admins) a shared one. It runs with your access and is enabled at once.",
    )
    async def create_report_schedule(
        self, info: Info, input: CreateReportScheduleInput
    ) -> ReportSchedulePayload:
        viewer = await info.context.get_viewer()
        zone = info.context.settings.operator_time_zone

        async def work(session: Any) -> Any:
            template_id = input_uuid(input.template_id, "templateId")
            return await schedules.create_schedule(
                session,
                template_id,
                _data(input),
                viewer,
                schedules.now_utc(),
                default_time_zone=zone,
                delegations=run_tokens.identity_run_tokens(info.context.services),
                authorization=info.context.request.headers.get("authorization"),
            )

        return _payload(*await transact(info, work))

    @strawberry.mutation(
        extensions=[allow(*USE_REPORTS)],
        description="Change your schedule; its next run follows the change.",
    )
    async def update_report_schedule(
        self, info: Info, id: strawberry.ID, input: UpdateReportScheduleInput
    ) -> ReportSchedulePayload:
        viewer = await info.context.get_viewer()

        async def work(session: Any) -> Any:
            return await schedules.update_schedule(
                session, input_uuid(id, "id"), _data(input), viewer, schedules.now_utc()
            )

        return _payload(*await transact(info, work))

    @strawberry.mutation(
        extensions=[allow(*USE_REPORTS)],
        description="Stop a schedule: yours, or (managers and admins) any of a shared template.",
    )
    async def disable_report_schedule(self, info: Info, id: strawberry.ID) -> ReportSchedulePayload:
        viewer = await info.context.get_viewer()

        async def work(session: Any) -> Any:
            return await schedules.disable_schedule(
                session,
                input_uuid(id, "id"),
                viewer,
                schedules.now_utc(),
                delegations=run_tokens.identity_run_tokens(info.context.services),
            )

        return _payload(*await transact(info, work))

    @strawberry.mutation(
        extensions=[allow(*USE_REPORTS)],
        description="Turn a schedule on with YOU as its owner: it runs with your access from "
        "now on (a shared template's: managers and admins).",
    )
    async def enable_report_schedule(self, info: Info, id: strawberry.ID) -> ReportSchedulePayload:
        viewer = await info.context.get_viewer()

        async def work(session: Any) -> Any:
            return await schedules.enable_schedule(
                session,
                input_uuid(id, "id"),
                viewer,
                schedules.now_utc(),
                delegations=run_tokens.identity_run_tokens(info.context.services),
                authorization=info.context.request.headers.get("authorization"),
            )

        return _payload(*await transact(info, work))
