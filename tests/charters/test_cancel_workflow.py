"""Cancel with its workflow from dispatch (issue 13 §6): reason, fee, release, tasks, vendors."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy import select

from subgraphs.charters.models import AuditEntry, CharterVehicle, DispatchTask, outbox
from subgraphs.vendors.models import VendorAssignment
from subgraphs.vendors.models import outbox as vendors_outbox
from subgraphs.vendors.service.cancellation_alerts import TOPIC as NOTICE
from tests.charters.ops import ASSIGN, CANCEL, ERRORS, book, codes, fleet_vehicle
from tests.charters.test_portal_drivers import linked_driver
from tests.support.vendors_facts import served, vendor_user

DISPATCH_CANCEL = f"""mutation($id: ID!, $reason: String!, $fee: Money!) {{
  cancelCharterFromDispatch(charterId: $id, reason: $reason, fee: $fee) {{
    charter {{ id status cancellation {{ reason fee cancelledBy {{ id }} }} }}
    {ERRORS} }} }}"""
TYPE_OF = "query($id: ID!) { charter(id: $id) { vehicles { id vehicleType { id } } } }"


async def driven(staff: Any, bookable_charter: Any, bus: str | None, driver: str | None):
    """A booked charter (one 1250.00 vehicle); the bus and driver assigned when given."""
    charter = await bookable_charter()
    await book(staff, charter["id"])
    (vehicle,) = (await staff(TYPE_OF, {"id": charter["id"]})).ok()["charter"]["vehicles"]
    if bus is None:
        return charter, vehicle, None
    answer = (await staff(ASSIGN, {"cv": vehicle["id"], "vehicle": bus, "driver": driver})).ok()[
        "assignCharterVehicle"
    ]
    return charter, vehicle, answer


async def tasks_of(sessions: Any, charter_id: str) -> dict[str, tuple[str, str | None]]:
    async with sessions() as session:
        rows = await session.scalars(
            select(DispatchTask).where(DispatchTask.charter_id == uuid.UUID(charter_id))
        )
        return {f"{t.kind}:{t.charter_vehicle_id}": (t.status, t.skip_reason) for t in rows}


async def test_dispatch_cancels_releases_the_bus_and_driver_and_skips_open_tasks(
    staff, as_role, bookable_charter, sessions
):
    first, vehicle, _ = await driven(staff, bookable_charter, None, None)
    bus = await fleet_vehicle(staff, vehicle["vehicleType"]["id"])
    driver = await linked_driver(staff, uuid.uuid4())
    assigned = (
        await staff(ASSIGN, {"cv": vehicle["id"], "vehicle": bus["id"], "driver": driver})
    ).ok()["assignCharterVehicle"]
    assert assigned["userErrors"] == []
    # A second charter at the same hours cannot have them while the first holds them.
    second, _, blocked = await driven(staff, bookable_charter, bus["id"], driver)
    assert [e["code"] for e in blocked["userErrors"]] == ["CONFLICT"]
    before = await tasks_of(sessions, first["id"])
    assert {status for status, _ in before.values()} >= {"pending", "completed"}
    dispatcher_id = uuid.uuid4()
    dispatcher = await as_role("dispatcher", user_id=dispatcher_id)

    payload = (
        await dispatcher(
            DISPATCH_CANCEL,
            {"id": first["id"], "reason": "  Client's event postponed  ", "fee": "250.00"},
        )
    ).ok()["cancelCharterFromDispatch"]

    assert payload["userErrors"] == []
    assert payload["charter"]["status"] == "CANCELLED"
    assert payload["charter"]["cancellation"] == {
        "reason": "Client's event postponed",
        "fee": "250.00",
        "cancelledBy": {"id": str(dispatcher_id)},
    }
    after = await tasks_of(sessions, first["id"])
    for key, (status, _) in before.items():
        if status == "completed":
            assert after[key] == ("completed", None), key
        else:
            assert after[key] == ("skipped", "charter cancelled"), key
    _, _, freed = await driven(staff, bookable_charter, bus["id"], driver)
    assert freed["userErrors"] == []
    async with sessions() as session:
        row = await session.get_one(CharterVehicle, uuid.UUID(vehicle["id"]))
        entry = await session.scalar(
            select(AuditEntry).where(AuditEntry.action == "cancel:dispatch")
        )
        event = await session.scalar(
            select(outbox.c.payload)
            .where(outbox.c.payload["charterId"].astext == first["id"])
            .order_by(outbox.c.id.desc())
            .limit(1)
        )
    # Released, but the history still says which bus and driver it had.
    assert (row.holds_resources, str(row.vehicle_id), str(row.driver_id)) == (
        False,
        bus["id"],
        driver,
    )
    assert entry is not None
    assert entry.actor_id == dispatcher_id
    assert entry.old["status"] == "booked"
    assert entry.new["status"] == "cancelled"
    assert entry.new["released_vehicle_ids"] == [vehicle["id"]]
    assert len(entry.new["skipped_task_ids"]) == sum(
        1 for status, _ in before.values() if status != "completed"
    )
    assert event["status"] == "cancelled"
    assert event["changes"] == ["status", "tasks"]
    assert event["cancellationFee"] == "250.00"
    assert event["cancellationReason"] == "Client's event postponed"
    assert second["id"] != first["id"]


async def test_bad_fees_and_wrong_states_change_nothing(staff, as_role, bookable_charter, sessions):
    booked, _, _ = await driven(staff, bookable_charter, None, None)
    quote = await bookable_charter()
    dispatcher = await as_role("dispatcher")
    tasks = await tasks_of(sessions, booked["id"])

    async def cancel(charter_id: str, fee: str, reason: str = "Weather") -> dict[str, Any]:
        answer = await dispatcher(DISPATCH_CANCEL, {"id": charter_id, "reason": reason, "fee": fee})
        return answer.ok()["cancelCharterFromDispatch"]  # type: ignore[no-any-return]

    too_much = await cancel(booked["id"], "1250.01")
    negative = await cancel(booked["id"], "-1.00")
    no_reason = await cancel(booked["id"], "0", reason="   ")
    of_a_quote = await cancel(quote["id"], "0")
    unknown = await cancel(str(uuid.uuid4()), "0")

    assert codes(too_much) == [("fee", "OUT_OF_RANGE")]
    assert "1250.00" in too_much["userErrors"][0]["message"]
    assert codes(negative) == [("fee", "OUT_OF_RANGE")]
    assert codes(no_reason) == [("reason", "REQUIRED")]
    assert codes(of_a_quote) == [("charterId", "INVALID_TRANSITION")]
    assert codes(unknown) == [("charterId", "NOT_FOUND")]
    assert await tasks_of(sessions, booked["id"]) == tasks
    status = (
        await staff("query($id: ID!) { charter(id: $id) { status } }", {"id": booked["id"]})
    ).ok()["charter"]["status"]
    assert status == "BOOKED"
    # The whole fee is allowed: the client pays what the trip costs.
    full = await cancel(booked["id"], "1250.00")
    assert full["userErrors"] == []
    assert full["charter"]["cancellation"]["fee"] == "1250.00"


async def test_every_cancellation_skips_the_open_tasks(staff, bookable_charter, sessions):
    """The existing `cancelCharter` (sales' path) winds down the same way."""
    charter, _, _ = await driven(staff, bookable_charter, None, None)
    open_before = [k for k, (s, _) in (await tasks_of(sessions, charter["id"])).items()
                   if s != "completed"]  # fmt: skip

    payload = (
        await staff(CANCEL, {"id": charter["id"], "reason": "Client withdrew", "fee": "0"})
    ).ok()["cancelCharter"]

    assert payload["userErrors"] == []
    after = await tasks_of(sessions, charter["id"])
    assert open_before
    assert all(after[k] == ("skipped", "charter cancelled") for k in open_before)


async def wait_for(sessions: Any, assignment_id: str, status: str, within: float = 10.0) -> str:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        async with sessions() as session:
            seen = (await session.get_one(VendorAssignment, uuid.UUID(assignment_id))).status
        if seen == status or asyncio.get_running_loop().time() > deadline:
            return seen
        await asyncio.sleep(0.05)


async def test_the_vendor_is_released_and_mailed_across_subgraphs(
    staff, as_role, bookable_charter, projected, make_vendor, vendors_staff, vendors_as, sessions
):
    """Charters' mutation over HTTP -> outbox -> Redis stream -> vendors' consumer."""
    charter, vehicle, _ = await driven(staff, bookable_charter, None, None)
    await projected(vehicle["id"])
    vendor = await make_vendor(email="ops@coaches.example")
    portal, _ = await vendor_user(vendors_staff, vendors_as, vendor["id"])
    assignment = await served(vendors_staff, portal, uuid.UUID(vehicle["id"]), vendor["id"])
    dispatcher = await as_role("dispatcher")

    payload = (
        await dispatcher(
            DISPATCH_CANCEL, {"id": charter["id"], "reason": "Venue closed", "fee": "0"}
        )
    ).ok()["cancelCharterFromDispatch"]

    assert payload["userErrors"] == []
    assert await wait_for(sessions, assignment, "cancelled") == "cancelled"
    async with sessions() as session:
        notices = (
            await session.scalars(
                select(vendors_outbox.c.payload).where(vendors_outbox.c.topic == NOTICE)
            )
        ).all()
    assert [(n["assignmentId"], n["reason"], n["recipients"]) for n in notices] == [
        (assignment, "Venue closed", ["ops@coaches.example"])
    ]
