"""Faults survived (issue 19 §3), the parts that fit in the suite.

- A process killed (SIGKILL) after its change committed and before the relay
  published the change's event: the event is published after a restart, once.
- PostgreSQL stopped under a running subgraph: a request answers at once
  with a clear error, and succeeds again once PostgreSQL is back, with the
  same subgraph process.

`bench/faults.py` drives the same faults through the whole system under load.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import MetaData, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.embedded import EmbeddedPostgres, free_port, make_temp_dir
from db.migrate import _run as migrate
from subgraphs.kit.extensions import UNAVAILABLE_MESSAGE
from subgraphs.kit.outbox import OutboxRelay, outbox_table, stream
from subgraphs.kit.settings import PROJECT_ROOT, Settings

SCHEMA = "faults_outbox"
TOPIC = "faults.killed_between_commit_and_publish"
READ_ROWS = f"SELECT id, published_at FROM {SCHEMA}.outbox"  # noqa: S608 - constants
READ_PUBLISHED = f"SELECT published_at FROM {SCHEMA}.outbox"  # noqa: S608 - constants

#: The process to kill: writes an event in a transaction, commits, and leaves its relay
#: publishing it (to a Redis that never answers the publish).
PROCESS = """
import asyncio, sys
from redis.asyncio import Redis
from sqlalchemy import MetaData
from db.engine import make_engine, session_factory
from subgraphs.kit.outbox import OutboxRelay, emit, outbox_table

async def main(database_url, redis_url):
    table = outbox_table(MetaData(schema="%s"))
    sessions = session_factory(make_engine(database_url, pool_size=2))
    relay = OutboxRelay(sessions, table, Redis.from_url(redis_url), poll_seconds=0.05)
    relay.start()
    async with sessions() as session, session.begin():
        await emit(session, table, "%s", {"order": 1})
    print("committed", flush=True)
    await asyncio.sleep(3600)

asyncio.run(main(*sys.argv[1:]))
""" % (SCHEMA, TOPIC)  # noqa: UP031 - a program's text


class HeldRedis:
    """A Redis stand-in that answers every command with +OK except XADD, which it never answers.

    A relay talking to it is stopped exactly between the commit and the publish:
    the outbox row is committed, and the relay is inside its XADD.
    """

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.xadd_seen = threading.Event()
        self._conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = self.listener.accept()
                self._conns.append(conn)
                threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buffer = b""
        with contextlib.suppress(OSError):
            while chunk := conn.recv(65536):
                buffer += chunk
                while (command := _one_command(buffer)) is not None:
                    args, buffer = command
                    if args and args[0].upper() == b"XADD":
                        self.xadd_seen.set()
                        return  # held: no answer, ever
                    conn.sendall(b"+OK\r\n")

    def close(self) -> None:
        self.listener.close()
        for conn in self._conns:
            conn.close()


def _one_command(buffer: bytes) -> tuple[list[bytes], bytes] | None:
    """One RESP array of bulk strings from the front of `buffer`, or None if incomplete."""
    if not buffer.startswith(b"*") or b"\r\n" not in buffer:
        return None
    head, rest = buffer.split(b"\r\n", 1)
    args: list[bytes] = []
    for _ in range(int(head[1:])):
        if b"\r\n" not in rest:
            return None
        size_line, rest = rest.split(b"\r\n", 1)
        size = int(size_line[1:])
        if len(rest) < size + 2:
            return None
        args.append(rest[:size])
        rest = rest[size + 2 :]
    return args, rest


def _python(*args: str) -> list[str]:
    return [sys.executable, "-c", PROCESS, *args]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}


@pytest.fixture
async def outbox(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[None]:
    """A subgraph-shaped outbox of its own: no relay of another test may publish from it."""
    async with sessions() as session, session.begin():
        await session.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        await session.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        await session.execute(
            text(
                f"CREATE TABLE {SCHEMA}.outbox (id bigint GENERATED BY DEFAULT AS IDENTITY"
                " PRIMARY KEY, topic varchar(100) NOT NULL, payload jsonb NOT NULL,"
                " created_at timestamptz NOT NULL DEFAULT now(), published_at timestamptz)"
            )
        )
    yield
    async with sessions() as session, session.begin():
        await session.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))


async def test_killed_between_commit_and_publish_the_event_goes_out_after_restart_once(
    outbox: None,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    redis: Redis,
) -> None:
    held = HeldRedis()
    await redis.delete(stream(TOPIC))
    first = subprocess.Popen(  # noqa: ASYNC220 - once, before anything is awaited on it
        _python(settings.database_url, f"redis://127.0.0.1:{held.port}/0"),
        stdout=subprocess.PIPE,
        env=_env(),
        cwd=PROJECT_ROOT,
    )
    try:
        assert first.stdout is not None
        line = await asyncio.to_thread(first.stdout.readline)
        assert line == b"committed\n"
        assert await asyncio.to_thread(held.xadd_seen.wait, 60), "the relay never tried to publish"
    finally:
        first.kill()  # SIGKILL: no shutdown code runs
        first.wait()
        held.close()
    async with sessions() as session:
        before = (await session.execute(text(READ_ROWS))).all()
    on_stream_before = await redis.xlen(stream(TOPIC))

    published = []
    for _ in range(2):  # the restarted relay publishes it; a second restart finds nothing to do
        published.append(await _relay_until_published(sessions, redis))
    entries: list[Any] = await redis.xrange(stream(TOPIC))  # type: ignore[assignment]
    async with sessions() as session:
        after = (await session.execute(text(READ_PUBLISHED))).all()

    assert [at for _, at in before] == [None]
    assert on_stream_before == 0
    assert published == [True, True]
    assert len(entries) == 1
    event = json.loads(entries[0][1][b"event"])
    assert (event["id"], event["topic"], event["payload"]) == (
        f"{SCHEMA}:{before[0][0]}",
        TOPIC,
        {"order": 1},
    )
    assert len(after) == 1
    assert after[0][0] is not None


async def _relay_until_published(sessions: async_sessionmaker[AsyncSession], redis: Redis) -> bool:
    """The relay as a restarted process runs it: until its outbox has nothing unpublished."""
    table = outbox_table(MetaData(schema=SCHEMA))
    relay = OutboxRelay(sessions, table, redis, poll_seconds=0.05)
    relay.start()
    unpublished = select(func.count()).select_from(table).where(table.c.published_at.is_(None))
    try:
        for _ in range(1200):
            async with sessions() as session:
                if not await session.scalar(unpublished):
                    return True
            await asyncio.sleep(0.05)
        return False
    finally:
        await relay.stop()


@pytest.fixture
def own_postgres() -> Iterator[EmbeddedPostgres]:
    """A small cluster of this test's own: the test stops it under a running subgraph."""
    folder = make_temp_dir("athena-faults-pg-")
    postgres = EmbeddedPostgres(Path(folder), free_port(), ephemeral=True)
    postgres.start()
    try:
        yield postgres
    finally:
        if postgres.running:
            postgres.stop()
        shutil.rmtree(folder, ignore_errors=True)


TOURS = "{ tours(includeInactive: false) { id } }"


def _ask(port: int) -> dict[str, Any]:
    answer = httpx.post(
        f"http://127.0.0.1:{port}/graphql", json={"query": TOURS}, timeout=30
    )  # the router's subgraph timeout: a request hanging past it fails the test
    return {"status": answer.status_code, **answer.json()}


def test_postgres_down_a_subgraph_answers_a_clear_error_and_recovers_by_itself(
    own_postgres: EmbeddedPostgres, settings: Settings
) -> None:
    for name in ("jobs", "tours"):
        asyncio.run(migrate(own_postgres.url, "upgrade", name, revision="head"))
    port = free_port()
    log = make_temp_dir("athena-faults-tours-") / "tours.log"
    env = {
        **_env(),
        "DATABASE_URL": own_postgres.url,
        "REDIS_URL": settings.redis_url,
        "TOURS_PORT": str(port),
        "LOG_LEVEL": "warning",
    }
    with log.open("wb") as out:
        tours = subprocess.Popen(
            [sys.executable, "-m", "subgraphs.tours"],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=PROJECT_ROOT,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            assert tours.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.1)
        up = _ask(port)
        own_postgres.stop()
        down = _ask(port)
        health_down = httpx.get(f"http://127.0.0.1:{port}/health", timeout=30).status_code
        own_postgres.start()
        again = _ask(port)
    finally:
        tours.kill()  # nothing of it is kept: no graceful stop needed
        tours.wait(30)
        shutil.rmtree(log.parent, ignore_errors=True)

    assert up == {"status": 200, "data": {"tours": []}}
    assert down["status"] == 200
    assert down["data"] is None
    assert [e["extensions"]["code"] for e in down["errors"]] == ["SERVICE_UNAVAILABLE"]
    assert [e["message"] for e in down["errors"]] == [UNAVAILABLE_MESSAGE]
    assert "asyncpg" not in json.dumps(down)
    assert "Connect" not in json.dumps(down)
    assert health_down == 503
    assert again == {"status": 200, "data": {"tours": []}}
