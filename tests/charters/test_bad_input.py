"""Invalid input to each mutation: a clear error naming the field, nothing changed."""

from __future__ import annotations

import uuid

import pytest

from tests.charters.ops import CHARTER, codes, read_charter
from tests.support.charters_fixtures import CREATE_CHARTER, future_local

UPDATE = """mutation($id: ID!, $input: UpdateCharterInput!) {
  updateCharter(id: $id, input: $input) { charter { id } changeCase { id } userErrors { field code message } } }"""
ADD_VEHICLE = """mutation($c: ID!, $v: CharterVehicleInput!) {
  addCharterVehicle(charterId: $c, vehicle: $v) { charter { id } userErrors { field code message } } }"""
REORDER = """mutation($c: ID!, $ids: [ID!]!) {
  reorderStops(charterId: $c, stopIds: $ids) { charter { id } userErrors { field code message } } }"""
ADD_STOP = """mutation($c: ID!, $stop: StopInput!) {
  addStop(charterId: $c, stop: $stop) { charter { id } userErrors { field code message } } }"""
COUNT = "{ charters { totalCount } }"


def _input(vehicle_type_id: str, client_id: str, **overrides):
    return {
        "clientId": client_id,
        "tripType": "ONE_WAY",
        "passengerCount": 20,
        "pickupLocal": future_local(10),
        "pickupTimeZone": "Europe/Berlin",
        "stops": [{"type": "PICKUP", "address": "A"}, {"type": "DROPOFF", "address": "B"}],
        "vehicles": [{"vehicleTypeId": vehicle_type_id, "cost": "100.00"}],
        **overrides,
    }


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"passengerCount": -1}, [("passengerCount", "OUT_OF_RANGE")]),
        ({"passengerCount": 0}, [("passengerCount", "OUT_OF_RANGE")]),
        ({"pickupLocal": "2019-06-01T09:00"}, [("pickupLocal", "IN_THE_PAST")]),
        ({"pickupLocal": "next tuesday"}, [("pickupLocal", "INVALID")]),
        ({"pickupTimeZone": "Mars/Olympus"}, [("pickupTimeZone", "INVALID_TIME_ZONE")]),
        (
            {"vehicles": [{"vehicleTypeId": str(uuid.uuid4()), "cost": "1.00"}]},
            [("vehicles.0.vehicleTypeId", "NOT_FOUND")],
        ),
        (
            {"stops": [{"type": "PICKUP", "address": "  "}]},
            [("stops.0.address", "REQUIRED")],
        ),
        (
            {"stops": [{"type": "PICKUP", "address": "A", "latitude": 95.0}]},
            [("stops.0.latitude", "OUT_OF_RANGE")],
        ),
    ],
)
async def test_create_charter_refuses_bad_input(
    staff, vehicle_type, known_client, overrides, expected
):
    vtype = await vehicle_type()
    client_id = await known_client()

    payload = (
        await staff(CREATE_CHARTER, {"input": _input(vtype["id"], client_id, **overrides)})
    ).ok()["createCharter"]

    assert payload["charter"] is None
    assert codes(payload) == expected
    assert (await staff(COUNT)).ok()["charters"]["totalCount"] == 0


@pytest.mark.parametrize(
    "cost",
    ["12.345", 12.5, 100],
    ids=["three-decimals", "float", "int"],
)
async def test_money_must_be_a_string_with_at_most_two_decimals(
    staff, vehicle_type, known_client, cost
):
    vtype = await vehicle_type()
    data = _input(
        vtype["id"], await known_client(), vehicles=[{"vehicleTypeId": vtype["id"], "cost": cost}]
    )

    response = await staff(CREATE_CHARTER, {"input": data})

    assert response.error_codes == ["BAD_USER_INPUT"]
    assert "Money" in response.errors[0]["message"]
    assert (await staff(COUNT)).ok()["charters"]["totalCount"] == 0


async def test_money_with_three_decimals_as_an_inline_literal(staff, bookable_charter):
    charter = await bookable_charter()

    response = await staff(
        'mutation($id: ID!) { cancelCharter(id: $id, reason: "x", fee: "1.005") { charter { id } } }',
        {"id": charter["id"]},
    )

    assert response.error_codes == ["BAD_USER_INPUT"]
    assert (await read_charter(staff, charter["id"]))["status"] == "QUOTE"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"passengerCount": -5}, [("passengerCount", "OUT_OF_RANGE")]),
        ({"pickupTimeZone": "Nowhere/Land"}, [("pickupTimeZone", "INVALID_TIME_ZONE")]),
        ({"pickupLocal": "2020-02-02T10:00"}, [("pickupLocal", "IN_THE_PAST")]),
        ({"pickupLocal": "2030-02-02T10:00+01:00"}, [("pickupLocal", "INVALID")]),
    ],
)
async def test_update_charter_refuses_bad_input(staff, bookable_charter, change, expected):
    charter = await bookable_charter()
    before = await read_charter(staff, charter["id"])

    payload = (await staff(UPDATE, {"id": charter["id"], "input": change})).ok()["updateCharter"]

    assert codes(payload) == expected
    assert await read_charter(staff, charter["id"]) == before


async def test_add_vehicle_with_an_unknown_type_or_negative_capacity(staff, bookable_charter):
    charter = await bookable_charter()
    before = await read_charter(staff, charter["id"])
    existing_type = (await staff(CHARTER, {"id": charter["id"]})).ok()["charter"]["vehicles"][0][
        "vehicleType"
    ]["id"]

    unknown = (
        await staff(
            ADD_VEHICLE,
            {"c": charter["id"], "v": {"vehicleTypeId": str(uuid.uuid4()), "cost": "1.00"}},
        )
    ).ok()["addCharterVehicle"]
    negative = (
        await staff(
            ADD_VEHICLE,
            {
                "c": charter["id"],
                "v": {"vehicleTypeId": existing_type, "cost": "1.00", "capacity": -4},
            },
        )
    ).ok()["addCharterVehicle"]
    negative_cost = (
        await staff(
            ADD_VEHICLE,
            {"c": charter["id"], "v": {"vehicleTypeId": existing_type, "cost": "-1.00"}},
        )
    ).ok()["addCharterVehicle"]

    assert codes(unknown) == [("vehicles.0.vehicleTypeId", "NOT_FOUND")]
    assert codes(negative) == [("vehicles.1.capacity", "OUT_OF_RANGE")]
    assert codes(negative_cost) == [("vehicles.1.cost", "OUT_OF_RANGE")]
    assert await read_charter(staff, charter["id"]) == before


async def test_reorder_with_gaps_or_duplicates_changes_nothing(staff, bookable_charter):
    charter = await bookable_charter()
    first, last = (s["id"] for s in charter["stops"])
    await staff(ADD_STOP, {"c": charter["id"], "stop": {"type": "WAYPOINT", "address": "M"}})
    before = await read_charter(staff, charter["id"])
    middle = before["stops"][1]["id"]

    duplicate = (await staff(REORDER, {"c": charter["id"], "ids": [first, first, last]})).ok()[
        "reorderStops"
    ]
    missing = (await staff(REORDER, {"c": charter["id"], "ids": [first, last]})).ok()[
        "reorderStops"
    ]
    foreign = (
        await staff(REORDER, {"c": charter["id"], "ids": [first, middle, str(uuid.uuid4())]})
    ).ok()["reorderStops"]
    not_an_id = (await staff(REORDER, {"c": charter["id"], "ids": [first, "x", last]})).ok()[
        "reorderStops"
    ]

    assert codes(duplicate) == [("stopIds", "INVALID")]
    assert "twice" in duplicate["userErrors"][0]["message"]
    assert codes(missing) == [("stopIds", "INVALID")]
    assert codes(foreign) == [("stopIds", "INVALID")]
    assert codes(not_an_id) == [("stopIds", "NOT_FOUND")]
    assert await read_charter(staff, charter["id"]) == before


async def test_an_unknown_charter_is_a_user_error(staff):
    payload = (await staff(UPDATE, {"id": str(uuid.uuid4()), "input": {"notes": "x"}})).ok()[
        "updateCharter"
    ]

    assert codes(payload) == [("id", "NOT_FOUND")]
