"""Bids: eligibility, bad input, ranking, the vendor portal's scope, expiry."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from subgraphs.vendors.models import Bid, VendorAudit
from subgraphs.vendors.service.bids import expire_stale_bids
from tests.support.vendors_facts import FactCharter, vendor_user

CREATE = """
mutation($input: CreateBidInput!, $submit: Boolean! = true) {
  createBid(input: $input, submit: $submit) {
    bid { id status amount vehicleType vehicleCount charterId charterVehicleId submittedAt vendor { name } }
    userErrors { field code message }
  }
}"""
SUBMIT = """
mutation($id: ID!) { submitBid(id: $id) { bid { id status submittedAt } userErrors { field code message } } }"""
WITHDRAW = """
mutation($id: ID!) { withdrawBid(id: $id) { bid { id status } userErrors { field code message } } }"""
CHARTER_BIDS = """
query($reps: [_Any!]!) {
  _entities(representations: $reps) {
    ... on Charter { bids { id amount status rank isLowest differenceFromLowest vendor { name } } }
  }
}"""
MY_BIDS = """
query($status: [BidStatus!]) {
  myBids(status: $status) { edges { node { id amount status rank isLowest differenceFromLowest } } }
}"""


def later(hours: int = 24) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


def bid_input(charter: FactCharter, amount: str = "1000.00", **fields: Any) -> dict[str, Any]:
    return {
        "charterId": str(charter.id),
        "amount": amount,
        "vehicleType": "56-seat coach",
        "vehicleCount": 1,
        "validUntil": later(),
        **fields,
    }


async def create_bid(client: Any, data: dict[str, Any], submit: bool = True) -> dict[str, Any]:
    payload = (await client(CREATE, {"input": data, "submit": submit})).ok()["createBid"]
    return payload  # type: ignore[no-any-return]


async def bid_count(sessions: Any) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Bid)) or 0)


async def charter_bids(client: Any, charter: FactCharter) -> list[dict[str, Any]]:
    reps = [{"__typename": "Charter", "id": str(charter.id)}]
    return (await client(CHARTER_BIDS, {"reps": reps})).ok()["_entities"][0]["bids"]  # type: ignore[no-any-return]


async def test_a_vendor_user_bids_on_a_booked_charter_end_to_end(
    bookable_charter, projected, make_vendor, vendors_staff, vendors_as, sessions
):
    # Picked up in Memphis: far from the hub and inside the vendor's default service area.
    charter = await bookable_charter(
        days=20,
        stops=[
            {
                "type": "PICKUP",
                "address": "1 Beale St, Memphis",
                "latitude": 35.1495,
                "longitude": -90.049,
            },
            {"type": "DROPOFF", "address": "9 Lake Rd, Shelbyville"},
        ],
    )
    vehicle_id = charter["vehicles"][0]["id"]
    vendor = await make_vendor("Red River Coaches")
    portal, user_id = await vendor_user(vendors_staff, vendors_as, vendor["id"])
    await projected(vehicle_id)

    payload = await create_bid(
        portal,
        {
            "charterId": charter["id"],
            "charterVehicleId": vehicle_id,
            "amount": "1180.50",
            "vehicleType": "56-seat coach",
            "vehicleCount": 1,
            "validUntil": later(48),
            "notes": "  Wi-Fi on board  ",
        },
    )

    assert payload["userErrors"] == []
    bid = payload["bid"]
    assert bid["status"] == "SUBMITTED"
    assert bid["amount"] == "1180.50"
    assert bid["charterVehicleId"] == vehicle_id
    assert bid["vendor"] == {"name": "Red River Coaches"}
    assert bid["submittedAt"] is not None
    async with sessions() as session:
        audit = (
            await session.scalars(select(VendorAudit).where(VendorAudit.entity == "bid"))
        ).all()
    assert [(a.action, a.actor_id) for a in audit] == [("submit", user_id)]


async def test_a_pending_vendor_cannot_submit_and_is_told_why(
    make_vendor, vendors_staff, vendors_as, sessions
):
    charter = FactCharter()
    await charter.project(sessions, "quote")
    vendor = await make_vendor("Not Yet Approved", active=False)
    portal, _ = await vendor_user(vendors_staff, vendors_as, vendor["id"])

    payload = await create_bid(portal, bid_input(charter))

    assert payload["bid"] is None
    assert payload["userErrors"] == [
        {
            "field": "vendorId",
            "code": "NOT_ELIGIBLE",
            "message": "Not Yet Approved is not eligible: the vendor is pending.",
        }
    ]
    assert await bid_count(sessions) == 0


async def test_a_vendor_missing_insurance_cannot_submit_and_is_told_what_is_missing(
    make_vendor, vendors_staff, sessions
):
    charter = FactCharter()
    await charter.project(sessions, "booked")
    vendor = await make_vendor("Half Covered", certs=("DOT", "MC"))

    payload = await create_bid(vendors_staff, bid_input(charter, vendorId=vendor["id"]))

    assert payload["bid"] is None
    assert payload["userErrors"][0]["code"] == "NOT_ELIGIBLE"
    assert payload["userErrors"][0]["message"] == (
        "Half Covered is not eligible: missing INSURANCE."
    )
    assert await bid_count(sessions) == 0


async def test_an_ineligible_vendor_may_keep_a_draft_but_not_submit_it(
    make_vendor, vendors_staff, sessions
):
    charter = FactCharter()
    await charter.project(sessions, "quote")
    vendor = await make_vendor("Drafty", certs=("DOT",))

    draft = await create_bid(vendors_staff, bid_input(charter, vendorId=vendor["id"]), submit=False)
    submitted = (await vendors_staff(SUBMIT, {"id": draft["bid"]["id"]})).ok()["submitBid"]

    assert draft["bid"]["status"] == "DRAFT"
    assert submitted["bid"] is None
    assert submitted["userErrors"][0]["message"].endswith("missing MC, INSURANCE.")


async def test_bad_input_is_a_user_error_naming_the_field_and_stores_nothing(
    make_vendor, vendors_staff, sessions
):
    charter = FactCharter()
    await charter.project(sessions, "quote")
    other = FactCharter()
    await other.project(sessions, "quote")
    confirmed = FactCharter()
    await confirmed.project(sessions, "confirmed")
    vendor = await make_vendor()
    base = bid_input(charter, vendorId=vendor["id"])
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    after_pickup = (datetime.now(UTC) + timedelta(days=11)).isoformat()
    cases = [
        ({"charterId": str(uuid.uuid4())}, "charterId", "NOT_FOUND"),
        ({"charterId": "not-an-id"}, "charterId", "NOT_FOUND"),
        ({"charterId": str(confirmed.id)}, "charterId", "INVALID_TRANSITION"),
        ({"charterVehicleId": str(other.vehicle_ids[0])}, "charterVehicleId", "NOT_FOUND"),
        ({"validUntil": past}, "validUntil", "OUT_OF_RANGE"),
        ({"validUntil": after_pickup}, "validUntil", "OUT_OF_RANGE"),
        ({"amount": "0.00"}, "amount", "OUT_OF_RANGE"),
        ({"amount": "-5.00"}, "amount", "OUT_OF_RANGE"),
        ({"vehicleCount": 0}, "vehicleCount", "OUT_OF_RANGE"),
        ({"vehicleType": "  "}, "vehicleType", "REQUIRED"),
        ({"vendorId": str(uuid.uuid4())}, "vendorId", "NOT_FOUND"),
    ]

    for change, field, code in cases:
        payload = await create_bid(vendors_staff, {**base, **change})
        assert payload["bid"] is None, change
        assert (payload["userErrors"][0]["field"], payload["userErrors"][0]["code"]) == (
            field,
            code,
        ), (change, payload["userErrors"])

    not_money = await vendors_staff(CREATE, {"input": {**base, "amount": "12.345"}})
    as_number = await vendors_staff(CREATE, {"input": {**base, "amount": 12.5}})
    assert "at most two decimal places" in not_money.errors[0]["message"]
    assert "not a number" in as_number.errors[0]["message"]
    assert await bid_count(sessions) == 0


async def test_ranking_is_exact_with_ties_broken_by_earliest_submission(
    make_vendor, vendors_staff, sessions
):
    charter = FactCharter(vehicle_ids=[uuid.uuid4(), uuid.uuid4()])
    await charter.project(sessions, "booked")
    names = ["Alpha", "Bravo", "Charlie", "Delta", "Echo"]
    vendors = {n: await make_vendor(n) for n in names}
    amounts = {
        "Alpha": "1000.00",
        "Bravo": "900.00",
        "Charlie": "900.00",
        "Delta": "1250.50",
        "Echo": "800.00",
    }
    ids = {}
    for name in names:  # submitted in this order: Bravo before Charlie
        payload = await create_bid(
            vendors_staff, bid_input(charter, amounts[name], vendorId=vendors[name]["id"])
        )
        assert payload["userErrors"] == [], payload
        ids[name] = payload["bid"]["id"]
    withdrawn = (await vendors_staff(WITHDRAW, {"id": ids["Echo"]})).ok()["withdrawBid"]

    bids = await charter_bids(vendors_staff, charter)

    assert withdrawn["bid"]["status"] == "WITHDRAWN"
    assert [
        (b["vendor"]["name"], b["status"], b["rank"], b["isLowest"], b["differenceFromLowest"])
        for b in bids
    ] == [
        ("Bravo", "SUBMITTED", 1, True, "0.00"),
        ("Charlie", "SUBMITTED", 2, True, "0.00"),
        ("Alpha", "SUBMITTED", 3, False, "100.00"),
        ("Delta", "SUBMITTED", 4, False, "350.50"),
        ("Echo", "WITHDRAWN", None, None, None),
    ]


async def test_a_vendor_sees_only_its_own_bids_and_never_a_competitors_amount(
    make_vendor, vendors_staff, vendors_as, sessions
):
    charter = FactCharter()
    await charter.project(sessions, "quote")
    elsewhere = FactCharter()
    await elsewhere.project(sessions, "quote")
    a = await make_vendor("Vendor A")
    b = await make_vendor("Vendor B")
    portal_a, _ = await vendor_user(vendors_staff, vendors_as, a["id"])
    portal_b, _ = await vendor_user(vendors_staff, vendors_as, b["id"])
    a_bid = (await create_bid(portal_a, bid_input(charter, "1500.00")))["bid"]
    b_bid = (await create_bid(portal_b, bid_input(charter, "1100.00")))["bid"]
    b_other = (await create_bid(portal_b, bid_input(elsewhere, "700.00")))["bid"]

    seen_by_a = await charter_bids(portal_a, charter)
    seen_by_b = await charter_bids(portal_b, charter)
    mine_a = (await vendors_as_query(portal_a))["myBids"]
    mine_b = (await vendors_as_query(portal_b))["myBids"]
    client = await vendors_as("client")
    as_client = await client(
        CHARTER_BIDS, {"reps": [{"__typename": "Charter", "id": str(charter.id)}]}
    )

    assert seen_by_a == [
        {
            "id": a_bid["id"],
            "amount": "1500.00",
            "status": "SUBMITTED",
            "rank": None,  # staff only: a vendor's standing is an oracle (finding 7)
            "isLowest": None,
            "differenceFromLowest": None,
            "vendor": {"name": "Vendor A"},
        }
    ]
    assert [x["id"] for x in seen_by_b] == [b_bid["id"]]
    assert seen_by_b[0]["differenceFromLowest"] is None
    assert [x["id"] for x in mine_a] == [a_bid["id"]]
    assert sorted(x["id"] for x in mine_b) == sorted([b_bid["id"], b_other["id"]])
    assert "1100.00" not in str(seen_by_a) + str(mine_a)
    assert as_client.error_codes == ["FORBIDDEN"]


async def vendors_as_query(client: Any, status: list[str] | None = None) -> Any:
    answer = (await client(MY_BIDS, {"status": status})).ok()
    return {"myBids": [e["node"] for e in answer["myBids"]["edges"]]}


async def test_a_vendor_cannot_bid_or_withdraw_for_another_vendor(
    make_vendor, vendors_staff, vendors_as, sessions
):
    charter = FactCharter()
    await charter.project(sessions, "quote")
    a = await make_vendor("Vendor A")
    b = await make_vendor("Vendor B")
    portal_a, _ = await vendor_user(vendors_staff, vendors_as, a["id"])
    b_bid = (await create_bid(vendors_staff, bid_input(charter, vendorId=b["id"])))["bid"]

    for_b = await create_bid(portal_a, bid_input(charter, vendorId=b["id"]))
    withdraw_b = (await portal_a(WITHDRAW, {"id": b_bid["id"]})).ok()["withdrawBid"]

    assert for_b["userErrors"][0]["code"] == "FORBIDDEN"
    assert withdraw_b["userErrors"][0]["code"] == "FORBIDDEN"
    assert await bid_count(sessions) == 1


async def test_one_submitted_bid_per_vendor_and_target(make_vendor, vendors_staff, sessions):
    charter = FactCharter()
    await charter.project(sessions, "quote")
    vendor = await make_vendor()
    first = await create_bid(vendors_staff, bid_input(charter, vendorId=vendor["id"]))

    again = await create_bid(vendors_staff, bid_input(charter, "950.00", vendorId=vendor["id"]))
    await vendors_staff(WITHDRAW, {"id": first["bid"]["id"]})
    after_withdrawal = await create_bid(
        vendors_staff, bid_input(charter, "950.00", vendorId=vendor["id"])
    )

    assert again["userErrors"][0]["code"] == "CONFLICT"
    assert after_withdrawal["userErrors"] == []


async def test_a_bid_past_its_validity_reads_expired_and_the_job_stores_it(
    make_vendor, vendors_staff, vendors_as, sessions
):
    charter = FactCharter()
    await charter.project(sessions, "quote")
    a = await make_vendor("Stale Coaches")
    b = await make_vendor("Fresh Coaches")
    portal_a, _ = await vendor_user(vendors_staff, vendors_as, a["id"])
    stale = (await create_bid(portal_a, bid_input(charter, "500.00")))["bid"]
    fresh = (await create_bid(vendors_staff, bid_input(charter, "900.00", vendorId=b["id"])))["bid"]
    async with sessions() as session, session.begin():
        await session.execute(
            update(Bid)
            .where(Bid.id == uuid.UUID(stale["id"]))
            .values(valid_until=datetime.now(UTC) - timedelta(seconds=1))
        )

    on_read = await charter_bids(vendors_staff, charter)
    expired_mine = (await vendors_as_query(portal_a, ["EXPIRED"]))["myBids"]
    withdraw = (await portal_a(WITHDRAW, {"id": stale["id"]})).ok()["withdrawBid"]
    async with sessions() as session, session.begin():
        first_run = await expire_stale_bids(session, datetime.now(UTC))
    async with sessions() as session, session.begin():
        second_run = await expire_stale_bids(session, datetime.now(UTC))
        stored = await session.get(Bid, uuid.UUID(stale["id"]))

    assert [(x["id"], x["status"], x["rank"], x["isLowest"]) for x in on_read] == [
        (fresh["id"], "SUBMITTED", 1, True),
        (stale["id"], "EXPIRED", None, None),
    ]
    assert [x["id"] for x in expired_mine] == [stale["id"]]
    assert withdraw["userErrors"][0]["code"] == "EXPIRED"
    assert (first_run, second_run) == (1, 0)
    assert stored is not None
    assert stored.status == "expired"
