"""`charters.driver_assigned` (issue 14 §1): a driver put on a trip is announced for notifications.

No other event carries the driver's account id; notifications tells that
account of the trip, with the pickup in the pickup's own time zone.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from subgraphs.charters.models import Driver, outbox
from subgraphs.charters.service.events import DRIVER_ASSIGNED
from tests.charters.ops import ASSIGN, fleet_driver, fleet_vehicle
from tests.support.charters_fixtures import CREATE_CHARTER, future_local, register_client


async def announced(sessions: Any) -> list[dict[str, Any]]:
    async with sessions() as session:
        rows = await session.scalars(
            select(outbox.c.payload).where(outbox.c.topic == DRIVER_ASSIGNED).order_by(outbox.c.id)
        )
        return list(rows)


async def driver_user_id(sessions: Any, driver_id: str) -> str:
    async with sessions() as session:
        return str((await session.get_one(Driver, uuid.UUID(driver_id))).user_id)


async def test_a_driver_put_on_a_trip_is_announced_once_with_the_pickup_and_vehicle(
    staff, vehicle_type, sessions
):
    vtype = await vehicle_type(capacity=56)
    data = {
        "clientId": await register_client(staff),
        "tripType": "ONE_WAY",
        "passengerCount": 40,
        "pickupLocal": future_local(20, 9),
        "pickupTimeZone": "America/Denver",
        "stops": [
            {"type": "PICKUP", "address": "1701 Wynkoop St, Denver"},
            {"type": "DROPOFF", "address": "Red Rocks Amphitheatre"},
        ],
        "vehicles": [{"vehicleTypeId": vtype["id"], "cost": "900.00"}],
    }
    charter = (await staff(CREATE_CHARTER, {"input": data})).ok()["createCharter"]["charter"]
    cv = charter["vehicles"][0]["id"]
    vehicle = await fleet_vehicle(staff, vtype["id"])
    driver = await fleet_driver(staff)

    only_vehicle = (await staff(ASSIGN, {"cv": cv, "vehicle": vehicle["id"]})).ok()
    assert only_vehicle["assignCharterVehicle"]["userErrors"] == []
    assert await announced(sessions) == []  # a vehicle alone tells no driver

    first = (await staff(ASSIGN, {"cv": cv, "driver": driver["id"]})).ok()
    again = (await staff(ASSIGN, {"cv": cv, "driver": driver["id"]})).ok()  # the same driver

    assert first["assignCharterVehicle"]["userErrors"] == []
    assert again["assignCharterVehicle"]["userErrors"] == []
    [event] = await announced(sessions)
    assert event["charterId"] == charter["id"]
    assert event["charterVehicleId"] == cv
    assert event["driverUserId"] == await driver_user_id(sessions, driver["id"])
    assert event["driverName"] == "Dana Driver"
    assert event["reference"] == charter["reference"]
    assert event["pickupTimeZone"] == "America/Denver"
    assert event["pickupAt"]
    assert event["pickupAddress"] == "1701 Wynkoop St, Denver"
    assert event["passengerCount"] == 40
    assert event["vehicleDescription"].endswith("(56 seats)")
    assert vehicle["plate"] in event["vehicleDescription"]
