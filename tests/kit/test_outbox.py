"""The outbox: events commit with the change, reach Redis after commit, survive outages."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson
import pytest
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from sqlalchemy import select

from db.embedded import free_port
from subgraphs.kit.outbox import OutboxRelay, emit
from tests.kit.sample_subgraph import outbox

TOPIC = "kit_test.seat_booked"
CHANNEL = "athena.kit_test.seat_booked"


@contextlib.asynccontextmanager
async def subscribed(redis: Redis) -> AsyncIterator[PubSub]:
    pubsub = redis.pubsub()
    await pubsub.subscribe(CHANNEL)
    confirmation = await pubsub.get_message(timeout=5)
    assert confirmation is not None
    assert confirmation["type"] == "subscribe"
    try:
        yield pubsub
    finally:
        await pubsub.aclose()


@contextlib.asynccontextmanager
async def running(relay: OutboxRelay) -> AsyncIterator[OutboxRelay]:
    relay.start()
    try:
        yield relay
    finally:
        await relay.stop()


async def next_message(pubsub: PubSub, within: float = 5.0) -> dict[str, Any] | None:
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.05)
        if message is not None:
            body: dict[str, Any] = orjson.loads(message["data"])
            return body
    return None


async def emit_committed(sessions, payload: dict[str, Any]) -> None:
    async with sessions() as session, session.begin():
        await emit(session, outbox, TOPIC, payload)


async def outbox_rows(sessions) -> list[Any]:
    async with sessions() as session:
        return list((await session.execute(select(outbox).order_by(outbox.c.id))).all())


async def test_a_committed_event_is_published_after_commit(sessions, redis):
    relay = OutboxRelay(sessions, outbox, redis, poll_seconds=30)

    async with subscribed(redis) as pubsub, running(relay):
        await emit_committed(sessions, {"seat": "12A", "price": Decimal("10.50")})
        message = await next_message(pubsub)
        rows = await marked_published(sessions)

    assert [r.topic for r in rows] == [TOPIC]
    assert message == {
        "id": f"kit_test:{rows[0].id}",
        "topic": TOPIC,
        "payload": {"seat": "12A", "price": "10.50"},
        "occurredAt": rows[0].created_at.isoformat(),
    }
    assert datetime.fromisoformat(message["occurredAt"]).tzinfo is not None


async def test_a_rolled_back_event_is_never_written_nor_published(sessions, redis):
    relay = OutboxRelay(sessions, outbox, redis, poll_seconds=30)

    async with subscribed(redis) as pubsub, running(relay):
        async with sessions() as session:
            await session.begin()
            await emit(session, outbox, TOPIC, {"seat": "rolled back"})
            await session.rollback()
        await emit_committed(sessions, {"seat": "committed"})
        first = await next_message(pubsub)
        second = await next_message(pubsub, within=0.3)

    assert first is not None
    assert first["payload"] == {"seat": "committed"}
    assert second is None
    assert [r.payload for r in await outbox_rows(sessions)] == [{"seat": "committed"}]


async def test_nothing_is_published_for_an_event_that_is_not_committed(sessions, redis):
    relay = OutboxRelay(sessions, outbox, redis)
    async with sessions() as session:
        await session.begin()
        await emit(session, outbox, TOPIC, {"seat": "pending"})

        published = await relay.publish_pending()

        await session.rollback()
    assert published == 0
    assert await outbox_rows(sessions) == []


async def test_the_relay_retries_while_redis_is_unreachable_then_delivers_once(
    sessions, redis, caplog
):
    unreachable = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.5)
    relay = OutboxRelay(sessions, outbox, unreachable, poll_seconds=30)

    with caplog.at_level(logging.ERROR, logger="subgraphs.kit.outbox"):
        async with running(relay):
            await emit_committed(sessions, {"seat": "7C"})
            await wait_for(lambda: len(failures(caplog)) >= 2)
            while_down = await outbox_rows(sessions)

            async with subscribed(redis) as pubsub:
                relay.redis = redis  # Redis is reachable again
                delivered = await next_message(pubsub)
                again = await next_message(pubsub, within=0.5)
            rows = await marked_published(sessions)
    await unreachable.aclose()

    assert [r.published_at for r in while_down] == [None]
    assert delivered is not None
    assert delivered["payload"] == {"seat": "7C"}
    assert again is None
    assert len(rows) == 1


async def marked_published(sessions, within: float = 5.0) -> list[Any]:
    """The outbox rows once the relay has marked them all (it marks after publishing)."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        rows = await outbox_rows(sessions)
        if rows and all(r.published_at is not None for r in rows):
            return rows
        assert asyncio.get_running_loop().time() < deadline, "rows were not marked published"
        await asyncio.sleep(0.02)


def failures(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r for r in caplog.records if r.getMessage().startswith("outbox relay for kit_test failed")
    ]


async def wait_for(condition: Any, within: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def test_published_events_are_purged_after_the_retention_but_pending_ones_stay(
    sessions, redis
):
    from sqlalchemy import text, update

    relay = OutboxRelay(sessions, outbox, redis, poll_seconds=30)
    await emit_committed(sessions, {"seat": "old"})
    assert await relay.publish_pending() == 1
    await emit_committed(sessions, {"seat": "pending"})
    async with sessions() as session, session.begin():
        await session.execute(
            update(outbox)
            .where(outbox.c.published_at.is_not(None))
            .values(published_at=text("now() - interval '2 days'"))
        )

    purged = await relay.purge_published()

    assert purged == 1
    assert [r.payload for r in await outbox_rows(sessions)] == [{"seat": "pending"}]


async def test_a_savepoint_rollback_keeps_the_wake_up_of_what_was_emitted_before(sessions):
    """Only the whole transaction's rollback forgets that the relays must be woken."""
    from subgraphs.kit import outbox as outbox_module

    async with sessions() as session, session.begin():
        await emit(session, outbox, "kit.saved", {"n": 1})
        with contextlib.suppress(RuntimeError):
            async with session.begin_nested():
                raise RuntimeError("a failed step inside the transaction")
        kept = session.info.get(outbox_module._PENDING_KEY)
        await session.rollback()
        forgotten = session.info.get(outbox_module._PENDING_KEY)

    assert kept is True
    assert forgotten is None
