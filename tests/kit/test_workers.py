"""A subgraph served by several worker processes still delivers each event once.

Every worker runs the whole lifespan: its own outbox relay, durable consumers
and event stream. The unit tests race two relays over one outbox and leave a
dead worker's event unacknowledged; the end-to-end test starts charters as
`python -m subgraphs.charters` with `SUBGRAPH_WORKERS=2`, pins a connection to
each worker (read from /proc: which process holds the accepted socket), makes
charters through both, and counts what Redis and a dispatch board on each
worker received.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import websockets
from redis.asyncio import Redis
from sqlalchemy import select
from websockets.typing import Subprotocol

from db.embedded import free_port
from subgraphs.charters.models import outbox as charters_outbox
from subgraphs.charters.service import directory
from subgraphs.kit.consumer import EventConsumer
from subgraphs.kit.outbox import OutboxRelay, emit
from subgraphs.kit.settings import PROJECT_ROOT, Settings
from tests.kit.sample_subgraph import outbox
from tests.support.charters_fixtures import (
    CREATE_CHARTER,
    CREATE_TYPE,
    apply_event,
    client_event,
    future_local,
)
from tests.support.tokens import TokenMinter

TOPIC = "kit_test.workers"
BOARD_CHANNEL = "athena.charters.charter_changed"
BOARD = """
subscription($from: DateTime!, $to: DateTime!) {
  dispatchBoard(from: $from, to: $to) { eventId changes charter { id } }
}"""


async def emitted(sessions: Any, count: int) -> list[str]:
    """`count` committed outbox rows of the sample subgraph; their event ids."""
    async with sessions() as session, session.begin():
        for n in range(count):
            await emit(session, outbox, TOPIC, {"n": n})
    async with sessions() as session:
        ids = (await session.execute(select(outbox.c.id).order_by(outbox.c.id))).scalars()
        return [f"kit_test:{i}" for i in ids]


async def stream_ids(redis: Redis, stream: str) -> list[str]:
    entries: Any = await redis.xrange(stream)
    return [orjson.loads(fields[b"event"])["id"] for _id, fields in entries]


async def test_two_workers_relays_publish_each_outbox_row_once(sessions: Any, redis: Redis) -> None:
    expected = await emitted(sessions, 120)
    # Two workers' relays, each with its own connections, woken at the same moment.
    relays = [OutboxRelay(sessions, outbox, redis, batch_size=7) for _ in range(2)]

    async def drain(relay: OutboxRelay) -> int:
        published = 0
        while n := await relay.publish_pending():
            published += n
        return published

    counts = await asyncio.gather(*(drain(r) for r in relays))

    assert sum(counts) == len(expected)
    published = await stream_ids(redis, f"athena.stream.{TOPIC}")
    assert sorted(published) == sorted(expected)


async def test_an_event_a_dead_worker_left_unacknowledged_is_handled_by_another(
    sessions: Any, redis: Redis
) -> None:
    await emitted(sessions, 1)
    await OutboxRelay(sessions, outbox, redis).publish_pending()
    handled: list[tuple[str, int]] = []

    def worker(name: str, *, fails: bool) -> EventConsumer:
        async def handle(_session: Any, event: dict[str, Any]) -> None:
            if fails:
                raise RuntimeError("the worker died while handling this")
            handled.append((name, event["payload"]["n"]))

        return EventConsumer(
            redis,
            sessions,
            topic=TOPIC,
            group="kit-workers",
            consumer=name,
            handler=handle,
            block_ms=50,
            claim_idle_ms=0,
        )

    dead, alive = worker("host-101", fails=True), worker("host-102", fails=False)
    await dead.ensure_group()
    with contextlib.suppress(RuntimeError):
        await dead.consume_once()
    # The group handed the event to the dead worker: the live one reads nothing new ...
    assert await alive.consume_once() == 0
    # ... until it claims what the dead one left pending.
    assert await alive.claim_abandoned() == 1

    assert handled == [("host-102", 0)]
    assert await alive.claim_abandoned() == 0
    summary = await redis.xpending(f"athena.stream.{TOPIC}", "kit-workers")
    assert summary["pending"] == 0


# --- end to end: charters with two worker processes ---------------------------------------


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def worker_serving(pids: list[int], server_port: int, client_port: int) -> int | None:
    """The process holding the server side of the TCP connection from `client_port`."""
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1], fields[2]
        if int(local.split(":")[1], 16) == server_port and (
            int(remote.split(":")[1], 16) == client_port
        ):
            inode = fields[9]
    if inode is None or inode == "0":
        return None
    wanted = f"socket:[{inode}]"
    for pid in pids:
        with contextlib.suppress(FileNotFoundError, PermissionError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(FileNotFoundError):
                    if os.readlink(fd) == wanted:
                        return pid
    return None


class Pinned:
    """One kept-alive HTTP/1.1 connection: every request on it goes to the same worker."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.local_port: int = writer.get_extra_info("sockname")[1]

    async def request(self, method: str, path: str, body: bytes = b"", token: str = "") -> bytes:
        head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
        if body:
            head.append("Content-Type: application/json")
        if token:
            head.append(f"Authorization: Bearer {token}")
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        status = await self.reader.readline()
        assert status.split()[1] == b"200", status
        length = None
        while (line := await self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        assert length is not None, "a response without Content-Length"
        return await self.reader.readexactly(length)

    async def graphql(self, query: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
        body = json.dumps({"query": query, "variables": variables}).encode()
        answer: dict[str, Any] = json.loads(await self.request("POST", "/graphql", body, token))
        assert "errors" not in answer, answer
        return answer["data"]  # type: ignore[no-any-return]

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError):
            await self.writer.wait_closed()


class Board:
    """A dispatch board subscriber; collects every event it is sent."""

    def __init__(self, ws: websockets.ClientConnection) -> None:
        self.ws = ws
        self.events: list[dict[str, Any]] = []
        self.local_port: int = ws.local_address[1]
        self._reader: asyncio.Task[None] | None = None

    @classmethod
    async def connect(cls, url: str, token: str, window: tuple[str, str]) -> Board:
        ws = await websockets.connect(url, subprotocols=[Subprotocol("graphql-transport-ws")])
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}})
        )
        ack = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert ack["type"] == "connection_ack", ack
        variables = {"from": window[0], "to": window[1]}
        await ws.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": BOARD, "variables": variables},
                }
            )
        )
        board = cls(ws)
        board._reader = asyncio.create_task(board._read())
        return board

    async def _read(self) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in self.ws:
                message = json.loads(raw)
                if message["type"] == "ping":
                    await self.ws.send(json.dumps({"type": "pong"}))
                    continue
                assert message["type"] == "next", message
                assert "errors" not in message["payload"], message
                self.events.append(message["payload"]["data"]["dispatchBoard"])

    def saw(self, charter_id: str) -> bool:
        return any(e["charter"]["id"] == charter_id for e in self.events)

    async def close(self) -> None:
        await self.ws.close()
        if self._reader is not None:
            await self._reader


def heard_by_all(boards: dict[int, Board], charter_id: str) -> Callable[[], bool]:
    return lambda: all(board.saw(charter_id) for board in boards.values())


async def until(check: Callable[[], bool], within: float = 10.0) -> bool:
    """Wait for `check`; False when it still fails after `within` seconds."""
    deadline = asyncio.get_running_loop().time() + within
    while not check():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


@contextlib.asynccontextmanager
async def charters_with_two_workers(
    settings: Settings, redis: Redis
) -> AsyncIterator[tuple[int, asyncio.subprocess.Process, list[int]]]:
    """`python -m subgraphs.charters` with SUBGRAPH_WORKERS=2; yields (port, process, worker pids)."""
    port = free_port()
    subscribed_before = dict(await redis.pubsub_numsub(BOARD_CHANNEL))[BOARD_CHANNEL.encode()]
    env = {
        **os.environ,
        "SUBGRAPH_WORKERS": "2",
        "CHARTERS_PORT": str(port),
        "JWT_JWKS_URL": settings.jwt_jwks_url,
        "JOBS_ENABLED": "false",
        "LOG_LEVEL": "warning",
    }
    log = tempfile.TemporaryFile()  # noqa: SIM115 - read back on failure
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "subgraphs.charters",
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    async def workers_subscribed() -> bool:
        counts = dict(await redis.pubsub_numsub(BOARD_CHANNEL))
        return counts[BOARD_CHANNEL.encode()] - subscribed_before == 2

    try:
        # Each worker is a fresh interpreter importing the app: seconds on a busy machine.
        deadline = asyncio.get_running_loop().time() + 60
        async with httpx.AsyncClient(timeout=2) as http:
            while True:
                assert process.returncode is None, "charters exited while starting"
                with contextlib.suppress(httpx.HTTPError):
                    healthy = (await http.get(f"http://127.0.0.1:{port}/health")).status_code == 200
                    if healthy and await workers_subscribed():
                        break
                assert asyncio.get_running_loop().time() < deadline, "no two workers in 60 s"
                await asyncio.sleep(0.05)
        pids = children(process.pid)
        yield port, process, pids
    except BaseException:
        log.seek(0)
        sys.stderr.write(log.read().decode(errors="replace"))
        raise
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), 20)
        except TimeoutError:
            os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
        log.close()


async def pin_one_per_worker(
    connect: Callable[[], Any], port: int, pids: list[int]
) -> dict[int, Any]:
    """Connections until each worker serves one (the kernel picks the accepting worker)."""
    pinned: dict[int, Any] = {}
    for _ in range(40):
        connection = await connect()
        owner = None
        for _ in range(100):
            owner = worker_serving(pids, port, connection.local_port)
            if owner is not None:
                break
            await asyncio.sleep(0.01)
        if owner is None or owner in pinned:
            await connection.close()
        else:
            pinned[owner] = connection
        if len(pinned) == 2:
            return pinned
    for connection in pinned.values():
        await connection.close()
    raise AssertionError(f"40 connections did not reach both workers {pids}")


async def test_two_workers_publish_and_deliver_each_charter_event_once(
    subgraph_settings: Settings, redis: Redis, sessions: Any, mint: TokenMinter
) -> None:
    manager, dispatcher = await mint("manager"), await mint("dispatcher")
    middle = datetime.now(UTC) + timedelta(days=30)
    window = ((middle - timedelta(days=2)).isoformat(), (middle + timedelta(days=2)).isoformat())
    client_id = str(uuid.uuid4())
    await apply_event(directory.apply_client_event, client_event(client_id))
    heard = redis.pubsub()
    await heard.psubscribe("athena.charters.*")
    published: list[str] = []

    async def listen() -> None:
        async for message in heard.listen():
            if message["type"] == "pmessage":
                published.append(orjson.loads(message["data"])["id"])

    listener = asyncio.create_task(listen())
    pinned: dict[int, Pinned] = {}
    boards: dict[int, Board] = {}
    try:
        async with charters_with_two_workers(subgraph_settings, redis) as (port, _process, pids):

            async def http() -> Pinned:
                return Pinned(*await asyncio.open_connection("127.0.0.1", port))

            async def board() -> Board:
                return await Board.connect(f"ws://127.0.0.1:{port}/graphql", dispatcher, window)

            pinned = await pin_one_per_worker(http, port, pids)
            boards = await pin_one_per_worker(board, port, pids)
            via = list(pinned.values())
            made = await via[0].graphql(
                CREATE_TYPE, {"name": f"Coach {uuid.uuid4().hex[:6]}", "capacity": 56}, manager
            )
            vehicle_type = made["createVehicleType"]["vehicleType"]["id"]

            async def new_charter(connection: Pinned) -> str:
                data = {
                    "clientId": client_id,
                    "tripType": "ONE_WAY",
                    "passengerCount": 20,
                    "pickupLocal": future_local(30),
                    "pickupTimeZone": "America/Chicago",
                    "stops": [
                        {"type": "PICKUP", "address": "1 Main St, Springfield"},
                        {"type": "DROPOFF", "address": "9 Lake Rd, Shelbyville"},
                    ],
                    "vehicles": [{"vehicleTypeId": vehicle_type, "cost": "900.00"}],
                }
                payload = (await connection.graphql(CREATE_CHARTER, {"input": data}, manager))[
                    "createCharter"
                ]
                assert payload["userErrors"] == [], payload
                return str(payload["charter"]["id"])

            # A board hears changes made after its subscription took effect: probe until both do.
            for _ in range(10):
                probe = await new_charter(via[0])
                if await until(heard_by_all(boards, probe), 3):
                    break
            else:
                raise AssertionError("the boards never heard a change")

            # The measured changes: three through each worker.
            made_ids = [await new_charter(via[n % 2]) for n in range(6)]
            # Once the outbox is drained, a last change reaches each board after all of them.
            await drained(sessions)
            last = await new_charter(via[1])
            assert await until(heard_by_all(boards, last))
            await drained(sessions)
            await redis.publish("athena.charters.zz_test_end", orjson.dumps({"id": "end"}))
            assert await until(lambda: "end" in published)
    finally:
        connections: list[Pinned | Board] = [*pinned.values(), *boards.values()]
        for connection in connections:
            with contextlib.suppress(Exception):
                await connection.close()
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener
        await heard.aclose()  # type: ignore[no-untyped-call]

    async with sessions() as session:
        rows = (await session.execute(select(charters_outbox))).all()
    row_ids = [f"charters:{r.id}" for r in rows]
    # The relays of both workers together published every outbox row once, both ways.
    assert Counter(published) == Counter([*row_ids, "end"])
    for topic in {r.topic for r in rows}:
        in_stream = await stream_ids(redis, f"athena.stream.{topic}")
        assert Counter(in_stream) == Counter(f"charters:{r.id}" for r in rows if r.topic == topic)
    # Each board, whichever worker holds it, got each change of the measured charters once.
    changed = {
        f"charters:{r.id}"
        for r in rows
        if r.topic == "charters.charter_changed" and r.payload["charterId"] in made_ids
    }
    assert changed
    for board_ in boards.values():
        ids = [e["eventId"] for e in board_.events if e["charter"]["id"] in made_ids]
        assert Counter(ids) == Counter(changed)


async def drained(sessions: Any) -> None:
    """Wait until every committed charters event was published."""

    async def pending() -> int:
        async with sessions() as session:
            return len(
                (
                    await session.execute(
                        select(charters_outbox.c.id).where(charters_outbox.c.published_at.is_(None))
                    )
                ).all()
            )

    for _ in range(500):
        if not await pending():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("charters' outbox not drained")
