"""The driver app's GPS positions (issue 13 §4): `postPositions`."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry
from strawberry.types import Info

from protocol.roles import Role
from subgraphs.charters.mutations.inputs import parse_id
from subgraphs.charters.service import positions as position_service
from subgraphs.kit.errors import ServiceError
from subgraphs.kit.payloads import UserError, user_errors
from subgraphs.kit.permissions import allow


@strawberry.input(description="One GPS fix as the phone took it.")
class PositionInput:
    latitude: float
    longitude: float
    recorded_at: datetime = strawberry.field(
        description=(
            "When the phone took the fix, with its offset: not more than 30 s ahead of the "
            "server's clock, not older than 10 minutes."
        )
    )
    speed_kph: float | None = None
    heading: float | None = strawberry.field(
        default=None, description="Degrees clockwise from north, 0 to 360."
    )
    accuracy_m: float | None = strawberry.field(
        default=None, description="The fix's horizontal accuracy in metres."
    )

    def fix(self) -> position_service.Fix:
        return position_service.Fix(
            latitude=_decimal(self.latitude),
            longitude=_decimal(self.longitude),
            recorded_at=self.recorded_at,
            speed_kph=_optional(self.speed_kph),
            heading=_optional(self.heading),
            accuracy_m=_optional(self.accuracy_m),
        )


def _decimal(value: float) -> Decimal:
    return Decimal(str(value))


def _optional(value: float | None) -> Decimal | None:
    return None if value is None else _decimal(value)


@strawberry.type
class PostPositionsPayload:
    accepted: int = strawberry.field(default=0, description="Fixes stored.")
    dropped: int = strawberry.field(
        default=0,
        description="Fixes acknowledged but not stored: at most one is kept per 5 seconds.",
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class PositionMutations:
    @strawberry.mutation(
        extensions=[allow(Role.DRIVER)],
        description=(
            "Post GPS fixes for the trip (charter vehicle) you drive, while it is under way "
            "(from 3 hours before it until it completes). At most one fix per 5 seconds of "
            "recorded time is kept; the others are counted as dropped. Answers once the "
            "kept fixes are stored."
        ),
    )
    async def post_positions(
        self, info: Info, trip_id: strawberry.ID, positions: list[PositionInput]
    ) -> PostPositionsPayload:
        viewer = await info.context.get_viewer()
        services = info.context.services
        fixes = [p.fix() for p in positions]
        try:
            trip = parse_id(trip_id, "tripId")
            writer = position_service.writer_of(services)
            async with info.context.sessions() as session:
                outcome = await position_service.post(
                    session, services.redis, writer, trip, fixes, viewer
                )
        except ServiceError as error:
            return PostPositionsPayload(user_errors=user_errors(error))
        return PostPositionsPayload(accepted=outcome.accepted, dropped=outcome.dropped)
