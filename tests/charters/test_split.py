"""Splitting a charter into two with a passenger distribution."""

from __future__ import annotations

import uuid

from tests.charters.ops import (
    ASSIGN,
    CHARTER_FIELDS,
    book,
    codes,
    fleet_vehicle,
    nodes,
    read_charter,
)

SPLIT = f"""mutation($id: ID!, $passengers: Int!, $vehicles: [ID!]!) {{
  splitCharter(id: $id, passengersToNew: $passengers, vehicleIds: $vehicles) {{
    original {{ {CHARTER_FIELDS} }} charter {{ {CHARTER_FIELDS} }}
    userErrors {{ field code message }} }} }}"""

AUDIT = """query($id: ID!) { charter(id: $id) {
  auditLog(first: 100) { edges { node { entity entityId action actor { id } old new } } } } }"""


async def _split(client, charter_id, passengers, vehicle_ids):
    return (
        await client(SPLIT, {"id": charter_id, "passengers": passengers, "vehicles": vehicle_ids})
    ).ok()["splitCharter"]


async def test_a_booked_charter_splits_passengers_and_vehicles(as_role, staff, bookable_charter):
    charter = await bookable_charter(passengers=90, vehicles=2)
    await book(staff, charter["id"])
    charter = await read_charter(staff, charter["id"])
    moved = charter["vehicles"][1]
    vehicle = await fleet_vehicle(staff, moved["vehicleType"]["id"])
    await staff(ASSIGN, {"cv": moved["id"], "vehicle": vehicle["id"]})
    support_id = uuid.uuid4()
    support = await as_role("sales_support", user_id=support_id)

    payload = await _split(support, charter["id"], 40, [moved["id"]])
    original = await read_charter(staff, charter["id"])
    new = await read_charter(staff, payload["charter"]["id"])

    assert payload["userErrors"] == []
    assert original["passengerCount"] == 50
    assert [v["id"] for v in original["vehicles"]] == [charter["vehicles"][0]["id"]]
    assert original["splitFrom"] is None
    assert new["passengerCount"] == 40
    assert new["status"] == "BOOKED"
    assert new["reference"] != original["reference"]
    assert new["splitFrom"] == {"id": original["id"], "reference": original["reference"]}
    assert [v["id"] for v in new["vehicles"]] == [moved["id"]]
    assert new["vehicles"][0]["vehicle"] == {"id": vehicle["id"]}
    assert [(s["position"], s["type"], s["address"]) for s in new["stops"]] == [
        (s["position"], s["type"], s["address"]) for s in original["stops"]
    ]
    assert {s["id"] for s in new["stops"]}.isdisjoint({s["id"] for s in original["stops"]})
    assert new["pickupLocal"] == original["pickupLocal"]

    original_log = nodes((await staff(AUDIT, {"id": charter["id"]})).ok()["charter"]["auditLog"])
    new_log = nodes((await staff(AUDIT, {"id": new["id"]})).ok()["charter"]["auditLog"])
    split_entry = next(e for e in original_log if e["action"] == "split")
    assert split_entry["actor"] == {"id": str(support_id)}
    assert split_entry["old"]["passenger_count"] == 90
    assert split_entry["new"]["passenger_count"] == 50
    assert split_entry["new"]["split_into"] == new["reference"]
    assert any(e["action"] == "split:move" and e["entityId"] == moved["id"] for e in original_log)
    assert {e["action"] for e in new_log} >= {"split:create", "split:move", "add"}
    assert all(e["actor"] == {"id": str(support_id)} for e in new_log)


async def test_each_side_of_a_booked_split_must_seat_its_passengers(staff, bookable_charter):
    charter = await bookable_charter(passengers=90, vehicles=2)  # 2 x 56 seats
    await book(staff, charter["id"])
    second = charter["vehicles"][1]["id"]

    too_many_moved = await _split(staff, charter["id"], 60, [second])
    too_many_left = await _split(staff, charter["id"], 20, [second])
    no_vehicle = await _split(staff, charter["id"], 10, [])
    after = await read_charter(staff, charter["id"])

    assert codes(too_many_moved) == [("vehicleIds", "INSUFFICIENT_CAPACITY")]
    assert codes(too_many_left) == [("passengersToNew", "INSUFFICIENT_CAPACITY")]
    assert codes(no_vehicle) == [("vehicleIds", "INSUFFICIENT_CAPACITY")]
    assert after["passengerCount"] == 90
    assert len(after["vehicles"]) == 2
    charters = (await staff("{ charters { totalCount } }")).ok()["charters"]
    assert charters["totalCount"] == 1


async def test_bad_split_input_is_refused(staff, bookable_charter, vehicle_type):
    charter = await bookable_charter(passengers=40, vehicles=1)
    other = await bookable_charter()

    nobody = await _split(staff, charter["id"], 0, [])
    everybody = await _split(staff, charter["id"], 40, [])
    foreign = await _split(staff, charter["id"], 5, [other["vehicles"][0]["id"]])
    twice = await _split(
        staff, charter["id"], 5, [charter["vehicles"][0]["id"], charter["vehicles"][0]["id"]]
    )

    assert codes(nobody) == [("passengersToNew", "OUT_OF_RANGE")]
    assert codes(everybody) == [("passengersToNew", "OUT_OF_RANGE")]
    assert codes(foreign) == [("vehicleIds", "NOT_FOUND")]
    assert codes(twice) == [("vehicleIds", "INVALID")]
    assert (await read_charter(staff, charter["id"]))["passengerCount"] == 40


async def test_a_quote_splits_without_capacity_rules(staff, bookable_charter):
    charter = await bookable_charter(passengers=40, vehicles=1)

    payload = await _split(staff, charter["id"], 15, [])

    assert payload["userErrors"] == []
    assert payload["original"]["passengerCount"] == 25
    assert payload["charter"]["passengerCount"] == 15
    assert payload["charter"]["status"] == "QUOTE"
    assert payload["charter"]["vehicles"] == []


async def test_only_staff_who_edit_any_charter_split_a_booked_one(as_role, staff, bookable_charter):
    agent_id = uuid.uuid4()
    agent = await as_role("sales_agent", user_id=agent_id)
    charter = await bookable_charter(passengers=90, vehicles=2, salesAgentId=str(agent_id))
    quote = await bookable_charter(passengers=90, vehicles=2, salesAgentId=str(agent_id))
    await book(staff, charter["id"])

    refused = await _split(agent, charter["id"], 40, [charter["vehicles"][1]["id"]])
    allowed = await _split(agent, quote["id"], 40, [quote["vehicles"][1]["id"]])

    assert codes(refused) == [(None, "FORBIDDEN")]
    assert allowed["userErrors"] == []
    assert (await read_charter(staff, charter["id"]))["passengerCount"] == 90
