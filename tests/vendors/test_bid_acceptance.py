"""Accepting a bid: one transaction; competing bids rejected; one winner under concurrency."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from subgraphs.vendors.models import Bid, VendorAssignment
from tests.support.vendors_facts import ASSIGN, FactCharter

CREATE = """
mutation($input: CreateBidInput!) {
  createBid(input: $input) { bid { id status } userErrors { field code message } }
}"""
ACCEPT = """
mutation($id: ID!) {
  acceptBid(id: $id) {
    bid { id status decidedAt }
    assignments { charterVehicleId amount status vendor { name } }
    userErrors { field code message }
  }
}"""
STATUS = """
query($reps: [_Any!]!) {
  _entities(representations: $reps) { ... on Charter { bids { id status decisionReason } } }
}"""
VEHICLE_VENDOR = """
query($reps: [_Any!]!) {
  _entities(representations: $reps) { ... on CharterVehicle { vendor { name } vendorAssignment { amount } } }
}"""


async def bid(
    client: Any,
    charter: FactCharter,
    vendor: dict[str, Any],
    amount: str,
    vehicle: uuid.UUID | None = None,
) -> str:
    data = {
        "charterId": str(charter.id),
        "vendorId": vendor["id"],
        "amount": amount,
        "vehicleType": "coach",
        "validUntil": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
    }
    if vehicle is not None:
        data["charterVehicleId"] = str(vehicle)
    payload = (await client(CREATE, {"input": data})).ok()["createBid"]
    assert payload["userErrors"] == [], payload
    return payload["bid"]["id"]  # type: ignore[no-any-return]


async def statuses(client: Any, charter: FactCharter) -> dict[str, str]:
    reps = [{"__typename": "Charter", "id": str(charter.id)}]
    bids = (await client(STATUS, {"reps": reps})).ok()["_entities"][0]["bids"]
    return {b["id"]: b["status"] for b in bids}


async def counts(sessions: Any) -> tuple[int, int]:
    async with sessions() as session:
        accepted = await session.scalar(
            select(func.count()).select_from(Bid).where(Bid.status == "accepted")
        )
        assigned = await session.scalar(select(func.count()).select_from(VendorAssignment))
    return int(accepted or 0), int(assigned or 0)


async def test_accepting_a_vehicle_bid_rejects_its_competitors_and_assigns_the_amount(
    make_vendor, vendors_staff, sessions
):
    first, second = uuid.uuid4(), uuid.uuid4()
    charter = FactCharter(vehicle_ids=[first, second])
    await charter.project(sessions, "booked")
    a, b, c = [await make_vendor(n) for n in ("Able", "Baker", "Cole")]
    winner = await bid(vendors_staff, charter, a, "980.00", first)
    loser = await bid(vendors_staff, charter, b, "1010.00", first)
    other_vehicle = await bid(vendors_staff, charter, c, "990.00", second)
    whole_charter = await bid(vendors_staff, charter, b, "1900.00")

    accepted = (await vendors_staff(ACCEPT, {"id": winner})).ok()["acceptBid"]
    after = await statuses(vendors_staff, charter)
    vehicle = (
        await vendors_staff(
            VEHICLE_VENDOR, {"reps": [{"__typename": "CharterVehicle", "id": str(first)}]}
        )
    ).ok()["_entities"][0]

    assert accepted["userErrors"] == []
    assert accepted["bid"]["status"] == "ACCEPTED"
    assert accepted["bid"]["decidedAt"] is not None
    assert accepted["assignments"] == [
        {
            "charterVehicleId": str(first),
            "amount": "980.00",
            "status": "OFFERED",
            "vendor": {"name": "Able"},
        }
    ]
    assert after == {
        winner: "ACCEPTED",
        loser: "REJECTED",
        other_vehicle: "SUBMITTED",
        whole_charter: "SUBMITTED",
    }
    assert vehicle == {"vendor": {"name": "Able"}, "vendorAssignment": {"amount": "980.00"}}
    async with sessions() as session:
        row = await session.scalar(
            select(VendorAssignment).where(VendorAssignment.charter_vehicle_id == first)
        )
    assert row is not None
    assert str(row.bid_id) == winner


async def test_a_whole_charter_bid_assigns_every_free_vehicle_splitting_the_amount(
    make_vendor, vendors_staff, sessions
):
    vehicles = sorted([uuid.uuid4() for _ in range(4)])
    charter = FactCharter(vehicle_ids=vehicles)
    await charter.project(sessions, "quote")
    direct = await make_vendor("Direct Lines")
    whole = await make_vendor("Whole Fleet")
    rival = await make_vendor("Rival")
    held = (
        await vendors_staff(
            ASSIGN, {"cv": str(vehicles[0]), "vendor": direct["id"], "amount": "500.00"}
        )
    ).ok()["assignVendor"]
    winner = await bid(vendors_staff, charter, whole, "1000.00")
    rival_vehicle_bid = await bid(vendors_staff, charter, rival, "300.00", vehicles[2])

    accepted = (await vendors_staff(ACCEPT, {"id": winner})).ok()["acceptBid"]

    assert held["userErrors"] == []
    assert accepted["userErrors"] == []
    assert [(x["charterVehicleId"], x["amount"]) for x in accepted["assignments"]] == [
        (str(vehicles[1]), "333.34"),
        (str(vehicles[2]), "333.33"),
        (str(vehicles[3]), "333.33"),
    ]
    assert (await statuses(vendors_staff, charter))[rival_vehicle_bid] == "REJECTED"


async def test_two_concurrent_accepts_for_one_vehicle_have_exactly_one_winner(
    make_vendor, vendors_staff, sessions
):
    vendors = [await make_vendor(f"Racer {i}") for i in range(2)]
    for _ in range(3):
        vehicle = uuid.uuid4()
        charter = FactCharter(vehicle_ids=[vehicle])
        await charter.project(sessions, "booked")
        bids = [await bid(vendors_staff, charter, v, "750.00", vehicle) for v in vendors]
        before = await counts(sessions)

        answers = await asyncio.gather(*(vendors_staff(ACCEPT, {"id": b}) for b in bids))

        payloads = [a.ok()["acceptBid"] for a in answers]
        winners = [p for p in payloads if p["userErrors"] == []]
        losers = [p for p in payloads if p["userErrors"]]
        assert (len(winners), len(losers)) == (1, 1), payloads
        assert losers[0]["userErrors"][0]["code"] == "INVALID_TRANSITION"
        assert losers[0]["bid"] is None
        after = await counts(sessions)
        assert (after[0] - before[0], after[1] - before[1]) == (1, 1)
        assert sorted((await statuses(vendors_staff, charter)).values()) == [
            "ACCEPTED",
            "REJECTED",
        ]


async def test_an_accept_that_cannot_assign_rolls_everything_back(
    make_vendor, vendors_staff, sessions
):
    vehicle = uuid.uuid4()
    charter = FactCharter(vehicle_ids=[vehicle])
    await charter.project(sessions, "booked")
    direct = await make_vendor("Already There")
    bidder = await make_vendor("Too Late")
    rival = await make_vendor("Rival")
    mine = await bid(vendors_staff, charter, bidder, "600.00", vehicle)
    theirs = await bid(vendors_staff, charter, rival, "650.00", vehicle)
    await vendors_staff(ASSIGN, {"cv": str(vehicle), "vendor": direct["id"], "amount": "1.00"})

    refused = (await vendors_staff(ACCEPT, {"id": mine})).ok()["acceptBid"]

    assert refused["userErrors"][0]["code"] == "ALREADY_ASSIGNED"
    assert await statuses(vendors_staff, charter) == {mine: "SUBMITTED", theirs: "SUBMITTED"}
    assert await counts(sessions) == (0, 1)


async def test_expired_bids_and_vendors_cannot_be_accepted(
    make_vendor, vendors_staff, vendors_as, sessions
):
    charter = FactCharter()
    await charter.project(sessions, "booked")
    vendor = await make_vendor()
    stale = await bid(vendors_staff, charter, vendor, "600.00")
    async with sessions() as session, session.begin():
        await session.execute(
            update(Bid)
            .where(Bid.id == uuid.UUID(stale))
            .values(valid_until=datetime.now(UTC) - timedelta(seconds=1))
        )
    portal = await vendors_as("vendor")

    expired = (await vendors_staff(ACCEPT, {"id": stale})).ok()["acceptBid"]
    by_vendor = await portal(ACCEPT, {"id": stale})

    assert expired["userErrors"][0]["code"] == "EXPIRED"
    assert by_vendor.error_codes == ["FORBIDDEN"]
    assert await counts(sessions) == (0, 0)
