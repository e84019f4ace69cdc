"""Vendors' assignments in charters (issue 13): the facts, and the tasks they complete.

The end-to-end test runs both subgraphs on real ports: a vendor confirms
through vendors' API, vendors' outbox publishes `vendors.assignment_changed`
to Redis, charters' consumer applies it, and the charters task completes.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from subgraphs.charters.models import Confirmation, DispatchTask, VendorAssignmentFact, outbox
from subgraphs.charters.service.vendor_assignments import apply_assignment_event
from tests.charters.dispatch_ops import booked, by_kind, tasks_of, until
from tests.charters.ops import CANCEL, book
from tests.support.charters_fixtures import apply_event
from tests.support.vendors_facts import ASSIGN, RESPOND, vendor_user

BOARD = """query($id: ID!) { charter(id: $id) { vehicles {
  vendorAssignmentStatus vendorConfirmation { method partyId recordedBy { id } } } } }"""


def _event(charter_id, vehicle_id, assignment_id, vendor_id, status, at):
    return {
        "occurredAt": at.isoformat(),
        "payload": {
            "assignmentId": str(assignment_id),
            "charterId": str(charter_id),
            "charterVehicleId": str(vehicle_id),
            "vendorId": str(vendor_id),
            "status": status,
            "amount": "900.00",
        },
    }


async def _task_status(sessions, vehicle_id: str, kind: str) -> str | None:
    async with sessions() as session:
        return await session.scalar(
            select(DispatchTask.status).where(
                DispatchTask.charter_vehicle_id == uuid.UUID(vehicle_id),
                DispatchTask.kind == kind,
            )
        )


async def test_a_vendor_confirming_in_vendors_completes_the_charters_tasks(
    staff,
    bookable_charter,
    make_vendor,
    vendors_staff,
    vendors_as,
    projected,
    sessions,
):
    charter = await booked(staff, bookable_charter)
    vehicle_id = charter["vehicles"][0]["id"]
    vendor = await make_vendor("Lone Star Coaches")
    vendor_client, _ = await vendor_user(vendors_staff, vendors_as, vendor["id"])
    await projected(vehicle_id)

    offered = (
        await vendors_staff(ASSIGN, {"cv": vehicle_id, "vendor": vendor["id"], "amount": "900.00"})
    ).ok()["assignVendor"]
    assert offered["userErrors"] == [], offered

    async def assigned() -> bool:
        return await _task_status(sessions, vehicle_id, "vendor_assigned") == "completed"

    await until(assigned)
    between = await _task_status(sessions, vehicle_id, "vendor_confirmed")

    answer = (
        await vendor_client(RESPOND, {"id": offered["assignment"]["id"], "status": "CONFIRMED"})
    ).ok()["respondToAssignment"]
    assert answer["userErrors"] == [], answer

    async def confirmed() -> bool:
        return await _task_status(sessions, vehicle_id, "vendor_confirmed") == "completed"

    await until(confirmed)
    board = (await staff(BOARD, {"id": charter["id"]})).ok()["charter"]["vehicles"][0]
    tasks = by_kind((await tasks_of(staff, charter["id"]))["tasks"], vehicle_id)

    assert between == "pending"
    assert board["vendorAssignmentStatus"] == "CONFIRMED"
    # The portal's answer is kept like a call dispatch records: method APP, by nobody.
    assert board["vendorConfirmation"] == {
        "method": "APP",
        "partyId": vendor["id"],
        "recordedBy": None,
    }
    assert tasks["VENDOR_ASSIGNED"]["completedBy"] is None
    assert tasks["VENDOR_CONFIRMED"]["completedBy"] is None
    assert tasks["DRIVER_ASSIGNED"]["status"] == "PENDING"


async def test_facts_are_guarded_by_event_time_and_redelivery_changes_nothing(
    staff, bookable_charter, sessions
):
    charter = await booked(staff, bookable_charter)
    vehicle_id = charter["vehicles"][0]["id"]
    assignment_id, vendor_id = uuid.uuid4(), uuid.uuid4()
    t0 = datetime.now(UTC)

    def event(status, at):
        return _event(charter["id"], vehicle_id, assignment_id, vendor_id, status, at)

    await apply_event(apply_assignment_event, event("confirmed", t0))
    await apply_event(apply_assignment_event, event("confirmed", t0))
    # A late "offered" (sent before the confirmation) never moves it back.
    await apply_event(apply_assignment_event, event("offered", t0 - timedelta(seconds=5)))
    async with sessions() as session:
        fact = await session.get(VendorAssignmentFact, assignment_id)
        confirmations = list(await session.scalars(select(Confirmation)))
        events = [
            row.payload
            for row in (await session.execute(select(outbox.c.payload))).all()
            if row.payload.get("vendorAssignmentStatus") is not None
        ]
    tasks = by_kind((await tasks_of(staff, charter["id"]))["tasks"], vehicle_id)

    assert fact is not None
    assert (fact.status, fact.vendor_id, fact.as_of) == ("confirmed", vendor_id, t0)
    assert len(confirmations) == 1
    assert (confirmations[0].party, confirmations[0].method) == ("vendor", "app")
    assert tasks["VENDOR_ASSIGNED"]["status"] == "COMPLETED"
    assert tasks["VENDOR_CONFIRMED"]["status"] == "COMPLETED"
    # One board event: the redelivery and the stale event announced nothing.
    assert len(events) == 1
    assert events[0]["changes"] == ["confirmations", "tasks", "vendorAssignment"]
    assert events[0]["previousVendorAssignmentStatus"] is None


async def test_a_vendor_confirmed_before_booking_yields_completed_tasks(
    staff, bookable_charter, sessions
):
    quote = await bookable_charter()
    vehicle_id = quote["vehicles"][0]["id"]
    await apply_event(
        apply_assignment_event,
        _event(quote["id"], vehicle_id, uuid.uuid4(), uuid.uuid4(), "confirmed", datetime.now(UTC)),
    )
    async with sessions() as session:
        before = list(await session.scalars(select(DispatchTask)))

    await book(staff, quote["id"])
    tasks = by_kind((await tasks_of(staff, quote["id"]))["tasks"], vehicle_id)

    assert before == []
    assert tasks["VENDOR_ASSIGNED"]["status"] == "COMPLETED"
    assert tasks["VENDOR_CONFIRMED"]["status"] == "COMPLETED"
    assert tasks["VEHICLE_ASSIGNED"]["status"] == "PENDING"


async def test_malformed_and_foreign_events_are_ignored(staff, bookable_charter, sessions):
    charter = await booked(staff, bookable_charter)
    now = datetime.now(UTC)
    broken = _event(charter["id"], uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), "offered", now)
    del broken["payload"]["charterVehicleId"]
    no_time = _event(charter["id"], uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), "offered", now)
    del no_time["occurredAt"]
    # A vehicle charters does not have (removed since): the fact is kept, nothing else.
    stranger = uuid.uuid4()
    foreign = _event(charter["id"], stranger, uuid.uuid4(), uuid.uuid4(), "confirmed", now)

    for event in (broken, no_time, foreign):
        await apply_event(apply_assignment_event, event)
    async with sessions() as session:
        facts = list(await session.scalars(select(VendorAssignmentFact)))
        confirmations = list(await session.scalars(select(Confirmation)))

    assert [f.charter_vehicle_id for f in facts] == [stranger]
    assert confirmations == []


async def test_a_vendor_letting_the_vehicle_go_reopens_what_it_had_satisfied(
    staff, bookable_charter, sessions
):
    charter = await booked(staff, bookable_charter)
    vehicle_id = charter["vehicles"][0]["id"]
    assignment_id, vendor_id = uuid.uuid4(), uuid.uuid4()
    t0 = datetime.now(UTC)

    def event(status, seconds):
        return _event(
            charter["id"],
            vehicle_id,
            assignment_id,
            vendor_id,
            status,
            t0 + timedelta(seconds=seconds),
        )

    await apply_event(apply_assignment_event, event("confirmed", 0))
    confirmed = by_kind((await tasks_of(staff, charter["id"]))["tasks"], vehicle_id)
    await apply_event(apply_assignment_event, event("recovery_requested", 1))
    asked = by_kind((await tasks_of(staff, charter["id"]))["tasks"], vehicle_id)
    await apply_event(apply_assignment_event, event("cancelled", 2))
    released = by_kind((await tasks_of(staff, charter["id"]))["tasks"], vehicle_id)
    board = (await staff(BOARD, {"id": charter["id"]})).ok()["charter"]["vehicles"][0]

    assert (confirmed["VENDOR_ASSIGNED"]["status"], confirmed["VENDOR_CONFIRMED"]["status"]) == (
        "COMPLETED",
        "COMPLETED",
    )
    # Asking to be replaced: still holding the vehicle, no longer a yes.
    assert (asked["VENDOR_ASSIGNED"]["status"], asked["VENDOR_CONFIRMED"]["status"]) == (
        "COMPLETED",
        "PENDING",
    )
    assert (released["VENDOR_ASSIGNED"]["status"], released["VENDOR_CONFIRMED"]["status"]) == (
        "PENDING",
        "PENDING",
    )
    assert released["VENDOR_ASSIGNED"]["completedAt"] is None
    assert board == {"vendorAssignmentStatus": None, "vendorConfirmation": None}


async def test_a_cancelled_charters_tasks_are_not_reopened(staff, bookable_charter, sessions):
    charter = await booked(staff, bookable_charter)
    vehicle_id = charter["vehicles"][0]["id"]
    assignment_id, vendor_id = uuid.uuid4(), uuid.uuid4()
    t0 = datetime.now(UTC)
    await apply_event(
        apply_assignment_event,
        _event(charter["id"], vehicle_id, assignment_id, vendor_id, "confirmed", t0),
    )
    (await staff(CANCEL, {"id": charter["id"], "reason": "Client called off"})).ok()

    await apply_event(
        apply_assignment_event,
        _event(
            charter["id"],
            vehicle_id,
            assignment_id,
            vendor_id,
            "cancelled",
            t0 + timedelta(seconds=1),
        ),
    )
    async with sessions() as session:
        kinds = dict(
            (
                await session.execute(
                    select(DispatchTask.kind, DispatchTask.status).where(
                        DispatchTask.charter_vehicle_id == uuid.UUID(vehicle_id),
                        DispatchTask.kind.in_(("vendor_assigned", "vendor_confirmed")),
                    )
                )
            ).all()
        )

    assert kinds == {"vendor_assigned": "completed", "vendor_confirmed": "completed"}
