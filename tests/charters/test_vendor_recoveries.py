"""`Vendor.recoveryCount`: recovery cases opened in a window against the vendor that held the vehicle.

Cases are written straight to charters' tables; the counts are read through
the service (plain values, a session) and, as the router asks (`_entities`),
through the subgraph for who reads them and the statement count.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.dialects.postgresql import Range

from db.engine import record_statements
from subgraphs.charters.models import (
    Charter,
    CharterVehicle,
    RecoveryCase,
    VehicleType,
    VendorAccount,
)
from subgraphs.charters.service.vendor_recoveries import recovery_counts, window
from subgraphs.kit.errors import ServiceError

NOW = datetime(2026, 6, 15, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)
RECOVERIES = """query($r: [_Any!]!, $from: DateTime, $to: DateTime) {
  _entities(representations: $r) { ... on Vendor { id recoveryCount(from: $from, to: $to) } } }"""


def vendors(*ids: uuid.UUID) -> dict[str, Any]:
    return {"r": [{"__typename": "Vendor", "id": str(i)} for i in ids]}


async def cases(sessions: Any, *opened: tuple[uuid.UUID | None, datetime, str, str]) -> None:
    """One charter vehicle per case (vendor held it, opened at, status, subject)."""
    async with sessions() as session, session.begin():
        charter = Charter(
            reference=f"CH-2026-{uuid.uuid4().int % 10**6:06d}",
            status="booked",
            client_id=uuid.uuid4(),
            trip_type="one_way",
            passenger_count=20,
            pickup_local=datetime(2026, 7, 1, 9),
            pickup_time_zone="UTC",
            pickup_at=datetime(2026, 7, 1, 9, tzinfo=UTC),
        )
        coach = VehicleType(name=f"Coach {uuid.uuid4().hex[:6]}", capacity=50)
        session.add_all([charter, coach])
        await session.flush()
        for position, (vendor, at, status, subject) in enumerate(opened, start=1):
            vehicle = CharterVehicle(
                charter_id=charter.id,
                position=position,
                vehicle_type_id=coach.id,
                capacity=50,
                cost=Decimal("900.00"),
                busy=Range(charter.pickup_at, charter.pickup_at + DAY, bounds="[)"),
            )
            session.add(vehicle)
            await session.flush()
            session.add(
                RecoveryCase(
                    charter_id=charter.id,
                    charter_vehicle_id=vehicle.id,
                    subject=subject,
                    status=status,
                    reason="vendor_declined" if subject == "vendor" else "driver_unavailable",
                    opened_at=at,
                    previous_vendor_id=vendor,
                )
            )


async def test_cases_count_for_the_vendor_that_held_the_vehicle_when_they_opened(
    sessions: Any,
) -> None:
    first, second, idle = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await cases(
        sessions,
        (first, NOW - 10 * DAY, "pending", "vendor"),
        (first, NOW - 89 * DAY, "resolved", "vendor"),  # resolved since: still a recovery
        (first, NOW - 91 * DAY, "resolved", "vendor"),  # before the window
        (first, NOW, "pending", "vendor"),  # the window's end is excluded
        (second, NOW - DAY, "vendor_search", "vendor"),
        (None, NOW - DAY, "pending", "driver"),  # the operator's driver: no vendor's
    )
    start, end = window(None, None, NOW)

    async with sessions() as session:
        counts = await recovery_counts(session, [first, second, idle], start, end)

    assert (start, end) == (NOW - 90 * DAY, NOW)
    assert counts == {first: 2, second: 1, idle: 0}


def test_a_window_defaults_to_the_90_days_to_now_and_is_checked() -> None:
    assert window(NOW - DAY, None, NOW) == (NOW - DAY, NOW)
    assert window(None, NOW - DAY, NOW) == (NOW - 91 * DAY, NOW - DAY)
    with pytest.raises(ServiceError):
        window(NOW, NOW - DAY, NOW)
    with pytest.raises(ServiceError):
        window(NOW - 400 * DAY, None, NOW)


async def test_staff_read_any_vendor_a_vendor_only_its_own_in_constant_statements(
    sessions: Any, staff: Any, as_role: Any
) -> None:
    mine, other = uuid.uuid4(), uuid.uuid4()
    login = uuid.uuid4()
    async with sessions() as session, session.begin():
        session.add(VendorAccount(user_id=login, vendor_id=mine))
    recent = datetime.now(UTC) - DAY
    await cases(sessions, (mine, recent, "pending", "vendor"))
    one = (await staff(RECOVERIES, vendors(mine))).ok()
    with record_statements() as recorder:
        (await staff(RECOVERIES, vendors(mine))).ok()
    before = len(recorder.statements)
    await cases(
        sessions,
        (other, recent, "pending", "vendor"),
        (other, recent, "resolved", "vendor"),
    )
    with record_statements() as recorder:
        both = (await staff(RECOVERIES, vendors(mine, other, uuid.uuid4()))).ok()
    after = len(recorder.statements)
    vendor = await as_role("vendor", user_id=login)
    own = await vendor(RECOVERIES, vendors(mine))
    others = await vendor(RECOVERIES, vendors(other))
    client = await (await as_role("client"))(RECOVERIES, vendors(mine))
    dispatcher = await (await as_role("dispatcher"))(RECOVERIES, vendors(other))
    long = await staff(
        RECOVERIES,
        {**vendors(mine), "from": (recent - 400 * DAY).isoformat(), "to": recent.isoformat()},
    )

    assert one["_entities"][0]["recoveryCount"] == 1
    assert before == after
    assert [e["recoveryCount"] for e in both["_entities"]] == [1, 2, 0]
    assert own.ok()["_entities"][0]["recoveryCount"] == 1
    assert others.error_codes == ["FORBIDDEN"]
    assert client.error_codes == ["FORBIDDEN"]
    assert dispatcher.ok()["_entities"][0]["recoveryCount"] == 2
    assert long.error_codes == ["BAD_USER_INPUT"]
