from __future__ import annotations

import re

SET_STATUS = """
mutation($id: ID!, $status: CharterStatus!) {
  setCharterStatus(id: $id, status: $status) { charter { id status } userErrors { field code message } }
}"""


async def test_create_charter_gives_reference_stops_vehicles_and_totals(bookable_charter):
    charter = await bookable_charter(passengers=90, vehicles=2)

    assert re.fullmatch(r"CH-\d{4}-\d{6}", charter["reference"])
    assert charter["status"] == "QUOTE"
    assert [s["type"] for s in charter["stops"]] == ["PICKUP", "DROPOFF"]
    assert [s["position"] for s in charter["stops"]] == [1, 2]
    assert charter["totalCapacity"] == 112
    assert charter["totalCost"] == "2500.00"


async def test_booking_needs_capacity_for_every_passenger(staff, bookable_charter):
    charter = await bookable_charter(passengers=60, vehicles=1)

    payload = (await staff(SET_STATUS, {"id": charter["id"], "status": "BOOKED"})).ok()[
        "setCharterStatus"
    ]

    assert payload["charter"] is None
    assert [e["code"] for e in payload["userErrors"]] == ["INSUFFICIENT_CAPACITY"]


async def test_status_moves_only_along_the_table(staff, bookable_charter):
    charter = await bookable_charter()

    skipped = (await staff(SET_STATUS, {"id": charter["id"], "status": "COMPLETED"})).ok()[
        "setCharterStatus"
    ]
    booked = (await staff(SET_STATUS, {"id": charter["id"], "status": "BOOKED"})).ok()[
        "setCharterStatus"
    ]

    assert skipped["userErrors"][0]["code"] == "INVALID_TRANSITION"
    assert booked["charter"]["status"] == "BOOKED"
