"""Seed rules the first wave departed from (issue 9, section 6), charters' side.

Change cases as seed 002 has them: reviewed before approval unless a
configured auto-approval rule applies; a note or reason to approve, reject,
implement and cancel; a rejected case may still be cancelled; the typed
changes (pickup location, destination, amenities, pricing adjustment).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from subgraphs.charters.service.change_cases import (
    MINIMAL_IMPACT,
    NOTE_REQUIRED,
    ApprovalPolicy,
    ChangeRequest,
    approval_needed,
)
from subgraphs.charters.states import CHANGE_CASE
from tests.charters.ops import CASES_OF, nodes, read_charter
from tests.charters.test_change_cases import _approve, _booked, _implement, _move, _request


@pytest.fixture
async def approver(as_role):
    """Another manager: nobody approves their own request (four eyes)."""
    return await as_role("manager")


def _history(case):
    return [(h["fromStatus"], h["toStatus"], h["notes"]) for h in case["history"]]


def test_the_case_table_reviews_before_approval_and_cancels_a_rejection():
    assert CHANGE_CASE.allowed("pending") == {"under_review", "cancelled"}
    assert CHANGE_CASE.allowed("rejected") == {"cancelled"}
    assert set(NOTE_REQUIRED) == {"approved", "rejected", "implemented", "cancelled"}


@pytest.mark.parametrize(
    ("change_type", "priority", "impact", "new", "skips_review"),
    [
        ("passenger_count_change", "low", "minimal", "1000.00", True),
        ("passenger_count_change", "medium", "minimal", "1000.00", True),
        ("passenger_count_change", "low", "minimal", "1000.01", False),  # affects pricing
        ("passenger_count_change", "high", "minimal", "1000.00", False),
        ("passenger_count_change", "low", "moderate", "1000.00", False),
        ("pricing_adjustment", "low", "minimal", "1000.00", False),
        ("cancellation", "low", "minimal", "0.00", False),
    ],
)
def test_the_auto_approval_rule_is_explicit(change_type, priority, impact, new, skips_review):
    request = ChangeRequest(
        change_type=change_type,
        title="t",
        priority=priority,
        impact_level=impact,
        current_price=Decimal("1000.00"),
        new_price=Decimal(new),
    )

    on = approval_needed(request, ApprovalPolicy(auto_approve_minimal=True))
    off = approval_needed(request, ApprovalPolicy())

    assert MINIMAL_IMPACT.applies(request) is skips_review
    assert (on.required, on.rule) == ((False, "minimal impact") if skips_review else (True, None))
    assert (off.required, off.rule) == (True, None)


async def test_a_pending_case_is_reviewed_before_it_is_approved(staff, approver, bookable_charter):
    charter = await _booked(bookable_charter, staff)
    case = (await _request(staff, charter["id"], changes={"passengerCount": 44}))["changeCase"]

    skipped = await _move(approver, case["id"], "APPROVED", "Fine")
    reviewed = await _move(staff, case["id"], "UNDER_REVIEW")
    approved = await _move(approver, case["id"], "APPROVED", "Fine by ops")

    assert [e["code"] for e in skipped["userErrors"]] == ["INVALID_TRANSITION"]
    assert reviewed["changeCase"]["status"] == "UNDER_REVIEW"
    assert approved["changeCase"]["decisionNotes"] == "Fine by ops"
    assert _history(approved["changeCase"]) == [
        (None, "PENDING", "opened"),
        ("PENDING", "UNDER_REVIEW", None),
        ("UNDER_REVIEW", "APPROVED", "Fine by ops"),
    ]


async def test_deciding_implementing_and_cancelling_need_a_note(staff, approver, bookable_charter):
    charter = await _booked(bookable_charter, staff)
    case = (await _request(staff, charter["id"], changes={"passengerCount": 44}))["changeCase"]
    other = (await _request(staff, charter["id"], changes={"passengerCount": 45}))["changeCase"]
    await _move(staff, case["id"], "UNDER_REVIEW")
    await _move(staff, other["id"], "UNDER_REVIEW")

    no_approval_note = await _move(approver, case["id"], "APPROVED", "   ")
    no_rejection_reason = await _move(approver, other["id"], "REJECTED")
    no_cancel_reason = await _move(staff, other["id"], "CANCELLED")
    await _move(approver, case["id"], "APPROVED", "Fine")
    no_implementation_note = await _implement(staff, case["id"], None)
    statuses = {
        c["id"]: c["status"]
        for c in nodes(
            (await staff(CASES_OF, {"id": charter["id"]})).ok()["charter"]["changeCases"]
        )
    }

    for refused in (
        no_approval_note,
        no_rejection_reason,
        no_cancel_reason,
        no_implementation_note,
    ):
        assert refused["changeCase"] is None
        assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [("notes", "REQUIRED")]
    assert statuses == {case["id"]: "APPROVED", other["id"]: "UNDER_REVIEW"}
    assert (await read_charter(staff, charter["id"]))["passengerCount"] == 40


async def test_a_rejected_case_may_still_be_cancelled(staff, approver, bookable_charter):
    charter = await _booked(bookable_charter, staff)
    case = (await _request(staff, charter["id"], changes={"passengerCount": 44}))["changeCase"]
    await _move(staff, case["id"], "UNDER_REVIEW")
    await _move(approver, case["id"], "REJECTED", "No coach that size")

    cancelled = await _move(staff, case["id"], "CANCELLED", "Client withdrew the request")

    assert cancelled["changeCase"]["status"] == "CANCELLED"
    assert _history(cancelled["changeCase"])[-1] == (
        "REJECTED",
        "CANCELLED",
        "Client withdrew the request",
    )


async def _typed(staff, approver, charter, change_type, **input_):
    filed = await _request(staff, charter["id"], changeType=change_type, title="Typed", **input_)
    assert filed["userErrors"] == [], filed
    case = filed["changeCase"]
    await _approve(approver, case["id"])
    done = await _implement(staff, case["id"], "Client confirmed by phone")
    assert done["userErrors"] == [], done
    return done["changeCase"]


async def test_pickup_and_destination_changes_move_only_their_stop(
    staff, approver, bookable_charter
):
    charter = await _booked(bookable_charter, staff)
    pickup_id, dropoff_id = (s["id"] for s in charter["stops"])

    moved_pickup = await _typed(
        staff,
        approver,
        charter,
        "PICKUP_LOCATION_CHANGE",
        pickup={"address": "2 Depot Rd, Springfield", "latitude": 39.8, "longitude": -89.6},
    )
    after_pickup = await read_charter(staff, charter["id"])
    await _typed(
        staff, approver, charter, "DESTINATION_CHANGE", destination={"address": "1 Arena Way"}
    )
    after_both = await read_charter(staff, charter["id"])

    assert moved_pickup["status"] == "IMPLEMENTED"
    assert moved_pickup["after"]["stops"][0]["address"] == "2 Depot Rd, Springfield"
    assert [(s["id"], s["address"]) for s in after_pickup["stops"]] == [
        (pickup_id, "2 Depot Rd, Springfield"),
        (dropoff_id, "9 Lake Rd, Shelbyville"),
    ]
    assert [(s["id"], s["address"]) for s in after_both["stops"]] == [
        (pickup_id, "2 Depot Rd, Springfield"),
        (dropoff_id, "1 Arena Way"),
    ]
    assert after_both["passengerCount"] == charter["passengerCount"]


async def test_amenities_are_recorded_on_the_case_and_carried_to_the_next(
    staff, approver, bookable_charter
):
    charter = await _booked(bookable_charter, staff)

    added = await _typed(
        staff, approver, charter, "AMENITY_ADDITION", amenities=["Wi-Fi", "restroom", "wi-fi"]
    )
    removed = await _typed(staff, approver, charter, "AMENITY_REMOVAL", amenities=["restroom"])
    again = await _request(
        staff, charter["id"], changeType="AMENITY_REMOVAL", title="x", amenities=["restroom"]
    )
    mixed = await _request(
        staff,
        charter["id"],
        changeType="AMENITY_ADDITION",
        title="x",
        amenities=["tv"],
        changes={"passengerCount": 41},
    )

    assert (added["before"]["amenities"], added["after"]["amenities"]) == (
        [],
        ["wi-fi", "restroom"],
    )
    assert (removed["before"]["amenities"], removed["after"]["amenities"]) == (
        ["wi-fi", "restroom"],
        ["wi-fi"],
    )
    assert [(e["field"], e["code"]) for e in again["userErrors"]] == [
        ("input.amenities", "INVALID")
    ]
    assert [(e["field"], e["code"]) for e in mixed["userErrors"]] == [("input.changes", "INVALID")]


async def test_a_pricing_adjustment_reprices_a_vehicle_keeping_it_and_is_always_reviewed(
    staff, approver, bookable_charter
):
    charter = await _booked(bookable_charter, staff)
    vehicle_id = charter["vehicles"][0]["id"]

    filed = await _request(
        staff,
        charter["id"],
        changeType="PRICING_ADJUSTMENT",
        title="Fuel surcharge",
        priority="LOW",
        impactLevel="MINIMAL",
        vehicleCosts=[{"charterVehicleId": vehicle_id, "cost": "1300.00"}],
    )
    case = filed["changeCase"]
    await _approve(approver, case["id"])
    await _implement(staff, case["id"], "Surcharge agreed")
    after = await read_charter(staff, charter["id"])

    assert filed["userErrors"] == []
    assert (case["status"], case["requiresApproval"]) == ("PENDING", True)
    assert case["currentPrice"] == "1250.00"
    assert [(v["id"], v["cost"]) for v in after["vehicles"]] == [(vehicle_id, "1300.00")]


async def test_a_typed_change_needs_its_own_field(staff, bookable_charter):
    charter = await _booked(bookable_charter, staff)

    answers = [
        await _request(staff, charter["id"], changeType=t, title="x")
        for t in ("PICKUP_LOCATION_CHANGE", "DESTINATION_CHANGE", "AMENITY_ADDITION")
    ] + [
        await _request(
            staff,
            charter["id"],
            changeType="PRICING_ADJUSTMENT",
            title="x",
            vehicleCosts=[{"charterVehicleId": charter["id"], "cost": "1.00"}],
        )
    ]

    assert [[(e["field"], e["code"]) for e in a["userErrors"]] for a in answers] == [
        [("input.pickup", "REQUIRED")],
        [("input.destination", "REQUIRED")],
        [("input.amenities", "REQUIRED")],
        [("input.vehicleCosts", "NOT_FOUND")],
    ]
    cases = nodes((await staff(CASES_OF, {"id": charter["id"]})).ok()["charter"]["changeCases"])
    assert cases == []
