"""Confirmations (issue 13 section 2): dispatch records who confirmed, when and how."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from subgraphs.charters.models import AuditEntry, Confirmation, outbox
from subgraphs.charters.service.vendor_assignments import apply_assignment_event
from tests.charters.dispatch_ops import RECORD, booked, by_kind, tasks_of
from tests.charters.ops import ASSIGN, fleet_driver
from tests.support.charters_fixtures import apply_event

CONFIRMATIONS = """query($id: ID!) { charter(id: $id) { vehicles {
  id confirmations { party method note }
  driverConfirmation { id party partyId method } vendorConfirmation { id partyId method }
  vendorAssignmentStatus } } }"""


def _codes(payload):
    return [(e["field"], e["code"]) for e in payload["userErrors"]]


async def _confirmations(sessions) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(Confirmation)) or 0


async def _with_driver(staff, bookable_charter):
    charter = await booked(staff, bookable_charter)
    vehicle_id = charter["vehicles"][0]["id"]
    driver = await fleet_driver(staff)
    assigned = (await staff(ASSIGN, {"cv": vehicle_id, "driver": driver["id"]})).ok()
    assert assigned["assignCharterVehicle"]["userErrors"] == []
    return charter, vehicle_id, driver


async def test_a_dispatcher_records_a_drivers_confirmation(
    staff, as_role, bookable_charter, sessions
):
    charter, vehicle_id, driver = await _with_driver(staff, bookable_charter)
    user_id = uuid.uuid4()
    dispatcher = await as_role("dispatcher", user_id=user_id)
    said_at = datetime.now(UTC) - timedelta(hours=2)

    payload = (
        await dispatcher(
            RECORD,
            {
                "input": {
                    "charterVehicleId": vehicle_id,
                    "party": "DRIVER",
                    "method": "PHONE",
                    "confirmedAt": said_at.isoformat(),
                    "note": " Called at the yard ",
                }
            },
        )
    ).ok()["recordConfirmation"]
    task = by_kind((await tasks_of(staff, charter["id"]))["tasks"], vehicle_id)["DRIVER_CONFIRMED"]
    board = (await staff(CONFIRMATIONS, {"id": charter["id"]})).ok()["charter"]["vehicles"][0]
    async with sessions() as session:
        audited = await session.scalar(
            select(AuditEntry.action).where(AuditEntry.entity == "confirmation")
        )
        last = (
            await session.execute(select(outbox.c.payload).order_by(outbox.c.id.desc()).limit(1))
        ).scalar_one()

    confirmation = payload["confirmation"]
    assert payload["userErrors"] == []
    assert confirmation["party"] == "DRIVER"
    assert confirmation["partyId"] == driver["id"]
    assert confirmation["method"] == "PHONE"
    assert datetime.fromisoformat(confirmation["confirmedAt"]) == said_at
    assert confirmation["note"] == "Called at the yard"
    assert confirmation["recordedBy"] == {"id": str(user_id)}
    assert payload["charterVehicle"]["driverConfirmation"]["id"] == confirmation["id"]
    assert task["status"] == "COMPLETED"
    assert task["completedBy"] == {"id": str(user_id)}
    assert board["confirmations"] == [
        {"party": "DRIVER", "method": "PHONE", "note": "Called at the yard"}
    ]
    assert board["driverConfirmation"]["id"] == confirmation["id"]
    assert board["vendorConfirmation"] is None
    assert audited == "confirm:driver"
    assert last["charterId"] == charter["id"]
    assert last["changes"] == ["confirmations", "tasks"]
    assert last["charterVehicleId"] == vehicle_id


async def test_a_new_driver_needs_its_own_confirmation(staff, bookable_charter):
    charter, vehicle_id, _ = await _with_driver(staff, bookable_charter)
    confirmed = (
        await staff(
            RECORD,
            {"input": {"charterVehicleId": vehicle_id, "party": "DRIVER", "method": "SMS"}},
        )
    ).ok()["recordConfirmation"]
    other = await fleet_driver(staff)
    (await staff(ASSIGN, {"cv": vehicle_id, "driver": other["id"]})).ok()

    board = (await staff(CONFIRMATIONS, {"id": charter["id"]})).ok()["charter"]["vehicles"][0]

    assert confirmed["userErrors"] == []
    # The history stays; the board's status is about the driver the vehicle has now.
    assert len(board["confirmations"]) == 1
    assert board["driverConfirmation"] is None


async def test_a_vendors_confirmation_needs_a_vendor_holding_the_vehicle(
    staff, bookable_charter, sessions
):
    charter = await booked(staff, bookable_charter)
    vehicle_id = charter["vehicles"][0]["id"]
    vendor_id = uuid.uuid4()
    without = (
        await staff(
            RECORD,
            {"input": {"charterVehicleId": vehicle_id, "party": "VENDOR", "method": "EMAIL"}},
        )
    ).ok()["recordConfirmation"]
    written_before = await _confirmations(sessions)
    # Vendors offered it the vehicle (its event, as charters' consumer applies it).
    await apply_event(
        apply_assignment_event,
        {
            "occurredAt": datetime.now(UTC).isoformat(),
            "payload": {
                "assignmentId": str(uuid.uuid4()),
                "charterId": charter["id"],
                "charterVehicleId": vehicle_id,
                "vendorId": str(vendor_id),
                "status": "offered",
            },
        },
    )

    recorded = (
        await staff(
            RECORD,
            {"input": {"charterVehicleId": vehicle_id, "party": "VENDOR", "method": "EMAIL"}},
        )
    ).ok()["recordConfirmation"]
    tasks = by_kind((await tasks_of(staff, charter["id"]))["tasks"], vehicle_id)
    board = (await staff(CONFIRMATIONS, {"id": charter["id"]})).ok()["charter"]["vehicles"][0]

    assert _codes(without) == [("party", "INVALID")]
    assert without["confirmation"] is None
    assert written_before == 0
    assert recorded["userErrors"] == []
    assert recorded["confirmation"]["partyId"] == str(vendor_id)
    assert tasks["VENDOR_ASSIGNED"]["status"] == "COMPLETED"
    assert tasks["VENDOR_CONFIRMED"]["status"] == "COMPLETED"
    assert board["vendorAssignmentStatus"] == "OFFERED"
    assert board["vendorConfirmation"] == {
        "id": recorded["confirmation"]["id"],
        "partyId": str(vendor_id),
        "method": "EMAIL",
    }


async def test_bad_confirmations_are_user_errors_that_write_nothing(
    staff, bookable_charter, sessions
):
    charter, vehicle_id, _ = await _with_driver(staff, bookable_charter)
    quote = await bookable_charter()

    def record(**fields):
        return staff(
            RECORD,
            {
                "input": {
                    "charterVehicleId": vehicle_id,
                    "party": "DRIVER",
                    "method": "PHONE",
                    **fields,
                }
            },
        )

    future = (await record(confirmedAt=(datetime.now(UTC) + timedelta(hours=1)).isoformat())).ok()
    ancient = (await record(confirmedAt=(datetime.now(UTC) - timedelta(days=31)).isoformat())).ok()
    long_note = (await record(note="x" * 1001)).ok()
    unknown = (await record(charterVehicleId=str(uuid.uuid4()))).ok()
    not_an_id = (await record(charterVehicleId="nope")).ok()
    of_a_quote = (await record(charterVehicleId=quote["vehicles"][0]["id"])).ok()
    task = by_kind((await tasks_of(staff, charter["id"]))["tasks"], vehicle_id)["DRIVER_CONFIRMED"]

    assert _codes(future["recordConfirmation"]) == [("confirmedAt", "OUT_OF_RANGE")]
    assert _codes(ancient["recordConfirmation"]) == [("confirmedAt", "OUT_OF_RANGE")]
    assert _codes(long_note["recordConfirmation"]) == [("note", "TOO_LONG")]
    assert _codes(unknown["recordConfirmation"]) == [("charterVehicleId", "NOT_FOUND")]
    assert _codes(not_an_id["recordConfirmation"]) == [("charterVehicleId", "NOT_FOUND")]
    assert _codes(of_a_quote["recordConfirmation"]) == [("charterVehicleId", "INVALID_TRANSITION")]
    assert await _confirmations(sessions) == 0
    assert task["status"] == "PENDING"


async def test_only_dispatch_records_confirmations_and_only_staff_read_them(
    staff, as_role, bookable_charter
):
    charter, vehicle_id, _ = await _with_driver(staff, bookable_charter)
    variables = {"input": {"charterVehicleId": vehicle_id, "party": "DRIVER", "method": "PHONE"}}

    refused = {}
    for role in ("sales_agent", "accounting", "client", "vendor", "driver"):
        client = await as_role(role)
        refused[role] = (await client(RECORD, variables)).error_codes
    client_view = await (await as_role("client"))(CONFIRMATIONS, {"id": charter["id"]})

    assert refused == {role: ["FORBIDDEN"] for role in refused}
    # Another company's client reads nothing of this charter at all.
    assert client_view.error_codes == ["NOT_FOUND"]
