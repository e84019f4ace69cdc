"""`fleetCalendar` (issue 15 §4): the fleet's month for the staff and client portals.

Readers: charters' staff readers (`READERS`) and clients. The issue asks
for one calendar the client portal draws too; what a client learns is how
many vehicles are free each day and which days are blacked out, what a
quote request would tell it anyway, and nothing of other clients' trips.
Vendors and drivers have no use for it and are refused.
"""

from __future__ import annotations

import datetime as dt

import strawberry
from strawberry.types import Info

from protocol.roles import Role
from subgraphs.charters.service.access import READERS
from subgraphs.charters.service.fleet_calendar import (
    MAX_BLACKOUT_NAMES,
    FleetDay,
    ensure_vehicle_type,
    fleet_month,
)
from subgraphs.kit.errors import BadUserInputError, NotFoundError, ServiceError
from subgraphs.kit.ids import parse_uuid
from subgraphs.kit.permissions import allow

FLEET_CALENDAR_READERS = (*READERS, Role.CLIENT)


@strawberry.type
class FleetCalendarDay:
    date: dt.date = strawberry.field(description="The operator's calendar day.")
    vehicles_free: int = strawberry.field(
        description="Active vehicles no trip holds at any time that day (none on a blackout)."
    )
    vehicles_total: int = strawberry.field(description="Active vehicles (of the type asked).")
    blackout: bool = strawberry.field(
        description="A blackout concerns the type asked (any type when none is) that day."
    )
    blackout_names: list[str] = strawberry.field(
        description=(
            f"Those blackouts: their descriptions, else their kinds (at most "
            f"{MAX_BLACKOUT_NAMES}, soonest started first)."
        )
    )

    @classmethod
    def of(cls, day: FleetDay) -> FleetCalendarDay:
        return cls(
            date=day.day,
            vehicles_free=day.vehicles_free,
            vehicles_total=day.vehicles_total,
            blackout=day.blackout,
            blackout_names=day.blackout_names,
        )


@strawberry.type
class FleetCalendar:
    year: int
    month: int
    vehicle_type_id: strawberry.ID | None
    days: list[FleetCalendarDay] = strawberry.field(
        description="One per day of the month, in order (at most 31)."
    )


@strawberry.type
class FleetCalendarQueries:
    @strawberry.field(
        extensions=[allow(*FLEET_CALENDAR_READERS)],
        description=(
            "The fleet's month, day by day in the operator's time zone: vehicles free for the "
            "whole day, the total, and blackouts (staff and clients)."
        ),
    )
    async def fleet_calendar(
        self, info: Info, year: int, month: int, vehicle_type_id: strawberry.ID | None = None
    ) -> FleetCalendar:
        type_id = None
        if vehicle_type_id is not None:
            type_id = parse_uuid(vehicle_type_id)
            if type_id is None:
                raise NotFoundError("Vehicle type", vehicle_type_id)
        async with info.context.sessions() as session:
            try:
                if type_id is not None:
                    await ensure_vehicle_type(session, type_id)
                days = await fleet_month(
                    session, year, month, type_id, info.context.settings.operator_time_zone
                )
            except ServiceError as exc:
                problem = exc.problems[0]
                if problem.code == "NOT_FOUND":
                    raise NotFoundError("Vehicle type", vehicle_type_id) from None
                raise BadUserInputError(problem.message) from None
        return FleetCalendar(
            year=year,
            month=month,
            vehicle_type_id=vehicle_type_id,
            days=[FleetCalendarDay.of(d) for d in days],
        )
