"""`Charter.vehicleTypeSummary`: a charter's distinct vehicle type names in one report cell."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.dialects.postgresql import Range

from db.engine import record_statements
from subgraphs.charters.models import Charter, CharterVehicle, VehicleType
from subgraphs.charters.service.vehicle_type_summary import summary, vehicle_type_summaries

PICKUP = datetime(2026, 7, 1, 9, tzinfo=UTC)
SUMMARIES = """query($ids: [_Any!]!) { _entities(representations: $ids) {
  ... on Charter { reference vehicleTypeSummary } } }"""


async def charter(sessions: Any, reference: str, *types: VehicleType) -> uuid.UUID:
    async with sessions() as session, session.begin():
        row = Charter(
            reference=reference,
            status="quote",
            client_id=uuid.uuid4(),
            trip_type="one_way",
            passenger_count=20,
            pickup_local=PICKUP.replace(tzinfo=None),
            pickup_time_zone="UTC",
            pickup_at=PICKUP,
        )
        session.add(row)
        await session.flush()
        for position, kind in enumerate(types, start=1):
            session.add(
                CharterVehicle(
                    charter_id=row.id,
                    position=position,
                    vehicle_type_id=kind.id,
                    capacity=kind.capacity,
                    cost=Decimal("500.00"),
                    busy=Range(PICKUP, PICKUP + timedelta(hours=5), bounds="[)"),
                )
            )
        return row.id


async def fleet_types(sessions: Any) -> tuple[VehicleType, VehicleType]:
    async with sessions() as session, session.begin():
        coach = VehicleType(name="Motorcoach", capacity=56)
        mini = VehicleType(name="Minibus", capacity=24)
        session.add_all([coach, mini])
    return coach, mini


def test_names_are_distinct_sorted_and_joined() -> None:
    assert summary(["Motorcoach", "Minibus", "Motorcoach"]) == "Minibus + Motorcoach"
    assert summary(["Van"]) == "Van"
    assert summary([]) is None


async def test_many_charters_at_once_in_the_order_asked(sessions: Any) -> None:
    coach, mini = await fleet_types(sessions)
    mixed = await charter(sessions, "CH-2026-000001", coach, mini, coach)
    coaches = await charter(sessions, "CH-2026-000002", coach, coach)
    empty = await charter(sessions, "CH-2026-000003")

    async with sessions() as session:
        found = await vehicle_type_summaries(session, [empty, mixed, coaches, uuid.uuid4()])

    assert found == [None, "Minibus + Motorcoach", "Motorcoach", None]


async def test_readers_get_it_through_a_loader_in_a_constant_number_of_statements(
    sessions: Any, staff: Any
) -> None:
    coach, mini = await fleet_types(sessions)
    first = await charter(sessions, "CH-2026-000001", mini, coach)
    one = {"ids": [{"__typename": "Charter", "id": str(first)}]}
    (await staff(SUMMARIES, one)).ok()
    with record_statements() as recorder:
        (await staff(SUMMARIES, one)).ok()
    before = len(recorder.statements)
    more = [await charter(sessions, f"CH-2026-00001{i}", coach) for i in range(3)]
    many = {"ids": [{"__typename": "Charter", "id": str(c)} for c in (first, *more)]}
    with record_statements() as recorder:
        data = (await staff(SUMMARIES, many)).ok()["_entities"]
    after = len(recorder.statements)

    assert before == after
    assert [e["vehicleTypeSummary"] for e in data] == [
        "Minibus + Motorcoach",
        "Motorcoach",
        "Motorcoach",
        "Motorcoach",
    ]
