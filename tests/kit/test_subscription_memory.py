"""A long-lived subscription keeps no per-event execution state (issue 19 §3 soak).

graphql-core 3.3 runs each event on a shallow copy of the subscription's
executor; its memo of collected subfields, keyed by lists made anew per
event, was shared by every copy and grew by a few objects per event for as
long as the subscription lived: charters' RSS rose ~40 MB a minute under 200
dispatch boards. The test counts live `CollectedFields` objects while one
subscription stays open: after warm-up, more events must add none.
"""

from __future__ import annotations

import gc
import uuid
from collections.abc import AsyncGenerator

import strawberry
from graphql.execution.collect_fields import CollectedFields
from strawberry.types import Info

from protocol.roles import Role
from protocol.viewer import Viewer
from subgraphs.kit.schema import build_schema


@strawberry.type
class Stop:
    name: str


@strawberry.type
class Trip:
    number: int

    @strawberry.field
    def stops(self) -> list[Stop]:
        return [Stop(name=f"{self.number}-{i}") for i in range(3)]


@strawberry.type
class Query:
    ok: bool = True


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def trips(self, info: Info, count: int) -> AsyncGenerator[Trip]:
        for number in range(count):
            yield Trip(number=number)


SCHEMA = build_schema(Query, subscription=Subscription)
TRIPS = "subscription($n: Int!) { trips(count: $n) { number stops { name } } }"


class _Context:
    known_viewer = Viewer(
        user_id=uuid.uuid4(), roles=frozenset({Role.DISPATCHER}), session_id=uuid.uuid4()
    )


def _live_collected_fields() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, CollectedFields))


async def test_events_of_an_open_subscription_leave_no_collected_fields_behind() -> None:
    warm_up, more = 5, 60
    stream = await SCHEMA.subscribe(TRIPS, {"n": warm_up + more}, context_value=_Context())
    seen = 0
    after_warm_up = 0
    async for result in stream:
        assert result.errors is None, result.errors
        assert result.data == {
            "trips": {"number": seen, "stops": [{"name": f"{seen}-{i}"} for i in range(3)]}
        }
        seen += 1
        if seen == warm_up:
            after_warm_up = _live_collected_fields()
        if seen == warm_up + more:
            # still inside the subscription: its executor is alive
            assert _live_collected_fields() <= after_warm_up
    assert seen == warm_up + more
