"""Itinerary edits keep positions 1..n, even under concurrent edits."""

from __future__ import annotations

import asyncio

from tests.charters.ops import SET_STATUS, codes, read_charter

STOP_PAYLOAD = "charter { stops { id position type address } } changeCase { id } userErrors { field code message }"

ADD = f"""mutation($c: ID!, $stop: StopInput!, $position: Int) {{
  addStop(charterId: $c, stop: $stop, position: $position) {{ {STOP_PAYLOAD} }} }}"""
UPDATE = f"""mutation($c: ID!, $s: ID!, $stop: StopPatch!) {{
  updateStop(charterId: $c, stopId: $s, stop: $stop) {{ {STOP_PAYLOAD} }} }}"""
REMOVE = f"""mutation($c: ID!, $s: ID!) {{
  removeStop(charterId: $c, stopId: $s) {{ {STOP_PAYLOAD} }} }}"""
REORDER = f"""mutation($c: ID!, $ids: [ID!]!) {{
  reorderStops(charterId: $c, stopIds: $ids) {{ {STOP_PAYLOAD} }} }}"""


def _layout(stops):
    return [(s["position"], s["type"], s["address"]) for s in stops]


async def test_add_edit_remove_and_reorder_keep_positions_gapless(staff, bookable_charter):
    charter = await bookable_charter()
    pickup, dropoff = (s["id"] for s in charter["stops"])

    added = (
        await staff(
            ADD,
            {"c": charter["id"], "stop": {"type": "WAYPOINT", "address": "Museum"}, "position": 2},
        )
    ).ok()["addStop"]
    museum = added["charter"]["stops"][1]["id"]
    await staff(
        ADD, {"c": charter["id"], "stop": {"type": "WAYPOINT", "address": "Lunch"}, "position": 3}
    )
    updated = (
        await staff(UPDATE, {"c": charter["id"], "s": museum, "stop": {"address": "Art Museum"}})
    ).ok()["updateStop"]
    lunch = updated["charter"]["stops"][2]["id"]
    reordered = (
        await staff(REORDER, {"c": charter["id"], "ids": [pickup, lunch, museum, dropoff]})
    ).ok()["reorderStops"]
    removed = (await staff(REMOVE, {"c": charter["id"], "s": lunch})).ok()["removeStop"]

    assert _layout(added["charter"]["stops"]) == [
        (1, "PICKUP", "1 Main St, Springfield"),
        (2, "WAYPOINT", "Museum"),
        (3, "DROPOFF", "9 Lake Rd, Shelbyville"),
    ]
    assert _layout(updated["charter"]["stops"])[1] == (2, "WAYPOINT", "Art Museum")
    assert [s["address"] for s in reordered["charter"]["stops"]] == [
        "1 Main St, Springfield",
        "Lunch",
        "Art Museum",
        "9 Lake Rd, Shelbyville",
    ]
    assert [s["position"] for s in reordered["charter"]["stops"]] == [1, 2, 3, 4]
    assert _layout(removed["charter"]["stops"]) == [
        (1, "PICKUP", "1 Main St, Springfield"),
        (2, "WAYPOINT", "Art Museum"),
        (3, "DROPOFF", "9 Lake Rd, Shelbyville"),
    ]


async def test_a_position_out_of_range_is_refused(staff, bookable_charter):
    charter = await bookable_charter()

    payload = (
        await staff(
            ADD, {"c": charter["id"], "stop": {"type": "WAYPOINT", "address": "X"}, "position": 4}
        )
    ).ok()["addStop"]

    assert codes(payload) == [("position", "OUT_OF_RANGE")]
    assert len((await read_charter(staff, charter["id"]))["stops"]) == 2


async def test_ten_concurrent_adds_and_reorders_leave_positions_1_to_n(staff, bookable_charter):
    charter = await bookable_charter()
    original = [s["id"] for s in charter["stops"]]

    async def add(i):
        return (
            await staff(ADD, {"c": charter["id"], "stop": {"type": "WAYPOINT", "address": f"W{i}"}})
        ).ok()["addStop"]

    async def reorder():
        return (await staff(REORDER, {"c": charter["id"], "ids": original[::-1]})).ok()[
            "reorderStops"
        ]

    results = await asyncio.gather(*(add(i) if i % 2 else reorder() for i in range(10)))
    final = (await read_charter(staff, charter["id"]))["stops"]

    adds = [r for i, r in enumerate(results) if i % 2]
    assert all(r["userErrors"] == [] for r in adds)
    assert len(final) == 2 + 5
    assert [s["position"] for s in final] == list(range(1, 8))
    assert sorted(s["address"] for s in final if s["type"] == "WAYPOINT") == [
        f"W{i}" for i in (1, 3, 5, 7, 9)
    ]
    assert len({s["id"] for s in final}) == 7
    for i, result in enumerate(results):
        if i % 2 == 0 and result["userErrors"]:
            assert codes(result) == [("stopIds", "INVALID")]


async def test_booking_needs_a_pickup_first_and_a_dropoff_last(staff, bookable_charter):
    charter = await bookable_charter()
    pickup, dropoff = (s["id"] for s in charter["stops"])
    await staff(REORDER, {"c": charter["id"], "ids": [dropoff, pickup]})

    reversed_ = (await staff(SET_STATUS, {"id": charter["id"], "status": "BOOKED"})).ok()[
        "setCharterStatus"
    ]
    await staff(REMOVE, {"c": charter["id"], "s": pickup})
    single = (await staff(SET_STATUS, {"id": charter["id"], "status": "BOOKED"})).ok()[
        "setCharterStatus"
    ]

    assert sorted(e["message"] for e in reversed_["userErrors"]) == [
        "The first stop must be a pickup.",
        "The last stop must be a drop-off.",
    ]
    assert {e["code"] for e in reversed_["userErrors"]} == {"INVALID_ITINERARY"}
    assert codes(single) == [("stops", "INVALID_ITINERARY")]
    assert (await read_charter(staff, charter["id"]))["status"] == "QUOTE"


async def test_an_itinerary_edit_on_a_booked_charter_files_a_case(staff, bookable_charter):
    charter = await bookable_charter()
    await staff(SET_STATUS, {"id": charter["id"], "status": "BOOKED"})

    payload = (
        await staff(ADD, {"c": charter["id"], "stop": {"type": "WAYPOINT", "address": "Zoo"}})
    ).ok()["addStop"]

    assert payload["changeCase"] is not None
    assert len(payload["charter"]["stops"]) == 2
