"""Recovery (issue 13 section 3): a vehicle that lost its vendor or driver, and its board."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from protocol.roles import Role
from protocol.viewer import Viewer
from subgraphs.charters.models import AuditEntry, CharterVehicle, RecoveryCase, outbox
from subgraphs.charters.service import recovery
from subgraphs.charters.service.vendor_assignments import apply_assignment_event
from tests.charters.ops import ASSIGN, CANCEL, book, codes, fleet_driver, nodes

ERRORS = "userErrors { field code message }"
CASE = """id subject status reason note openedAt resolvedAt previousVendorId replacementVendorId
  alertedVendorIds openedBy { id } resolvedBy { id } minutesToPickup
  charter { id reference } charterVehicle { id recoveryStatus }
  previousDriver { id } replacementDriver { id }"""

OPEN = f"""mutation($cv: ID!, $reason: RecoveryReason!, $note: String, $search: Boolean! = false) {{
  openRecovery(charterVehicleId: $cv, reason: $reason, note: $note, searchVendors: $search) {{
    recoveryCase {{ {CASE} }} {ERRORS} }} }}"""
OPEN_DRIVER = f"""mutation($cv: ID!, $reason: RecoveryReason!, $note: String) {{
  openDriverRecovery(charterVehicleId: $cv, reason: $reason, note: $note) {{
    recoveryCase {{ {CASE} }} {ERRORS} }} }}"""
SEARCH = f"""mutation($id: ID!) {{
  startRecoverySearch(caseId: $id) {{ recoveryCase {{ {CASE} }} {ERRORS} }} }}"""
RESOLVE = f"""mutation($id: ID!, $note: String!) {{
  resolveRecovery(caseId: $id, note: $note) {{ recoveryCase {{ {CASE} }} {ERRORS} }} }}"""
BOARD = f"""query($first: Int, $after: String) {{ recoveryBoard(first: $first, after: $after) {{
  totalCount pageInfo {{ hasNextPage endCursor }} edges {{ node {{ {CASE} }} }} }} }}"""
CHARTER_RECOVERY = """query($id: ID!) { charter(id: $id) {
  recovery { id status subject } vehicles { id recoveryStatus recovery { id status } } } }"""

PICKUP = {
    "type": "PICKUP",
    "address": "1 Main St, Dallas",
    "latitude": 32.7767,
    "longitude": -96.797,
}
DROPOFF = {"type": "DROPOFF", "address": "9 Lake Rd, Fort Worth"}


async def booked(staff: Any, bookable_charter: Any, days: int) -> dict[str, Any]:
    charter = await bookable_charter(days=days, stops=[PICKUP, DROPOFF])
    await book(staff, charter["id"])
    return charter


def assignment_event(
    charter: dict[str, Any],
    vendor_id: uuid.UUID,
    status: str,
    *,
    assignment_id: uuid.UUID,
    at: datetime,
) -> dict[str, Any]:
    """`vendors.assignment_changed` as vendors' relay delivers it."""
    return {
        "id": f"vendors:{uuid.uuid4().int % 10**9}",
        "topic": "vendors.assignment_changed",
        "occurredAt": at.isoformat(),
        "payload": {
            "assignmentId": str(assignment_id),
            "charterId": charter["id"],
            "charterVehicleId": charter["vehicles"][0]["id"],
            "vendorId": str(vendor_id),
            "status": status,
            "amount": "900.00",
        },
    }


async def deliver(sessions: Any, event: dict[str, Any]) -> None:
    async with sessions() as session, session.begin():
        await apply_assignment_event(session, event)


async def vendor_answers(
    sessions: Any, charter: dict[str, Any], vendor_id: uuid.UUID, *statuses: str
) -> uuid.UUID:
    """One assignment of `vendor_id` going through `statuses`, each a delivered event."""
    assignment_id = uuid.uuid4()
    start = datetime.now(UTC) - timedelta(minutes=len(statuses))
    for i, status in enumerate(statuses):
        event = assignment_event(
            charter, vendor_id, status, assignment_id=assignment_id, at=start + timedelta(minutes=i)
        )
        await deliver(sessions, event)
    return assignment_id


async def cases_of(sessions: Any, charter_vehicle_id: str) -> list[RecoveryCase]:
    async with sessions() as session:
        rows = await session.scalars(
            select(RecoveryCase)
            .where(RecoveryCase.charter_vehicle_id == uuid.UUID(charter_vehicle_id))
            .order_by(RecoveryCase.opened_at)
        )
        return list(rows)


async def vehicle_recovery_status(sessions: Any, charter_vehicle_id: str) -> str:
    async with sessions() as session:
        status = await session.scalar(
            select(CharterVehicle.recovery_status).where(
                CharterVehicle.id == uuid.UUID(charter_vehicle_id)
            )
        )
    return str(status)


async def events_of(sessions: Any, topic: str) -> list[dict[str, Any]]:
    async with sessions() as session:
        rows = await session.scalars(
            select(outbox.c.payload).where(outbox.c.topic == topic).order_by(outbox.c.id)
        )
        return list(rows)


async def test_a_vendor_decline_within_48_hours_opens_a_case_and_alerts_vendors(
    staff, bookable_charter, sessions
):
    charter = await booked(staff, bookable_charter, days=1)
    vehicle_id = charter["vehicles"][0]["id"]
    vendor = uuid.uuid4()

    await vendor_answers(sessions, charter, vendor, "offered", "declined")

    [case] = await cases_of(sessions, vehicle_id)
    assert (case.subject, case.status, case.reason) == (
        "vendor",
        "vendor_search",
        "vendor_declined",
    )
    assert case.previous_vendor_id == vendor
    assert case.opened_by is None
    assert await vehicle_recovery_status(sessions, vehicle_id) == "vendor_search"
    [opened] = await events_of(sessions, recovery.RECOVERY_OPENED)
    assert opened["caseId"] == str(case.id)
    assert opened["charterVehicleId"] == vehicle_id
    assert opened["excludeVendorIds"] == [str(vendor)]
    assert (opened["pickupLatitude"], opened["pickupLongitude"]) == ("32.776700", "-96.797000")
    assert opened["capacity"] == charter["vehicles"][0]["capacity"]
    assert opened["vehicleTypeName"] == charter["vehicles"][0]["vehicleType"]["name"]
    board = [
        e
        for e in await events_of(sessions, "charters.charter_changed")
        if "recovery" in e["changes"]
    ]
    assert [e["recoveryStatus"] for e in board] == ["pending", "vendor_search"]
    async with sessions() as session:
        actions = list(
            await session.scalars(select(AuditEntry.action).where(AuditEntry.entity_id == case.id))
        )
    # One transaction (one timestamp): the board events above show the order.
    assert sorted(actions) == ["recovery:pending", "recovery:vendor_search"]


async def test_a_decline_further_than_48_hours_from_pickup_opens_nothing(
    staff, bookable_charter, sessions
):
    charter = await booked(staff, bookable_charter, days=5)
    vehicle_id = charter["vehicles"][0]["id"]

    await vendor_answers(sessions, charter, uuid.uuid4(), "offered", "declined")

    assert await cases_of(sessions, vehicle_id) == []
    assert await vehicle_recovery_status(sessions, vehicle_id) == "not_needed"
    assert await events_of(sessions, recovery.RECOVERY_OPENED) == []


async def test_a_recovery_request_opens_a_case_whenever_the_pickup_is(
    staff, bookable_charter, sessions
):
    charter = await booked(staff, bookable_charter, days=20)
    vehicle_id = charter["vehicles"][0]["id"]
    vendor = uuid.uuid4()

    await vendor_answers(sessions, charter, vendor, "offered", "confirmed", "recovery_requested")

    [case] = await cases_of(sessions, vehicle_id)
    assert (case.status, case.reason, case.previous_vendor_id) == (
        "vendor_search",
        "recovery_requested",
        vendor,
    )


async def test_a_quote_s_decline_is_not_a_recovery(staff, bookable_charter, sessions):
    charter = await bookable_charter(days=1, stops=[PICKUP, DROPOFF])

    await vendor_answers(sessions, charter, uuid.uuid4(), "offered", "declined")

    assert await cases_of(sessions, charter["vehicles"][0]["id"]) == []


async def test_a_replacement_vendor_moves_the_case_and_its_confirmation_resolves_it(
    staff, bookable_charter, sessions
):
    charter = await booked(staff, bookable_charter, days=1)
    vehicle_id = charter["vehicles"][0]["id"]
    first, second = uuid.uuid4(), uuid.uuid4()
    await vendor_answers(sessions, charter, first, "offered", "declined")

    replacement = uuid.uuid4()
    base = datetime.now(UTC)
    await deliver(
        sessions, assignment_event(charter, second, "offered", assignment_id=replacement, at=base)
    )
    [assigned] = await cases_of(sessions, vehicle_id)
    status_when_assigned = await vehicle_recovery_status(sessions, vehicle_id)
    await deliver(
        sessions,
        assignment_event(
            charter, second, "confirmed", assignment_id=replacement, at=base + timedelta(seconds=1)
        ),
    )

    assert (assigned.status, assigned.replacement_vendor_id) == ("vendor_assigned", second)
    assert status_when_assigned == "vendor_assigned"
    [resolved] = await cases_of(sessions, vehicle_id)
    assert resolved.status == "resolved"
    assert resolved.resolved_at is not None
    assert resolved.resolved_by is None
    assert await vehicle_recovery_status(sessions, vehicle_id) == "not_needed"


async def test_a_replacement_that_declines_too_sends_the_case_back_to_the_search(
    staff, bookable_charter, sessions
):
    charter = await booked(staff, bookable_charter, days=1)
    vehicle_id = charter["vehicles"][0]["id"]
    first, second = uuid.uuid4(), uuid.uuid4()
    await vendor_answers(sessions, charter, first, "offered", "declined")

    await vendor_answers(sessions, charter, second, "offered", "declined")

    [case] = await cases_of(sessions, vehicle_id)
    assert (case.status, case.replacement_vendor_id) == ("vendor_search", None)
    searches = await events_of(sessions, recovery.RECOVERY_OPENED)
    assert [sorted(e["excludeVendorIds"]) for e in searches] == [
        [str(first)],
        sorted([str(first), str(second)]),
    ]


async def test_a_cancelled_replacement_sends_the_case_back_to_the_search(
    staff, bookable_charter, sessions
):
    charter = await booked(staff, bookable_charter, days=1)
    vehicle_id = charter["vehicles"][0]["id"]
    first, second = uuid.uuid4(), uuid.uuid4()
    await vendor_answers(sessions, charter, first, "offered", "declined")

    await vendor_answers(sessions, charter, second, "offered", "cancelled")

    [case] = await cases_of(sessions, vehicle_id)
    assert (case.status, case.replacement_vendor_id) == ("vendor_search", None)
    assert await vehicle_recovery_status(sessions, vehicle_id) == "vendor_search"
    assert len(await events_of(sessions, recovery.RECOVERY_OPENED)) == 2


async def test_vendors_alerted_are_kept_on_the_case_once_and_not_asked_again(
    staff, bookable_charter, sessions, as_role
):
    charter = await booked(staff, bookable_charter, days=1)
    vehicle_id = charter["vehicles"][0]["id"]
    declined, a, b = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await vendor_answers(sessions, charter, declined, "offered", "declined")
    [case] = await cases_of(sessions, vehicle_id)
    alerted = {
        "id": "vendors:1",
        "payload": {"caseId": str(case.id), "vendorIds": [str(a), str(b)]},
    }

    for _ in range(2):  # at-least-once delivery
        async with sessions() as session, session.begin():
            await recovery.apply_alerted_event(session, alerted)
    [kept] = await cases_of(sessions, vehicle_id)
    dispatcher = await as_role("dispatcher")
    # The search is under way: starting it again is not a move of the table.
    again = (await dispatcher(SEARCH, {"id": str(case.id)})).ok()["startRecoverySearch"]

    assert kept.alerted_vendor_ids == [str(a), str(b)]
    assert codes(again) == [("caseId", "INVALID_TRANSITION")]
    await vendor_answers(sessions, charter, a, "offered", "declined")
    last = (await events_of(sessions, recovery.RECOVERY_OPENED))[-1]
    assert sorted(last["excludeVendorIds"]) == sorted(str(v) for v in (declined, a, b))


async def test_a_dispatcher_opens_searches_and_resolves_a_case(
    staff, bookable_charter, sessions, as_role
):
    charter = await booked(staff, bookable_charter, days=3)
    vehicle_id = charter["vehicles"][0]["id"]
    dispatcher_id = uuid.uuid4()
    dispatcher = await as_role("dispatcher", user_id=dispatcher_id)

    opened = (
        await dispatcher(OPEN, {"cv": vehicle_id, "reason": "VEHICLE_BREAKDOWN", "note": " Axle "})
    ).ok()["openRecovery"]
    case = opened["recoveryCase"]
    searched = (await dispatcher(SEARCH, {"id": case["id"]})).ok()["startRecoverySearch"]
    resolved = (
        await dispatcher(RESOLVE, {"id": case["id"], "note": "Our own coach 12 covers it"})
    ).ok()["resolveRecovery"]

    assert opened["userErrors"] == []
    assert case["subject"] == "VENDOR"
    assert case["status"] == "PENDING"
    assert case["reason"] == "VEHICLE_BREAKDOWN"
    assert case["note"] == "Axle"
    assert case["openedBy"] == {"id": str(dispatcher_id)}
    assert case["charter"] == {"id": charter["id"], "reference": charter["reference"]}
    assert case["charterVehicle"] == {"id": vehicle_id, "recoveryStatus": "PENDING"}
    assert 0 < case["minutesToPickup"] <= 4 * 24 * 60
    assert searched["recoveryCase"]["status"] == "VENDOR_SEARCH"
    assert searched["recoveryCase"]["charterVehicle"]["recoveryStatus"] == "VENDOR_SEARCH"
    assert resolved["userErrors"] == []
    assert resolved["recoveryCase"]["status"] == "RESOLVED"
    assert resolved["recoveryCase"]["note"] == "Axle\nOur own coach 12 covers it"
    assert resolved["recoveryCase"]["resolvedBy"] == {"id": str(dispatcher_id)}
    assert resolved["recoveryCase"]["charterVehicle"]["recoveryStatus"] == "NOT_NEEDED"
    [opened_event] = await events_of(sessions, recovery.RECOVERY_OPENED)
    assert opened_event["caseId"] == case["id"]
    assert opened_event["excludeVendorIds"] == []


async def test_bad_recovery_input_is_a_user_error_and_changes_nothing(
    staff, bookable_charter, sessions, as_role
):
    charter = await booked(staff, bookable_charter, days=3)
    quote = await bookable_charter(days=3)
    vehicle_id = charter["vehicles"][0]["id"]
    dispatcher = await as_role("dispatcher")
    case = (await dispatcher(OPEN, {"cv": vehicle_id, "reason": "OTHER"})).ok()["openRecovery"][
        "recoveryCase"
    ]
    outbox_before = len(await events_of(sessions, "charters.charter_changed"))

    answers = {
        "twice": (await dispatcher(OPEN, {"cv": vehicle_id, "reason": "OTHER"})).ok()[
            "openRecovery"
        ],
        "unknown": (await dispatcher(OPEN, {"cv": str(uuid.uuid4()), "reason": "OTHER"})).ok()[
            "openRecovery"
        ],
        "quote": (
            await dispatcher(OPEN, {"cv": quote["vehicles"][0]["id"], "reason": "OTHER"})
        ).ok()["openRecovery"],
        "long": (
            await dispatcher(OPEN, {"cv": vehicle_id, "reason": "OTHER", "note": "x" * 1001})
        ).ok()["openRecovery"],
        "no driver": (
            await dispatcher(OPEN_DRIVER, {"cv": vehicle_id, "reason": "DRIVER_UNAVAILABLE"})
        ).ok()["openDriverRecovery"],
        "blank note": (await dispatcher(RESOLVE, {"id": case["id"], "note": "  "})).ok()[
            "resolveRecovery"
        ],
        "unknown case": (await dispatcher(SEARCH, {"id": str(uuid.uuid4())})).ok()[
            "startRecoverySearch"
        ],
    }

    assert {k: codes(v) for k, v in answers.items()} == {
        "twice": [("charterVehicleId", "CONFLICT")],
        "unknown": [("charterVehicleId", "NOT_FOUND")],
        "quote": [("charterVehicleId", "INVALID_TRANSITION")],
        "long": [("note", "TOO_LONG")],
        "no driver": [("charterVehicleId", "INVALID")],
        "blank note": [("note", "REQUIRED")],
        "unknown case": [("caseId", "NOT_FOUND")],
    }
    assert all(v["recoveryCase"] is None for v in answers.values())
    [still] = await cases_of(sessions, vehicle_id)
    assert still.status == "pending"
    assert await cases_of(sessions, quote["vehicles"][0]["id"]) == []
    assert len(await events_of(sessions, "charters.charter_changed")) == outbox_before


async def test_only_dispatch_staff_open_recovery_or_read_the_board(
    staff, bookable_charter, as_role
):
    charter = await booked(staff, bookable_charter, days=3)
    vehicle_id = charter["vehicles"][0]["id"]

    for role in ("sales_agent", "accounting", "client", "vendor", "driver"):
        client = await as_role(role)
        opened = await client(OPEN, {"cv": vehicle_id, "reason": "OTHER"})
        board = await client(BOARD, {})
        assert opened.error_codes == ["FORBIDDEN"], role
        assert board.error_codes == ["FORBIDDEN"], role
    for role in ("admin", "manager", "dispatcher"):
        board = await (await as_role(role))(BOARD, {})
        assert board.ok()["recoveryBoard"]["totalCount"] == 0, role


async def test_emergency_driver_reassignment_is_resolved_by_assigning_another_driver(
    staff, bookable_charter, sessions, as_role
):
    charter = await booked(staff, bookable_charter, days=2)
    vehicle_id = charter["vehicles"][0]["id"]
    dispatcher = await as_role("dispatcher")
    sick, relief = await fleet_driver(staff), await fleet_driver(staff)
    first = (await dispatcher(ASSIGN, {"cv": vehicle_id, "driver": sick["id"]})).ok()
    assert first["assignCharterVehicle"]["userErrors"] == []

    opened = (
        await dispatcher(
            OPEN_DRIVER, {"cv": vehicle_id, "reason": "DRIVER_UNAVAILABLE", "note": "Flu"}
        )
    ).ok()["openDriverRecovery"]
    case = opened["recoveryCase"]
    no_search = (await dispatcher(SEARCH, {"id": case["id"]})).ok()["startRecoverySearch"]
    same_again = (await dispatcher(ASSIGN, {"cv": vehicle_id, "driver": sick["id"]})).ok()
    still_open = (await staff(CHARTER_RECOVERY, {"id": charter["id"]})).ok()["charter"]
    reassigned = (await dispatcher(ASSIGN, {"cv": vehicle_id, "driver": relief["id"]})).ok()

    assert opened["userErrors"] == []
    assert (case["subject"], case["status"], case["reason"]) == (
        "DRIVER",
        "PENDING",
        "DRIVER_UNAVAILABLE",
    )
    assert case["previousDriver"] == {"id": sick["id"]}
    assert codes(no_search) == [("caseId", "INVALID")]
    assert same_again["assignCharterVehicle"]["userErrors"] == []
    assert still_open["recovery"] == [{"id": case["id"], "status": "PENDING", "subject": "DRIVER"}]
    assert still_open["vehicles"][0]["recoveryStatus"] == "PENDING"
    assert reassigned["assignCharterVehicle"]["userErrors"] == []
    [done] = await cases_of(sessions, vehicle_id)
    assert done.status == "resolved"
    assert str(done.replacement_driver_id) == relief["id"]
    after = (await staff(CHARTER_RECOVERY, {"id": charter["id"]})).ok()["charter"]
    assert after["recovery"] == []
    assert after["vehicles"][0] == {
        "id": vehicle_id,
        "recoveryStatus": "NOT_NEEDED",
        "recovery": None,
    }


async def test_the_recovery_board_lists_open_cases_oldest_first(
    staff, bookable_charter, sessions, as_role
):
    dispatcher_viewer = Viewer(user_id=uuid.uuid4(), roles=frozenset({Role.DISPATCHER}))
    charters = [await booked(staff, bookable_charter, days=d) for d in (4, 2, 3, 6, 5)]
    opened_at = datetime.now(UTC) - timedelta(hours=1)
    # Opened in this order: the second charter's first, the first charter's last (of
    # those left open: the fourth is resolved, the fifth charter cancelled).
    order = [1, 4, 2, 0, 3]
    async with sessions() as session, session.begin():
        ids = {}
        for minutes, i in enumerate(order):
            case = await recovery.open_recovery(
                session,
                uuid.UUID(charters[i]["vehicles"][0]["id"]),
                "vendor_no_show",
                dispatcher_viewer,
                at=opened_at + timedelta(minutes=minutes),
            )
            ids[i] = str(case.id)
    async with sessions() as session, session.begin():
        await recovery.resolve(session, uuid.UUID(ids[3]), "Sorted", dispatcher_viewer)
    cancelled = (await staff(CANCEL, {"id": charters[4]["id"], "reason": "Client called off"})).ok()
    assert cancelled["cancelCharter"]["userErrors"] == []
    dispatcher = await as_role("dispatcher")

    first_page = (await dispatcher(BOARD, {"first": 2})).ok()["recoveryBoard"]
    cursor = first_page["pageInfo"]["endCursor"]
    second_page = (await dispatcher(BOARD, {"first": 2, "after": cursor})).ok()["recoveryBoard"]
    on_charter = (await staff(CHARTER_RECOVERY, {"id": charters[0]["id"]})).ok()["charter"]

    board = nodes(first_page) + nodes(second_page)
    assert first_page["totalCount"] == 3
    assert first_page["pageInfo"]["hasNextPage"] is True
    assert [n["id"] for n in board] == [ids[1], ids[2], ids[0]]
    assert [n["charter"]["reference"] for n in board] == [
        charters[i]["reference"] for i in (1, 2, 0)
    ]
    assert [n["charterVehicle"]["id"] for n in board] == [
        charters[i]["vehicles"][0]["id"] for i in (1, 2, 0)
    ]
    # The second charter picks up sooner than the third, the third sooner than the first.
    minutes = [n["minutesToPickup"] for n in board]
    assert 0 < minutes[0] < minutes[1] < minutes[2]
    assert on_charter["recovery"] == [{"id": ids[0], "status": "PENDING", "subject": "VENDOR"}]
    assert on_charter["vehicles"][0]["recovery"] == {"id": ids[0], "status": "PENDING"}


async def test_cancelling_the_charter_resolves_its_open_cases(
    staff, bookable_charter, sessions, as_role
):
    charter = await booked(staff, bookable_charter, days=3)
    vehicle_id = charter["vehicles"][0]["id"]
    dispatcher = await as_role("dispatcher")
    opened = (await dispatcher(OPEN, {"cv": vehicle_id, "reason": "VEHICLE_BREAKDOWN"})).ok()
    case_id = opened["openRecovery"]["recoveryCase"]["id"]

    cancelled = (
        await dispatcher(
            "mutation($id: ID!) { cancelCharterFromDispatch(charterId: $id, "
            'reason: "Event called off", fee: "0.00") { userErrors { code } } }',
            {"id": charter["id"]},
        )
    ).ok()["cancelCharterFromDispatch"]

    [case] = await cases_of(sessions, vehicle_id)
    assert cancelled["userErrors"] == []
    assert str(case.id) == case_id
    assert case.status == "resolved"
    assert case.resolved_by is None
    assert case.note.endswith(recovery.CANCELLED_NOTE)
    assert await vehicle_recovery_status(sessions, vehicle_id) == "not_needed"
