"""GPS positions from the driver app (issue 13 §4): checked, thinned, batched, purged."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select, update

from db.engine import in_request, record_statements
from subgraphs.charters.jobs import jobs
from subgraphs.charters.models import CharterVehicle, LatestPosition, VehiclePosition
from subgraphs.charters.service import positions
from subgraphs.charters.service.positions import Accepted, Fix, PositionWriter, Trip
from subgraphs.kit.settings import get_settings
from tests.charters.test_portal_drivers import driven_charter, linked_driver
from tests.support.graphql_client import GraphQLClient

POST = """
mutation($trip: ID!, $positions: [PositionInput!]!) {
  postPositions(tripId: $trip, positions: $positions) {
    accepted dropped userErrors { field code message }
  }
}"""


def bucket_start(seconds_ago: int) -> datetime:
    """The start of the 5-second rate bucket `seconds_ago` back: fixes placed inside it share it."""
    moment = int((datetime.now(UTC) - timedelta(seconds=seconds_ago)).timestamp())
    return datetime.fromtimestamp(moment - moment % positions.RATE_SECONDS, UTC)


def fix(at: datetime, **values: Any) -> dict[str, Any]:
    return {
        "latitude": 41.8781,
        "longitude": -87.6298,
        "speedKph": 62.5,
        "heading": 270.0,
        "accuracyM": 8.0,
        "recordedAt": at.isoformat(),
        **values,
    }


async def started_trip(
    staff: GraphQLClient, bookable_charter: Any, as_role: Any, sessions: Any
) -> tuple[GraphQLClient, dict[str, Any]]:
    """A driver's client and its trip, started (as the driver app's startTrip leaves it)."""
    user_id = uuid.uuid4()
    driver_id = await linked_driver(staff, user_id)
    charter = await driven_charter(staff, bookable_charter, driver_id, days=2)
    trip_id = charter["vehicles"][0]["id"]
    async with sessions() as session, session.begin():
        await session.execute(
            update(CharterVehicle)
            .where(CharterVehicle.id == uuid.UUID(trip_id))
            .values(trip_started_at=func.now())
        )
    return await as_role("driver", user_id=user_id), {**charter, "trip_id": trip_id}


async def stored(sessions: Any) -> list[tuple[Any, ...]]:
    async with sessions() as session:
        rows = await session.execute(
            select(VehiclePosition.charter_vehicle_id, VehiclePosition.recorded_at).order_by(
                VehiclePosition.recorded_at
            )
        )
        return [tuple(r) for r in rows]


async def test_a_driver_posts_positions_of_its_started_trip(
    staff, bookable_charter, as_role, sessions
):
    driver, trip = await started_trip(staff, bookable_charter, as_role, sessions)
    start = bucket_start(60)

    answer = await driver(POST, {"trip": trip["trip_id"], "positions": [fix(start)]})

    assert answer.ok()["postPositions"] == {"accepted": 1, "dropped": 0, "userErrors": []}
    assert await stored(sessions) == [(uuid.UUID(trip["trip_id"]), start)]
    async with sessions() as session:
        latest = (await session.scalars(select(LatestPosition))).one()
    assert (latest.charter_id, latest.latitude, latest.longitude) == (
        uuid.UUID(trip["id"]),
        Decimal("41.878100"),
        Decimal("-87.629800"),
    )
    assert (latest.speed_kph, latest.heading, latest.accuracy_m) == (
        Decimal("62.50"),
        Decimal("270.00"),
        Decimal("8.00"),
    )


async def test_bad_positions_are_user_errors_naming_the_field_and_store_nothing(
    staff, bookable_charter, as_role, sessions
):
    driver, trip = await started_trip(staff, bookable_charter, as_role, sessions)
    now = datetime.now(UTC)
    bad = [
        fix(now, latitude=90.5),
        fix(now, longitude=-180.01),
        fix(now, speedKph=-1.0),
        fix(now, heading=360.5),
        fix(now, accuracyM=-0.5),
        fix(now + timedelta(minutes=2)),
        fix(now - timedelta(minutes=11)),
        fix(now),  # a good one: the request as a whole is refused
    ]

    answer = await driver(POST, {"trip": trip["trip_id"], "positions": bad})

    payload = answer.ok()["postPositions"]
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        ("positions.0.latitude", "OUT_OF_RANGE"),
        ("positions.1.longitude", "OUT_OF_RANGE"),
        ("positions.2.speedKph", "OUT_OF_RANGE"),
        ("positions.3.heading", "OUT_OF_RANGE"),
        ("positions.4.accuracyM", "OUT_OF_RANGE"),
        ("positions.5.recordedAt", "IN_THE_FUTURE"),
        ("positions.6.recordedAt", "TOO_OLD"),
    ]
    assert (payload["accepted"], payload["dropped"]) == (0, 0)
    empty = await driver(POST, {"trip": trip["trip_id"], "positions": []})
    assert [(e["field"], e["code"]) for e in empty.ok()["postPositions"]["userErrors"]] == [
        ("positions", "REQUIRED")
    ]
    assert await stored(sessions) == []


async def test_a_small_clock_skew_is_allowed(staff, bookable_charter, as_role, sessions):
    driver, trip = await started_trip(staff, bookable_charter, as_role, sessions)
    ahead = datetime.now(UTC) + timedelta(seconds=10)

    answer = await driver(POST, {"trip": trip["trip_id"], "positions": [fix(ahead)]})

    assert answer.ok()["postPositions"]["accepted"] == 1


async def test_at_most_one_position_per_five_seconds_is_kept_the_rest_acknowledged(
    staff, bookable_charter, as_role, sessions
):
    driver, trip = await started_trip(staff, bookable_charter, as_role, sessions)
    start = bucket_start(120)
    # Recorded 1 s and 3 s into one 5-second window, then one in the next window.
    first = await driver(
        POST,
        {
            "trip": trip["trip_id"],
            "positions": [
                fix(start + timedelta(seconds=3)),
                fix(start + timedelta(seconds=1)),
                fix(start + timedelta(seconds=6)),
            ],
        },
    )
    # A later request for the first window is dropped too.
    again = await driver(
        POST, {"trip": trip["trip_id"], "positions": [fix(start + timedelta(seconds=2))]}
    )

    assert first.ok()["postPositions"] == {"accepted": 2, "dropped": 1, "userErrors": []}
    assert again.ok()["postPositions"] == {"accepted": 0, "dropped": 1, "userErrors": []}
    vehicle = uuid.UUID(trip["trip_id"])
    assert await stored(sessions) == [
        (vehicle, start + timedelta(seconds=1)),  # the oldest of its window is kept
        (vehicle, start + timedelta(seconds=6)),
    ]


async def test_a_driver_cannot_post_for_another_drivers_trip(
    staff, bookable_charter, as_role, sessions
):
    _, trip = await started_trip(staff, bookable_charter, as_role, sessions)
    other_user = uuid.uuid4()
    await linked_driver(staff, other_user)
    other = await as_role("driver", user_id=other_user)
    body = {"trip": trip["trip_id"], "positions": [fix(bucket_start(30))]}

    answer = await other(POST, body)
    by_staff = await staff(POST, body)

    payload = answer.ok()["postPositions"]
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [("tripId", "NOT_FOUND")]
    assert by_staff.error_codes == ["FORBIDDEN"]  # drivers post; dispatch reads
    assert await stored(sessions) == []


async def test_a_trip_not_under_way_takes_no_positions(staff, bookable_charter, as_role):
    user_id = uuid.uuid4()
    driver_id = await linked_driver(staff, user_id)
    charter = await driven_charter(staff, bookable_charter, driver_id, days=2)  # not started
    driver = await as_role("driver", user_id=user_id)

    answer = await driver(
        POST, {"trip": charter["vehicles"][0]["id"], "positions": [fix(bucket_start(30))]}
    )

    errors = answer.ok()["postPositions"]["userErrors"]
    assert [(e["field"], e["code"]) for e in errors] == [("tripId", "TRIP_NOT_ACTIVE")]


async def _vehicles(bookable_charter: Any, count: int) -> list[Trip]:
    charter = await bookable_charter(vehicles=count)
    pickup = datetime.now(UTC) + timedelta(days=30)
    return [
        Trip(uuid.UUID(v["id"]), uuid.UUID(charter["id"]), uuid.uuid4(), pickup)
        for v in charter["vehicles"]
    ]


def _at(trip: Trip, at: datetime, latitude: str = "41.5") -> Accepted:
    return Accepted(trip, Fix(Decimal(latitude), Decimal("-87.5"), at))


async def test_the_latest_position_is_the_newest_whatever_order_batches_arrive_in(
    bookable_charter, sessions
):
    (trip,) = await _vehicles(bookable_charter, 1)
    now = datetime.now(UTC).replace(microsecond=0)
    newer, older = _at(trip, now, "41.9"), _at(trip, now - timedelta(seconds=30), "41.1")

    async with sessions() as session, session.begin():
        await positions.write_batch(session, [newer])
    async with sessions() as session, session.begin():
        await positions.write_batch(session, [older])  # a late batch of an older fix
    async with sessions() as session:
        latest = (await session.scalars(select(LatestPosition))).one()
        kept = await session.scalar(select(func.count()).select_from(VehiclePosition))

    assert (latest.recorded_at, latest.latitude) == (now, Decimal("41.900000"))
    assert kept == 2  # history keeps both

    # Within one batch, too, the newest of a vehicle wins.
    newest = _at(trip, now + timedelta(seconds=10), "42.0")
    async with sessions() as session, session.begin():
        await positions.write_batch(session, [newest, _at(trip, now + timedelta(seconds=5))])
    async with sessions() as session:
        latest = (await session.scalars(select(LatestPosition))).one()
    assert (latest.recorded_at, latest.latitude) == (newest.fix.recorded_at, Decimal("42.000000"))


async def _statements_of_a_batch(sessions: Any, trips: list[Trip]) -> int:
    now = datetime.now(UTC)
    batch = [_at(t, now - timedelta(seconds=s)) for t in trips for s in (0, 5)]
    token = in_request.set(True)
    try:
        with record_statements() as recorder:
            async with sessions() as session, session.begin():
                await positions.write_batch(session, batch)
    finally:
        in_request.reset(token)
    return recorder.count


async def test_a_batch_costs_the_same_statements_for_2_and_50_vehicles(bookable_charter, sessions):
    two = await _vehicles(bookable_charter, 2)
    fifty = await _vehicles(bookable_charter, 50)

    few = await _statements_of_a_batch(sessions, two)
    many = await _statements_of_a_batch(sessions, fifty)

    assert few == many == 3  # INSERT positions, upsert latest, the outbox row
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(VehiclePosition)) == 104
        assert await session.scalar(select(func.count()).select_from(LatestPosition)) == 52


async def test_the_writer_commits_concurrent_requests_in_one_batch(bookable_charter, sessions):
    trips = await _vehicles(bookable_charter, 3)
    # Never by time in this test: the third request fills the batch.
    writer = PositionWriter(sessions, flush_ms=600_000, max_rows=3)
    now = datetime.now(UTC)

    await asyncio.gather(*(writer.submit([_at(t, now)]) for t in trips))

    assert (writer.stats.batches, writer.stats.rows, writer.stats.per_batch) == (1, 3, [3])
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(LatestPosition)) == 3


async def test_the_purge_deletes_positions_older_than_30_days_in_chunks(bookable_charter, sessions):
    (trip,) = await _vehicles(bookable_charter, 1)
    now = datetime.now(UTC)
    old = [_at(trip, now - timedelta(days=30, minutes=m)) for m in range(1, 8)]
    young = [_at(trip, now - timedelta(days=29)), _at(trip, now)]
    async with sessions() as session, session.begin():
        await positions.write_batch(session, old + young)

    token = in_request.set(True)
    try:
        with record_statements() as recorder:
            removed = await positions.purge(sessions, now, chunk=3)
    finally:
        in_request.reset(token)

    assert removed == 7
    assert [at for _, at in await stored(sessions)] == [f.fix.recorded_at for f in young]
    deletes = [s for s in recorder.statements if s.lstrip().upper().startswith("DELETE")]
    assert len(deletes) == 3  # chunks of 3: 3, 3, then 1 (fewer than a chunk: done)
    assert "charters.positions_purge" in {job.name for job in jobs(get_settings())}
