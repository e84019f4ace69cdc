"""Running the catalogue (RUN_CATALOGUE: admins, managers, dispatchers; the rules EDIT_CONFIG).

Each mutation is one transaction around one service call: bad input or a
broken rule is `userErrors` naming the GraphQL input field, and nothing is
written.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any

import strawberry
from strawberry.types import Info

from subgraphs.kit.ids import input_uuid
from subgraphs.kit.payloads import UserError, transact
from subgraphs.kit.permissions import allow
from subgraphs.kit.scalars import Money
from subgraphs.tours.service import blackouts, config, schedules, slots, tours
from subgraphs.tours.service.access import EDIT_CONFIG, RUN_CATALOGUE
from subgraphs.tours.service.changes import actor_of
from subgraphs.tours.types.catalogue import (
    DepartureSlot,
    Tour,
    TourBlackout,
    TourBlackoutType,
    TourRecurrence,
    TourSchedule,
    ToursConfig,
)


def _given(value: Any) -> Any:
    """None for a field left out (UNSET) or null."""
    return None if value is strawberry.UNSET else value


# --- tours ----------------------------------------------------------------------------------


@strawberry.input
class CreateTourInput:
    name: str
    duration_minutes: int
    base_price: Money = strawberry.field(description="Per adult.")
    description: str | None = None
    min_party: int | None = strawberry.field(default=None, description="Default 1.")
    max_party: int | None = strawberry.field(default=None, description="Default 50.")
    time_zone: str | None = strawberry.field(default=None, description="IANA; America/Chicago.")
    meeting_point: str | None = None
    meeting_latitude: Decimal | None = None
    meeting_longitude: Decimal | None = None
    active: bool | None = None


@strawberry.input(description="What changes; a field left out stays as it is.")
class UpdateTourInput:
    name: str | None = None
    description: str | None = None
    duration_minutes: int | None = None
    base_price: Money | None = None
    min_party: int | None = None
    max_party: int | None = None
    time_zone: str | None = None
    meeting_point: str | None = None
    meeting_latitude: Decimal | None = None
    meeting_longitude: Decimal | None = None
    active: bool | None = None


def _tour_data(input: CreateTourInput | UpdateTourInput) -> tours.TourData:
    return tours.TourData(
        name=input.name,
        description=input.description,
        duration_minutes=input.duration_minutes,
        base_price=input.base_price,
        min_party=input.min_party,
        max_party=input.max_party,
        time_zone=input.time_zone,
        meeting_point=input.meeting_point,
        meeting_latitude=input.meeting_latitude,
        meeting_longitude=input.meeting_longitude,
        active=input.active,
    )


@strawberry.type
class TourPayload:
    tour: Tour | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


# --- schedules ------------------------------------------------------------------------------


@strawberry.input
class CreateTourScheduleInput:
    tour_id: strawberry.ID
    name: str
    start_time: str = strawberry.field(description="Local wall time of departure, HH:MM.")
    recurrence: TourRecurrence
    max_capacity: int
    valid_from: date
    time_zone: str | None = strawberry.field(default=None, description="Default: the tour's.")
    duration_minutes: int | None = strawberry.field(
        default=None, description="Default: the tour's."
    )
    weekdays: list[int] | None = strawberry.field(
        default=None, description="ISO weekdays (1 = Monday); weekly and biweekly need some."
    )
    rrule: str | None = strawberry.field(
        default=None, description="RFC 5545, e.g. FREQ=MONTHLY;BYDAY=1SA (CUSTOM only)."
    )
    min_capacity: int | None = strawberry.field(default=None, description="Default 0.")
    valid_until: date | None = None
    price_override: Money | None = None
    active: bool | None = None


@strawberry.input(
    description="What changes; a field left out stays as it is, `validUntil` or "
    "`priceOverride` given as null clears it. Departures already generated keep theirs."
)
class UpdateTourScheduleInput:
    name: str | None = None
    start_time: str | None = None
    time_zone: str | None = None
    duration_minutes: int | None = None
    recurrence: TourRecurrence | None = None
    weekdays: list[int] | None = None
    rrule: str | None = None
    max_capacity: int | None = None
    min_capacity: int | None = None
    valid_from: date | None = None
    valid_until: date | None = strawberry.UNSET
    price_override: Money | None = strawberry.UNSET
    active: bool | None = None


def _schedule_data(
    input: CreateTourScheduleInput | UpdateTourScheduleInput,
) -> schedules.ScheduleData:
    return schedules.ScheduleData(
        name=input.name,
        start_time=schedules.parse_local_time(input.start_time) if input.start_time else None,
        time_zone=input.time_zone,
        duration_minutes=input.duration_minutes,
        recurrence=input.recurrence.value if input.recurrence is not None else None,
        weekdays=input.weekdays,
        rrule=input.rrule,
        max_capacity=input.max_capacity,
        min_capacity=input.min_capacity,
        valid_from=input.valid_from,
        valid_until=_given(input.valid_until),
        price_override=_given(input.price_override),
        active=input.active,
    )


@strawberry.type
class TourSchedulePayload:
    schedule: TourSchedule | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type(description="A day generation passed over, and why (BLACKED_OUT, IN_THE_PAST).")
class SkippedDeparture:
    date: date
    reason: str
    message: str


@strawberry.type
class GenerateDeparturesPayload:
    created: int = 0
    skipped: list[SkippedDeparture] = strawberry.field(default_factory=list)
    departures: list[DepartureSlot] = strawberry.field(
        default_factory=list, description="The departures this call created."
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


# --- departures -----------------------------------------------------------------------------


@strawberry.input(description="What changes; a field left out stays as it is.")
class UpdateDepartureSlotInput:
    max_capacity: int | None = strawberry.field(
        default=None, description="Not below the seats booked and held."
    )
    price_per_person: Money | None = strawberry.field(
        default=None, description="For bookings made from now on."
    )
    available: bool | None = strawberry.field(
        default=None, description="False closes it to new bookings; true re-opens it."
    )


@strawberry.type
class DepartureSlotPayload:
    departure_slot: DepartureSlot | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


# --- blackouts ------------------------------------------------------------------------------


@strawberry.input
class CreateTourBlackoutInput:
    name: str
    blackout_type: TourBlackoutType
    start_date: date
    end_date: date
    tour_id: strawberry.ID | None = strawberry.field(default=None, description="Null: every tour.")
    description: str | None = None
    active: bool | None = None


@strawberry.input(description="What changes; a field left out stays as it is (the tour is fixed).")
class UpdateTourBlackoutInput:
    name: str | None = None
    blackout_type: TourBlackoutType | None = None
    start_date: date | None = None
    end_date: date | None = None
    description: str | None = None
    active: bool | None = None


@strawberry.type
class TourBlackoutPayload:
    blackout: TourBlackout | None = None
    sold_departures: list[DepartureSlot] = strawberry.field(
        default_factory=list,
        description="Departures on its days with seats sold: nothing was cancelled, staff decide.",
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


async def _blackout_payload(info: Info, work: Any) -> TourBlackoutPayload:
    async def run(session: Any) -> tuple[Any, list[Any]]:
        row = await work(session)
        return row, await blackouts.sold_departures(session, row)

    result, errors = await transact(info, run)
    if result is None:
        return TourBlackoutPayload(user_errors=errors)
    row, sold = result
    return TourBlackoutPayload(
        blackout=TourBlackout.from_row(row),
        sold_departures=[DepartureSlot.from_row(s) for s in sold],
    )


# --- the rules ------------------------------------------------------------------------------


@strawberry.input(description="What changes; a field left out stays as it is.")
class UpdateToursConfigInput:
    child_rate_percent: Decimal | None = None
    tax_rate_percent: Decimal | None = None
    cutoff_hours: int | None = None
    max_days_ahead: int | None = None
    party_min: int | None = None
    party_max: int | None = None
    offer_hold_hours: int | None = None


@strawberry.type
class ToursConfigPayload:
    config: ToursConfig | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _now() -> datetime:
    return datetime.now(UTC)


@strawberry.type
class CatalogueMutations:
    @strawberry.mutation(extensions=[allow(*RUN_CATALOGUE)], description="Add a tour.")
    async def create_tour(self, info: Info, input: CreateTourInput) -> TourPayload:
        actor = await actor_of(info)
        row, errors = await transact(
            info, lambda s: tours.create_tour(s, _tour_data(input), actor=actor)
        )
        return TourPayload(tour=Tour.from_row(row) if row else None, user_errors=errors)

    @strawberry.mutation(
        extensions=[allow(*RUN_CATALOGUE)],
        description="Change a tour; its departures already generated keep their prices.",
    )
    async def update_tour(
        self, info: Info, id: strawberry.ID, input: UpdateTourInput
    ) -> TourPayload:
        actor = await actor_of(info)

        async def work(session: Any) -> Any:
            return await tours.update_tour(
                session, input_uuid(id, "id"), _tour_data(input), actor=actor
            )

        row, errors = await transact(info, work)
        return TourPayload(tour=Tour.from_row(row) if row else None, user_errors=errors)

    @strawberry.mutation(extensions=[allow(*RUN_CATALOGUE)], description="Add a schedule.")
    async def create_tour_schedule(
        self, info: Info, input: CreateTourScheduleInput
    ) -> TourSchedulePayload:
        actor = await actor_of(info)

        async def work(session: Any) -> Any:
            tour_id = input_uuid(input.tour_id, "tourId")
            return await schedules.create_schedule(session, tour_id, _schedule_data(input), actor)

        row, errors = await transact(info, work)
        return TourSchedulePayload(
            schedule=TourSchedule.from_row(row) if row else None, user_errors=errors
        )

    @strawberry.mutation(
        extensions=[allow(*RUN_CATALOGUE)],
        description="Change a schedule: departures generated afterwards follow it.",
    )
    async def update_tour_schedule(
        self, info: Info, id: strawberry.ID, input: UpdateTourScheduleInput
    ) -> TourSchedulePayload:
        clear = {
            name
            for name in ("valid_until", "price_override")
            if getattr(input, name) is None  # given as null (UNSET is left out)
        }
        actor = await actor_of(info)

        async def work(session: Any) -> Any:
            return await schedules.update_schedule(
                session, input_uuid(id, "id"), _schedule_data(input), clear=clear, actor=actor
            )

        row, errors = await transact(info, work)
        return TourSchedulePayload(
            schedule=TourSchedule.from_row(row) if row else None, user_errors=errors
        )

    @strawberry.mutation(
        extensions=[allow(*RUN_CATALOGUE)],
        description="Create the schedule's departures on days from `from` to `to` (at most 366 "
        "days); idempotent: departures that exist are left alone. Blacked-out days and days "
        "already begun are skipped and listed.",
    )
    async def generate_departures(
        self,
        info: Info,
        schedule_id: strawberry.ID,
        from_: Annotated[date, strawberry.argument(name="from")],
        to: date,
    ) -> GenerateDeparturesPayload:
        actor = await actor_of(info)

        async def work(session: Any) -> schedules.Generated:
            return await schedules.generate_departures(
                session, input_uuid(schedule_id, "scheduleId"), from_, to, _now(), actor=actor
            )

        result, errors = await transact(info, work)
        if result is None:
            return GenerateDeparturesPayload(user_errors=errors)
        return GenerateDeparturesPayload(
            created=len(result.created),
            skipped=[
                SkippedDeparture(date=s.day, reason=s.reason, message=s.message)
                for s in result.skipped
            ],
            departures=[DepartureSlot.from_row(r) for r in result.created],
        )

    @strawberry.mutation(
        extensions=[allow(*RUN_CATALOGUE)],
        description="Change a departure's capacity, price or open flag; seats freed or "
        "re-opened are offered to its waitlist.",
    )
    async def update_departure_slot(
        self, info: Info, id: strawberry.ID, input: UpdateDepartureSlotInput
    ) -> DepartureSlotPayload:
        change = slots.SlotChange(
            max_capacity=input.max_capacity,
            price_per_person=input.price_per_person,
            available=input.available,
        )
        actor = await actor_of(info)

        async def work(session: Any) -> Any:
            return await slots.update_slot(
                session, input_uuid(id, "id"), change, _now(), actor=actor
            )

        row, errors = await transact(info, work)
        return DepartureSlotPayload(
            departure_slot=DepartureSlot.from_row(row) if row else None, user_errors=errors
        )

    @strawberry.mutation(
        extensions=[allow(*RUN_CATALOGUE)],
        description="Cancel a departure: its bookings are cancelled with a full refund due and "
        "their customers told; waitlist offers on it go back in line.",
    )
    async def cancel_departure_slot(
        self, info: Info, id: strawberry.ID, reason: str
    ) -> DepartureSlotPayload:
        actor = await actor_of(info)

        async def work(session: Any) -> Any:
            return await slots.cancel_departure(session, input_uuid(id, "id"), reason, actor)

        row, errors = await transact(info, work)
        return DepartureSlotPayload(
            departure_slot=DepartureSlot.from_row(row) if row else None, user_errors=errors
        )

    @strawberry.mutation(
        extensions=[allow(*RUN_CATALOGUE)],
        description="Black out days for a tour or every tour; departures already sold on them "
        "are listed, not cancelled.",
    )
    async def create_tour_blackout(
        self, info: Info, input: CreateTourBlackoutInput
    ) -> TourBlackoutPayload:
        actor = await actor_of(info)

        async def work(session: Any) -> Any:
            tour_id = input_uuid(input.tour_id, "tourId") if input.tour_id is not None else None
            data = blackouts.BlackoutData(
                name=input.name,
                blackout_type=input.blackout_type.value,
                start_date=input.start_date,
                end_date=input.end_date,
                description=input.description,
                active=input.active,
                tour_id=tour_id,
            )
            return await blackouts.create_blackout(session, data, actor)

        return await _blackout_payload(info, work)

    @strawberry.mutation(extensions=[allow(*RUN_CATALOGUE)], description="Change a blackout.")
    async def update_tour_blackout(
        self, info: Info, id: strawberry.ID, input: UpdateTourBlackoutInput
    ) -> TourBlackoutPayload:
        data = blackouts.BlackoutData(
            name=input.name,
            blackout_type=input.blackout_type.value if input.blackout_type else None,
            start_date=input.start_date,
            end_date=input.end_date,
            description=input.description,
            active=input.active,
        )
        actor = await actor_of(info)

        async def work(session: Any) -> Any:
            return await blackouts.update_blackout(session, input_uuid(id, "id"), data, actor=actor)

        return await _blackout_payload(info, work)

    @strawberry.mutation(
        extensions=[allow(*EDIT_CONFIG)],
        description="Change the booking rules; bookings made afterwards follow them.",
    )
    async def update_tours_config(
        self, info: Info, input: UpdateToursConfigInput
    ) -> ToursConfigPayload:
        actor = await actor_of(info)
        change = config.ConfigChange(
            child_rate_percent=input.child_rate_percent,
            tax_rate_percent=input.tax_rate_percent,
            cutoff_hours=input.cutoff_hours,
            max_days_ahead=input.max_days_ahead,
            party_min=input.party_min,
            party_max=input.party_max,
            offer_hold_hours=input.offer_hold_hours,
        )
        row, errors = await transact(info, lambda s: config.update_config(s, change, actor))
        return ToursConfigPayload(
            config=ToursConfig.from_row(row) if row else None, user_errors=errors
        )
