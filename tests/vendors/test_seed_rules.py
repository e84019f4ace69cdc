"""Seed rules the first wave departed from (issue 9, section 6), vendors' side.

- A bid holds 72 hours when the bidder gives no validity (seed 002's
  `BID_EXPIRATION_HOURS`), never past the charter's pickup.
- Staff mark a submitted bid under review (both seeds); it stays live.
- Vendor assignments follow the trip: confirmed -> in_progress when the
  charter starts, -> completed when it ends, learnt from charters' events
  (`projection.apply_charter_event`), each move audited with no actor.

Ratings' one-decimal scores are in `test_ratings.py`.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text, update

from subgraphs.vendors import states
from subgraphs.vendors.models import Bid, VendorAssignment, VendorAudit, outbox
from subgraphs.vendors.service.assignments import MOVED_BY, TRIP_MOVES
from subgraphs.vendors.service.bids import DEFAULT_VALIDITY, effective_status, expire_stale_bids
from tests.charters.ops import SET_STATUS, book
from tests.support.vendors_facts import ASSIGN, RESPOND, FactCharter, served, vendor_user

CREATE = """
mutation($input: CreateBidInput!, $submit: Boolean! = true) {
  createBid(input: $input, submit: $submit) {
    bid { id status } userErrors { field code message }
  }
}"""
REVIEW = """
mutation($id: ID!) { reviewBid(id: $id) { bid { id status } userErrors { field code message } } }"""
ACCEPT = """
mutation($id: ID!) {
  acceptBid(id: $id) { bid { id status } assignments { status } userErrors { field code message } }
}"""
REJECT = """
mutation($id: ID!) { rejectBid(id: $id, reason: "Too dear") { bid { id status } userErrors { field code message } } }"""
WITHDRAW = """
mutation($id: ID!) { withdrawBid(id: $id) { bid { id status } userErrors { field code message } } }"""
CHARTER_BIDS = """
query($reps: [_Any!]!) {
  _entities(representations: $reps) { ... on Charter { bids { id status rank } } }
}"""
MY_BIDS = """
query($status: [BidStatus!]) { myBids(status: $status) { edges { node { id status } } } }"""
ASSIGNMENT = """
query($reps: [_Any!]!) {
  _entities(representations: $reps) { ... on CharterVehicle { vendorAssignment { id status } } }
}"""


def bid_input(charter: FactCharter, amount: str = "1000.00", **fields: Any) -> dict[str, Any]:
    return {
        "charterId": str(charter.id),
        "amount": amount,
        "vehicleType": "56-seat coach",
        **fields,
    }


async def create_bid(client: Any, data: dict[str, Any], submit: bool = True) -> dict[str, Any]:
    payload = (await client(CREATE, {"input": data, "submit": submit})).ok()["createBid"]
    return payload  # type: ignore[no-any-return]


async def stored_bid(sessions: Any, bid_id: str) -> Bid:
    async with sessions() as session:
        return await session.get_one(Bid, uuid.UUID(bid_id))


async def audit_of(sessions: Any, entity_id: str) -> list[tuple[str, uuid.UUID | None]]:
    async with sessions() as session:
        rows = await session.scalars(
            select(VendorAudit)
            .where(VendorAudit.entity_id == uuid.UUID(entity_id))
            .order_by(VendorAudit.at, VendorAudit.action)
        )
        return [(r.action, r.actor_id) for r in rows]


# -- bids: validity ------------------------------------------------------------


async def test_a_bid_without_validity_holds_72_hours(make_vendor, vendors_staff, sessions):
    charter = FactCharter()
    await charter.project(sessions, "booked")
    vendor = await make_vendor()

    before = datetime.now(UTC)
    payload = await create_bid(vendors_staff, bid_input(charter, vendorId=vendor["id"]))
    after = datetime.now(UTC)

    assert payload["userErrors"] == []
    assert payload["bid"]["status"] == "SUBMITTED"
    stored = await stored_bid(sessions, payload["bid"]["id"])
    assert timedelta(hours=72) == DEFAULT_VALIDITY
    assert before + DEFAULT_VALIDITY <= stored.valid_until <= after + DEFAULT_VALIDITY


async def test_a_vendor_bid_without_validity_holds_72_hours_over_http(
    make_vendor, vendors_staff, vendors_as, sessions
):
    charter = FactCharter()
    await charter.project(sessions, "quote")
    vendor = await make_vendor()
    portal, _ = await vendor_user(vendors_staff, vendors_as, vendor["id"])

    before = datetime.now(UTC)
    payload = await create_bid(portal, bid_input(charter), submit=False)

    assert payload["userErrors"] == []
    stored = await stored_bid(sessions, payload["bid"]["id"])
    assert timedelta(0) <= stored.valid_until - (before + DEFAULT_VALIDITY) < timedelta(minutes=1)


async def test_the_default_validity_never_runs_past_the_pickup(
    make_vendor, vendors_staff, sessions
):
    charter = FactCharter()
    pickup = (datetime.now(UTC) + timedelta(hours=30)).replace(microsecond=0)
    await charter.project(sessions, "booked", pickupAt=pickup.isoformat())
    vendor = await make_vendor()

    payload = await create_bid(vendors_staff, bid_input(charter, vendorId=vendor["id"]))

    assert payload["userErrors"] == []
    assert (await stored_bid(sessions, payload["bid"]["id"])).valid_until == pickup


async def test_a_given_validity_is_kept_and_still_checked(make_vendor, vendors_staff, sessions):
    charter = FactCharter()
    await charter.project(sessions, "booked")
    vendor = await make_vendor()
    until = (datetime.now(UTC) + timedelta(hours=5)).replace(microsecond=0)
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()

    kept = await create_bid(
        vendors_staff, bid_input(charter, vendorId=vendor["id"], validUntil=until.isoformat())
    )
    refused = await create_bid(
        vendors_staff, bid_input(charter, "900.00", vendorId=vendor["id"], validUntil=past)
    )

    assert (await stored_bid(sessions, kept["bid"]["id"])).valid_until == until
    assert [(e["field"], e["code"]) for e in refused["userErrors"]] == [
        ("validUntil", "OUT_OF_RANGE")
    ]


# -- bids: under review ----------------------------------------------------------


def test_the_bid_table_has_under_review_between_submitted_and_the_decision():
    assert states.BID.allowed("submitted") >= {"under_review"}
    assert states.BID.allowed("under_review") == {"accepted", "rejected", "withdrawn", "expired"}
    assert not states.BID.can("draft", "under_review")
    assert not states.BID.can("under_review", "submitted")
    bid = Bid(status="under_review", valid_until=datetime.now(UTC) - timedelta(seconds=1))
    assert effective_status(bid, datetime.now(UTC)) == "expired"


async def test_staff_mark_a_bid_under_review_audited_and_it_still_ranks(
    make_vendor, vendors_staff, vendors_as, sessions
):
    staff_user_id = uuid.uuid4()
    reviewer = await vendors_as("dispatcher", user_id=staff_user_id)
    charter = FactCharter()
    await charter.project(sessions, "booked")
    vendor = await make_vendor()
    portal, _ = await vendor_user(vendors_staff, vendors_as, vendor["id"])
    bid = (await create_bid(portal, bid_input(charter)))["bid"]

    reviewed = (await reviewer(REVIEW, {"id": bid["id"]})).ok()["reviewBid"]
    again = (await reviewer(REVIEW, {"id": bid["id"]})).ok()["reviewBid"]
    reps = [{"__typename": "Charter", "id": str(charter.id)}]
    listed = (await vendors_staff(CHARTER_BIDS, {"reps": reps})).ok()["_entities"][0]["bids"]
    mine = (await portal(MY_BIDS, {"status": ["UNDER_REVIEW"]})).ok()["myBids"]["edges"]

    assert reviewed == {"bid": {"id": bid["id"], "status": "UNDER_REVIEW"}, "userErrors": []}
    assert again["userErrors"][0]["code"] == "INVALID_TRANSITION"
    assert listed == [{"id": bid["id"], "status": "UNDER_REVIEW", "rank": 1}]
    assert [e["node"] for e in mine] == [{"id": bid["id"], "status": "UNDER_REVIEW"}]
    actions = await audit_of(sessions, bid["id"])
    assert actions[-1] == ("status:under_review", staff_user_id)


@pytest.mark.parametrize("role", ["vendor", "sales_agent", "accounting", "client", "driver"])
async def test_only_staff_who_decide_bids_mark_them_under_review(
    role, make_vendor, vendors_staff, vendors_as, sessions
):
    charter = FactCharter()
    await charter.project(sessions, "booked")
    vendor = await make_vendor()
    bid = (await create_bid(vendors_staff, bid_input(charter, vendorId=vendor["id"])))["bid"]
    if role == "vendor":
        caller, _ = await vendor_user(vendors_staff, vendors_as, vendor["id"])
    else:
        caller = await vendors_as(role)

    answer = await caller(REVIEW, {"id": bid["id"]})

    assert answer.error_codes == ["FORBIDDEN"]
    assert (await stored_bid(sessions, bid["id"])).status == "submitted"


async def test_a_draft_is_not_reviewed(make_vendor, vendors_staff, sessions):
    charter = FactCharter()
    await charter.project(sessions, "booked")
    vendor = await make_vendor()
    draft = (await create_bid(vendors_staff, bid_input(charter, vendorId=vendor["id"]), False))[
        "bid"
    ]

    answer = (await vendors_staff(REVIEW, {"id": draft["id"]})).ok()["reviewBid"]

    assert answer["bid"] is None
    assert answer["userErrors"][0]["code"] == "INVALID_TRANSITION"
    assert (await stored_bid(sessions, draft["id"])).status == "draft"


async def test_a_bid_under_review_is_accepted_and_its_reviewed_rival_rejected(
    make_vendor, vendors_staff, sessions
):
    charter = FactCharter()
    await charter.project(sessions, "booked")
    winner_vendor = await make_vendor("Winner Coaches")
    rival_vendor = await make_vendor("Rival Coaches")
    winner = (await create_bid(vendors_staff, bid_input(charter, vendorId=winner_vendor["id"])))[
        "bid"
    ]
    rival = (
        await create_bid(vendors_staff, bid_input(charter, "1200.00", vendorId=rival_vendor["id"]))
    )["bid"]
    for b in (winner, rival):
        assert (await vendors_staff(REVIEW, {"id": b["id"]})).ok()["reviewBid"]["userErrors"] == []

    accepted = (await vendors_staff(ACCEPT, {"id": winner["id"]})).ok()["acceptBid"]

    assert accepted["userErrors"] == []
    assert accepted["bid"]["status"] == "ACCEPTED"
    assert accepted["assignments"] == [{"status": "OFFERED"}]
    assert (await stored_bid(sessions, rival["id"])).status == "rejected"


async def test_a_bid_under_review_may_be_rejected_or_withdrawn(
    make_vendor, vendors_staff, vendors_as, sessions
):
    charter = FactCharter(vehicle_ids=[uuid.uuid4(), uuid.uuid4()])
    await charter.project(sessions, "booked")
    vendor = await make_vendor()
    portal, _ = await vendor_user(vendors_staff, vendors_as, vendor["id"])
    first = (
        await create_bid(portal, bid_input(charter, charterVehicleId=str(charter.vehicle_ids[0])))
    )["bid"]
    second = (
        await create_bid(portal, bid_input(charter, charterVehicleId=str(charter.vehicle_ids[1])))
    )["bid"]
    for b in (first, second):
        await vendors_staff(REVIEW, {"id": b["id"]})

    rejected = (await vendors_staff(REJECT, {"id": first["id"]})).ok()["rejectBid"]
    withdrawn = (await portal(WITHDRAW, {"id": second["id"]})).ok()["withdrawBid"]

    assert rejected["bid"]["status"] == "REJECTED"
    assert withdrawn["bid"]["status"] == "WITHDRAWN"


async def test_a_bid_under_review_blocks_a_second_live_bid_on_the_same_target(
    make_vendor, vendors_staff, sessions
):
    charter = FactCharter()
    await charter.project(sessions, "booked")
    vendor = await make_vendor()
    first = (await create_bid(vendors_staff, bid_input(charter, vendorId=vendor["id"])))["bid"]
    await vendors_staff(REVIEW, {"id": first["id"]})

    second = await create_bid(vendors_staff, bid_input(charter, "900.00", vendorId=vendor["id"]))

    assert second["bid"] is None
    assert second["userErrors"][0]["code"] == "CONFLICT"


async def test_a_bid_under_review_past_its_validity_expires(make_vendor, vendors_staff, sessions):
    charter = FactCharter()
    await charter.project(sessions, "booked")
    vendor = await make_vendor()
    bid = (await create_bid(vendors_staff, bid_input(charter, vendorId=vendor["id"])))["bid"]
    await vendors_staff(REVIEW, {"id": bid["id"]})
    async with sessions() as session, session.begin():
        await session.execute(
            update(Bid)
            .where(Bid.id == uuid.UUID(bid["id"]))
            .values(valid_until=datetime.now(UTC) - timedelta(seconds=1))
        )

    reps = [{"__typename": "Charter", "id": str(charter.id)}]
    on_read = (await vendors_staff(CHARTER_BIDS, {"reps": reps})).ok()["_entities"][0]["bids"]
    accept = (await vendors_staff(ACCEPT, {"id": bid["id"]})).ok()["acceptBid"]
    async with sessions() as session, session.begin():
        stored = await expire_stale_bids(session, datetime.now(UTC))

    assert [b["status"] for b in on_read] == ["EXPIRED"]
    assert accept["userErrors"][0]["code"] == "EXPIRED"
    assert stored == 1
    assert (await stored_bid(sessions, bid["id"])).status == "expired"


# -- assignments follow the trip ---------------------------------------------------


async def assignment_status(sessions: Any, assignment_id: str) -> str:
    async with sessions() as session:
        row = await session.get_one(VendorAssignment, uuid.UUID(assignment_id))
        return row.status


def test_the_assignment_table_moves_with_the_trip_and_only_with_it():
    assert states.ASSIGNMENT.allowed("confirmed") >= {"in_progress", "completed"}
    assert states.ASSIGNMENT.allowed("in_progress") == {"completed", "cancelled"}
    assert states.ASSIGNMENT.allowed("completed") == frozenset()
    assert not states.ASSIGNMENT.can("offered", "in_progress")
    assert not states.ASSIGNMENT.can("recovery_requested", "in_progress")
    assert {s for s, who in MOVED_BY.items() if who == "trip"} == {"in_progress", "completed"}
    for moves in TRIP_MOVES.values():
        for source, target in moves.items():
            assert states.ASSIGNMENT.can(source, target), (source, target)


async def test_a_confirmed_assignment_starts_and_completes_with_its_charter(
    make_vendor, vendors_staff, vendors_as, sessions
):
    charter = FactCharter(vehicle_ids=[uuid.uuid4(), uuid.uuid4()])
    await charter.project(sessions, "confirmed")
    vendor = await make_vendor()
    portal, _ = await vendor_user(vendors_staff, vendors_as, vendor["id"])
    confirmed = await served(vendors_staff, portal, charter.vehicle_ids[0], vendor["id"])
    offered = (
        await vendors_staff(
            ASSIGN, {"cv": str(charter.vehicle_ids[1]), "vendor": vendor["id"], "amount": "800.00"}
        )
    ).ok()["assignVendor"]["assignment"]["id"]

    await charter.project(sessions, "in_progress")
    started = (
        await assignment_status(sessions, confirmed),
        await assignment_status(sessions, offered),
    )
    await charter.project(sessions, "in_progress")  # re-delivered: nothing more moves
    await charter.project(sessions, "completed")
    ended = (
        await assignment_status(sessions, confirmed),
        await assignment_status(sessions, offered),
    )

    assert started == ("in_progress", "offered")
    assert ended == ("completed", "offered")
    async with sessions() as session:
        trail = (
            await session.execute(
                select(
                    VendorAudit.action, VendorAudit.actor_id, VendorAudit.before, VendorAudit.after
                )
                .where(
                    VendorAudit.entity_id == uuid.UUID(confirmed),
                    VendorAudit.action.in_(["status:in_progress", "status:completed"]),
                )
                .order_by(VendorAudit.at)
            )
        ).all()
        announced = [
            r.payload["status"]
            for r in (await session.execute(select(outbox).order_by(outbox.c.id))).all()
            if r.topic == "vendors.assignment_changed" and r.payload["assignmentId"] == confirmed
        ]
    assert [(a, actor) for a, actor, _, _ in trail] == [
        ("status:in_progress", None),
        ("status:completed", None),
    ]
    assert [(b["status"], a["status"]) for _, _, b, a in trail] == [
        ("confirmed", "in_progress"),
        ("in_progress", "completed"),
    ]
    assert announced[-2:] == ["in_progress", "completed"]


async def test_a_trip_heard_only_at_its_end_completes_a_confirmed_assignment(
    make_vendor, vendors_staff, vendors_as, sessions
):
    charter = FactCharter()
    await charter.project(sessions, "confirmed")
    vendor = await make_vendor()
    portal, _ = await vendor_user(vendors_staff, vendors_as, vendor["id"])
    assignment = await served(vendors_staff, portal, charter.vehicle_ids[0], vendor["id"])

    await charter.project(sessions, "completed")

    assert await assignment_status(sessions, assignment) == "completed"


async def test_an_older_event_moves_nothing(make_vendor, vendors_staff, vendors_as, sessions):
    charter = FactCharter()
    await charter.project(sessions, "confirmed")
    vendor = await make_vendor()
    portal, _ = await vendor_user(vendors_staff, vendors_as, vendor["id"])
    assignment = await served(vendors_staff, portal, charter.vehicle_ids[0], vendor["id"])
    charter.version += 5
    await charter.project(sessions, "confirmed")
    charter.version -= 3

    await charter.project(sessions, "in_progress")  # older than the facts held

    assert await assignment_status(sessions, assignment) == "confirmed"


@pytest.mark.parametrize("status", ["IN_PROGRESS", "COMPLETED"])
async def test_nobody_moves_an_assignment_with_the_trip_by_hand(
    status, make_vendor, vendors_staff, vendors_as, sessions
):
    charter = FactCharter()
    await charter.project(sessions, "confirmed")
    vendor = await make_vendor()
    portal, _ = await vendor_user(vendors_staff, vendors_as, vendor["id"])
    assignment = await served(vendors_staff, portal, charter.vehicle_ids[0], vendor["id"])

    by_vendor = (await portal(RESPOND, {"id": assignment, "status": status})).ok()
    by_staff = (await vendors_staff(RESPOND, {"id": assignment, "status": status})).ok()

    for answer in (by_vendor, by_staff):
        payload = answer["respondToAssignment"]
        assert payload["assignment"] is None
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
            ("status", "INVALID_TRANSITION")
        ]
    assert await assignment_status(sessions, assignment) == "confirmed"


async def test_a_trip_under_way_holds_its_vehicle_until_staff_cancel_it(
    make_vendor, vendors_staff, vendors_as, sessions
):
    charter = FactCharter()
    await charter.project(sessions, "confirmed")
    vendor = await make_vendor("Broken Down Coaches")
    rescue = await make_vendor("Rescue Coaches")
    portal, _ = await vendor_user(vendors_staff, vendors_as, vendor["id"])
    assignment = await served(vendors_staff, portal, charter.vehicle_ids[0], vendor["id"])
    await charter.project(sessions, "in_progress")
    variables = {"cv": str(charter.vehicle_ids[0]), "vendor": rescue["id"], "amount": "400.00"}

    held = (await vendors_staff(ASSIGN, variables)).ok()["assignVendor"]
    cancelled = (await vendors_staff(RESPOND, {"id": assignment, "status": "CANCELLED"})).ok()
    replaced = (await vendors_staff(ASSIGN, variables)).ok()["assignVendor"]

    assert held["userErrors"][0]["code"] == "ALREADY_ASSIGNED"
    assert cancelled["respondToAssignment"]["assignment"]["status"] == "CANCELLED"
    assert replaced["userErrors"] == []


async def test_the_vendor_rates_after_the_trip_it_ran_completed(
    make_vendor, vendors_staff, vendors_as, sessions
):
    charter = FactCharter()
    await charter.project(sessions, "confirmed")
    vendor = await make_vendor()
    portal, _ = await vendor_user(vendors_staff, vendors_as, vendor["id"])
    assignment = await served(vendors_staff, portal, charter.vehicle_ids[0], vendor["id"])
    await charter.project(sessions, "in_progress")
    await charter.project(sessions, "completed")
    rate = """mutation($v: ID!, $c: ID!) { rateVendor(vendorId: $v, charterId: $c, input: {
      overall: 4.5, vehicleCondition: 5, driverProfessionalism: 4.5, onTime: 4,
      communication: 5, value: 4.5}) { rating { overall } userErrors { code } } }"""

    rated = (await vendors_staff(rate, {"v": vendor["id"], "c": str(charter.id)})).ok()

    assert await assignment_status(sessions, assignment) == "completed"
    assert rated["rateVendor"] == {"rating": {"overall": "4.5"}, "userErrors": []}


def _local_in(delta: timedelta) -> str:
    local = datetime.now(ZoneInfo("America/Chicago")) + delta
    return local.replace(tzinfo=None, second=0, microsecond=0).isoformat(timespec="minutes")


async def _wait_for(sessions: Any, assignment_id: str, status: str, within: float = 10.0) -> str:
    deadline = asyncio.get_running_loop().time() + within
    seen = await assignment_status(sessions, assignment_id)
    while seen != status and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.05)
        seen = await assignment_status(sessions, assignment_id)
    return seen


async def test_dispatch_starting_and_ending_the_trip_moves_the_assignment_end_to_end(
    staff, as_role, bookable_charter, projected, make_vendor, vendors_staff, vendors_as, sessions
):
    """Charters' setCharterStatus over HTTP -> outbox -> Redis stream -> vendors' consumer."""
    charter = await bookable_charter(pickupLocal=_local_in(timedelta(hours=2)))
    vehicle_id = charter["vehicles"][0]["id"]
    await book(staff, charter["id"])
    dispatcher = await as_role("dispatcher")
    await projected(vehicle_id)
    vendor = await make_vendor()
    portal, _ = await vendor_user(vendors_staff, vendors_as, vendor["id"])
    assignment = await served(vendors_staff, portal, uuid.UUID(vehicle_id), vendor["id"])

    confirmed = (await dispatcher(SET_STATUS, {"id": charter["id"], "status": "CONFIRMED"})).ok()
    started = (await dispatcher(SET_STATUS, {"id": charter["id"], "status": "IN_PROGRESS"})).ok()
    on_the_road = await _wait_for(sessions, assignment, "in_progress")
    async with sessions() as session, session.begin():
        # The pickup has passed: the trip may end.
        await session.execute(
            text(
                "UPDATE charters.charters SET pickup_at = now() - interval '1 hour' WHERE id = :id"
            ),
            {"id": charter["id"]},
        )
    ended = (await dispatcher(SET_STATUS, {"id": charter["id"], "status": "COMPLETED"})).ok()
    done = await _wait_for(sessions, assignment, "completed")

    assert confirmed["setCharterStatus"]["userErrors"] == []
    assert started["setCharterStatus"]["userErrors"] == []
    assert ended["setCharterStatus"]["userErrors"] == []
    assert (on_the_road, done) == ("in_progress", "completed")


async def test_a_cancelled_charter_releases_its_vendors(
    make_vendor, vendors_staff, vendors_as, sessions
):
    charter = FactCharter(vehicle_ids=[uuid.uuid4(), uuid.uuid4()])
    await charter.project(sessions, "booked")
    vendor = await make_vendor()
    portal, _ = await vendor_user(vendors_staff, vendors_as, vendor["id"])
    confirmed = await served(vendors_staff, portal, charter.vehicle_ids[0], vendor["id"])
    offered = (
        await vendors_staff(
            ASSIGN, {"cv": str(charter.vehicle_ids[1]), "vendor": vendor["id"], "amount": "800.00"}
        )
    ).ok()["assignVendor"]["assignment"]["id"]

    await charter.project(sessions, "cancelled")
    await charter.project(sessions, "cancelled")  # re-delivered: nothing more moves

    assert await assignment_status(sessions, confirmed) == "cancelled"
    assert await assignment_status(sessions, offered) == "cancelled"
    async with sessions() as session:
        actions = (
            await session.scalars(
                select(VendorAudit.action).where(
                    VendorAudit.entity_id.in_([uuid.UUID(confirmed), uuid.UUID(offered)]),
                    VendorAudit.action == "status:cancelled",
                )
            )
        ).all()
    assert len(actions) == 2
