"""Mutations for recurring series (see service/series.py for the rules)."""

from __future__ import annotations

from datetime import date, time
from enum import Enum
from typing import Any

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from strawberry.types import Info

from subgraphs.charters.error_codes import CharterErrorCode as Code
from subgraphs.charters.mutations.inputs import parse_id, parse_local
from subgraphs.charters.service import series as series_service
from subgraphs.charters.service.access import EDITORS, SERIES_DEACTIVATORS
from subgraphs.charters.types import Charter, CharterSeries
from subgraphs.kit.errors import ServiceError
from subgraphs.kit.payloads import UserError, transact
from subgraphs.kit.permissions import allow


@strawberry.enum
class SeriesSkipReason(Enum):
    EXCEPTION_DATE = series_service.EXCEPTION_DATE
    BLACKED_OUT = series_service.BLACKED_OUT
    IN_THE_PAST = series_service.IN_THE_PAST
    NOT_A_QUOTE = series_service.NOT_A_QUOTE


@strawberry.input
class CreateCharterSeriesInput:
    name: str
    template_id: strawberry.ID
    rrule: str = strawberry.field(
        description=(
            "An RFC 5545 RRULE without DTSTART, e.g. FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=20 or "
            "FREQ=MONTHLY;BYMONTHDAY=-1;UNTIL=20261231. FREQ DAILY, WEEKLY, MONTHLY or "
            "YEARLY. Without COUNT or UNTIL, each generation reaches 366 days ahead."
        )
    )
    starts_local: str = strawberry.field(
        description="First pickup, local wall time (e.g. 2026-03-02T07:30): DTSTART."
    )
    time_zone: str = strawberry.field(description="IANA zone, e.g. America/Chicago.")
    exception_dates: list[date] = strawberry.field(default_factory=list)
    description: str | None = None


@strawberry.input(description="What this-and-following changes; omitted fields stay.")
class SeriesInstancesInput:
    pickup_time: str | None = strawberry.field(
        default=None, description="New local time of day, HH:MM."
    )
    passenger_count: int | None = None
    notes: str | None = None


@strawberry.type
class CharterSeriesPayload:
    series: CharterSeries | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DeactivateCharterSeriesPayload:
    series: CharterSeries | None = None
    cancelled: list[Charter] = strawberry.field(
        default_factory=list,
        description=(
            "Instances this deactivation cancelled (at most one generation's worth: "
            "366 days of occurrences)."
        ),
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SkippedOccurrence:
    date: date
    reason: SeriesSkipReason
    message: str


@strawberry.type
class GenerateCharterSeriesPayload:
    series: CharterSeries | None = None
    created: list[Charter] = strawberry.field(
        default_factory=list,
        description="Instances created: at most one per day of the 366-day horizon.",
    )
    skipped: list[SkippedOccurrence] = strawberry.field(
        default_factory=list,
        description="Occurrences skipped: at most one per day of the 366-day horizon.",
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class SkippedInstance:
    charter: Charter
    reason: SeriesSkipReason
    message: str


@strawberry.type
class UpdateSeriesInstancesPayload:
    series: CharterSeries | None = None
    updated: list[Charter] = strawberry.field(
        default_factory=list,
        description="Instances changed: those still ahead, at most one per day (367).",
    )
    skipped: list[SkippedInstance] = strawberry.field(
        default_factory=list,
        description=(
            "Instances left alone: booked ones (change them through change cases). "
            "At most one per day still ahead (367)."
        ),
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class RemoveSeriesInstancePayload:
    series: CharterSeries | None = None
    charter: Charter | None = strawberry.field(
        default=None, description="The cancelled instance; null when it was deleted."
    )
    deleted: bool = False
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _time_of_day(value: str | None) -> time | None:
    if value is None:
        return None
    try:
        parsed = time.fromisoformat(value)
    except ValueError:
        raise ServiceError.of(
            Code.INVALID, f"{value!r} is not a time of day (HH:MM).", "input.pickupTime"
        ) from None
    if parsed.tzinfo is not None:
        raise ServiceError.of(
            Code.INVALID, "Give a local time without an offset.", "input.pickupTime"
        )
    return parsed.replace(second=0, microsecond=0)


@strawberry.type
class SeriesMutations:
    @strawberry.mutation(
        extensions=[allow(*EDITORS)],
        description="Create a recurring series from a template; generate its instances next.",
    )
    async def create_charter_series(
        self, info: Info, input: CreateCharterSeriesInput
    ) -> CharterSeriesPayload:
        viewer = await info.context.get_viewer()

        async def work(session: AsyncSession) -> Any:
            data = series_service.NewSeries(
                name=input.name,
                template_id=parse_id(input.template_id, "templateId"),
                rrule=input.rrule,
                starts_local=parse_local(input.starts_local, "startsLocal"),
                time_zone=input.time_zone,
                exception_dates=list(input.exception_dates),
                description=input.description,
            )
            return await series_service.create(session, data, viewer)

        row, errors = await transact(info, work)
        return CharterSeriesPayload(
            series=CharterSeries.from_row(row) if row else None, user_errors=errors
        )

    @strawberry.mutation(
        extensions=[allow(*EDITORS)],
        description=(
            "Create the series' missing instances up to 366 days ahead. Idempotent: "
            "existing dates are left alone; exception, past and blacked-out dates are "
            "skipped and reported."
        ),
    )
    async def generate_charter_series(
        self, info: Info, id: strawberry.ID
    ) -> GenerateCharterSeriesPayload:
        viewer = await info.context.get_viewer()
        result, errors = await transact(
            info, lambda s: series_service.generate(s, parse_id(id, "id"), viewer)
        )
        if result is None:
            return GenerateCharterSeriesPayload(user_errors=errors)
        return GenerateCharterSeriesPayload(
            series=CharterSeries.from_row(result.series),
            created=[Charter.from_row(c) for c in result.created],
            skipped=[
                SkippedOccurrence(date=s.day, reason=SeriesSkipReason(s.reason), message=s.message)
                for s in result.skipped
            ],
        )

    @strawberry.mutation(
        extensions=[allow(*EDITORS)],
        description=(
            "Change this and following: every QUOTE instance on or after fromDate. "
            "Booked instances are skipped and reported (use change cases)."
        ),
    )
    async def update_series_instances(
        self, info: Info, series_id: strawberry.ID, from_date: date, input: SeriesInstancesInput
    ) -> UpdateSeriesInstancesPayload:
        viewer = await info.context.get_viewer()

        async def work(session: AsyncSession) -> Any:
            changes = series_service.InstanceChanges(
                pickup_time=_time_of_day(input.pickup_time),
                passenger_count=input.passenger_count,
                notes=input.notes,
            )
            return await series_service.update_instances(
                session, parse_id(series_id, "seriesId"), from_date, changes, viewer
            )

        result, errors = await transact(info, work)
        if result is None:
            return UpdateSeriesInstancesPayload(user_errors=errors)
        return UpdateSeriesInstancesPayload(
            series=CharterSeries.from_row(result.series),
            updated=[Charter.from_row(c) for c in result.updated],
            skipped=[
                SkippedInstance(
                    charter=Charter.from_row(s.charter),
                    reason=SeriesSkipReason(s.reason),
                    message=s.message,
                )
                for s in result.skipped
            ],
        )

    @strawberry.mutation(
        extensions=[allow(*EDITORS)],
        description=(
            "Remove one instance: a quote is deleted, a booked one cancelled; its date "
            "becomes an exception so generation never recreates it."
        ),
    )
    async def remove_series_instance(
        self, info: Info, charter_id: strawberry.ID
    ) -> RemoveSeriesInstancePayload:
        viewer = await info.context.get_viewer()
        result, errors = await transact(
            info,
            lambda s: series_service.remove_instance(s, parse_id(charter_id, "charterId"), viewer),
        )
        if result is None:
            return RemoveSeriesInstancePayload(user_errors=errors)
        return RemoveSeriesInstancePayload(
            series=CharterSeries.from_row(result.series),
            charter=Charter.from_row(result.charter) if result.charter else None,
            deleted=result.deleted,
        )

    @strawberry.mutation(
        extensions=[allow(*SERIES_DEACTIVATORS)],
        description=(
            "Stop generating instances (a manager's act). With cancelFutureInstances, "
            "the instances still ahead that are QUOTE or BOOKED are cancelled with the "
            'reason "Series <name> deactivated"; confirmed ones are left to cancel one by one.'
        ),
    )
    async def deactivate_charter_series(
        self, info: Info, id: strawberry.ID, cancel_future_instances: bool = False
    ) -> DeactivateCharterSeriesPayload:
        viewer = await info.context.get_viewer()
        result, errors = await transact(
            info,
            lambda s: series_service.deactivate(
                s, parse_id(id, "id"), viewer, cancel_future=cancel_future_instances
            ),
        )
        if result is None:
            return DeactivateCharterSeriesPayload(user_errors=errors)
        return DeactivateCharterSeriesPayload(
            series=CharterSeries.from_row(result.series),
            cancelled=[Charter.from_row(c) for c in result.cancelled],
        )
