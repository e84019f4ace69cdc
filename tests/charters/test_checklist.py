"""The pre-trip checklist: managers configure the items, each trip's driver ticks them once."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from subgraphs.charters.models import AuditEntry, ChecklistItem
from tests.charters.driver_app_ops import TRIP, driver_trips, run

SET_ITEMS = """mutation($items: [ChecklistItemInput!]!) { setChecklistItems(items: $items) {
  items { id label position active } userErrors { field code message } } }"""
COMPLETE_ITEM = """mutation($tripId: ID!, $itemId: ID!) {
  completeChecklistItem(tripId: $tripId, itemId: $itemId) {
    trip { checklist { item { id label } done completedAt completedBy { id } } }
    userErrors { field code message } } }"""
ITEMS = "query($all: Boolean!) { checklistItems(includeRetired: $all) { id label active } }"


def codes(payload: dict) -> list[tuple[str | None, str]]:
    return [(e["field"], e["code"]) for e in payload["userErrors"]]


async def test_a_driver_ticks_each_item_once_and_retired_items_keep_their_ticks(
    staff, bookable_charter, as_role, sessions
):
    set_up = await run(staff, SET_ITEMS, items=[{"label": "Tyres"}, {"label": "Lights"}])
    assert set_up["userErrors"] == []
    tyres, lights = set_up["items"]
    assert [(i["label"], i["position"], i["active"]) for i in set_up["items"]] == [
        ("Tyres", 1, True),
        ("Lights", 2, True),
    ]
    (trip,) = await driver_trips(staff, bookable_charter, as_role)
    before = (await trip.driver(TRIP, {"id": trip.trip_id})).ok()["trip"]["checklist"]
    assert [(e["item"]["label"], e["done"]) for e in before] == [
        ("Tyres", False),
        ("Lights", False),
    ]

    ticked = await run(trip.driver, COMPLETE_ITEM, tripId=trip.trip_id, itemId=tyres["id"])

    assert ticked["userErrors"] == []
    entry = ticked["trip"]["checklist"][0]
    assert entry["done"] is True
    assert entry["completedBy"] == {"id": str(trip.user_id)}
    assert entry["completedAt"] is not None
    again = await run(trip.driver, COMPLETE_ITEM, tripId=trip.trip_id, itemId=tyres["id"])
    assert codes(again) == [("itemId", "CONFLICT")]

    # Tyres retired, Lights relabelled and moved, Mirrors added.
    reset = await run(
        staff,
        SET_ITEMS,
        items=[{"label": "Mirrors"}, {"id": lights["id"], "label": "Head and tail lights"}],
    )
    assert reset["userErrors"] == []
    after = (await trip.driver(TRIP, {"id": trip.trip_id})).ok()["trip"]["checklist"]
    assert [(e["item"]["label"], e["done"]) for e in after] == [
        ("Mirrors", False),
        ("Head and tail lights", False),
        ("Tyres", True),
    ]
    retired = await run(trip.driver, COMPLETE_ITEM, tripId=trip.trip_id, itemId=tyres["id"])
    assert codes(retired) == [("itemId", "NOT_FOUND")]
    active = (await trip.driver(ITEMS, {"all": False})).ok()["checklistItems"]
    assert [i["label"] for i in active] == ["Mirrors", "Head and tail lights"]
    async with sessions() as session:
        audited = await session.scalar(
            select(AuditEntry.new).where(
                AuditEntry.charter_id == uuid.UUID(trip.charter["id"]),
                AuditEntry.action == "trip:checklist",
            )
        )
    assert audited["label"] == "Tyres"
    assert audited["completed_by"] == str(trip.user_id)


async def test_bad_checklists_are_user_errors_and_change_nothing(staff, sessions):
    assert (await run(staff, SET_ITEMS, items=[{"label": "Fuel"}]))["userErrors"] == []
    async with sessions() as session:
        before = sorted(
            (r.label, r.active, r.position) for r in await session.scalars(select(ChecklistItem))
        )

    blank = await run(staff, SET_ITEMS, items=[{"label": "Fuel"}, {"label": "  "}])
    twice = await run(staff, SET_ITEMS, items=[{"label": "Fuel"}, {"label": "fuel"}])
    too_long = await run(staff, SET_ITEMS, items=[{"label": "x" * 201}])
    unknown = await run(staff, SET_ITEMS, items=[{"id": str(uuid.uuid4()), "label": "Oil"}])

    assert codes(blank) == [("items", "REQUIRED")]
    assert codes(twice) == [("items", "CONFLICT")]
    assert codes(too_long) == [("items", "TOO_LONG")]
    assert codes(unknown) == [("items", "NOT_FOUND")]
    async with sessions() as session:
        after = sorted(
            (r.label, r.active, r.position) for r in await session.scalars(select(ChecklistItem))
        )
    assert after == before


async def test_only_managers_configure_and_only_the_trips_driver_ticks(
    staff, bookable_charter, as_role
):
    items = (await run(staff, SET_ITEMS, items=[{"label": "Doors"}]))["items"]
    (trip,), (other,) = (
        await driver_trips(staff, bookable_charter, as_role),
        await driver_trips(staff, bookable_charter, as_role),
    )
    dispatcher = await as_role("dispatcher")

    refused = await dispatcher(SET_ITEMS, {"items": [{"label": "Nope"}]})
    assert refused.error_codes == ["FORBIDDEN"]
    stranger = await run(other.driver, COMPLETE_ITEM, tripId=trip.trip_id, itemId=items[0]["id"])
    assert codes(stranger) == [("tripId", "NOT_FOUND")]
    checklist = (await staff(TRIP, {"id": trip.trip_id})).ok()["trip"]["checklist"]
    assert [(e["item"]["label"], e["done"]) for e in checklist] == [("Doors", False)]
