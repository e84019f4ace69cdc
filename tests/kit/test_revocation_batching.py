"""Revocation checks of one moment share one Redis round trip, and fail open only when Redis fails.

A board event reaching a thousand subscriptions makes a thousand checks at
once; before batching each was its own Redis command, the connection pool
ran dry and the refused checks failed open (logged), which is what the
1,000-subscriber benchmark showed. Redis's own command statistics count
the round trips here.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

import pytest
from redis.asyncio import Redis

from db.embedded import free_port
from protocol.revocation import RevocationList, revoke_sessions


async def _mget_calls(redis: Redis) -> int:
    stats = await redis.info("commandstats")
    return int(stats.get("cmdstat_mget", {}).get("calls", 0))


async def test_a_thousand_concurrent_checks_are_one_round_trip_with_exact_answers(
    redis: Redis,
) -> None:
    ended = [uuid.uuid4() for _ in range(10)]
    live = [uuid.uuid4() for _ in range(990)]
    await revoke_sessions(redis, ended, ttl_seconds=60)
    checks = RevocationList(redis, cache_seconds=0)
    before = await _mget_calls(redis)
    answers = await asyncio.gather(*(checks.is_revoked(s) for s in [*ended, *live]))
    assert answers == [True] * 10 + [False] * 990
    assert await _mget_calls(redis) - before == 1


async def test_the_same_session_asked_twice_at_once_is_asked_once(redis: Redis) -> None:
    sid = uuid.uuid4()
    await revoke_sessions(redis, [sid], ttl_seconds=60)
    checks = RevocationList(redis, cache_seconds=0)
    before = await _mget_calls(redis)
    assert await asyncio.gather(*(checks.is_revoked(sid) for _ in range(50))) == [True] * 50
    assert await _mget_calls(redis) - before == 1


async def test_a_session_revoked_after_a_check_is_seen_once_the_cache_expires(
    redis: Redis,
) -> None:
    sid = uuid.uuid4()
    checks = RevocationList(redis, cache_seconds=0)
    assert await checks.is_revoked(sid) is False
    await revoke_sessions(redis, [sid], ttl_seconds=60)
    assert await checks.is_revoked(sid) is True


async def test_a_caller_that_leaves_does_not_cancel_the_others_answer(redis: Redis) -> None:
    sid = uuid.uuid4()
    await revoke_sessions(redis, [sid], ttl_seconds=60)
    checks = RevocationList(redis, cache_seconds=0)
    leaving = asyncio.ensure_future(checks.is_revoked(sid))
    staying = asyncio.ensure_future(checks.is_revoked(sid))
    await asyncio.sleep(0)
    leaving.cancel()
    assert await staying is True


async def test_without_redis_every_waiting_check_fails_open_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    down = Redis(port=free_port(), socket_connect_timeout=0.5)
    checks = RevocationList(down, cache_seconds=60)
    with caplog.at_level(logging.ERROR, "protocol.revocation"):
        answers = await asyncio.gather(*(checks.is_revoked(uuid.uuid4()) for _ in range(5)))
    assert answers == [False] * 5
    assert "revocation check of 5 session(s) failed open" in caplog.text
    await down.aclose()
