"""Live positions through the router (issue 13 §4, §7): `vehiclePositions`, the board's
"positions" change, and a board that survives a Redis restart.

The real charters and identity apps on real ports, the checked-in
supergraph pointed at them, the router in front, graphql-transport-ws.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, update
from starlette.applications import Starlette

from db.embedded import EmbeddedRedis
from router.config import Config
from router.server.app import create_app
from router.server.holder import GatewayHolder
from router.subscriptions import SubscriptionRegistry
from subgraphs.charters.app import create_app as charters_app
from subgraphs.charters.event_stream import positions_of, stream_of
from subgraphs.charters.models import CharterVehicle
from subgraphs.kit.settings import Settings
from tests.charters.test_portal_drivers import driven_charter, linked_driver
from tests.charters.test_positions import POST, bucket_start, fix
from tests.router_subscriptions.client import recv, subscribe, until_done, ws_client
from tests.support.graphql_client import GraphQLClient
from tests.support.live_server import LiveServer, serve
from tests.support.roles import ROLES
from tests.support.tokens import TokenMinter

SUPERGRAPH = Path(__file__).parents[2] / "schema" / "supergraph.graphql"

POSITIONS = """
subscription($ids: [ID!]!) {
  vehiclePositions(charterIds: $ids) {
    eventId charterId charterVehicleId latitude longitude speedKph heading accuracyM recordedAt
  }
}"""

BOARD = """
subscription($from: DateTime!, $to: DateTime!) {
  dispatchBoard(from: $from, to: $to) { eventId changes charter { id } charterVehicle { id } }
}"""

SET_DISPATCH = """
mutation($id: ID!, $status: DispatchStatus!) {
  setDispatchStatus(charterVehicleId: $id, status: $status) { userErrors { code message } }
}"""


@dataclass
class Stack:
    ws_url: str
    charters: LiveServer
    app: Starlette
    registry: SubscriptionRegistry
    staff: GraphQLClient

    def listeners(self) -> tuple[int, int]:
        services = self.app.state.services
        return stream_of(services).subscriber_count, positions_of(services).subscriber_count


@pytest.fixture
def stack_of(
    subgraph_settings: Settings,
    identity_server: LiveServer,
    tmp_path: Path,
    http_client: httpx.AsyncClient,
    mint: TokenMinter,
) -> Callable[..., Any]:
    """Charters (optionally on its own Redis) and the router in front of it."""

    def make(settings: Settings = subgraph_settings) -> Any:
        return _stack(settings, identity_server, tmp_path, http_client, mint)

    return make


async def _start(
    settings: Settings,
    identity: LiveServer,
    tmp_path: Path,
    http_client: httpx.AsyncClient,
    mint: TokenMinter,
) -> AsyncIterator[Stack]:
    app = charters_app(settings)
    async with serve(app) as charters:
        urls = {"charters": charters.graphql_url, "identity": identity.graphql_url}
        sdl = re.sub(
            r'@join__graph\(name: "(\w+)", url: "[^"]*"\)',
            lambda m: (
                f'@join__graph(name: "{m[1]}", url: "{urls.get(m[1], "http://127.0.0.1:9/graphql")}")'
            ),
            SUPERGRAPH.read_text(),
        )
        (tmp_path / "supergraph.graphql").write_text(sdl)
        config = Config(
            supergraph=str(tmp_path / "supergraph.graphql"),
            subgraph_timeout=5,
            jwks_url=settings.jwks_url,
        )
        holder = GatewayHolder(config)
        holder.try_load()
        registry = SubscriptionRegistry()
        async with serve(create_app(config, holder, subscriptions=registry)) as router:
            staff = GraphQLClient(charters.graphql_url, http_client, await mint("manager"))
            yield Stack(router.ws_url, charters, app, registry, staff)
            await registry.close_all()


def _stack(*args: Any) -> Any:
    import contextlib

    return contextlib.asynccontextmanager(_start)(*args)


async def eventually(check: Callable[[], bool], wait: float = 10.0) -> None:
    """Wait until `check()` holds: listeners register after the subscription's ack."""
    deadline = asyncio.get_running_loop().time() + wait
    while not check() and asyncio.get_running_loop().time() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.02)
    assert check()


async def started_trip_on(
    stack: Stack, bookable: Any, as_driver: Callable[[uuid.UUID], Any], sessions: Any
) -> tuple[GraphQLClient, dict[str, Any]]:
    user_id = uuid.uuid4()
    driver_id = await linked_driver(stack.staff, user_id)
    charter = await driven_charter(stack.staff, bookable, driver_id, days=2)
    trip_id = charter["vehicles"][0]["id"]
    async with sessions() as session, session.begin():
        await session.execute(
            update(CharterVehicle)
            .where(CharterVehicle.id == uuid.UUID(trip_id))
            .values(trip_started_at=func.now())
        )
    driver = GraphQLClient(stack.charters.graphql_url, stack.staff.http, await as_driver(user_id))
    return driver, {**charter, "trip_id": trip_id}


def board_window() -> dict[str, str]:
    now = datetime.now(UTC)
    return {"from": now.isoformat(), "to": (now + timedelta(days=5)).isoformat()}


async def test_a_posted_position_reaches_vehicle_positions_and_the_board_through_the_router(
    stack_of, bookable_charter, mint, sessions
):
    async with stack_of() as stack:
        driver, trip = await started_trip_on(
            stack, bookable_charter, lambda u: mint("driver", user_id=u), sessions
        )
        token = await mint("dispatcher")
        start = bucket_start(120)
        async with (
            ws_client(stack.ws_url, {"Authorization": f"Bearer {token}"}) as positions_ws,
            ws_client(stack.ws_url, {"Authorization": f"Bearer {token}"}) as board_ws,
        ):
            await subscribe(positions_ws, "pos", POSITIONS, {"ids": [trip["id"]]})
            await subscribe(board_ws, "board", BOARD, board_window())
            await eventually(lambda: stack.listeners() == (1, 1))

            # Three fixes, 0 s, 6 s and 16 s into the trip's recorded time.
            sent = [start, start + timedelta(seconds=6), start + timedelta(seconds=16)]
            for at in sent:
                answer = await driver(POST, {"trip": trip["trip_id"], "positions": [fix(at)]})
                assert answer.ok()["postPositions"]["accepted"] == 1
            streamed = [await recv(positions_ws, wait=10) for _ in sent]
            board = [await recv(board_ws, wait=10) for _ in range(2)]

    events = [m["payload"]["data"]["vehiclePositions"] for m in streamed]
    assert [datetime.fromisoformat(e["recordedAt"]) for e in events] == sent
    assert events[0] == {
        "eventId": events[0]["eventId"],
        "charterId": trip["id"],
        "charterVehicleId": trip["trip_id"],
        "latitude": 41.8781,
        "longitude": -87.6298,
        "speedKph": 62.5,
        "heading": 270.0,
        "accuracyM": 8.0,
        "recordedAt": events[0]["recordedAt"],
    }
    # The board hears of the vehicle's positions at most once per 15 s of recorded time:
    # the first fix and the third, not the second.
    changes = [m["payload"]["data"]["dispatchBoard"] for m in board]
    assert [c["eventId"] for c in changes] == [events[0]["eventId"], events[2]["eventId"]]
    assert changes[0]["changes"] == ["positions"]
    assert changes[0]["charter"] == {"id": trip["id"]}
    assert changes[0]["charterVehicle"] == {"id": trip["trip_id"]}


async def test_a_driver_follows_only_its_own_trip(stack_of, bookable_charter, mint, sessions):
    async with stack_of() as stack:
        _, trip = await started_trip_on(
            stack, bookable_charter, lambda u: mint("driver", user_id=u), sessions
        )
        stranger = uuid.uuid4()
        await linked_driver(stack.staff, stranger)
        as_stranger = await mint("driver", user_id=stranger)
        as_client = await mint("client")

        async with ws_client(stack.ws_url, {"Authorization": f"Bearer {as_stranger}"}) as ws:
            await subscribe(ws, "pos", POSITIONS, {"ids": [trip["id"]]})
            refused = await until_done(ws, "pos")
        async with ws_client(stack.ws_url, {"Authorization": f"Bearer {as_client}"}) as ws:
            await subscribe(ws, "pos", POSITIONS, {"ids": [trip["id"]]})
            forbidden = await until_done(ws, "pos")

    # Refused once the stream starts: one result with the error, then complete.
    assert [m["type"] for m in refused] == ["next", "complete"], refused
    assert refused[0]["payload"]["data"] is None
    assert [e["extensions"]["code"] for e in refused[0]["payload"]["errors"]] == ["NOT_FOUND"]
    assert [m["type"] for m in forbidden] == ["error"]
    assert forbidden[0]["payload"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_the_drivers_own_trip_streams_to_it(stack_of, bookable_charter, mint, sessions):
    async with stack_of() as stack:
        user: dict[str, uuid.UUID] = {}

        async def as_driver(user_id: uuid.UUID) -> str:
            user["id"] = user_id
            return await mint("driver", user_id=user_id)

        driver, trip = await started_trip_on(stack, bookable_charter, as_driver, sessions)
        token = await mint("driver", user_id=user["id"])
        async with ws_client(stack.ws_url, {"Authorization": f"Bearer {token}"}) as ws:
            await subscribe(ws, "pos", POSITIONS, {"ids": [trip["id"]]})
            await eventually(lambda: stack.listeners()[1] == 1)
            at = bucket_start(60)
            await driver(POST, {"trip": trip["trip_id"], "positions": [fix(at)]})
            event = await recv(ws, wait=10)

    assert event["payload"]["data"]["vehiclePositions"]["charterVehicleId"] == trip["trip_id"]


def suite_redis() -> EmbeddedRedis:
    """The Redis tests/conftest.py started for this pytest process."""
    from tests import conftest

    handle = conftest._handle
    assert handle is not None, "the suite's servers are not running"
    return handle.redis


async def test_a_board_survives_a_redis_restart_and_gets_the_event_once(
    stack_of, bookable_charter, mint, redis
):
    redis_server = suite_redis()
    async with stack_of() as stack:
        charter = await bookable_charter()
        vehicle_id = charter["vehicles"][0]["id"]
        booked = await stack.staff(
            "mutation($id: ID!) { setCharterStatus(id: $id, status: BOOKED) { userErrors { code } } }",
            {"id": charter["id"]},
        )
        assert booked.ok()["setCharterStatus"]["userErrors"] == []
        token = await mint("dispatcher")
        window = {
            "from": datetime.now(UTC).isoformat(),
            "to": (datetime.now(UTC) + timedelta(days=60)).isoformat(),
        }
        async with ws_client(stack.ws_url, {"Authorization": f"Bearer {token}"}) as ws:
            await subscribe(ws, "board", BOARD, window)
            await eventually(lambda: stack.listeners()[0] == 1)

            redis_server.stop()
            # Committed while Redis is down: the outbox keeps it, the relay retries.
            changed = await stack.staff(SET_DISPATCH, {"id": vehicle_id, "status": "READY"})
            assert changed.ok()["setDispatchStatus"]["userErrors"] == []
            redis_server.start()
            # The suite's own client (it flushes Redis after each test) drops its dead sockets.
            await redis.connection_pool.disconnect()

            first = await recv(ws, wait=60)
            again = await stack.staff(SET_DISPATCH, {"id": vehicle_id, "status": "NOT_READY"})
            assert again.ok()["setDispatchStatus"]["userErrors"] == []
            second = await recv(ws, wait=60)

    board = [m["payload"]["data"]["dispatchBoard"] for m in (first, second)]
    assert [b["changes"] for b in board] == [["dispatchStatus"], ["dispatchStatus"]]
    assert board[0]["charterVehicle"] == {"id": vehicle_id}
    # The change after the restart comes next: the one from the outage came once.
    assert board[0]["eventId"] != board[1]["eventId"]


def _published(event_id: str, charter_id: uuid.UUID) -> str:
    """A `charter_changed` message as the outbox relay writes it."""
    from subgraphs.kit import json

    pickup = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    return json.dumps(
        {
            "id": event_id,
            "topic": "charters.charter_changed",
            "payload": {"charterId": str(charter_id), "pickupAt": pickup, "changes": ["status"]},
            "occurredAt": datetime.now(UTC).isoformat(),
        }
    )


async def test_a_resubscribed_stream_catches_up_from_the_durable_stream_once(redis):
    from subgraphs.charters.event_stream import EventStream
    from subgraphs.kit.outbox import channel, stream

    events = EventStream(redis)
    await events.start()
    try:
        async with events.listen(lambda e: True) as listener:
            delivered = _published("charters:1", uuid.uuid4())
            missed = _published("charters:2", uuid.uuid4())
            # Seen live before the outage; published (stream only) while we were away.
            await redis.xadd(stream("charters.charter_changed"), {"event": delivered})
            await redis.publish(channel("charters.charter_changed"), delivered)
            first = await asyncio.wait_for(listener.next(), 10)
            await redis.xadd(stream("charters.charter_changed"), {"event": missed})
            # As `_run` does once it noticed the loss and resubscribed.
            events._catch_up_from = int((datetime.now(UTC).timestamp() - 60) * 1000)
            await events._catch_up()
            second = await asyncio.wait_for(listener.next(), 10)
            await redis.publish(channel("charters.charter_changed"), missed)  # late duplicate
            await redis.publish(
                channel("charters.charter_changed"), _published("charters:3", uuid.uuid4())
            )
            third = await asyncio.wait_for(listener.next(), 10)
    finally:
        await events.stop()

    assert [item[0].id for item in (first, second, third) if item] == [
        "charters:1",
        "charters:2",
        "charters:3",
    ]
    assert events.caught_up == 1


async def test_a_killed_pubsub_connection_catches_up_when_it_resubscribes(redis):
    from subgraphs.charters.event_stream import EventStream
    from subgraphs.kit.outbox import stream

    events = EventStream(redis)
    await events.start()
    try:
        async with events.listen(lambda e: True) as listener:
            # Published to the durable stream only: pub/sub missed it during the outage.
            await redis.xadd(
                stream("charters.charter_changed"),
                {"event": _published("charters:7", uuid.uuid4())},
            )
            await redis.client_kill_filter(_type="pubsub")  # the stream's connection drops
            item = await asyncio.wait_for(listener.next(), 20)
    finally:
        await events.stop()

    assert item is not None
    assert item[0].id == "charters:7"


#: Who gets past `vehiclePositions`' gate: staff who read charters, and drivers.
FOLLOWERS = {"admin", "manager", "sales_agent", "sales_support", "dispatcher", "accounting"}


def _codes(messages: list[dict[str, Any]]) -> list[str]:
    """Error codes of a finished operation, whether refused at once or on its first result."""
    codes = []
    for message in messages:
        payload = message.get("payload")
        errors = payload if message["type"] == "error" else (payload or {}).get("errors") or []
        codes += [e["extensions"]["code"] for e in errors]
    return codes


async def test_vehicle_positions_admits_exactly_its_roles(charters_server, mint):
    wrong = []
    for role in [*ROLES, None]:
        init = {"Authorization": f"Bearer {await mint(role)}"} if role else {}
        async with ws_client(charters_server.ws_url, init) as ws:
            # No charter named: past the gate, the arguments are refused.
            await subscribe(ws, "pos", POSITIONS, {"ids": []})
            codes = _codes(await until_done(ws, "pos"))
        expected = (
            ["BAD_USER_INPUT"]
            if role in FOLLOWERS | {"driver"}
            else ["UNAUTHENTICATED" if role is None else "FORBIDDEN"]
        )
        if codes != expected:
            wrong.append(f"{role}: {codes} != {expected}")

    assert wrong == []
