"""The catalogue as the graph shows it: tours, schedules, departures, blackouts, the rules.

Types are built from rows (ORM objects or the loaders' plain rows: both read
by attribute) and keep the row privately for their nested fields, which ask
a loader. Staff-only fields (`READ_OPERATIONS`) are nullable, so a
customer's query that asks for one gets that field null with FORBIDDEN (or
UNAUTHENTICATED) and keeps the rest of its answer.

`DepartureSlot` is the entity others extend: bookings (H2) and the charter
(H4) add their fields at the end of its class.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.types import Info

from subgraphs.kit.errors import BadUserInputError
from subgraphs.kit.ids import parse_uuid
from subgraphs.kit.permissions import allow
from subgraphs.kit.scalars import Money
from subgraphs.tours import loaders as L
from subgraphs.tours.service.access import READ_OPERATIONS, WORK_BOOKINGS
from subgraphs.tours.service.slots import MAX_RANGE_DAYS
from subgraphs.tours.types.federation import Charter, charter_of

if TYPE_CHECKING:
    from subgraphs.tours.types.bookings import TourBooking


def gid(value: uuid.UUID) -> strawberry.ID:
    return strawberry.ID(str(value))


def hhmm(value: time) -> str:
    return value.strftime("%H:%M")


@strawberry.enum(description="How a schedule repeats (an RFC 5545 rule underneath).")
class TourRecurrence(Enum):
    NONE = "none"
    DAILY = "daily"
    WEEKLY = "weekly"
    BIWEEKLY = "biweekly"
    MONTHLY = "monthly"
    CUSTOM = "custom"


@strawberry.enum
class TourBlackoutType(Enum):
    HOLIDAY = "holiday"
    MAINTENANCE = "maintenance"
    WEATHER = "weather"
    CUSTOM = "custom"


@strawberry.type(
    description="The booking rules every booking follows; admins and managers edit them."
)
class ToursConfig:
    child_rate_percent: Decimal = strawberry.field(
        description="A child's (3-12) price as a percentage of an adult's; infants travel free."
    )
    tax_rate_percent: Decimal = strawberry.field(
        description="Tax on the subtotal after discount, rounded half-up to cents."
    )
    cutoff_hours: int = strawberry.field(description="Booking closes this long before departure.")
    max_days_ahead: int = strawberry.field(description="How far ahead a departure may be booked.")
    party_min: int
    party_max: int
    offer_hold_hours: int = strawberry.field(description="How long a waitlist offer holds seats.")

    @classmethod
    def from_row(cls, row: Any) -> ToursConfig:
        return cls(
            child_rate_percent=Decimal(row.child_rate_percent),
            tax_rate_percent=Decimal(row.tax_rate_percent),
            cutoff_hours=row.cutoff_hours,
            max_days_ahead=row.max_days_ahead,
            party_min=row.party_min,
            party_max=row.party_max,
            offer_hold_hours=row.offer_hold_hours,
        )


@strawberry.type(description="A tour sold by the seat on scheduled departures.")
class Tour:
    id: strawberry.ID
    name: str
    description: str
    duration_minutes: int
    base_price: Money = strawberry.field(
        description="Per adult; a schedule's price override replaces it on its departures."
    )
    min_party: int
    max_party: int
    time_zone: str = strawberry.field(description="The IANA zone its departures are sold in.")
    meeting_point: str
    meeting_latitude: Decimal | None
    meeting_longitude: Decimal | None
    active: bool
    _row: strawberry.Private[Any]

    @classmethod
    def from_row(cls, row: Any) -> Tour:
        return cls(
            id=gid(row.id),
            name=row.name,
            description=row.description,
            duration_minutes=row.duration_minutes,
            base_price=row.base_price,
            min_party=row.min_party,
            max_party=row.max_party,
            time_zone=row.time_zone,
            meeting_point=row.meeting_point,
            meeting_latitude=row.meeting_latitude,
            meeting_longitude=row.meeting_longitude,
            active=row.active,
            _row=row,
        )

    @strawberry.field(
        extensions=[allow(*READ_OPERATIONS)],
        description="Its schedules (staff only: others get null and FORBIDDEN).",
    )
    async def schedules(self, info: Info) -> list[TourSchedule] | None:
        rows = await info.context.loaders.get(L.SchedulesByTourIdLoader).load(self._row.id)
        return [TourSchedule.from_row(r) for r in rows]

    @strawberry.field(
        description=f"Its departures on days from `from` to `to` (at most {MAX_RANGE_DAYS} "
        "days), in order of departure; cancelled ones only when asked."
    )
    async def departures(
        self,
        info: Info,
        from_: Annotated[date, strawberry.argument(name="from")],
        to: date,
        include_cancelled: bool = False,
    ) -> list[DepartureSlot]:
        if to < from_ or (to - from_).days + 1 > MAX_RANGE_DAYS:
            raise BadUserInputError(
                f"`to` must be on or after `from`, at most {MAX_RANGE_DAYS} days in all."
            )
        rows = await info.context.loaders.get(L.DeparturesByTourLoader).load(
            (self._row.id, from_, to, include_cancelled)
        )
        return [DepartureSlot.from_row(r) for r in rows]


@strawberry.type(description="A recurring pattern of a tour's departures.")
class TourSchedule:
    id: strawberry.ID
    name: str
    start_time: str = strawberry.field(description="Local wall time of departure, HH:MM.")
    time_zone: str
    duration_minutes: int
    recurrence: TourRecurrence
    weekdays: list[int] = strawberry.field(
        description="ISO weekdays (1 = Monday) of a weekly or biweekly schedule."
    )
    rrule: str | None = strawberry.field(description="The RFC 5545 rule of a custom schedule.")
    max_capacity: int
    min_capacity: int = strawberry.field(
        description="Seats that must be sold by the booking cutoff for a departure to run."
    )
    valid_from: date
    valid_until: date | None
    price_override: Money | None = strawberry.field(
        description="Replaces the tour's base price on this schedule's departures."
    )
    active: bool
    _row: strawberry.Private[Any]

    @classmethod
    def from_row(cls, row: Any) -> TourSchedule:
        return cls(
            id=gid(row.id),
            name=row.name,
            start_time=hhmm(row.start_time),
            time_zone=row.time_zone,
            duration_minutes=row.duration_minutes,
            recurrence=TourRecurrence(row.recurrence),
            weekdays=list(row.weekdays or []),
            rrule=row.rrule,
            max_capacity=row.max_capacity,
            min_capacity=row.min_capacity,
            valid_from=row.valid_from,
            valid_until=row.valid_until,
            price_override=row.price_override,
            active=row.active,
            _row=row,
        )

    @strawberry.field
    async def tour(self, info: Info) -> Tour:
        row = await info.context.loaders.get(L.TourByIdLoader).load(self._row.tour_id)
        return Tour.from_row(row)


@strawberry.federation.type(
    keys=["id"],
    description="One departure of a tour: a date and local time, its seats and price.",
)
class DepartureSlot:
    id: strawberry.ID
    date: date = strawberry.field(description="The local date of departure.")
    local_start: str = strawberry.field(description="Local wall time of departure, HH:MM.")
    local_end: str = strawberry.field(description="Local wall time of return, HH:MM.")
    time_zone: str
    starts_at: datetime
    ends_at: datetime
    max_capacity: int
    min_capacity: int = strawberry.field(
        description="Seats that must be sold by the booking cutoff for it to run."
    )
    seats_booked: int
    seats_held: int = strawberry.field(description="Seats held for waitlist offers.")
    seats_available: int
    price_per_person: Money = strawberry.field(description="Per adult, before tax.")
    available: bool = strawberry.field(
        description="False: staff closed it to new bookings (it still runs)."
    )
    cancelled: bool
    cancelled_at: datetime | None
    cancellation_reason: str | None
    confirmed_to_run: bool = strawberry.field(
        description="Its minimum was sold: it will run (a charter operates it)."
    )
    _row: strawberry.Private[Any]

    @classmethod
    def from_row(cls, row: Any) -> DepartureSlot:
        return cls(
            id=gid(row.id),
            date=row.date,
            local_start=hhmm(row.local_start),
            local_end=hhmm(row.local_end),
            time_zone=row.time_zone,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            max_capacity=row.max_capacity,
            min_capacity=row.min_capacity,
            seats_booked=row.seats_booked,
            seats_held=row.seats_held,
            seats_available=row.seats_available,
            price_per_person=row.price_per_person,
            available=row.available,
            cancelled=row.cancelled_at is not None,
            cancelled_at=row.cancelled_at,
            cancellation_reason=row.cancellation_reason,
            confirmed_to_run=row.confirmed_to_run_at is not None,
            _row=row,
        )

    @classmethod
    async def resolve_reference(cls, info: Info, id: strawberry.ID) -> DepartureSlot | None:
        key = parse_uuid(id)
        row = await info.context.loaders.get(L.DepartureSlotByIdLoader).load(key) if key else None
        return cls.from_row(row) if row is not None else None

    @strawberry.field
    async def tour(self, info: Info) -> Tour:
        row = await info.context.loaders.get(L.TourByIdLoader).load(self._row.tour_id)
        return Tour.from_row(row)

    @strawberry.field(
        extensions=[allow(*READ_OPERATIONS)],
        description="The schedule that generated it (staff only; null for a one-off).",
    )
    async def schedule(self, info: Info) -> TourSchedule | None:
        if self._row.schedule_id is None:
            return None
        row = await info.context.loaders.get(L.ScheduleByIdLoader).load(self._row.schedule_id)
        return TourSchedule.from_row(row) if row is not None else None

    # Fields added by bookings (H2) and the charter (H4) go below this line.

    @strawberry.field(
        description=(
            "The shuttle charter operating it, once it is confirmed to run and charters made "
            "it: tour staff only (null for others)."
        )
    )
    async def charter(self, info: Info) -> Charter | None:
        return await charter_of(info, self._row.charter_id)

    @strawberry.field(
        extensions=[allow(*WORK_BOOKINGS)],
        description="Its bookings, every status, oldest first (staff only: others get null "
        "and FORBIDDEN).",
    )
    async def bookings(
        self, info: Info
    ) -> list[Annotated[TourBooking, strawberry.lazy("subgraphs.tours.types.bookings")]] | None:
        from subgraphs.tours.types.bookings import TourBooking

        rows = await info.context.loaders.get(L.BookingsBySlotIdLoader).load(self._row.id)
        return [TourBooking.from_row(r) for r in rows]


@strawberry.type(description="Days a tour (or every tour, when `tour` is null) does not run.")
class TourBlackout:
    id: strawberry.ID
    name: str
    blackout_type: TourBlackoutType
    start_date: date
    end_date: date
    description: str
    active: bool
    _row: strawberry.Private[Any]

    @classmethod
    def from_row(cls, row: Any) -> TourBlackout:
        return cls(
            id=gid(row.id),
            name=row.name,
            blackout_type=TourBlackoutType(row.blackout_type),
            start_date=row.start_date,
            end_date=row.end_date,
            description=row.description,
            active=row.active,
            _row=row,
        )

    @strawberry.field(description="The tour it closes; null: every tour.")
    async def tour(self, info: Info) -> Tour | None:
        if self._row.tour_id is None:
            return None
        row = await info.context.loaders.get(L.TourByIdLoader).load(self._row.tour_id)
        return Tour.from_row(row) if row is not None else None

    @strawberry.field(
        extensions=[allow(*READ_OPERATIONS)],
        description="Departures on its days with seats already sold, not cancelled: a blackout "
        "cancels nothing by itself, staff decide (staff only).",
    )
    async def sold_departures(self, info: Info) -> list[DepartureSlot] | None:
        rows = await info.context.loaders.get(L.SoldDeparturesByBlackoutIdLoader).load(self._row.id)
        return [DepartureSlot.from_row(r) for r in rows]
