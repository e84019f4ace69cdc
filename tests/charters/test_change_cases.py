"""Change management over HTTP: file, approve, implement, refuse stale cases."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.charters.ops import (
    CANCEL,
    CASES_OF,
    IMPLEMENT_CASE,
    MOVE_CASE,
    REQUEST_CHANGE,
    book,
    codes,
    nodes,
    read_charter,
)


@pytest.fixture
async def approver(as_role):
    """Another manager: nobody approves their own request (four eyes)."""
    return await as_role("manager")


async def _booked(bookable_charter, staff, **kwargs):
    charter = await bookable_charter(**kwargs)
    await book(staff, charter["id"])
    return await read_charter(staff, charter["id"])


async def _request(client, charter_id, **input_):
    data = {"changeType": "PASSENGER_COUNT_CHANGE", "title": "More guests", **input_}
    return (await client(REQUEST_CHANGE, {"charterId": charter_id, "input": data})).ok()[
        "requestCharterChange"
    ]


async def _move(client, case_id, status, notes=None):
    return (await client(MOVE_CASE, {"id": case_id, "status": status, "notes": notes})).ok()[
        "moveChangeCase"
    ]


async def _implement(client, case_id, notes="Done"):
    return (await client(IMPLEMENT_NOTED, {"id": case_id, "notes": notes})).ok()[
        "implementChangeCase"
    ]


async def _approve(client, case_id, notes="Approved"):
    """Seed 002: a pending case is reviewed first; approving needs notes."""
    await _move(client, case_id, "UNDER_REVIEW")
    return await _move(client, case_id, "APPROVED", notes)


IMPLEMENT_NOTED = IMPLEMENT_CASE.replace("$id: ID!)", "$id: ID!, $notes: String)").replace(
    "implementChangeCase(id: $id)", "implementChangeCase(id: $id, notes: $notes)"
)


async def test_a_change_to_a_booked_charter_waits_for_approval_then_applies(
    staff, approver, bookable_charter
):
    charter = await _booked(bookable_charter, staff, passengers=40)

    filed = await _request(
        staff, charter["id"], reason="Client confirmed five more", changes={"passengerCount": 45}
    )
    case = filed["changeCase"]
    unchanged = await read_charter(staff, charter["id"])

    assert filed["userErrors"] == []
    assert re.fullmatch(r"CHG-\d{4}-\d{4}", case["caseNumber"])
    assert case["status"] == "PENDING"
    assert case["requiresApproval"] is True
    assert case["before"]["passenger_count"] == 40
    assert case["after"]["passenger_count"] == 45
    assert unchanged["passengerCount"] == 40

    await _move(staff, case["id"], "UNDER_REVIEW")
    approved = await _move(approver, case["id"], "APPROVED", "fine")
    implemented = await _implement(staff, case["id"])
    after = await read_charter(staff, charter["id"])

    assert approved["changeCase"]["status"] == "APPROVED"
    assert approved["changeCase"]["decisionNotes"] == "fine"
    assert implemented["userErrors"] == []
    assert implemented["changeCase"]["status"] == "IMPLEMENTED"
    assert after["passengerCount"] == 45
    assert [(h["fromStatus"], h["toStatus"]) for h in implemented["changeCase"]["history"]] == [
        (None, "PENDING"),
        ("PENDING", "UNDER_REVIEW"),
        ("UNDER_REVIEW", "APPROVED"),
        ("APPROVED", "IMPLEMENTED"),
    ]


async def test_the_case_number_counts_up_per_year(staff, bookable_charter):
    charter = await _booked(bookable_charter, staff)

    first = (await _request(staff, charter["id"], changes={"notes": "a"}))["changeCase"]
    second = (await _request(staff, charter["id"], changes={"notes": "b"}))["changeCase"]

    assert int(second["caseNumber"][-4:]) == int(first["caseNumber"][-4:]) + 1


async def test_a_quote_is_edited_directly_not_through_a_case(staff, bookable_charter):
    charter = await bookable_charter()

    payload = await _request(staff, charter["id"], changes={"passengerCount": 45})
    cases = nodes((await staff(CASES_OF, {"id": charter["id"]})).ok()["charter"]["changeCases"])

    assert payload["changeCase"] is None
    assert codes(payload) == [("charterId", "INVALID_TRANSITION")]
    assert "edit it directly" in payload["userErrors"][0]["message"]
    assert cases == []


async def test_stops_and_vehicles_are_replaced_as_whole_lists(
    staff, approver, bookable_charter, vehicle_type
):
    charter = await _booked(bookable_charter, staff, passengers=40)
    minibus = await vehicle_type(capacity=24)
    stops = [
        {"type": "PICKUP", "address": "Depot"},
        {"type": "WAYPOINT", "address": "Museum"},
        {"type": "DROPOFF", "address": "Hotel"},
    ]
    vehicles = [{"vehicleTypeId": minibus["id"], "cost": "600.00"} for _ in range(2)]

    case = (
        await _request(
            staff,
            charter["id"],
            changeType="ITINERARY_MODIFICATION",
            title="New route, two minibuses",
            changes={"stops": stops, "vehicles": vehicles},
        )
    )["changeCase"]
    await _approve(approver, case["id"])
    await _implement(staff, case["id"])
    after = await read_charter(staff, charter["id"])

    assert [(s["position"], s["type"], s["address"]) for s in after["stops"]] == [
        (1, "PICKUP", "Depot"),
        (2, "WAYPOINT", "Museum"),
        (3, "DROPOFF", "Hotel"),
    ]
    assert [(v["capacity"], v["cost"]) for v in after["vehicles"]] == [
        (24, "600.00"),
        (24, "600.00"),
    ]
    assert after["totalCost"] == "1200.00"


async def test_invalid_changes_file_nothing(staff, bookable_charter):
    charter = await _booked(bookable_charter, staff)

    negative = await _request(staff, charter["id"], changes={"passengerCount": -3})
    past = await _request(
        staff,
        charter["id"],
        changeType="DATE_TIME_CHANGE",
        changes={"pickupLocal": "2020-01-01T09:00"},
    )
    nothing = await _request(staff, charter["id"], changes={})
    unknown = await _request(
        staff,
        charter["id"],
        changes={"vehicles": [{"vehicleTypeId": str(uuid.uuid4()), "cost": "1.00"}]},
    )
    cases = nodes((await staff(CASES_OF, {"id": charter["id"]})).ok()["charter"]["changeCases"])

    assert codes(negative) == [("passengerCount", "OUT_OF_RANGE")]
    assert codes(past) == [("pickupLocal", "IN_THE_PAST")]
    assert codes(nothing) == [("input.changes", "INVALID")]
    assert codes(unknown) == [("input.changes.vehicles.0.vehicleTypeId", "NOT_FOUND")]
    assert cases == []


async def test_a_stale_case_is_refused_and_changes_nothing(staff, approver, bookable_charter):
    charter = await _booked(bookable_charter, staff, passengers=40)
    first = (await _request(staff, charter["id"], changes={"passengerCount": 44}))["changeCase"]
    second = (await _request(staff, charter["id"], changes={"notes": "Late return"}))["changeCase"]
    await _approve(approver, first["id"])
    await _approve(approver, second["id"])
    await _implement(staff, first["id"])

    refused = await _implement(staff, second["id"])
    after = await read_charter(staff, charter["id"])
    cases = nodes((await staff(CASES_OF, {"id": charter["id"]})).ok()["charter"]["changeCases"])

    assert refused["changeCase"] is None
    assert codes(refused) == [("id", "STALE_CHANGE_CASE")]
    assert second["caseNumber"] in refused["userErrors"][0]["message"]
    assert after["passengerCount"] == 44
    assert after["notes"] is None
    assert [c["status"] for c in cases] == ["IMPLEMENTED", "APPROVED"]


async def test_an_unapproved_case_cannot_be_implemented(staff, bookable_charter):
    charter = await _booked(bookable_charter, staff)
    case = (await _request(staff, charter["id"], changes={"passengerCount": 41}))["changeCase"]

    refused = await _implement(staff, case["id"])

    assert codes(refused)[0][1] == "INVALID_TRANSITION"
    assert (await read_charter(staff, charter["id"]))["passengerCount"] == 40


async def test_a_rejected_case_is_never_approved(staff, approver, bookable_charter):
    """Seed 002: a rejected case is only ever cancelled (`test_seed_rules.py`)."""
    charter = await _booked(bookable_charter, staff)
    case = (await _request(staff, charter["id"], changes={"passengerCount": 41}))["changeCase"]

    skipped_review = await _move(staff, case["id"], "REJECTED", "No seats")
    await _move(staff, case["id"], "UNDER_REVIEW")
    rejected = await _move(staff, case["id"], "REJECTED", "No seats")
    reopened = await _move(approver, case["id"], "APPROVED", "Changed my mind")
    reviewed_again = await _move(staff, case["id"], "UNDER_REVIEW")

    assert codes(skipped_review)[0][1] == "INVALID_TRANSITION"
    assert rejected["changeCase"]["status"] == "REJECTED"
    assert codes(reopened)[0][1] == "INVALID_TRANSITION"
    assert codes(reviewed_again)[0][1] == "INVALID_TRANSITION"


async def test_an_approved_cancellation_cancels_the_charter_when_implemented(
    staff, as_role, bookable_charter
):
    charter = await _booked(bookable_charter, staff)
    manager_id = uuid.uuid4()
    manager = await as_role("manager", user_id=manager_id)

    filed = await _request(
        staff,
        charter["id"],
        changeType="CANCELLATION",
        title="Client cancels",
        reason="Event called off",
        priority="LOW",
        impactLevel="MINIMAL",
        cancellationFee="150.00",
    )
    case = filed["changeCase"]
    still_booked = await read_charter(staff, charter["id"])
    await _approve(manager, case["id"])
    implemented = await _implement(manager, case["id"])
    cancelled = (
        await staff(
            "query($id: ID!) { charter(id: $id) { status cancellation { reason fee cancelledBy { id } } } }",
            {"id": charter["id"]},
        )
    ).ok()["charter"]

    assert case["status"] == "PENDING"
    assert case["requiresApproval"] is True
    assert still_booked["status"] == "BOOKED"
    assert implemented["userErrors"] == []
    assert implemented["changeCase"]["status"] == "IMPLEMENTED"
    assert cancelled == {
        "status": "CANCELLED",
        "cancellation": {
            "reason": "Event called off",
            "fee": "150.00",
            "cancelledBy": {"id": str(manager_id)},
        },
    }


async def test_a_cancellation_needs_a_reason_and_carries_no_other_change(staff, bookable_charter):
    charter = await _booked(bookable_charter, staff)

    no_reason = await _request(staff, charter["id"], changeType="CANCELLATION", title="Cancel")
    with_changes = await _request(
        staff,
        charter["id"],
        changeType="CANCELLATION",
        title="Cancel",
        reason="x",
        changes={"passengerCount": 3},
    )

    assert codes(no_reason) == [("input.reason", "REQUIRED")]
    assert codes(with_changes) == [("input.changes", "INVALID")]


def _priced(charter, cost):
    """The charter's vehicles, one of them repriced: the system computes the new price."""
    return [{"vehicleTypeId": charter["vehicles"][0]["vehicleType"]["id"], "cost": cost}]


async def test_sales_support_cannot_approve_a_manager_level_case_but_a_manager_can(
    staff, as_role, bookable_charter
):
    charter = await _booked(bookable_charter, staff)  # costs 1250.00
    support = await as_role("sales_support")
    manager = await as_role("manager")
    case = (
        await _request(
            staff,
            charter["id"],
            changeType="VEHICLE_CHANGE",
            changes={"vehicles": _priced(charter, "1750.00")},
        )
    )["changeCase"]

    refused = await _move(support, case["id"], "APPROVED", "Looks fine")
    pending = nodes((await staff(CASES_OF, {"id": charter["id"]})).ok()["charter"]["changeCases"])
    approved = await _approve(manager, case["id"])

    assert case["currentPrice"] == "1250.00"
    assert case["requiresManager"] is True
    assert codes(refused) == [(None, "FORBIDDEN")]
    assert "manager approval required" in refused["userErrors"][0]["message"]
    assert pending[0]["status"] == "PENDING"
    assert approved["changeCase"]["status"] == "APPROVED"


async def test_sales_support_approves_a_case_below_the_manager_threshold(
    staff, as_role, bookable_charter
):
    charter = await _booked(bookable_charter, staff)
    support = await as_role("sales_support")
    case = (
        await _request(
            staff,
            charter["id"],
            changeType="VEHICLE_CHANGE",
            proposedPrice="9999.00",
            changes={"vehicles": _priced(charter, "1749.99")},
        )
    )["changeCase"]

    approved = await _approve(support, case["id"])

    assert case["requiresManager"] is False
    assert approved["changeCase"]["status"] == "APPROVED"


async def test_a_sales_agent_cannot_file_a_case_on_another_agents_charter(
    staff, as_role, bookable_charter
):
    charter = await _booked(bookable_charter, staff)
    agent = await as_role("sales_agent")

    refused = await _request(agent, charter["id"], changes={"passengerCount": 41})

    assert codes(refused) == [(None, "FORBIDDEN")]


async def test_a_non_staff_token_cannot_request_changes(as_role, staff, bookable_charter):
    charter = await _booked(bookable_charter, staff)
    client = await as_role("client")

    response = await client(
        REQUEST_CHANGE,
        {"charterId": charter["id"], "input": {"changeType": "OTHER", "title": "x"}},
    )

    assert response.error_codes == ["FORBIDDEN"]


async def test_cancel_charter_directly_records_who_when_why_and_fee(
    as_role, staff, bookable_charter
):
    charter = await bookable_charter()
    agent_id = uuid.uuid4()
    support = await as_role("sales_support", user_id=agent_id)

    payload = (
        await support(CANCEL, {"id": charter["id"], "reason": "Budget cut", "fee": "75.50"})
    ).ok()["cancelCharter"]

    cancellation = payload["charter"]["cancellation"]
    assert payload["charter"]["status"] == "CANCELLED"
    assert cancellation["reason"] == "Budget cut"
    assert cancellation["fee"] == "75.50"
    assert cancellation["cancelledBy"] == {"id": str(agent_id)}
    assert cancellation["cancelledAt"].endswith("Z")
