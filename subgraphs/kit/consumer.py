"""Durable consumption of another subgraph's events (Redis Streams).

A subgraph that needs facts owned elsewhere (vendors needs a charter's
status and pickup place) keeps a local projection fed by the owner's
events, instead of reading the owner's tables. Each consumer group reads
the stream `athena.stream.<topic>`; an event is acknowledged only after the
handler's transaction committed, so a crash replays it. Handlers must be
idempotent (upserts keyed by the source id, guarded by the event's time).

Each worker process is its own consumer of the group (named by host and
pid), so the group hands each event to one of them. A worker that dies
leaves what it read unacknowledged under a name nobody uses again (its
successor has another pid): any live consumer of the group claims such an
event once it has waited `CLAIM_IDLE_MS` (XAUTOCLAIM) and handles it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from subgraphs.kit import json
from subgraphs.kit.metrics import CONSUMER_EVENTS
from subgraphs.kit.outbox import stream

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

Handler = Callable[["AsyncSession", dict[str, Any]], Awaitable[None]]

#: How long an event may stay read but unacknowledged before another consumer takes it
#: over: far above any handler's run time, as the reader may still be working on it.
CLAIM_IDLE_MS = 5 * 60 * 1000


def _expected(exc: Exception) -> bool:
    """Failures that need no traceback: an outside service is down, or a flush.

    A flushed stream fails a blocked read; the group is recreated on the next turn.
    """
    if isinstance(exc, OSError | RedisConnectionError | TransientError):
        return True
    return isinstance(exc, ResponseError) and str(exc).startswith(("UNBLOCKED", "NOGROUP"))


class TransientError(Exception):
    """A handler's outside service is unavailable for now: retried, logged in one line."""


class EventConsumer:
    def __init__(
        self,
        redis: Redis,
        sessions: async_sessionmaker[AsyncSession],
        *,
        topic: str,
        group: str,
        handler: Handler,
        consumer: str | None = None,
        block_ms: int = 2000,
        batch: int = 100,
        claim_idle_ms: int = CLAIM_IDLE_MS,
    ) -> None:
        self.redis = redis
        self.sessions = sessions
        self.stream = stream(topic)
        self.group = group
        # One name per process: what it read but never acknowledged is its own to redo.
        self.consumer = consumer or f"{socket.gethostname()}-{os.getpid()}"
        self.handler = handler
        self.block_ms = block_ms
        self.batch = batch
        self.claim_idle_ms = claim_idle_ms
        self._last_claim = time.monotonic()
        self._task: asyncio.Task[None] | None = None

    async def ensure_group(self) -> None:
        """Create the group at the stream's start, so nothing before us is skipped."""
        try:
            await self.redis.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"consumer-{self.group}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        backoff = 0.1
        pending_first = True
        while True:
            try:
                await self.ensure_group()
                # After a restart, finish what this consumer read but never acked.
                handled = await self.consume_once(pending=pending_first)
                pending_first = pending_first and handled > 0
                if time.monotonic() - self._last_claim > self.claim_idle_ms / 2000:
                    await self.claim_abandoned()
                backoff = 0.1
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if _expected(exc):  # outages and flushes: one line, no traceback
                    log.warning(
                        "consumer %s on %s: %s; retrying in %.1fs",
                        self.group,
                        self.stream,
                        exc,
                        backoff,
                    )
                else:
                    log.exception("consumer %s on %s failed; retrying", self.group, self.stream)
                # What failed stays pending (unacknowledged): read it again first.
                pending_first = True
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)

    async def consume_once(self, *, pending: bool = False) -> int:
        """Read one batch and handle it; returns how many events were handled."""
        start = "0" if pending else ">"
        answer: Any = await self.redis.xreadgroup(
            self.group,
            self.consumer,
            {self.stream: start},
            count=self.batch,
            block=None if pending else self.block_ms,
        )
        handled = 0
        for _stream, entries in answer or []:
            handled += await self._handle(entries)
        return handled

    async def claim_abandoned(self) -> int:
        """Take over and handle the group's events read but unacknowledged for too long.

        Returns how many were handled. Delivery stays at least once: a reader
        still busy after `claim_idle_ms` gets its event handled twice.
        """
        self._last_claim = time.monotonic()
        handled, start = 0, "0-0"
        while True:
            answer: Any = await self.redis.xautoclaim(
                self.stream,
                self.group,
                self.consumer,
                min_idle_time=self.claim_idle_ms,
                start_id=start,
                count=self.batch,
            )
            start, entries = answer[0], answer[1]
            handled += await self._handle(entries)
            if start in (b"0-0", "0-0"):
                return handled

    async def _handle(self, entries: list[Any]) -> int:
        for entry_id, fields in entries:
            raw = (fields or {}).get(b"event") or (fields or {}).get("event")
            if raw is not None:
                async with self.sessions() as session, session.begin():
                    await self.handler(session, json.loads(raw))
            await self.redis.xack(self.stream, self.group, entry_id)
        if entries:
            CONSUMER_EVENTS.labels(self.group).inc(len(entries))
        return len(entries)
