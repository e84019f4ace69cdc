"""The driver app's trip: detail, confirm, start, stop by stop, complete, notes.

Given a charter picking up within the hour with its coach and driver
assigned, the driver runs the trip through the charters subgraph; each step
is checked against the stops' order and the transition tables, audited and
announced to the dispatch board.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from subgraphs.charters.models import AuditEntry, Confirmation, DispatchTask, SpecialInstruction
from subgraphs.kit.settings import get_settings
from tests.charters.driver_app_ops import (
    ARRIVE,
    COMPLETE,
    CONFIRM,
    DEPART,
    NOTE,
    START,
    TRIP,
    board_events,
    driver_trips,
    run,
)

MY_TRIPS = "{ myTrips { id charter { reference } } }"
INSTRUCT = """mutation($id: ID!, $input: CharterInstructionsInput!) {
  setCharterInstructions(id: $id, input: $input) { userErrors { field code message } } }"""


def invalid(field: str) -> list[dict[str, str]]:
    return [{"field": field, "code": "INVALID_TRANSITION"}]


def codes(payload: dict) -> list[dict[str, str]]:
    return [{"field": e["field"], "code": e["code"]} for e in payload["userErrors"]]


async def test_a_driver_reads_its_trip_in_full_without_money(
    staff, bookable_charter, as_role, sessions
):
    (trip,) = await driver_trips(staff, bookable_charter, as_role)
    instructed = (
        await staff(
            INSTRUCT,
            {
                "id": trip.charter["id"],
                "input": {
                    "pickupContactName": "Pat Lee",
                    "pickupContactPhone": "+1 312 555 0100",
                    "driverInstructions": "North gate.",
                },
            },
        )
    ).ok()["setCharterInstructions"]
    assert instructed["userErrors"] == []
    charter_id = uuid.UUID(trip.charter["id"])
    async with sessions() as session, session.begin():
        session.add_all(
            [
                SpecialInstruction(
                    charter_id=charter_id,
                    kind="equipment",
                    text="Wheelchair lift",
                    visible_to_driver=True,
                ),
                SpecialInstruction(
                    charter_id=charter_id,
                    kind="safety",
                    priority="critical",
                    text="Low bridge on Elm St",
                    visible_to_driver=True,
                ),
                SpecialInstruction(
                    charter_id=charter_id,
                    kind="pickup",
                    text="Vendors only",
                    visible_to_vendor=True,
                ),
                SpecialInstruction(
                    charter_id=charter_id,
                    kind="pickup",
                    text="Removed",
                    visible_to_driver=True,
                    removed_at=datetime.now().astimezone(),
                ),
            ]
        )

    detail = (await trip.driver(TRIP, {"id": trip.trip_id})).ok()["trip"]

    assert detail["reference"] == trip.charter["reference"]
    assert detail["charterStatus"] == "CONFIRMED"
    assert detail["passengerCount"] == 40
    assert detail["pickupContact"] == {"name": "Pat Lee", "phone": "+1 312 555 0100"}
    assert detail["driverInstructions"] == "North gate."
    assert detail["dispatchPhone"] == get_settings().dispatch_phone_number
    assert detail["vehicle"] == {"plate": trip.plate}
    assert [(s["position"], s["type"], s["latitude"], s["longitude"]) for s in detail["stops"]] == [
        (1, "PICKUP", 39.7817, -89.6501),
        (2, "WAYPOINT", 39.8, -89.7),
        (3, "DROPOFF", 39.4064, -88.7901),
    ]
    assert [(i["priority"], i["text"]) for i in detail["instructions"]] == [
        ("CRITICAL", "Low bridge on Elm St"),
        ("NORMAL", "Wheelchair lift"),
    ]
    assert detail["startedAt"] is None
    assert detail["confirmedAt"] is None
    listed = (await trip.driver(MY_TRIPS)).ok()["myTrips"]
    assert [t["id"] for t in listed] == [trip.trip_id]


async def test_the_assigned_driver_runs_its_trip_from_confirmation_to_completion(
    staff, bookable_charter, as_role, sessions
):
    (trip,) = await driver_trips(staff, bookable_charter, as_role)
    _first, waypoint, last = trip.stop_ids
    async with sessions() as session, session.begin():
        # The readiness task, whether or not booking generated it already.
        await session.execute(
            insert(DispatchTask)
            .values(
                id=uuid.uuid4(),
                charter_id=uuid.UUID(trip.charter["id"]),
                charter_vehicle_id=uuid.UUID(trip.trip_id),
                kind="driver_confirmed",
                due_before_minutes=1440,
                due_at=datetime.now().astimezone(),
            )
            .on_conflict_do_nothing()
        )

    confirmed = await run(trip.driver, CONFIRM, id=trip.trip_id)
    assert confirmed["userErrors"] == []
    assert confirmed["trip"]["confirmedAt"] is not None
    async with sessions() as session:
        confirmation = await session.scalar(
            select(Confirmation).where(Confirmation.charter_vehicle_id == uuid.UUID(trip.trip_id))
        )
        task = await session.scalar(
            select(DispatchTask).where(
                DispatchTask.charter_vehicle_id == uuid.UUID(trip.trip_id),
                DispatchTask.kind == "driver_confirmed",
            )
        )
    assert (confirmation.party, confirmation.method) == ("driver", "app")
    assert str(confirmation.party_id) == trip.driver_id
    assert confirmation.recorded_by == trip.user_id
    assert task.status == "completed"

    started = await run(trip.driver, START, id=trip.trip_id)
    assert started["userErrors"] == []
    assert started["trip"]["charterStatus"] == "IN_PROGRESS"
    assert started["trip"]["dispatchStatus"] == "IN_TRANSIT"
    assert started["trip"]["startedAt"] is not None
    assert started["trip"]["stops"][0]["departedAt"] == started["trip"]["startedAt"]

    arrived = await run(trip.driver, ARRIVE, tripId=trip.trip_id, stopId=waypoint)
    assert arrived["userErrors"] == []
    assert arrived["trip"]["dispatchStatus"] == "ON_SITE"
    left = await run(trip.driver, DEPART, tripId=trip.trip_id, stopId=waypoint)
    assert left["userErrors"] == []
    assert left["trip"]["dispatchStatus"] == "IN_TRANSIT"
    assert (await run(trip.driver, ARRIVE, tripId=trip.trip_id, stopId=last))["userErrors"] == []

    done = await run(trip.driver, COMPLETE, id=trip.trip_id)

    assert done["userErrors"] == []
    assert done["trip"]["charterStatus"] == "COMPLETED"
    assert done["trip"]["dispatchStatus"] == "COMPLETED"
    assert done["trip"]["completedAt"] is not None
    stops = done["trip"]["stops"]
    assert [s["arrivedAt"] is not None for s in stops] == [False, True, True]
    assert [s["departedAt"] is not None for s in stops] == [True, True, False]
    async with sessions() as session:
        actions = list(
            await session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.charter_id == uuid.UUID(trip.charter["id"]))
                .where(AuditEntry.action.like("trip:%"))
                .order_by(AuditEntry.at, AuditEntry.id)
            )
        )
    for action in ("trip:confirm", "trip:start", "trip:arrive", "trip:depart", "trip:complete"):
        assert action in actions
    trip_events = [
        e for e in await board_events(sessions, trip.charter["id"]) if "trip" in e["changes"]
    ]
    assert [e["trip"] for e in trip_events] == [
        "confirm",
        "start",
        "arrive",
        "depart",
        "arrive",
        "complete",
    ]
    assert trip_events[1]["dispatchStatus"] == "in_transit"
    assert "status" in trip_events[1]["changes"]
    assert trip_events[1]["status"] == "in_progress"
    assert trip_events[-1]["status"] == "completed"


async def test_steps_out_of_order_are_refused_and_change_nothing(staff, bookable_charter, as_role):
    (trip,) = await driver_trips(staff, bookable_charter, as_role)
    first, waypoint, last = trip.stop_ids
    d = trip.driver

    assert codes(await run(d, ARRIVE, tripId=trip.trip_id, stopId=waypoint)) == invalid("tripId")
    assert codes(await run(d, COMPLETE, id=trip.trip_id)) == invalid("id")
    assert (await run(d, START, id=trip.trip_id))["userErrors"] == []
    assert codes(await run(d, START, id=trip.trip_id)) == invalid("id")
    assert codes(await run(d, CONFIRM, id=trip.trip_id)) == invalid("id")
    # The first stop was left when the trip started; the drop-off is not next.
    assert codes(await run(d, ARRIVE, tripId=trip.trip_id, stopId=first)) == invalid("stopId")
    assert codes(await run(d, ARRIVE, tripId=trip.trip_id, stopId=last)) == invalid("stopId")
    assert codes(await run(d, DEPART, tripId=trip.trip_id, stopId=waypoint)) == invalid("stopId")
    assert codes(await run(d, COMPLETE, id=trip.trip_id)) == invalid("id")
    assert (await run(d, ARRIVE, tripId=trip.trip_id, stopId=waypoint))["userErrors"] == []
    assert codes(await run(d, ARRIVE, tripId=trip.trip_id, stopId=waypoint)) == invalid("stopId")
    assert (await run(d, DEPART, tripId=trip.trip_id, stopId=waypoint))["userErrors"] == []
    assert codes(await run(d, DEPART, tripId=trip.trip_id, stopId=waypoint)) == invalid("stopId")
    assert (await run(d, ARRIVE, tripId=trip.trip_id, stopId=last))["userErrors"] == []
    assert codes(await run(d, DEPART, tripId=trip.trip_id, stopId=last)) == invalid("stopId")
    unknown = await run(d, ARRIVE, tripId=trip.trip_id, stopId=str(uuid.uuid4()))
    assert codes(unknown) == [{"field": "stopId", "code": "NOT_FOUND"}]

    state = (await d(TRIP, {"id": trip.trip_id})).ok()["trip"]
    assert state["dispatchStatus"] == "ON_SITE"
    assert state["completedAt"] is None
    assert [s["arrivedAt"] is not None for s in state["stops"]] == [False, True, True]
    assert [s["departedAt"] is not None for s in state["stops"]] == [True, True, False]


async def test_a_charter_dispatch_has_not_confirmed_does_not_start(
    staff, bookable_charter, as_role
):
    (trip,) = await driver_trips(staff, bookable_charter, as_role, confirm=False)

    refused = await run(trip.driver, START, id=trip.trip_id)

    assert codes(refused) == invalid("id")
    state = (await trip.driver(TRIP, {"id": trip.trip_id})).ok()["trip"]
    assert (state["charterStatus"], state["startedAt"]) == ("BOOKED", None)


async def test_a_trip_does_not_start_hours_before_its_pickup(staff, bookable_charter, as_role):
    (trip,) = await driver_trips(staff, bookable_charter, as_role, minutes_to_pickup=6 * 60)

    refused = await run(trip.driver, START, id=trip.trip_id)

    assert codes(refused) == [{"field": "id", "code": "TOO_EARLY"}]
    state = (await trip.driver(TRIP, {"id": trip.trip_id})).ok()["trip"]
    assert (state["charterStatus"], state["dispatchStatus"]) == ("CONFIRMED", "NOT_READY")


async def test_a_charter_completes_with_its_last_vehicle(staff, bookable_charter, as_role):
    one, two = await driver_trips(staff, bookable_charter, as_role, vehicles=2)
    for trip in (one, two):
        assert (await run(trip.driver, START, id=trip.trip_id))["userErrors"] == []
        for stop in trip.stop_ids[1:]:
            assert (await run(trip.driver, ARRIVE, tripId=trip.trip_id, stopId=stop))[
                "userErrors"
            ] == []
            if stop != trip.stop_ids[-1]:
                assert (await run(trip.driver, DEPART, tripId=trip.trip_id, stopId=stop))[
                    "userErrors"
                ] == []

    first = await run(one.driver, COMPLETE, id=one.trip_id)
    assert first["trip"]["charterStatus"] == "IN_PROGRESS"
    second = await run(two.driver, COMPLETE, id=two.trip_id)
    assert second["trip"]["charterStatus"] == "COMPLETED"


async def test_another_driver_neither_reads_nor_runs_the_trip(staff, bookable_charter, as_role):
    (trip,), (other,) = (
        await driver_trips(staff, bookable_charter, as_role),
        await driver_trips(staff, bookable_charter, as_role),
    )

    assert (await other.driver(TRIP, {"id": trip.trip_id})).error_codes == ["NOT_FOUND"]
    for operation, variables in (
        (CONFIRM, {"id": trip.trip_id}),
        (START, {"id": trip.trip_id}),
        (COMPLETE, {"id": trip.trip_id}),
    ):
        refused = await run(other.driver, operation, **variables)
        assert codes(refused) == [{"field": "id", "code": "NOT_FOUND"}]
    note = await run(other.driver, NOTE, tripId=trip.trip_id, text="hi")
    assert codes(note) == [{"field": "tripId", "code": "NOT_FOUND"}]
    assert (await staff(TRIP, {"id": trip.trip_id})).ok()["trip"]["startedAt"] is None
    assert (await trip.driver(TRIP, {"id": trip.trip_id})).ok()["trip"]["notes"] == []


async def test_drivers_keep_notes_on_their_trip(staff, bookable_charter, as_role):
    (trip,) = await driver_trips(staff, bookable_charter, as_role)

    added = await run(trip.driver, NOTE, tripId=trip.trip_id, text="  Traffic on I-55.  ")

    assert added["userErrors"] == []
    assert added["note"] == {"text": "Traffic on I-55.", "author": {"id": str(trip.user_id)}}
    assert codes(await run(trip.driver, NOTE, tripId=trip.trip_id, text=" ")) == [
        {"field": "text", "code": "REQUIRED"}
    ]
    assert codes(await run(trip.driver, NOTE, tripId=trip.trip_id, text="x" * 2001)) == [
        {"field": "text", "code": "TOO_LONG"}
    ]
    staff_view = (await staff(TRIP, {"id": trip.trip_id})).ok()["trip"]
    assert [n["text"] for n in staff_view["notes"]] == ["Traffic on I-55."]
