"""One Redis subscription per process, fanned out to in-process listeners.

The outbox relay of whichever replica committed a change publishes it on
`athena.charters.charter_changed`; every replica runs one `EventStream`
holding ONE pub/sub connection, parses each message once and offers it to
the listeners (one per live `dispatchBoard` subscription) whose filter
accepts it. Offering never blocks: each listener has a bounded queue, and a
full queue drops its OLDEST event and counts it, so one slow board can
neither stall the reader nor the other boards; the next event it does get
says how many it missed (`missedEvents`), which tells the board to refetch.

Delivery is at most once per connected listener: an event published while
this process is reconnecting to Redis is not replayed (the board should
refetch after a reconnect, as after a missed event). Duplicates that the
at-least-once outbox can produce are dropped here by event id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from subgraphs.charters.service.events import CHARTER_CHANGED
from subgraphs.kit import json
from subgraphs.kit.outbox import channel

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.asyncio.client import PubSub

    from subgraphs.kit.context import Services

log = logging.getLogger(__name__)

#: Events a listener may hold before its oldest are dropped.
QUEUE_SIZE = 256
#: Recent event ids remembered to drop duplicate deliveries.
SEEN_IDS = 4096
#: Where the stream of a running app is kept (`Services.extra`).
SERVICE_KEY = "charters.event_stream"


@dataclass(frozen=True, slots=True)
class CharterEvent:
    """One `charters.charter_changed` message, parsed."""

    id: str
    charter_id: uuid.UUID
    pickup_at: datetime
    #: Where the pickup was before this change, when the change moved it.
    previous_pickup_at: datetime | None
    changes: tuple[str, ...]
    occurred_at: datetime
    charter_vehicle_id: uuid.UUID | None
    #: Scratch space shared by this process's listeners of this one event.
    shared: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def parse(cls, raw: bytes | str) -> CharterEvent:
        message = json.loads(raw)
        payload: dict[str, Any] = message["payload"]
        previous = payload.get("previousPickupAt")
        vehicle = payload.get("charterVehicleId")
        return cls(
            id=str(message["id"]),
            charter_id=uuid.UUID(payload["charterId"]),
            pickup_at=_instant(payload["pickupAt"]),
            previous_pickup_at=_instant(previous) if previous else None,
            changes=tuple(payload.get("changes") or ()),
            occurred_at=_instant(message["occurredAt"]),
            charter_vehicle_id=uuid.UUID(vehicle) if vehicle else None,
        )


def _instant(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class Listener:
    """One subscriber's bounded inbox."""

    def __init__(self, accepts: Callable[[CharterEvent], bool], size: int) -> None:
        self.accepts = accepts
        self._queue: asyncio.Queue[CharterEvent | None] = asyncio.Queue(maxsize=size)
        self._missed = 0
        self.closed = False

    def offer(self, event: CharterEvent) -> None:
        if self.closed or not self.accepts(event):
            return
        if self._queue.full():
            self._queue.get_nowait()
            self._missed += 1
        self._queue.put_nowait(event)

    def close(self) -> None:
        """End the listener's stream (the process is shutting down)."""
        if self.closed:
            return
        self.closed = True
        if self._queue.full():
            self._queue.get_nowait()
        self._queue.put_nowait(None)

    async def next(self) -> tuple[CharterEvent, int] | None:
        """The next event and how many were dropped before it; None once closed."""
        event = await self._queue.get()
        if event is None:
            return None
        missed, self._missed = self._missed, 0
        return event, missed


class EventStream:
    def __init__(self, redis: Redis, topic: str = CHARTER_CHANGED, *, queue_size: int = QUEUE_SIZE):
        self.redis = redis
        self.channel = channel(topic)
        self.queue_size = queue_size
        self._listeners: set[Listener] = set()
        self._pubsub: PubSub | None = None
        self._task: asyncio.Task[None] | None = None
        self._seen: deque[str] = deque(maxlen=SEEN_IDS)
        self._seen_set: set[str] = set()
        self.delivered = 0

    @property
    def subscriber_count(self) -> int:
        return len(self._listeners)

    async def start(self) -> None:
        """Subscribe (confirmed before returning) and start reading."""
        self._pubsub = await self._subscribe()
        self._task = asyncio.create_task(self._run(), name=f"event-stream {self.channel}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for listener in list(self._listeners):
            listener.close()
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
            self._pubsub = None

    @contextlib.asynccontextmanager
    async def listen(self, accepts: Callable[[CharterEvent], bool]) -> AsyncIterator[Listener]:
        listener = Listener(accepts, self.queue_size)
        self._listeners.add(listener)
        try:
            yield listener
        finally:
            self._listeners.discard(listener)

    async def _subscribe(self) -> PubSub:
        pubsub = self.redis.pubsub()
        await pubsub.subscribe(self.channel)
        # Wait for Redis to confirm, so every event published after start() is seen.
        async with asyncio.timeout(10):
            while True:
                message = await pubsub.get_message(timeout=1.0)
                if message is None:
                    continue
                if message["type"] == "subscribe":
                    return pubsub
                if message["type"] == "message":
                    self.dispatch(message["data"])

    async def _run(self) -> None:
        backoff = 0.1
        while True:
            try:
                if self._pubsub is None:
                    self._pubsub = await self._subscribe()
                    log.info("event stream on %s resubscribed", self.channel)
                async for message in self._pubsub.listen():
                    if message.get("type") == "message":
                        self.dispatch(message["data"])
                    backoff = 0.1
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning(
                    "event stream on %s lost Redis; retrying in %.1fs",
                    self.channel,
                    backoff,
                    exc_info=True,
                )
                if self._pubsub is not None:
                    with contextlib.suppress(Exception):
                        await self._pubsub.aclose()
                    self._pubsub = None
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    def dispatch(self, raw: bytes | str) -> None:
        """Offer one published message to every listener; never blocks."""
        try:
            event = CharterEvent.parse(raw)
        except (ValueError, KeyError, TypeError):
            log.warning("event stream on %s: unreadable message %r", self.channel, raw[:200])
            return
        if event.id in self._seen_set:
            return
        if len(self._seen) == self._seen.maxlen:
            self._seen_set.discard(self._seen[0])
        self._seen.append(event.id)
        self._seen_set.add(event.id)
        for listener in list(self._listeners):
            listener.offer(event)
        self.delivered += 1


async def start_stream(services: Services) -> None:
    stream = EventStream(services.redis)
    await stream.start()
    services.extra[SERVICE_KEY] = stream


async def stop_stream(services: Services) -> None:
    stream: EventStream | None = services.extra.pop(SERVICE_KEY, None)
    if stream is not None:
        await stream.stop()


def stream_of(services: Services) -> EventStream:
    stream: EventStream | None = services.extra.get(SERVICE_KEY)
    if stream is None:
        raise RuntimeError("the charters event stream is not running")
    return stream
