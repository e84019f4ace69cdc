"""One vehicle, one driver: never on two overlapping trips, whatever the concurrency."""

from __future__ import annotations

import asyncio
import re

from tests.charters.ops import (
    ASSIGN,
    CANCEL,
    codes,
    fleet_driver,
    fleet_vehicle,
    read_charter,
)
from tests.support.charters_fixtures import CREATE_CHARTER, future_local, register_client

ATTEMPTS = 50


async def _charters(staff, type_id, count, hour=9):
    client_id = await register_client(staff)

    async def one(i):
        data = {
            "clientId": client_id,
            "tripType": "ONE_WAY",
            "passengerCount": 30,
            "pickupLocal": future_local(30, hour + (i % 3)),
            "pickupTimeZone": "America/Chicago",
            "stops": [
                {"type": "PICKUP", "address": f"{i} Main St"},
                {"type": "DROPOFF", "address": "Arena"},
            ],
            "vehicles": [{"vehicleTypeId": type_id, "cost": "800.00"}],
        }
        payload = (await staff(CREATE_CHARTER, {"input": data})).ok()["createCharter"]
        assert payload["userErrors"] == []
        return payload["charter"]

    return [await one(i) for i in range(count)]


async def _race(staff, charters, **resource):
    async def attempt(charter):
        variables = {"cv": charter["vehicles"][0]["id"], **resource}
        return charter, (await staff(ASSIGN, variables)).ok()["assignCharterVehicle"]

    return await asyncio.gather(*(attempt(c) for c in charters))


async def test_fifty_concurrent_assignments_of_one_vehicle_one_wins(staff, vehicle_type):
    vtype = await vehicle_type()
    vehicle = await fleet_vehicle(staff, vtype["id"])
    charters = await _charters(staff, vtype["id"], ATTEMPTS)

    results = await _race(staff, charters, vehicle=vehicle["id"])

    winners = [c for c, p in results if p["userErrors"] == []]
    losers = [p for _, p in results if p["userErrors"]]
    assert len(winners) == 1
    assert len(losers) == ATTEMPTS - 1
    winner = winners[0]["reference"]
    for payload in losers:
        assert codes(payload) == [("vehicleId", "CONFLICT")]
        assert winner in payload["userErrors"][0]["message"]
        assert payload["charterVehicle"] is None
    assigned = [(await read_charter(staff, c["id"]))["vehicles"][0]["vehicle"] for c in charters]
    assert assigned.count({"id": vehicle["id"]}) == 1
    assert assigned.count(None) == ATTEMPTS - 1


async def test_fifty_concurrent_assignments_of_one_driver_one_wins(staff, vehicle_type):
    vtype = await vehicle_type()
    driver = await fleet_driver(staff)
    charters = await _charters(staff, vtype["id"], ATTEMPTS)

    results = await _race(staff, charters, driver=driver["id"])

    winners = [c for c, p in results if p["userErrors"] == []]
    losers = [p for _, p in results if p["userErrors"]]
    assert len(winners) == 1
    assert len(losers) == ATTEMPTS - 1
    for payload in losers:
        assert codes(payload) == [("driverId", "CONFLICT")]
        assert winners[0]["reference"] in payload["userErrors"][0]["message"]


async def test_trips_that_do_not_overlap_share_a_vehicle(staff, vehicle_type):
    vtype = await vehicle_type()
    vehicle = await fleet_vehicle(staff, vtype["id"])
    morning = (await _charters(staff, vtype["id"], 1, hour=6))[0]
    evening = (await _charters(staff, vtype["id"], 1, hour=14))[0]

    first = await staff(ASSIGN, {"cv": morning["vehicles"][0]["id"], "vehicle": vehicle["id"]})
    second = await staff(ASSIGN, {"cv": evening["vehicles"][0]["id"], "vehicle": vehicle["id"]})

    assert first.ok()["assignCharterVehicle"]["userErrors"] == []
    assert second.ok()["assignCharterVehicle"]["userErrors"] == []


async def test_a_cancelled_charter_frees_its_vehicle(staff, vehicle_type):
    vtype = await vehicle_type()
    vehicle = await fleet_vehicle(staff, vtype["id"])
    first, second = await _charters(staff, vtype["id"], 2)
    await staff(ASSIGN, {"cv": first["vehicles"][0]["id"], "vehicle": vehicle["id"]})

    blocked = (
        await staff(ASSIGN, {"cv": second["vehicles"][0]["id"], "vehicle": vehicle["id"]})
    ).ok()["assignCharterVehicle"]
    await staff(CANCEL, {"id": first["id"], "reason": "Client withdrew"})
    freed = (
        await staff(ASSIGN, {"cv": second["vehicles"][0]["id"], "vehicle": vehicle["id"]})
    ).ok()["assignCharterVehicle"]

    assert codes(blocked) == [("vehicleId", "CONFLICT")]
    assert re.search(first["reference"], blocked["userErrors"][0]["message"])
    assert freed["userErrors"] == []
    assert freed["charterVehicle"]["vehicle"] == {"id": vehicle["id"]}


async def test_a_vehicle_in_maintenance_cannot_be_assigned(staff, vehicle_type):
    vtype = await vehicle_type()
    vehicle = await fleet_vehicle(staff, vtype["id"])
    (charter,) = await _charters(staff, vtype["id"], 1)
    await staff(
        "mutation($id: ID!) { setVehicleStatus(id: $id, status: MAINTENANCE) { vehicle { id } } }",
        {"id": vehicle["id"]},
    )

    payload = (
        await staff(ASSIGN, {"cv": charter["vehicles"][0]["id"], "vehicle": vehicle["id"]})
    ).ok()["assignCharterVehicle"]

    assert codes(payload) == [("vehicleId", "VEHICLE_UNAVAILABLE")]
