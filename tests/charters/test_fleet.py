"""Fleet and availability: busy, maintenance and blacked-out vehicles are not offered."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.charters.ops import ASSIGN, CANCEL, SET_STATUS, codes, fleet_vehicle, read_charter

AVAILABLE = """query($from: DateTime!, $to: DateTime!, $type: ID, $min: Int) {
  availableVehicles(startsAt: $from, endsAt: $to, vehicleTypeId: $type, minCapacity: $min) {
    id plate vehicleType { id capacity } } }"""
BLACKOUT = """mutation($from: Date!, $to: Date!, $kind: BlackoutKind!, $type: ID) {
  createBlackoutDate(startsOn: $from, endsOn: $to, kind: $kind, vehicleTypeId: $type) {
    blackoutDate { id } userErrors { field code message } } }"""
MAINTENANCE = """mutation($id: ID!) { setVehicleStatus(id: $id, status: MAINTENANCE) {
  vehicle { id status } userErrors { code } } }"""
CREATE_TYPE = """mutation($name: String!, $capacity: Int!) {
  createVehicleType(name: $name, capacity: $capacity) { vehicleType { id } userErrors { field code } } }"""


def _window(charter):
    start = datetime.fromisoformat(charter["pickupAt"].replace("Z", "+00:00"))
    return {"from": start.isoformat(), "to": (start + timedelta(hours=2)).isoformat()}


async def _pickup(staff, charter_id):
    data = (
        await staff(
            "query($id: ID!) { charter(id: $id) { pickupAt pickupLocal } }", {"id": charter_id}
        )
    ).ok()
    return data["charter"]


async def test_available_vehicles_skip_busy_and_maintenance_ones(
    staff, bookable_charter, vehicle_type
):
    coach = await vehicle_type(capacity=56)
    busy, repair, free = [await fleet_vehicle(staff, coach["id"]) for _ in range(3)]
    charter = await bookable_charter()
    await staff(ASSIGN, {"cv": charter["vehicles"][0]["id"], "vehicle": busy["id"]})
    await staff(MAINTENANCE, {"id": repair["id"]})
    window = _window(await _pickup(staff, charter["id"]))

    offered = (await staff(AVAILABLE, {**window, "type": coach["id"]})).ok()["availableVehicles"]
    await staff(CANCEL, {"id": charter["id"], "reason": "Called off"})
    after_cancel = (await staff(AVAILABLE, {**window, "type": coach["id"]})).ok()[
        "availableVehicles"
    ]

    assert [v["id"] for v in offered] == [free["id"]]
    assert {v["id"] for v in after_cancel} == {free["id"], busy["id"]}


async def test_available_vehicles_filter_by_minimum_capacity(staff, bookable_charter, vehicle_type):
    small = await vehicle_type(capacity=14)
    big = await vehicle_type(capacity=56)
    van = await fleet_vehicle(staff, small["id"])
    coach = await fleet_vehicle(staff, big["id"])
    charter = await bookable_charter()
    window = _window(await _pickup(staff, charter["id"]))

    everything = (await staff(AVAILABLE, window)).ok()["availableVehicles"]
    large = (await staff(AVAILABLE, {**window, "min": 20})).ok()["availableVehicles"]

    assert [v["id"] for v in everything] == [van["id"], coach["id"]]
    assert [v["id"] for v in large] == [coach["id"]]


async def test_blacked_out_types_are_not_offered_and_cannot_be_booked(
    staff, bookable_charter, vehicle_type
):
    charter = await bookable_charter()
    read = await read_charter(staff, charter["id"])
    vtype_id = read["vehicles"][0]["vehicleType"]["id"]
    other_type = await vehicle_type(capacity=30)
    blocked = await fleet_vehicle(staff, vtype_id)
    other = await fleet_vehicle(staff, other_type["id"])
    pickup = await _pickup(staff, charter["id"])
    window = _window(pickup)
    day = window["from"][:10]
    created = (
        await staff(BLACKOUT, {"from": day, "to": day, "kind": "MAINTENANCE", "type": vtype_id})
    ).ok()["createBlackoutDate"]

    offered = (await staff(AVAILABLE, window)).ok()["availableVehicles"]
    booking = (await staff(SET_STATUS, {"id": charter["id"], "status": "BOOKED"})).ok()[
        "setCharterStatus"
    ]

    assert created["userErrors"] == []
    assert [v["id"] for v in offered] == [other["id"]]
    assert blocked["id"] not in {v["id"] for v in offered}
    assert [e["code"] for e in booking["userErrors"]] == ["BLACKED_OUT"]
    assert (await read_charter(staff, charter["id"]))["status"] == "QUOTE"


async def test_a_global_blackout_offers_nothing(staff, bookable_charter, vehicle_type):
    coach = await vehicle_type()
    await fleet_vehicle(staff, coach["id"])
    charter = await bookable_charter()
    window = _window(await _pickup(staff, charter["id"]))
    day = window["from"][:10]
    await staff(BLACKOUT, {"from": day, "to": day, "kind": "HOLIDAY"})

    offered = (await staff(AVAILABLE, window)).ok()["availableVehicles"]

    assert offered == []


async def test_a_window_ending_before_it_starts_is_bad_input(staff):
    now = datetime.now().astimezone()

    response = await staff(
        AVAILABLE, {"from": now.isoformat(), "to": (now - timedelta(hours=1)).isoformat()}
    )

    assert response.error_codes == ["BAD_USER_INPUT"]


async def test_vehicle_type_input_is_checked(staff):
    zero = (await staff(CREATE_TYPE, {"name": "Tiny", "capacity": 0})).ok()["createVehicleType"]
    blank = (await staff(CREATE_TYPE, {"name": " ", "capacity": 10})).ok()["createVehicleType"]
    await staff(CREATE_TYPE, {"name": "Coach", "capacity": 50})
    duplicate = (await staff(CREATE_TYPE, {"name": "Coach", "capacity": 50})).ok()[
        "createVehicleType"
    ]
    types = (await staff("{ vehicleTypes { name } }")).ok()["vehicleTypes"]

    assert codes(zero) == [("capacity", "OUT_OF_RANGE")]
    assert codes(blank) == [("name", "INVALID")]
    assert codes(duplicate) == [("name", "CONFLICT")]
    assert types == [{"name": "Coach"}]


async def test_fleet_changes_are_for_fleet_staff(as_role, vehicle_type):
    coach = await vehicle_type()
    agent = await as_role("sales_agent")

    response = await agent(
        'mutation($t: ID!) { createVehicle(plate: "X-1", vehicleTypeId: $t) { vehicle { id } } }',
        {"t": coach["id"]},
    )

    assert response.error_codes == ["FORBIDDEN"]
