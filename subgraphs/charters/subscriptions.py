"""Charters' subscriptions: the live dispatch board.

`dispatchBoard(from, to)` streams every change to a charter departing in
`[from, to)`: created, status, stops, vehicles, dispatch status, pickup
moved, cancelled. A charter whose pickup moved OUT of the window still
yields one event (`inWindow: false`), so the board can drop it; one that
moved in arrives like any other change. Events come from the process's one
Redis subscription (`event_stream`), and each carries the charter read
fresh from the database for that event.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator
from datetime import UTC, datetime, timedelta
from typing import Annotated

import strawberry
from strawberry.types import Info

from subgraphs.charters import loaders as L
from subgraphs.charters.event_stream import CharterEvent, stream_of
from subgraphs.charters.service.access import READERS
from subgraphs.charters.types import Charter, CharterVehicle
from subgraphs.kit.errors import BadUserInputError
from subgraphs.kit.loaders import LoaderRegistry
from subgraphs.kit.permissions import allow

#: The widest board window: a year of departures.
MAX_WINDOW = timedelta(days=366)
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
                )
                missed = 0
