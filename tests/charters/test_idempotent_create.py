"""createCharter with an idempotency key: one charter per key, whoever repeats it and when.

Another subgraph (sales' conversion) retries a createCharter whose answer
it lost; the key makes the retry answer the first charter. Counts are read
by SQL: rows in charters.charters and `charters.charter_changed` events in
the outbox, so "no second charter, no second event" is what is checked.
"""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import text

from subgraphs.charters.service.charters import NewCharter
from subgraphs.charters.service.idempotency import request_hash
from tests.support.charters_fixtures import CREATE_CHARTER, future_local, register_client

TOPIC = "charters.charter_changed"


async def counts(sessions: Any) -> tuple[int, int, int]:
    """(charters, charter_changed events, idempotency keys) as stored."""
    async with sessions() as session:
        row = (
            await session.execute(
                text(
                    "SELECT (SELECT count(*) FROM charters.charters),"
                    " (SELECT count(*) FROM charters.outbox WHERE topic = :topic),"
                    " (SELECT count(*) FROM charters.idempotency_keys)"
                ),
                {"topic": TOPIC},
            )
        ).one()
    return int(row[0]), int(row[1]), int(row[2])


def quote_input(client_id: str, key: str | None, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "clientId": client_id,
        "tripType": "ONE_WAY",
        "passengerCount": 30,
        "pickupLocal": future_local(20),
        "pickupTimeZone": "America/Chicago",
        "stops": [
            {"type": "PICKUP", "address": "1 Main St, Springfield"},
            {"type": "DROPOFF", "address": "9 Lake Rd, Shelbyville"},
        ],
        **overrides,
    }
    if key is not None:
        data["idempotencyKey"] = key
    return data


async def create(client: Any, data: dict[str, Any]) -> dict[str, Any]:
    return (await client(CREATE_CHARTER, {"input": data})).ok()["createCharter"]  # type: ignore[no-any-return]


async def test_the_same_key_and_input_answers_the_first_charter_without_a_second_row_or_event(
    staff, sessions
):
    client_id = await register_client(staff)
    data = quote_input(client_id, f"k-{uuid.uuid4()}")

    first = await create(staff, data)
    second = await create(staff, data)

    assert first["userErrors"] == []
    assert second["userErrors"] == []
    assert second["charter"]["id"] == first["charter"]["id"]
    assert second["charter"]["reference"] == first["charter"]["reference"]
    assert len(second["charter"]["stops"]) == 2
    assert await counts(sessions) == (1, 1, 1)


async def test_without_a_key_each_call_makes_its_own_charter(staff, sessions):
    client_id = await register_client(staff)
    data = quote_input(client_id, None)

    first = await create(staff, data)
    second = await create(staff, data)

    assert first["charter"]["id"] != second["charter"]["id"]
    assert await counts(sessions) == (2, 2, 0)


async def test_the_same_key_with_other_input_is_a_conflict_and_creates_nothing(staff, sessions):
    client_id = await register_client(staff)
    key = f"k-{uuid.uuid4()}"
    first = await create(staff, quote_input(client_id, key))

    other = await create(staff, quote_input(client_id, key, passengerCount=31))

    assert other["charter"] is None
    assert [(e["field"], e["code"]) for e in other["userErrors"]] == [
        ("idempotencyKey", "CONFLICT")
    ]
    assert first["charter"] is not None
    assert await counts(sessions) == (1, 1, 1)


async def test_the_same_key_by_another_user_is_a_conflict_and_creates_nothing(
    staff, as_role, sessions
):
    client_id = await register_client(staff)
    data = quote_input(client_id, f"k-{uuid.uuid4()}")
    first = await create(staff, data)
    other_manager = await as_role("manager")

    other = await create(other_manager, data)

    assert first["charter"] is not None
    assert other["charter"] is None
    assert [(e["field"], e["code"]) for e in other["userErrors"]] == [
        ("idempotencyKey", "CONFLICT")
    ]
    assert await counts(sessions) == (1, 1, 1)


async def test_a_refused_call_leaves_its_key_free_for_the_corrected_retry(staff, sessions):
    """The key row is in the charter's transaction: a user error rolls it back too."""
    client_id = str(uuid.uuid4())
    data = quote_input(client_id, f"k-{uuid.uuid4()}")

    refused = await create(staff, data)
    assert [e["code"] for e in refused["userErrors"]] == ["UNKNOWN_CLIENT"]
    assert await counts(sessions) == (0, 0, 0)

    await register_client(staff, client_id)
    retried = await create(staff, data)

    assert retried["userErrors"] == []
    assert retried["charter"] is not None
    assert await counts(sessions) == (1, 1, 1)


async def test_an_overlong_or_empty_key_is_refused_on_the_key(staff, sessions):
    client_id = await register_client(staff)

    long = await create(staff, quote_input(client_id, "k" * 201))
    empty = await create(staff, quote_input(client_id, "  "))

    assert [(e["field"], e["code"]) for e in long["userErrors"]] == [("idempotencyKey", "TOO_LONG")]
    assert [(e["field"], e["code"]) for e in empty["userErrors"]] == [
        ("idempotencyKey", "REQUIRED")
    ]
    assert await counts(sessions) == (0, 0, 0)


async def test_concurrent_calls_with_one_key_make_exactly_one_charter(staff, sessions):
    client_id = await register_client(staff)
    data = quote_input(client_id, f"k-{uuid.uuid4()}")

    answers = await asyncio.gather(*(create(staff, data) for _ in range(6)))

    assert all(a["userErrors"] == [] for a in answers), answers
    assert len({a["charter"]["id"] for a in answers}) == 1
    assert await counts(sessions) == (1, 1, 1)


def test_the_request_hash_is_the_callers_input_not_the_geocoders_answer():
    """A retry whose geocoding failed (or now succeeds) is still the same request."""
    data = NewCharter(
        client_id=uuid.uuid4(),
        trip_type="one_way",
        passenger_count=30,
        pickup_local=datetime(2027, 5, 1, 7, 30),
        pickup_time_zone="America/Chicago",
        stops=[{"stop_type": "pickup", "address": "1 Main St", "id": None}],
    )

    located = dataclasses.replace(data, coordinates=(None,), horizon_days=10)
    other = dataclasses.replace(data, passenger_count=31)

    assert request_hash(located) == request_hash(data)
    assert request_hash(other) != request_hash(data)
