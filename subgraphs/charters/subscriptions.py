"""Charters' subscriptions: the live dispatch board.

`dispatchBoard(from, to)` streams every change to a charter departing in
`[from, to)`: created, status, stops, vehicles, dispatch status, pickup
moved, cancelled. A charter whose pickup moved OUT of the window still
yields one event (`inWindow: false`), so the board can drop it; one that
moved in arrives like any other change. Events come from the process's one
Redis subscription (`event_stream`), and each carries the charter read
fresh from the database for that event.

`vehiclePositions(charterIds)` streams the newest fix of each vehicle of
those charters per written batch (issue 13 §4): light events from the
positions channel, nothing read from the database per event. Staff read any
charter's; a driver only its own trip's (the vehicles it drives).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncGenerator
from datetime import UTC, datetime, timedelta
from typing import Annotated

import strawberry
from sqlalchemy import select
from strawberry.types import Info

from protocol.roles import Role
from subgraphs.charters import loaders as L
from subgraphs.charters.event_stream import CharterEvent, PositionEvent, positions_of, stream_of
from subgraphs.charters.models import CharterVehicle as CharterVehicleRow
from subgraphs.charters.service.access import READERS
from subgraphs.charters.types import Charter, CharterVehicle
from subgraphs.kit.errors import BadUserInputError, NotFoundError
from subgraphs.kit.event_sharing import EventShare
from subgraphs.kit.ids import require_uuid
from subgraphs.kit.loaders import LoaderRegistry
from subgraphs.kit.permissions import allow

#: The widest board window: a year of departures.
MAX_WINDOW = timedelta(days=366)
#: Charters one `vehiclePositions` subscription may follow.
MAX_POSITION_CHARTERS = 200
_SNAKE = re.compile(r"_([a-z])")


@strawberry.type(description="One change to a charter departing in a dispatch board's window.")
class DispatchBoardEvent:
    event_id: strawberry.ID = strawberry.field(
        description="Unique per change; a board may see one twice after a reconnect."
    )
    occurred_at: datetime = strawberry.field(description="When the change was committed.")
    changes: list[str] = strawberry.field(
        description=(
            "What changed: created, status, pickupLocal, stops, vehicles, passengerCount, "
            "dispatchStatus, ... (field names of Charter)."
        )
    )
    charter: Charter = strawberry.field(description="The charter as it is now.")
    charter_vehicle: CharterVehicle | None = strawberry.field(
        description="The vehicle the change was about, when it was about one."
    )
    in_window: bool = strawberry.field(
        description="False when the charter's pickup moved out of the window: remove it."
    )
    missed_events: int = strawberry.field(
        description=(
            "Events dropped before this one because this board read too slowly; "
            "when above 0, refetch the board."
        )
    )
    #: lets boards asking the same thing of this event share one execution (kit/event_sharing)
    _share: strawberry.Private[EventShare | None] = None


@strawberry.type(description="A vehicle's newest GPS fix, as the driver app posted it.")
class VehiclePositionEvent:
    event_id: strawberry.ID = strawberry.field(description="Unique per vehicle and batch.")
    charter_id: strawberry.ID
    charter_vehicle_id: strawberry.ID
    latitude: float
    longitude: float
    speed_kph: float | None
    heading: float | None = strawberry.field(description="Degrees clockwise from north.")
    accuracy_m: float | None
    recorded_at: datetime = strawberry.field(description="When the phone took the fix.")
    missed_events: int = strawberry.field(
        description="Positions dropped before this one because this reader was too slow."
    )

    @classmethod
    def of(cls, event: PositionEvent, missed: int) -> VehiclePositionEvent:
        return cls(
            event_id=strawberry.ID(event.id),
            charter_id=strawberry.ID(str(event.charter_id)),
            charter_vehicle_id=strawberry.ID(str(event.charter_vehicle_id)),
            latitude=float(event.latitude),
            longitude=float(event.longitude),
            speed_kph=_float(event.speed_kph),
            heading=_float(event.heading),
            accuracy_m=_float(event.accuracy_m),
            recorded_at=event.recorded_at,
            missed_events=missed,
        )


def _float(value: object) -> float | None:
    return None if value is None else float(str(value))


async def _driven_vehicles(info: Info, charter_ids: set[uuid.UUID]) -> set[uuid.UUID]:
    """The vehicles of `charter_ids` the viewing driver drives; every charter must have one."""
    viewer = await info.context.get_viewer()
    driver_id = await info.context.loaders.get(L.DriverIdByUserIdLoader).load(viewer.user_id)
    if driver_id is None:
        raise NotFoundError("Charter")
    async with info.context.sessions() as session:
        rows = (
            await session.execute(
                select(CharterVehicleRow.id, CharterVehicleRow.charter_id).where(
                    CharterVehicleRow.charter_id.in_(charter_ids),
                    CharterVehicleRow.driver_id == driver_id,
                )
            )
        ).all()
    # A charter the driver does not drive is, for it, one that does not exist.
    missing = charter_ids - {r.charter_id for r in rows}
    if missing:
        raise NotFoundError("Charter", next(iter(missing)))
    return {r.id for r in rows}


def camel(name: str) -> str:
    return _SNAKE.sub(lambda m: m.group(1).upper(), name)


def _instant(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@strawberry.type
class Subscription:
    @strawberry.subscription(
        extensions=[allow(*READERS)],
        description=(
            "Live changes to charters departing in [from, to), staff only. Over "
            "graphql-transport-ws, authenticate with connection_init "
            '{"Authorization": "Bearer <token>"}.'
        ),
    )
    async def dispatch_board(
        self,
        info: Info,
        from_: Annotated[datetime, strawberry.argument(name="from")],
        to: datetime,
    ) -> AsyncGenerator[DispatchBoardEvent, None]:
        start, end = _instant(from_), _instant(to)
        if end <= start:
            raise BadUserInputError("`to` must be after `from`.", field="to")
        if end - start > MAX_WINDOW:
            raise BadUserInputError("A board window spans at most 366 days.", field="to")

        def departs_in(moment: datetime | None) -> bool:
            return moment is not None and start <= moment < end

        def accepts(event: CharterEvent) -> bool:
            return departs_in(event.pickup_at) or departs_in(event.previous_pickup_at)

        context = info.context
        missed = 0
        async with stream_of(context.services).listen(accepts) as listener:
            while (item := await listener.next()) is not None:
                event, dropped = item
                missed += dropped
                # The connection's context lives as long as the socket: each event
                # gets fresh loaders, so it never sees rows cached for an earlier one.
                # They are shared by this process's boards for this event (loaders
                # hold rows, not permissions: resolvers check the viewer), so 100
                # boards cost the queries of one.
                loaders = event.shared.get(context.sessions)
                if loaders is None:
                    loaders = event.shared[context.sessions] = LoaderRegistry(context.sessions)
                context.loaders = loaders
                row = await context.loaders.get(L.CharterByIdLoader).load(event.charter_id)
                if row is None or row.is_template:
                    continue
                vehicle = None
                if event.charter_vehicle_id is not None:
                    vehicle = await context.loaders.get(L.CharterVehicleByIdLoader).load(
                        event.charter_vehicle_id
                    )
                yield DispatchBoardEvent(
                    event_id=strawberry.ID(event.id),
                    occurred_at=event.occurred_at,
                    changes=[camel(c) for c in event.changes],
                    charter=Charter.from_row(row),
                    charter_vehicle=CharterVehicle.from_row(vehicle) if vehicle else None,
                    in_window=departs_in(row.pickup_at),
                    missed_events=missed,
                    _share=EventShare(event.shared.setdefault(EventShare, {}), missed),
                )
                missed = 0

    @strawberry.subscription(
        extensions=[allow(*READERS, Role.DRIVER)],
        description=(
            "The newest GPS fix of each vehicle of these charters, as positions are "
            "written (about every 5 s per vehicle while a trip is under way). Staff follow "
            "any charter; a driver only its own trip."
        ),
    )
    async def vehicle_positions(
        self, info: Info, charter_ids: list[strawberry.ID]
    ) -> AsyncGenerator[VehiclePositionEvent, None]:
        if not charter_ids:
            raise BadUserInputError("Name at least one charter.", field="charterIds")
        if len(charter_ids) > MAX_POSITION_CHARTERS:
            raise BadUserInputError(
                f"Follow at most {MAX_POSITION_CHARTERS} charters.", field="charterIds"
            )
        wanted = {require_uuid(i, "Charter") for i in charter_ids}
        viewer = await info.context.get_viewer()
        vehicles: set[uuid.UUID] | None = None
        if not viewer.has_any_role(*READERS):
            vehicles = await _driven_vehicles(info, wanted)

        def accepts(event: PositionEvent) -> bool:
            if vehicles is not None:
                return event.charter_vehicle_id in vehicles
            return event.charter_id in wanted

        async with positions_of(info.context.services).listen_positions(accepts) as listener:
            while (item := await listener.next()) is not None:
                event, missed = item
                yield VehiclePositionEvent.of(event, missed)
