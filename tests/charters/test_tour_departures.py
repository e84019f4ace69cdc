"""Tours' departures confirmed to run become shuttle charters, once, and follow their seats.

Charters' consumer of `tours.departure_changed` is called directly with the
events tours would send (each in its own transaction, as the consumer
delivers them); what it leaves behind is read from charters' own tables and
outbox.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from subgraphs.charters.models import ChangeCase, Charter, KnownClient, Stop, outbox
from subgraphs.charters.service import tour_departures
from subgraphs.charters.service.events import CHARTER_CHANGED
from subgraphs.kit.settings import get_settings

ZONE = "America/New_York"


def departure(slot_id: uuid.UUID, seats: int, **changes: Any) -> dict[str, Any]:
    """A `tours.departure_changed` event as tours' outbox relay delivers it."""
    starts = (datetime.now(UTC) + timedelta(days=12)).replace(
        hour=13, minute=30, second=0, microsecond=0
    )
    payload = {
        "slotId": str(slot_id),
        "tourId": str(uuid.uuid4()),
        "tourName": "Harbor lights",
        "date": starts.astimezone(ZoneInfo(ZONE)).date().isoformat(),
        "startLocal": "09:30",
        "endLocal": "11:30",
        "timeZone": ZONE,
        "startsAt": starts.isoformat(),
        "endsAt": (starts + timedelta(hours=2)).isoformat(),
        "meetingPoint": "Pier 17, 89 South St",
        "meetingLatitude": "40.705600",
        "meetingLongitude": "-74.001900",
        "seatsBooked": seats,
        "minCapacity": 8,
        "maxCapacity": 40,
        "confirmedToRun": True,
        "cancelled": False,
        "cancellationReason": None,
    }
    payload.update(changes)
    return {
        "id": f"tours:{uuid.uuid4().int % 10**6}",
        "topic": "tours.departure_changed",
        "payload": payload,
        "occurredAt": datetime.now(UTC).isoformat(),
    }


async def deliver(sessions: Any, *events: dict[str, Any]) -> None:
    for event in events:
        async with sessions() as session, session.begin():
            await tour_departures.apply_departure_event(session, event)


async def charters_of(sessions: Any, slot_id: uuid.UUID) -> list[Charter]:
    async with sessions() as session:
        return list(await session.scalars(select(Charter).where(Charter.tour_slot_id == slot_id)))


async def announced(sessions: Any) -> list[dict[str, Any]]:
    async with sessions() as session:
        rows = await session.execute(
            select(outbox.c.payload).where(outbox.c.topic == CHARTER_CHANGED).order_by(outbox.c.id)
        )
        return [r.payload for r in rows]


async def test_a_confirmed_departure_becomes_one_shuttle_charter_for_the_house_client(
    sessions: Any,
) -> None:
    slot_id = uuid.uuid4()
    event = departure(slot_id, 9)

    await deliver(sessions, event, event)  # delivered twice: at least once

    [charter] = await charters_of(sessions, slot_id)
    async with sessions() as session:
        stops = list(
            await session.scalars(
                select(Stop).where(Stop.charter_id == charter.id).order_by(Stop.position)
            )
        )
        house = await session.get(KnownClient, charter.client_id)
    starts = datetime.fromisoformat(event["payload"]["startsAt"])
    assert charter.client_id == uuid.UUID(get_settings().tours_client_id)
    assert house is not None
    assert (charter.trip_type, charter.status, charter.passenger_count) == ("shuttle", "quote", 9)
    assert charter.pickup_time_zone == ZONE
    assert charter.pickup_local == starts.astimezone(ZoneInfo(ZONE)).replace(tzinfo=None)
    assert charter.pickup_at == starts
    assert charter.ends_at == starts + timedelta(hours=2)
    assert [(s.stop_type, s.address) for s in stops] == [
        ("pickup", "Pier 17, 89 South St"),
        ("dropoff", "Pier 17, 89 South St"),
    ]
    sent = await announced(sessions)
    assert [p["tourSlotId"] for p in sent] == [None, str(slot_id)]
    assert {p["charterId"] for p in sent} == {str(charter.id)}


async def test_an_unconfirmed_or_cancelled_departure_without_a_charter_creates_none(
    sessions: Any,
) -> None:
    quiet, cancelled = uuid.uuid4(), uuid.uuid4()

    await deliver(
        sessions,
        departure(quiet, 3, confirmedToRun=False),
        departure(cancelled, 9, cancelled=True, cancellationReason="Storm"),
    )

    assert await charters_of(sessions, quiet) == []
    assert await charters_of(sessions, cancelled) == []
    assert await announced(sessions) == []


async def test_the_passenger_count_follows_the_seats_booked(sessions: Any) -> None:
    slot_id = uuid.uuid4()

    await deliver(sessions, departure(slot_id, 9), departure(slot_id, 14), departure(slot_id, 14))

    [charter] = await charters_of(sessions, slot_id)
    assert (charter.passenger_count, charter.status) == (14, "quote")
    assert [p["passengerCount"] for p in await announced(sessions)] == [9, 9, 14]


async def test_a_cancelled_departure_cancels_its_charter(sessions: Any) -> None:
    slot_id = uuid.uuid4()

    await deliver(
        sessions,
        departure(slot_id, 9),
        departure(slot_id, 0, cancelled=True, cancellationReason="Too few seats sold"),
        departure(slot_id, 0, cancelled=True, cancellationReason="Too few seats sold"),
    )

    [charter] = await charters_of(sessions, slot_id)
    assert charter.status == "cancelled"
    assert charter.cancellation_reason == "Tour departure cancelled: Too few seats sold"
    assert [p["status"] for p in await announced(sessions)] == ["quote", "quote", "cancelled"]


async def test_replicas_delivering_the_same_departure_at_once_create_one_charter(
    sessions: Any,
) -> None:
    slot_id = uuid.uuid4()
    event = departure(slot_id, 10)

    await asyncio.gather(*(deliver(sessions, event) for _ in range(4)))

    assert len(await charters_of(sessions, slot_id)) == 1


async def test_a_departure_charters_cannot_operate_is_skipped_not_retried(sessions: Any) -> None:
    slot_id = uuid.uuid4()
    past = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    ends = (datetime.now(UTC) - timedelta(days=2) + timedelta(hours=2)).isoformat()

    await deliver(sessions, departure(slot_id, 9, startsAt=past, endsAt=ends))

    assert await charters_of(sessions, slot_id) == []
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Charter)) == 0


async def test_a_booked_charter_gets_a_passenger_count_change_case_for_staff(sessions: Any) -> None:
    slot_id = uuid.uuid4()
    await deliver(sessions, departure(slot_id, 9))
    [charter] = await charters_of(sessions, slot_id)
    async with sessions() as session, session.begin():
        await session.execute(
            update(Charter).where(Charter.id == charter.id).values(status="booked")
        )

    await deliver(sessions, departure(slot_id, 12))

    async with sessions() as session:
        cases = list(await session.scalars(select(ChangeCase)))
    [after] = await charters_of(sessions, slot_id)
    assert after.passenger_count == 9  # unchanged until staff approve
    assert [(c.charter_id, c.change_type, c.status) for c in cases] == [
        (charter.id, "passenger_count_change", "pending")
    ]
    assert cases[0].after["passenger_count"] == 12
