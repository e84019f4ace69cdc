"""Open dispatch boards keep nothing per event (issue 19 §3 soak: charters' RSS grew).

Two boards stay subscribed over a real WebSocket while events are delivered
to the app's event stream; after warm-up, more events must leave no more
live `CollectedFields` (graphql-core's per-execution memo, which a
subscription's executor copies used to share and grow: kit/event_sharing.py)
nor `CharterEvent`s than the boards' queues may hold.
"""

from __future__ import annotations

import asyncio
import gc
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from graphql.execution.collect_fields import CollectedFields

from subgraphs.charters.event_stream import CharterEvent
from tests.charters.test_dispatch_board import (
    board_socket,
    booked,
    drained,
    eventually,
    replica,
    stream,
    window,
)


def _live(kind: type) -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, kind))


async def test_events_to_open_boards_leave_no_execution_state_behind(
    subgraph_settings: Any, staff: Any, bookable_charter: Any, mint: Any, sessions: Any
) -> None:
    charter = await booked(staff, bookable_charter, days=30)
    await drained(sessions)
    pickup = datetime.now(UTC) + timedelta(days=30)
    async with (
        replica(subgraph_settings) as (server, app),
        board_socket(server, await mint("dispatcher")) as first,
        board_socket(server, await mint("manager")) as second,
    ):
        boards = (first, second)
        for board in boards:
            await board.subscribe(*window(30))
        await eventually(lambda: stream(app).subscriber_count == 2)
        sent = 0

        async def deliver(count: int) -> None:
            nonlocal sent
            for _ in range(count):
                sent += 1
                stream(app).deliver(
                    CharterEvent(
                        id=f"memory:{sent}",
                        charter_id=uuid.UUID(charter["id"]),
                        pickup_at=pickup,
                        previous_pickup_at=None,
                        changes=("status",),
                        occurred_at=datetime.now(UTC),
                        charter_vehicle_id=None,
                    )
                )
                events = await asyncio.gather(*(b.event() for b in boards))
                assert {e["eventId"] for e in events} == {f"memory:{sent}"}

        await deliver(5)
        fields, charter_events = _live(CollectedFields), _live(CharterEvent)
        await deliver(60)
        assert _live(CollectedFields) <= fields
        assert _live(CharterEvent) <= charter_events
