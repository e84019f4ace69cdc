"""Durable event consumption: acknowledged only after the handler commits."""

from __future__ import annotations

import contextlib
from typing import Any

from subgraphs.kit.consumer import EventConsumer
from subgraphs.kit.outbox import OutboxRelay, emit
from tests.kit.sample_subgraph import outbox

TOPIC = "kit_test.consumed"


async def emit_and_relay(sessions, redis, payload: dict[str, Any]) -> None:
    async with sessions() as session, session.begin():
        await emit(session, outbox, TOPIC, payload)
    assert await OutboxRelay(sessions, outbox, redis).publish_pending() == 1


def consumer(sessions, redis, handler, name: str = "c1") -> EventConsumer:
    return EventConsumer(
        redis, sessions, topic=TOPIC, group="kit-test", consumer=name, handler=handler, block_ms=100
    )


async def test_events_published_before_the_group_existed_are_consumed(sessions, redis):
    seen: list[dict[str, Any]] = []

    async def handle(session, event):
        seen.append(event["payload"])

    await emit_and_relay(sessions, redis, {"n": 1})
    await emit_and_relay(sessions, redis, {"n": 2})
    reader = consumer(sessions, redis, handle)
    await reader.ensure_group()

    handled = await reader.consume_once()

    assert handled == 2
    assert seen == [{"n": 1}, {"n": 2}]
    assert await reader.consume_once() == 0


async def test_an_event_whose_handler_failed_is_delivered_again(sessions, redis):
    attempts: list[int] = []

    async def flaky(session, event):
        attempts.append(event["payload"]["n"])
        if len(attempts) == 1:
            raise RuntimeError("database hiccup")

    await emit_and_relay(sessions, redis, {"n": 7})
    reader = consumer(sessions, redis, flaky)
    await reader.ensure_group()

    with contextlib.suppress(RuntimeError):
        await reader.consume_once()
    replayed = await reader.consume_once(pending=True)

    assert attempts == [7, 7]
    assert replayed == 1
    assert await reader.consume_once(pending=True) == 0


async def test_the_running_consumer_retries_a_failed_event_without_a_restart(sessions, redis):
    import asyncio

    attempts: list[int] = []
    done = asyncio.Event()

    async def flaky(session, event):
        attempts.append(event["payload"]["n"])
        if len(attempts) == 1:
            raise RuntimeError("smtp down")
        done.set()

    reader = consumer(sessions, redis, flaky)
    reader.start()
    try:
        await emit_and_relay(sessions, redis, {"n": 9})
        await asyncio.wait_for(done.wait(), timeout=10)
    finally:
        await reader.stop()

    assert attempts == [9, 9]
