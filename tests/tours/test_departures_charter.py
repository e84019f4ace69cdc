"""The charter operating a departure: learnt from charters' events, shown to tour staff only."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from subgraphs.tours.models import DepartureSlot
from subgraphs.tours.service.charter_facts import apply_charter_event
from tests.tours.test_departures import slot_, tour_

NOW = datetime.now(UTC)
SLOT_CHARTER = """query($id: ID!) { departureSlot(id: $id) { id confirmedToRun charter { id } } }"""


def charter_changed(charter_id: uuid.UUID, slot_id: uuid.UUID | None) -> dict[str, Any]:
    return {
        "id": "charters:7",
        "topic": "charters.charter_changed",
        "occurredAt": NOW.isoformat(),
        "payload": {
            "charterId": str(charter_id),
            "status": "quote",
            "tourSlotId": str(slot_id) if slot_id else None,
            "changes": ["tourSlot"],
        },
    }


async def _slot(sessions: Any) -> uuid.UUID:
    async with sessions() as session, session.begin():
        slot = await slot_(session, await tour_(session), hours_ahead=24 * 20, min_capacity=2)
        slot.confirmed_to_run_at = NOW - timedelta(hours=1)
    return slot.id


async def _apply(sessions: Any, *events: dict[str, Any]) -> None:
    for event in events:
        async with sessions() as session, session.begin():
            await apply_charter_event(session, event)


async def test_a_departure_learns_its_charter_from_charters_events(sessions: Any) -> None:
    slot_id, charter_id = await _slot(sessions), uuid.uuid4()
    other_slot = await _slot(sessions)

    await _apply(
        sessions,
        charter_changed(uuid.uuid4(), None),  # an ordinary charter: no departure
        charter_changed(charter_id, slot_id),
        charter_changed(charter_id, slot_id),  # redelivered
    )

    async with sessions() as session:
        linked = await session.get(DepartureSlot, slot_id)
        untouched = await session.get(DepartureSlot, other_slot)
    assert linked is not None
    assert untouched is not None
    assert (linked.charter_id, untouched.charter_id) == (charter_id, None)


async def test_tour_staff_read_the_charter_and_customers_read_null(
    sessions: Any, tours_as: Any
) -> None:
    slot_id, charter_id = await _slot(sessions), uuid.uuid4()
    await _apply(sessions, charter_changed(charter_id, slot_id))
    variables = {"id": str(slot_id)}

    dispatcher = (await (await tours_as("dispatcher"))(SLOT_CHARTER, variables)).ok()
    customer = (await (await tours_as("client"))(SLOT_CHARTER, variables)).ok()
    anonymous = (await (await tours_as())(SLOT_CHARTER, variables)).ok()

    assert dispatcher["departureSlot"]["charter"] == {"id": str(charter_id)}
    assert customer["departureSlot"] == {
        "id": str(slot_id),
        "confirmedToRun": True,
        "charter": None,
    }
    assert anonymous["departureSlot"]["charter"] is None
