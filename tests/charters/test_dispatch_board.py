"""The live dispatch board over a real WebSocket (graphql-transport-ws).

Each test serves its own charters app(s) with uvicorn on real ports, so it
can watch the app's event stream (how many subscribers it holds). Changes
are made over HTTP; events travel outbox -> Redis -> every replica's one
pub/sub connection -> the subscriber's queue -> the socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import websockets
from sqlalchemy import func, select
from starlette.applications import Starlette
from websockets.typing import Subprotocol

from subgraphs.charters.app import create_app
from subgraphs.charters.event_stream import SERVICE_KEY, EventStream
from subgraphs.charters.models import outbox
from subgraphs.kit.settings import Settings
from tests.support.charters_fixtures import future_local
from tests.support.graphql_client import GraphQLClient
from tests.support.live_server import LiveServer, serve

PROTOCOL = Subprotocol("graphql-transport-ws")

BOARD = """
subscription($from: DateTime!, $to: DateTime!) {
  dispatchBoard(from: $from, to: $to) {
    eventId occurredAt changes inWindow missedEvents
    charter { id reference status pickupAt vehicles { id dispatchStatus } }
    charterVehicle { id dispatchStatus }
  }
}"""

SET_STATUS = """
mutation($id: ID!, $status: CharterStatus!) {
  setCharterStatus(id: $id, status: $status) { charter { id status } userErrors { code } }
}"""

SET_DISPATCH = """
mutation($id: ID!, $status: DispatchStatus!) {
  setDispatchStatus(charterVehicleId: $id, status: $status) { userErrors { code } }
}"""

MOVE = """
mutation($id: ID!, $pickup: String!) {
  updateCharter(id: $id, input: {pickupLocal: $pickup}) { charter { pickupAt } userErrors { code } }
}"""


class BoardSocket:
    """A graphql-transport-ws client, just enough for these tests."""

    def __init__(self, ws: websockets.ClientConnection) -> None:
        self.ws = ws

    async def subscribe(self, start: datetime, end: datetime, op_id: str = "1") -> None:
        await self.send(
            {
                "id": op_id,
                "type": "subscribe",
                "payload": {
                    "query": BOARD,
                    "variables": {"from": start.isoformat(), "to": end.isoformat()},
                },
            }
        )

    async def send(self, message: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(message))

    async def receive(self, wait: float = 10.0) -> dict[str, Any]:
        while True:
            message = json.loads(await asyncio.wait_for(self.ws.recv(), wait))
            if message["type"] == "ping":
                await self.send({"type": "pong"})
                continue
            return message  # type: ignore[no-any-return]

    async def event(self, wait: float = 10.0) -> dict[str, Any]:
        message = await self.receive(wait)
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
        return message["payload"]["data"]["dispatchBoard"]  # type: ignore[no-any-return]


@contextlib.asynccontextmanager
async def board_socket(server: LiveServer, token: str | None) -> AsyncIterator[BoardSocket]:
    async with websockets.connect(server.ws_url, subprotocols=[PROTOCOL]) as ws:
        payload = {"Authorization": f"Bearer {token}"} if token else {}
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        ack = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert ack["type"] == "connection_ack", ack
        yield BoardSocket(ws)


@contextlib.asynccontextmanager
async def replica(settings: Settings) -> AsyncIterator[tuple[LiveServer, Starlette]]:
    app = create_app(settings)
    async with serve(app) as server:
        yield server, app


def stream(app: Starlette) -> EventStream:
    return app.state.services.extra[SERVICE_KEY]  # type: ignore[no-any-return]


async def eventually(check: Any, within: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def drained(sessions: Any) -> None:
    """Wait until every committed event was published (none left in the outbox)."""
    for _ in range(500):
        async with sessions() as session:
            pending = await session.scalar(
                select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
            )
        if not pending:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("outbox not drained")


def window(days: int = 30) -> tuple[datetime, datetime]:
    """A window around `future_local(days)` wherever the pickup zone is."""
    middle = datetime.now(UTC) + timedelta(days=days)
    return middle - timedelta(days=1), middle + timedelta(days=1)


async def booked(staff: GraphQLClient, bookable_charter: Any, days: int) -> dict[str, Any]:
    charter = await bookable_charter(days=days)
    payload = (await staff(SET_STATUS, {"id": charter["id"], "status": "BOOKED"})).ok()
    assert payload["setCharterStatus"]["userErrors"] == []
    return charter


async def test_board_receives_dispatch_and_status_changes_of_charters_in_its_window(
    subgraph_settings, staff, as_role, bookable_charter, mint, sessions
):
    inside = await booked(staff, bookable_charter, days=30)
    outside = await booked(staff, bookable_charter, days=60)
    vehicle_id = inside["vehicles"][0]["id"]
    dispatcher = await as_role("dispatcher")
    await drained(sessions)

    token = await mint("dispatcher")
    async with replica(subgraph_settings) as (server, app), board_socket(server, token) as board:
        await board.subscribe(*window(30))
        await eventually(lambda: stream(app).subscriber_count == 1)

        moved_outside = await dispatcher(
            SET_DISPATCH, {"id": outside["vehicles"][0]["id"], "status": "READY"}
        )
        ready = await dispatcher(SET_DISPATCH, {"id": vehicle_id, "status": "READY"})
        first = await board.event()
        dispatched = await dispatcher(SET_DISPATCH, {"id": vehicle_id, "status": "DISPATCHED"})
        second = await board.event()
        confirmed = await staff(SET_STATUS, {"id": inside["id"], "status": "CONFIRMED"})
        third = await board.event()

    for response in (moved_outside, ready, dispatched):
        assert response.ok()["setDispatchStatus"]["userErrors"] == []
    assert confirmed.ok()["setCharterStatus"]["userErrors"] == []
    # The first event is the second change: the charter outside the window produced none.
    assert [e["changes"] for e in (first, second, third)] == [
        ["dispatchStatus"],
        ["dispatchStatus"],
        ["status"],
    ]
    assert first["charter"] == {
        "id": inside["id"],
        "reference": inside["reference"],
        "status": "BOOKED",
        "pickupAt": first["charter"]["pickupAt"],
        "vehicles": [{"id": vehicle_id, "dispatchStatus": "READY"}],
    }
    assert first["charterVehicle"] == {"id": vehicle_id, "dispatchStatus": "READY"}
    # Each event reads the charter afresh, never from an earlier event's loaders.
    assert second["charter"]["vehicles"] == [{"id": vehicle_id, "dispatchStatus": "DISPATCHED"}]
    assert second["charterVehicle"] == {"id": vehicle_id, "dispatchStatus": "DISPATCHED"}
    assert third["charter"]["status"] == "CONFIRMED"
    assert third["charterVehicle"] is None
    assert [e["inWindow"] for e in (first, second, third)] == [True, True, True]
    assert [e["missedEvents"] for e in (first, second, third)] == [0, 0, 0]
    ids = [e["eventId"] for e in (first, second, third)]
    assert all(re.fullmatch(r"charters:\d+", i) for i in ids)
    assert len(set(ids)) == 3
    assert first["occurredAt"] <= second["occurredAt"] <= third["occurredAt"]


async def test_a_charter_moved_out_of_the_window_is_announced_once_then_ignored(
    subgraph_settings, staff, bookable_charter, mint, sessions
):
    quote = await bookable_charter(days=30)
    await drained(sessions)

    token = await mint("dispatcher")
    async with replica(subgraph_settings) as (server, app), board_socket(server, token) as board:
        await board.subscribe(*window(30))
        await eventually(lambda: stream(app).subscriber_count == 1)

        away = (await staff(MOVE, {"id": quote["id"], "pickup": future_local(60)})).ok()
        again = (await staff(MOVE, {"id": quote["id"], "pickup": future_local(61)})).ok()
        back = (await staff(MOVE, {"id": quote["id"], "pickup": future_local(30, 11)})).ok()
        left, returned = await board.event(), await board.event()

    assert away["updateCharter"]["userErrors"] == []
    assert again["updateCharter"]["userErrors"] == []
    assert back["updateCharter"]["userErrors"] == []
    assert left["charter"]["id"] == quote["id"]
    assert left["changes"] == ["pickupLocal"]
    assert left["inWindow"] is False
    # The move from day 60 to 61 stayed outside: the next event is the return.
    assert returned["inWindow"] is True
    assert returned["charter"]["pickupAt"] == back["updateCharter"]["charter"]["pickupAt"]


async def test_anonymous_and_non_staff_boards_are_refused(subgraph_settings, mint):
    async with replica(subgraph_settings) as (server, app):
        answers = []
        for token in (None, "not-a-token", await mint("client"), await mint("driver")):
            async with board_socket(server, token) as board:
                await board.subscribe(*window(30))
                answers.append(await board.receive())
                assert stream(app).subscriber_count == 0

    assert [a["type"] for a in answers] == ["error"] * 4
    codes = [[e["extensions"]["code"] for e in a["payload"]] for a in answers]
    assert codes == [["UNAUTHENTICATED"], ["UNAUTHENTICATED"], ["FORBIDDEN"], ["FORBIDDEN"]]


async def test_an_empty_or_reversed_window_is_bad_input(subgraph_settings, mint):
    start, end = window(30)
    token = await mint("dispatcher")
    async with replica(subgraph_settings) as (server, app), board_socket(server, token) as board:
        await board.subscribe(end, start)
        answer, end_of_stream = await board.receive(), await board.receive()
        assert stream(app).subscriber_count == 0

    assert answer["type"] == "next"
    assert answer["payload"]["data"] is None
    assert [e["extensions"]["code"] for e in answer["payload"]["errors"]] == ["BAD_USER_INPUT"]
    assert end_of_stream == {"id": "1", "type": "complete"}


async def test_every_replica_delivers_a_change_made_on_one_of_them(
    subgraph_settings, staff, bookable_charter, mint, http_client, sessions
):
    charter = await booked(staff, bookable_charter, days=30)
    vehicle_id = charter["vehicles"][0]["id"]
    await drained(sessions)

    async with (
        replica(subgraph_settings) as (server_a, app_a),
        replica(subgraph_settings) as (server_b, app_b),
        board_socket(server_a, await mint("dispatcher")) as board_a,
        board_socket(server_b, await mint("manager")) as board_b,
    ):
        await board_a.subscribe(*window(30))
        await board_b.subscribe(*window(30))
        await eventually(
            lambda: stream(app_a).subscriber_count == 1 and stream(app_b).subscriber_count == 1
        )
        on_a = GraphQLClient(server_a.graphql_url, http_client, await mint("dispatcher"))

        payload = (await on_a(SET_DISPATCH, {"id": vehicle_id, "status": "READY"})).ok()
        seen_a, seen_b = await board_a.event(), await board_b.event()

    assert payload["setDispatchStatus"]["userErrors"] == []
    assert seen_a == seen_b
    assert seen_a["charterVehicle"] == {"id": vehicle_id, "dispatchStatus": "READY"}


async def test_closing_the_socket_or_completing_ends_the_server_side_subscription(
    subgraph_settings, mint
):
    async with replica(subgraph_settings) as (server, app):
        token = await mint("dispatcher")
        async with board_socket(server, token) as board:
            await board.subscribe(*window(30), op_id="a")
            await board.subscribe(*window(10), op_id="b")
            await eventually(lambda: stream(app).subscriber_count == 2)
            await board.send({"id": "a", "type": "complete"})
            await eventually(lambda: stream(app).subscriber_count == 1)
        await eventually(lambda: stream(app).subscriber_count == 0)

        async with board_socket(server, token) as board:
            await board.subscribe(*window(30))
            await eventually(lambda: stream(app).subscriber_count == 1)
            board.ws.transport.abort()  # a client that vanishes without a close frame
        await eventually(lambda: stream(app).subscriber_count == 0)
        leftover = [
            t
            for t in asyncio.all_tasks()
            if "dispatch_board" in repr(t.get_coro()) or "run_operation" in repr(t.get_coro())
        ]
        assert leftover == []


def raw_event(number: int, pickup: datetime) -> str:
    return json.dumps(
        {
            "id": f"charters:{number}",
            "topic": "charters.charter_changed",
            "occurredAt": datetime.now(UTC).isoformat(),
            "payload": {
                "charterId": "00000000-0000-0000-0000-000000000001",
                "pickupAt": pickup.isoformat(),
                "changes": ["status"],
            },
        }
    )


@pytest.mark.parametrize("size", [2])
async def test_a_slow_listener_loses_its_oldest_events_and_is_told_how_many(size):
    feed = EventStream(redis=None, queue_size=size)  # type: ignore[arg-type]
    pickup = datetime.now(UTC) + timedelta(days=1)

    async with feed.listen(lambda e: True) as slow, feed.listen(lambda e: False) as other:
        for number in range(1, 6):
            feed.dispatch(raw_event(number, pickup))
        feed.dispatch(raw_event(5, pickup))  # a duplicate delivery is dropped
        first = await slow.next()
        second = await slow.next()
        assert other._queue.empty()
        assert feed.subscriber_count == 2
    assert feed.subscriber_count == 0

    assert first is not None
    assert second is not None
    assert (first[0].id, first[1]) == ("charters:4", 3)
    assert (second[0].id, second[1]) == ("charters:5", 0)
