"""GPS positions from the driver app: checked, thinned, written in batches, announced lightly.

A driver posts fixes for the trip (charter vehicle) it drives. The trip
takes positions while it is started and not completed, and otherwise from
`BEFORE_PICKUP` before its busy time (the coach leaves the yard, as
`access.TRIP_START_WINDOW` lets a trip start) to `AFTER_END` after it: the
phone may begin reporting before the driver presses "start".

Thinning: at most one fix per driver per `RATE_SECONDS` of *recorded* time
(a Redis `SET NX` on the 5-second bucket of `recorded_at`, kept as long as a
fix in that bucket can still be posted). Keying by recorded time, not by
arrival, lets a phone that was offline upload its backlog at the same
density, while a driver still gets at most one fix per 5 seconds of its
trip; extra fixes are acknowledged and dropped (the answer counts them).

Writing: accepted fixes go to a per-process `PositionWriter` that flushes
every `flush_ms` or `max_rows`, whichever comes first, as ONE multi-row
INSERT into `vehicle_positions`, ONE upsert of the newest fix per vehicle
into `latest_positions` (newest wins, so batches arriving out of order
never move a vehicle back) and ONE outbox row (`VEHICLE_POSITIONS`): three
statements per batch whatever the number of vehicles. The request waits
for its batch to commit (group commit), so an acknowledged fix is stored.

Announcing: the outbox row is a light event (ids and coordinates, not a
charter), streamed by `Subscription.vehiclePositions`; the dispatch board
gets a "positions" change from it at most once per vehicle per
`event_stream.BOARD_POSITION_SECONDS`, never a full `charter_changed` per fix.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, event, select
from sqlalchemy.dialects.postgresql import insert

from subgraphs.charters.error_codes import CharterErrorCode as Code
from subgraphs.charters.models import (
    Charter,
    CharterVehicle,
    Driver,
    LatestPosition,
    VehiclePosition,
    outbox,
)
from subgraphs.charters.service.access import TRIP_START_WINDOW
from subgraphs.kit.errors import Problem, ServiceError
from subgraphs.kit.outbox import emit

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from protocol.viewer import Viewer
    from subgraphs.kit.context import Services

log = logging.getLogger(__name__)

VEHICLE_POSITIONS = "charters.vehicle_positions"
#: Fixes one request may carry: a phone's backlog of 10 minutes at one per 5 s is 120.
MAX_PER_REQUEST = 150
#: Faster than any coach: a fix claiming more is a GPS glitch.
MAX_SPEED_KPH = Decimal(250)
MAX_ACCURACY_M = Decimal("100000")
#: A phone's clock may run this far ahead of ours.
CLOCK_SKEW = timedelta(seconds=30)
#: Older fixes are history, not tracking: refused.
MAX_AGE = timedelta(minutes=10)
RATE_SECONDS = 5
#: When an unstarted trip takes positions, around its busy time.
BEFORE_PICKUP = TRIP_START_WINDOW
AFTER_END = timedelta(hours=2)
#: Charter statuses whose trips are driven.
LIVE_STATUSES = ("booked", "confirmed", "in_progress")
RETENTION = timedelta(days=30)
PURGE_CHUNK = 10_000
SERVICE_KEY = "charters.position_writer"


@dataclass(frozen=True, slots=True)
class Fix:
    latitude: Decimal
    longitude: Decimal
    recorded_at: datetime
    speed_kph: Decimal | None = None
    heading: Decimal | None = None
    accuracy_m: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Trip:
    """What a batch needs to know about the trip a fix belongs to."""

    charter_vehicle_id: uuid.UUID
    charter_id: uuid.UUID
    driver_id: uuid.UUID
    pickup_at: datetime


@dataclass(frozen=True, slots=True)
class Accepted:
    trip: Trip
    fix: Fix


@dataclass(frozen=True, slots=True)
class Outcome:
    accepted: int
    dropped: int


def problems(fixes: Sequence[Fix], now: datetime) -> list[Problem]:
    """Every fault of the posted fixes, named `positions.<index>.<field>`."""
    found: list[Problem] = []
    if not fixes:
        found.append(Problem(Code.REQUIRED, "Post at least one position.", "positions"))
    if len(fixes) > MAX_PER_REQUEST:
        found.append(
            Problem(Code.OUT_OF_RANGE, f"At most {MAX_PER_REQUEST} positions.", "positions")
        )
    for index, fix in enumerate(fixes[:MAX_PER_REQUEST]):
        at = f"positions.{index}"
        checks: list[tuple[bool, str, str]] = [
            (-90 <= fix.latitude <= 90, "latitude", "Latitude is between -90 and 90."),
            (-180 <= fix.longitude <= 180, "longitude", "Longitude is between -180 and 180."),
            (
                fix.speed_kph is None or 0 <= fix.speed_kph <= MAX_SPEED_KPH,
                "speedKph",
                f"Speed is between 0 and {MAX_SPEED_KPH} km/h.",
            ),
            (
                fix.heading is None or 0 <= fix.heading <= 360,
                "heading",
                "Heading is between 0 and 360 degrees.",
            ),
            (
                fix.accuracy_m is None or 0 <= fix.accuracy_m <= MAX_ACCURACY_M,
                "accuracyM",
                f"Accuracy is between 0 and {MAX_ACCURACY_M} m.",
            ),
        ]
        found += [Problem(Code.OUT_OF_RANGE, m, f"{at}.{name}") for ok, name, m in checks if not ok]
        if fix.recorded_at.tzinfo is None:
            found.append(Problem(Code.INVALID, "Give a time zone.", f"{at}.recordedAt"))
        elif fix.recorded_at > now + CLOCK_SKEW:
            found.append(
                Problem(Code.IN_THE_FUTURE, "The position is in the future.", f"{at}.recordedAt")
            )
        elif fix.recorded_at < now - MAX_AGE:
            found.append(
                Problem(
                    Code.TOO_OLD,
                    f"Positions older than {int(MAX_AGE.total_seconds() // 60)} minutes "
                    "are not taken.",
                    f"{at}.recordedAt",
                )
            )
    return found


async def driver_trip(
    session: AsyncSession, trip_id: uuid.UUID, viewer: Viewer, now: datetime
) -> Trip:
    """The viewer's trip `trip_id`, if it drives it and the trip takes positions now.

    Another driver's trip is, for this driver, one that does not exist.
    """
    row = (
        await session.execute(
            select(CharterVehicle, Driver.id, Charter.status, Charter.pickup_at)
            .join(Charter, Charter.id == CharterVehicle.charter_id)
            .join(Driver, Driver.id == CharterVehicle.driver_id)
            .where(CharterVehicle.id == trip_id, Driver.user_id == viewer.user_id)
        )
    ).one_or_none()
    if row is None:
        raise ServiceError.of(Code.NOT_FOUND, f"Trip {trip_id} does not exist.", "tripId")
    vehicle, driver_id, status, pickup_at = row
    started = vehicle.trip_started_at is not None and vehicle.trip_completed_at is None
    busy = vehicle.busy
    around = (
        busy.lower is not None
        and busy.upper is not None
        and busy.lower - BEFORE_PICKUP <= now <= busy.upper + AFTER_END
        and vehicle.trip_completed_at is None
    )
    if status not in LIVE_STATUSES or not (started or around):
        raise ServiceError.of(
            Code.TRIP_NOT_ACTIVE,
            "This trip takes positions while it is under way (from "
            f"{int(BEFORE_PICKUP.total_seconds() // 3600)} hours before it until it completes).",
            "tripId",
        )
    return Trip(vehicle.id, vehicle.charter_id, driver_id, pickup_at)


def _bucket_key(driver_id: uuid.UUID, recorded_at: datetime) -> str:
    return f"charters:positions:{driver_id}:{int(recorded_at.timestamp()) // RATE_SECONDS}"


#: A bucket's key outlives every fix that could still be posted into it.
_KEY_TTL = int((MAX_AGE + CLOCK_SKEW).total_seconds()) + RATE_SECONDS


async def thin(redis: Redis, driver_id: uuid.UUID, fixes: Sequence[Fix]) -> list[Fix]:
    """The fixes that are first in their driver's 5-second bucket, oldest first; one round trip."""
    ordered = sorted(fixes, key=lambda f: f.recorded_at)
    async with redis.pipeline(transaction=False) as pipe:
        for fix in ordered:
            pipe.set(_bucket_key(driver_id, fix.recorded_at), 1, nx=True, ex=_KEY_TTL)
        won = await pipe.execute()
    return [fix for fix, first in zip(ordered, won, strict=True) if first]


async def release(redis: Redis, driver_id: uuid.UUID, fixes: Sequence[Fix]) -> None:
    """Give back the buckets of fixes that were not stored, so a retry is not dropped."""
    if fixes:
        await redis.delete(*{_bucket_key(driver_id, f.recorded_at) for f in fixes})


def _values(item: Accepted) -> dict[str, Any]:
    fix = item.fix
    return {
        "charter_vehicle_id": item.trip.charter_vehicle_id,
        "charter_id": item.trip.charter_id,
        "latitude": fix.latitude,
        "longitude": fix.longitude,
        "speed_kph": fix.speed_kph,
        "heading": fix.heading,
        "accuracy_m": fix.accuracy_m,
        "recorded_at": fix.recorded_at,
    }


def newest_per_vehicle(items: Sequence[Accepted]) -> list[Accepted]:
    newest: dict[uuid.UUID, Accepted] = {}
    for item in items:
        held = newest.get(item.trip.charter_vehicle_id)
        if held is None or item.fix.recorded_at > held.fix.recorded_at:
            newest[item.trip.charter_vehicle_id] = item
    return list(newest.values())


async def write_batch(session: AsyncSession, items: Sequence[Accepted]) -> None:
    """Store one batch in three statements, whatever the number of vehicles in it."""
    if not items:
        return
    await session.execute(
        insert(VehiclePosition).values(
            [{**_values(i), "driver_id": i.trip.driver_id} for i in items]
        )
    )
    newest = newest_per_vehicle(items)
    upsert = insert(LatestPosition).values([_values(i) for i in newest])
    excluded = upsert.excluded
    await session.execute(
        upsert.on_conflict_do_update(
            index_elements=[LatestPosition.charter_vehicle_id],
            set_={
                name: excluded[name]
                for name in (
                    "charter_id",
                    "latitude",
                    "longitude",
                    "speed_kph",
                    "heading",
                    "accuracy_m",
                    "recorded_at",
                )
            },
            where=excluded.recorded_at > LatestPosition.recorded_at,
        )
    )
    await emit(
        session,
        outbox,
        VEHICLE_POSITIONS,
        {"positions": [_event_position(i) for i in newest]},
    )


def _event_position(item: Accepted) -> dict[str, Any]:
    fix = item.fix
    return {
        "charterId": str(item.trip.charter_id),
        "charterVehicleId": str(item.trip.charter_vehicle_id),
        "pickupAt": item.trip.pickup_at.isoformat(),
        "latitude": str(fix.latitude),
        "longitude": str(fix.longitude),
        "speedKph": _text(fix.speed_kph),
        "heading": _text(fix.heading),
        "accuracyM": _text(fix.accuracy_m),
        "recordedAt": fix.recorded_at.isoformat(),
    }


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


@dataclass
class WriterStats:
    batches: int = 0
    rows: int = 0
    statements: int = 0
    #: Statements of each batch, the last ones (the benchmark prints them).
    per_batch: list[int] = field(default_factory=list)


class PositionWriter:
    """Group commit of accepted fixes: one transaction per `flush_ms` or `max_rows`."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        flush_ms: int = 200,
        max_rows: int = 1000,
    ) -> None:
        self.sessions = sessions
        self.flush_seconds = flush_ms / 1000
        self.max_rows = max_rows
        self.stats = WriterStats()
        self._buffer: list[Accepted] = []
        self._done: asyncio.Future[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._flushing: set[asyncio.Task[None]] = set()

    async def submit(self, items: Sequence[Accepted]) -> None:
        """Buffer `items`; return once the batch holding them committed (or raise its error)."""
        if not items:
            return
        loop = asyncio.get_running_loop()
        if self._done is None:
            self._done = loop.create_future()
            self._timer = loop.call_later(self.flush_seconds, self._flush_soon)
        done = self._done
        self._buffer.extend(items)
        if len(self._buffer) >= self.max_rows:
            self._flush_soon()
        await asyncio.shield(done)

    def _flush_soon(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._done is None:
            return
        items, done = self._buffer, self._done
        self._buffer, self._done = [], None
        task = asyncio.get_running_loop().create_task(self._flush(items, done))
        self._flushing.add(task)
        task.add_done_callback(self._flushing.discard)

    async def _flush(self, items: list[Accepted], done: asyncio.Future[None]) -> None:
        count = 0

        def counted(*_args: Any) -> None:
            nonlocal count
            count += 1

        try:
            async with self.sessions() as session, session.begin():
                connection = await session.connection()
                sync = connection.sync_connection
                if sync is None:
                    raise RuntimeError("a session's connection has no sync connection")
                event.listen(sync, "before_cursor_execute", counted)
                try:
                    await write_batch(session, items)
                finally:
                    event.remove(sync, "before_cursor_execute", counted)
        except Exception as error:
            log.exception("writing %d positions failed", len(items))
            if not done.done():
                done.set_exception(error)
            return
        stats = self.stats
        stats.batches += 1
        stats.rows += len(items)
        stats.statements += count
        stats.per_batch = [*stats.per_batch[-99:], count]
        if not done.done():
            done.set_result(None)

    async def close(self) -> None:
        """Write what is buffered; wait for batches being written."""
        self._flush_soon()
        if self._flushing:
            await asyncio.gather(*self._flushing, return_exceptions=True)


async def post(
    session: AsyncSession,
    redis: Redis,
    writer: PositionWriter,
    trip_id: uuid.UUID,
    fixes: Sequence[Fix],
    viewer: Viewer,
    *,
    now: datetime | None = None,
) -> Outcome:
    """Check, thin and store a driver's fixes for its trip; how many were kept and dropped.

    `session` only reads (the trip); the batch writes in its own transaction.
    """
    now = now or datetime.now(UTC)
    found = problems(fixes, now)
    if found:
        raise ServiceError(found)
    trip = await driver_trip(session, trip_id, viewer, now)
    await session.rollback()  # hold no connection while the batch is written
    kept = await thin(redis, trip.driver_id, fixes)
    try:
        await writer.submit([Accepted(trip, fix) for fix in kept])
    except Exception:
        with contextlib.suppress(Exception):
            await release(redis, trip.driver_id, kept)
        raise
    return Outcome(accepted=len(kept), dropped=len(fixes) - len(kept))


async def purge(
    sessions: async_sessionmaker[AsyncSession],
    now: datetime,
    *,
    keep: timedelta = RETENTION,
    chunk: int = PURGE_CHUNK,
) -> int:
    """Delete positions recorded before `now - keep`, `chunk` rows per transaction; the count.

    Small transactions keep the table's locks and the WAL burst short while
    drivers keep posting.
    """
    cutoff = now - keep
    total = 0
    while True:
        async with sessions() as session, session.begin():
            doomed = (
                select(VehiclePosition.id)
                .where(VehiclePosition.recorded_at < cutoff)
                .limit(chunk)
                .scalar_subquery()
            )
            result = await session.execute(
                delete(VehiclePosition).where(VehiclePosition.id.in_(doomed))
            )
        removed = int(getattr(result, "rowcount", 0) or 0)
        total += removed
        if removed < chunk:
            return total


async def start_writer(services: Services) -> None:
    settings = services.settings
    services.extra[SERVICE_KEY] = PositionWriter(
        services.sessions,
        flush_ms=settings.positions_flush_ms,
        max_rows=settings.positions_flush_rows,
    )


async def stop_writer(services: Services) -> None:
    writer: PositionWriter | None = services.extra.pop(SERVICE_KEY, None)
    if writer is not None:
        await writer.close()


def writer_of(services: Services) -> PositionWriter:
    writer: PositionWriter | None = services.extra.get(SERVICE_KEY)
    if writer is None:
        raise RuntimeError("the charters position writer is not running")
    return writer


async def purge_job(services: Services, due: datetime) -> None:
    """The daily retention purge (`charters.positions_purge`); safe to run twice."""
    removed = await purge(services.sessions, datetime.now(UTC))
    log.info("purged %d positions older than %s", removed, RETENTION)
