"""One Redis subscription per process, fanned out to in-process listeners.

The outbox relay of whichever replica committed a change publishes it on
`athena.charters.charter_changed`; every replica runs one `EventStream`
holding ONE pub/sub connection, parses each message once and offers it to
the listeners (one per live `dispatchBoard` subscription) whose filter
accepts it. Offering never blocks: each listener has a bounded queue, and a
full queue drops its OLDEST event and counts it, so one slow board can
neither stall the reader nor the other boards; the next event it does get
says how many it missed (`missedEvents`), which tells the board to refetch.

Delivery is once per connected listener, also across a lost Redis
connection: after resubscribing, the stream reads what was published since
shortly before the loss from the durable Redis stream the outbox relay also
writes (`XRANGE athena.stream.<topic>`, `CATCH_UP_MARGIN` back), and drops by
event id what it had already seen. Duplicates that the at-least-once outbox
can produce are dropped the same way. An event older than the catch-up (a
Redis that lost its data) is not replayed: refetch after a long outage.

Positions (issue 13 §4) have their own channel and `PositionStream`: it
feeds `vehiclePositions` listeners, and turns positions into a "positions"
change on the charter stream for the dispatch board at most once per
vehicle per `BOARD_POSITION_SECONDS` of recorded time (recorded, not
arrival, time: every replica thins alike, and a test needs no clock).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from subgraphs.charters.service.events import CHARTER_CHANGED
from subgraphs.charters.service.positions import VEHICLE_POSITIONS
from subgraphs.kit import json
from subgraphs.kit.outbox import channel, stream

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
POSITIONS_SERVICE_KEY = "charters.position_stream"
#: How far before a lost connection was noticed the catch-up reads back (also
#: covers a small clock difference with Redis, whose stream ids are its time).
CATCH_UP_MARGIN = timedelta(seconds=30)
#: The most events one catch-up replays.
CATCH_UP_MAX = 10_000
#: The board gets a vehicle's "positions" change at most this often (recorded time).
BOARD_POSITION_SECONDS = 15
#: Vehicles whose last board announcement is remembered.
ANNOUNCED_MAX = 10_000
E = TypeVar("E")


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


class Listener(Generic[E]):
    """One subscriber's bounded inbox."""

    def __init__(self, accepts: Callable[[E], bool], size: int) -> None:
        self.accepts = accepts
        self._queue: asyncio.Queue[E | None] = asyncio.Queue(maxsize=size)
        self._missed = 0
        self.closed = False

    def offer(self, event: E) -> None:
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

    async def next(self) -> tuple[E, int] | None:
        """The next event and how many were dropped before it; None once closed."""
        event = await self._queue.get()
        if event is None:
            return None
        missed, self._missed = self._missed, 0
        return event, missed


class EventStream:
    def __init__(self, redis: Redis, topic: str = CHARTER_CHANGED, *, queue_size: int = QUEUE_SIZE):
        self.redis = redis
        self.topic = topic
        self.channel = channel(topic)
        self.queue_size = queue_size
        self._listeners: set[Listener[CharterEvent]] = set()
        self._pubsub: PubSub | None = None
        self._task: asyncio.Task[None] | None = None
        self._seen: deque[str] = deque(maxlen=SEEN_IDS)
        self._seen_set: set[str] = set()
        self.delivered = 0
        #: Redis time (ms) to catch up from once resubscribed; None while connected.
        self._catch_up_from: int | None = None
        self.caught_up = 0

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
    async def listen(
        self, accepts: Callable[[CharterEvent], bool]
    ) -> AsyncIterator[Listener[CharterEvent]]:
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
                    await self._catch_up()
                async for message in self._pubsub.listen():
                    if message.get("type") == "message":
                        self.dispatch(message["data"])
                    backoff = 0.1
            except asyncio.CancelledError:
                raise
            except Exception:
                if self._catch_up_from is None:
                    lost = time.time() - CATCH_UP_MARGIN.total_seconds()
                    self._catch_up_from = int(lost * 1000)
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

    async def _catch_up(self) -> None:
        """Replay, once, what the durable stream holds since shortly before the loss."""
        since, self._catch_up_from = self._catch_up_from, None
        if since is None:
            return
        entries = await self.redis.xrange(
            stream(self.topic), min=f"{since}-0", max="+", count=CATCH_UP_MAX
        )
        before = self.delivered
        for _entry_id, fields in entries or []:
            raw = (fields or {}).get(b"event") or (fields or {}).get("event")
            if raw is not None:
                self.dispatch(raw)
        self.caught_up += self.delivered - before
        if self.delivered > before:
            log.info(
                "event stream on %s caught up %d events", self.channel, self.delivered - before
            )

    def first_sight(self, event_id: str) -> bool:
        """Remember `event_id`; False when it was seen already (a duplicate delivery)."""
        if event_id in self._seen_set:
            return False
        if len(self._seen) == self._seen.maxlen:
            self._seen_set.discard(self._seen[0])
        self._seen.append(event_id)
        self._seen_set.add(event_id)
        return True

    def dispatch(self, raw: bytes | str) -> None:
        """Offer one published message to every listener; never blocks."""
        try:
            event = CharterEvent.parse(raw)
        except (ValueError, KeyError, TypeError):
            log.warning("event stream on %s: unreadable message %r", self.channel, raw[:200])
            return
        self.deliver(event)

    def deliver(self, event: CharterEvent) -> None:
        """Offer one event (published, or derived in this process) to every listener."""
        if not self.first_sight(event.id):
            return
        for listener in list(self._listeners):
            listener.offer(event)
        self.delivered += 1


@dataclass(frozen=True, slots=True)
class PositionEvent:
    """One vehicle's newest fix of a written batch (`charters.vehicle_positions`)."""

    id: str
    charter_id: uuid.UUID
    charter_vehicle_id: uuid.UUID
    pickup_at: datetime
    latitude: Decimal
    longitude: Decimal
    speed_kph: Decimal | None
    heading: Decimal | None
    accuracy_m: Decimal | None
    recorded_at: datetime
    occurred_at: datetime

    @classmethod
    def parse_batch(cls, raw: bytes | str) -> list[PositionEvent]:
        message = json.loads(raw)
        occurred = _instant(message["occurredAt"])
        return [
            cls(
                id=f"{message['id']}:{p['charterVehicleId']}",
                charter_id=uuid.UUID(p["charterId"]),
                charter_vehicle_id=uuid.UUID(p["charterVehicleId"]),
                pickup_at=_instant(p["pickupAt"]),
                latitude=Decimal(p["latitude"]),
                longitude=Decimal(p["longitude"]),
                speed_kph=_decimal(p.get("speedKph")),
                heading=_decimal(p.get("heading")),
                accuracy_m=_decimal(p.get("accuracyM")),
                recorded_at=_instant(p["recordedAt"]),
                occurred_at=occurred,
            )
            for p in message["payload"]["positions"]
        ]


def _decimal(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


class PositionStream(EventStream):
    """The positions channel: `vehiclePositions` listeners, and thinned board changes."""

    def __init__(
        self,
        redis: Redis,
        board: EventStream | None = None,
        *,
        board_every: timedelta = timedelta(seconds=BOARD_POSITION_SECONDS),
        queue_size: int = QUEUE_SIZE,
    ) -> None:
        super().__init__(redis, VEHICLE_POSITIONS, queue_size=queue_size)
        self.board = board
        self.board_every = board_every
        self._position_listeners: set[Listener[PositionEvent]] = set()
        self._announced: dict[uuid.UUID, datetime] = {}

    @property
    def subscriber_count(self) -> int:
        return len(self._position_listeners)

    @contextlib.asynccontextmanager
    async def listen_positions(
        self, accepts: Callable[[PositionEvent], bool]
    ) -> AsyncIterator[Listener[PositionEvent]]:
        listener: Listener[PositionEvent] = Listener(accepts, self.queue_size)
        self._position_listeners.add(listener)
        try:
            yield listener
        finally:
            self._position_listeners.discard(listener)

    async def stop(self) -> None:
        for listener in list(self._position_listeners):
            listener.close()
        await super().stop()

    def dispatch(self, raw: bytes | str) -> None:
        try:
            message_id = str(json.loads(raw)["id"])
            positions = PositionEvent.parse_batch(raw)
        except (ValueError, KeyError, TypeError):
            log.warning("event stream on %s: unreadable message %r", self.channel, raw[:200])
            return
        if not self.first_sight(message_id):
            return
        for position in positions:
            for listener in list(self._position_listeners):
                listener.offer(position)
            self._announce(position)
        self.delivered += 1

    def _announce(self, position: PositionEvent) -> None:
        """A "positions" change for the board, unless this vehicle had one lately."""
        if self.board is None:
            return
        last = self._announced.get(position.charter_vehicle_id)
        if last is not None and position.recorded_at < last + self.board_every:
            return
        if len(self._announced) >= ANNOUNCED_MAX:
            self._announced.clear()
        self._announced[position.charter_vehicle_id] = position.recorded_at
        self.board.deliver(
            CharterEvent(
                id=position.id,
                charter_id=position.charter_id,
                pickup_at=position.pickup_at,
                previous_pickup_at=None,
                changes=("positions",),
                occurred_at=position.occurred_at,
                charter_vehicle_id=position.charter_vehicle_id,
            )
        )


async def start_stream(services: Services) -> None:
    stream = EventStream(services.redis)
    await stream.start()
    services.extra[SERVICE_KEY] = stream
    positions = PositionStream(services.redis, board=stream)
    await positions.start()
    services.extra[POSITIONS_SERVICE_KEY] = positions


async def stop_stream(services: Services) -> None:
    positions: PositionStream | None = services.extra.pop(POSITIONS_SERVICE_KEY, None)
    if positions is not None:
        await positions.stop()
    stream: EventStream | None = services.extra.pop(SERVICE_KEY, None)
    if stream is not None:
        await stream.stop()


def stream_of(services: Services) -> EventStream:
    stream: EventStream | None = services.extra.get(SERVICE_KEY)
    if stream is None:
        raise RuntimeError("the charters event stream is not running")
    return stream


def positions_of(services: Services) -> PositionStream:
    positions: PositionStream | None = services.extra.get(POSITIONS_SERVICE_KEY)
    if positions is None:
        raise RuntimeError("the charters position stream is not running")
    return positions
