"""Security review (issue 8), findings 7 and 13: bids.

7. With `rank`/`isLowest` on its own bids and unlimited submit and
   withdraw, a vendor binary-searched a competitor's hidden amount. Now a
   vendor sees no standing of any bid (staff do), and places at most two
   bids on one target (its bid and one replacement).
13. A vendor bid on charters it was never offered, and the refusal named
   the charter's pickup time. Now a vendor bids only on its offers (the
   opportunity rule) and every refusal is the same sentence.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from subgraphs.vendors.models import Bid
from tests.support.vendors_facts import FactCharter, vendor_user

CREATE = """
mutation($input: CreateBidInput!, $submit: Boolean! = true) {
  createBid(input: $input, submit: $submit) {
    bid { id status rank isLowest differenceFromLowest } userErrors { field code message }
  }
}"""
WITHDRAW = """
mutation($id: ID!) { withdrawBid(id: $id) { bid { id status } userErrors { field code message } } }"""
CHARTER_BIDS = """
query($reps: [_Any!]!) {
  _entities(representations: $reps) {
    ... on Charter { bids { id amount rank isLowest differenceFromLowest vendor { name } } }
  }
}"""


def later(hours: int = 24) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).isoformat()


def bid(charter: FactCharter, amount: str, **fields: Any) -> dict[str, Any]:
    return {
        "input": {
            "charterId": str(charter.id),
            "amount": amount,
            "vehicleType": "56-seat coach",
            "validUntil": later(),
            **fields,
        }
    }


async def charter_bids(client: Any, charter: FactCharter) -> list[dict[str, Any]]:
    reps = [{"__typename": "Charter", "id": str(charter.id)}]
    return (await client(CHARTER_BIDS, {"reps": reps})).ok()["_entities"][0]["bids"]  # type: ignore[no-any-return]


async def stored_bids(sessions: Any, vendor_id: str | None = None) -> int:
    stmt = select(func.count()).select_from(Bid)
    if vendor_id is not None:
        stmt = stmt.where(Bid.vendor_id == uuid.UUID(vendor_id))
    async with sessions() as session:
        return int(await session.scalar(stmt) or 0)


# -- finding 7 ---------------------------------------------------------------------------


async def test_finding_7_a_vendor_sees_no_standing_of_its_bids_and_staff_do(
    make_vendor, vendors_staff, vendors_as, sessions
):
    charter = FactCharter()
    await charter.project(sessions, "booked")
    prober = await make_vendor("Prober Coaches")
    rival = await make_vendor("Rival Coaches")
    portal, _ = await vendor_user(vendors_staff, vendors_as, prober["id"])
    hidden = (await vendors_staff(CREATE, bid(charter, "1234.56", vendorId=rival["id"]))).ok()
    assert hidden["createBid"]["userErrors"] == []

    placed = (await portal(CREATE, bid(charter, "1500.00"))).ok()["createBid"]
    seen_by_vendor = await charter_bids(portal, charter)
    seen_by_staff = await charter_bids(vendors_staff, charter)

    standing = ("rank", "isLowest", "differenceFromLowest")
    assert placed["userErrors"] == []
    assert {k: placed["bid"][k] for k in standing} == dict.fromkeys(standing)
    assert [{k: b[k] for k in standing} for b in seen_by_vendor] == [dict.fromkeys(standing)]
    assert "1234.56" not in str(seen_by_vendor)
    assert [(b["vendor"]["name"], b["rank"], b["isLowest"]) for b in seen_by_staff] == [
        ("Rival Coaches", 1, True),
        ("Prober Coaches", 2, False),
    ]


async def test_finding_7_the_submit_and_withdraw_oracle_is_gone(
    make_vendor, vendors_staff, vendors_as, sessions
):
    """The review's attack: bisect on `isLowest`, withdrawing after each probe."""
    charter = FactCharter()
    await charter.project(sessions, "booked")
    prober = await make_vendor("Bisecting Coaches")
    rival = await make_vendor("Hidden Coaches")
    portal, _ = await vendor_user(vendors_staff, vendors_as, prober["id"])
    await vendors_staff(CREATE, bid(charter, "1234.56", vendorId=rival["id"]))

    low, high = 1, 500_000  # cents
    observed: list[Any] = []
    answers: list[dict[str, Any]] = []
    for _ in range(6):
        probe = (low + high) // 2
        answer = (await portal(CREATE, bid(charter, f"{probe / 100:.2f}"))).ok()["createBid"]
        answers.append(answer)
        if answer["bid"] is None:
            break
        rows = await charter_bids(portal, charter)
        observed += [(r["rank"], r["isLowest"], r["differenceFromLowest"]) for r in rows]
        observed.append((answer["bid"]["rank"], answer["bid"]["isLowest"], None))
        if answer["bid"]["isLowest"]:
            high = probe
        else:
            low = probe
        await portal(WITHDRAW, {"id": answer["bid"]["id"]})

    assert set(observed) == {(None, None, None)}  # nothing to bisect on
    assert [a["userErrors"] for a in answers[:2]] == [[], []]
    assert len(answers) == 3  # the third probe is refused: a bid and one replacement
    assert answers[2]["bid"] is None
    assert [(e["field"], e["code"]) for e in answers[2]["userErrors"]] == [
        ("charterId", "CONFLICT")
    ]
    assert await stored_bids(sessions, prober["id"]) == 2


async def test_finding_7_the_allowance_is_per_charter_vehicle_and_drafts_count(
    make_vendor, vendors_staff, vendors_as, sessions
):
    charter = FactCharter(vehicle_ids=[uuid.uuid4(), uuid.uuid4()])
    await charter.project(sessions, "booked")
    vendor = await make_vendor("Drafting Coaches")
    portal, _ = await vendor_user(vendors_staff, vendors_as, vendor["id"])
    first, second = (str(v) for v in charter.vehicle_ids)

    draft = (
        await portal(CREATE, {**bid(charter, "900.00", charterVehicleId=first), "submit": False})
    ).ok()["createBid"]
    await portal(WITHDRAW, {"id": draft["bid"]["id"]})
    replacement = (await portal(CREATE, bid(charter, "950.00", charterVehicleId=first))).ok()
    await portal(WITHDRAW, {"id": replacement["createBid"]["bid"]["id"]})
    third = (await portal(CREATE, bid(charter, "990.00", charterVehicleId=first))).ok()
    other_vehicle = (await portal(CREATE, bid(charter, "990.00", charterVehicleId=second))).ok()

    assert draft["bid"]["status"] == "DRAFT"
    assert replacement["createBid"]["userErrors"] == []
    assert third["createBid"]["bid"] is None
    assert third["createBid"]["userErrors"][0] == {
        "field": "charterVehicleId",
        "code": "CONFLICT",
        "message": "This vendor has placed 2 bids on this charter vehicle "
        "(a bid and one replacement); no more can be placed.",
    }
    assert other_vehicle["createBid"]["userErrors"] == []


# -- finding 13 --------------------------------------------------------------------------


async def test_finding_13_a_vendor_bids_only_on_charters_offered_to_it(
    make_vendor, vendors_staff, vendors_as, sessions
):
    # The vendor's default area is 150 miles around Memphis.
    vendor = await make_vendor("Memphis Coaches")
    portal, _ = await vendor_user(vendors_staff, vendors_as, vendor["id"])
    offered = FactCharter()
    await offered.project(sessions, "quote")
    out_of_area = FactCharter()  # Denver: far from the hub, far from the vendor
    await out_of_area.project(
        sessions, "booked", pickupLatitude="39.739200", pickupLongitude="-104.990300"
    )
    near_hub = FactCharter()  # Fort Worth: the operator's own fleet covers it
    await near_hub.project(
        sessions, "booked", pickupLatitude="32.755500", pickupLongitude="-97.330800"
    )
    closed = FactCharter()
    await closed.project(sessions, "confirmed")

    refused = {
        name: (await portal(CREATE, {**bid(charter, "1000.00"), "submit": submit})).ok()[
            "createBid"
        ]
        for name, charter in (("out_of_area", out_of_area), ("near_hub", near_hub))
        for submit in (True, False)
    } | {
        "closed": (await portal(CREATE, bid(closed, "1000.00"))).ok()["createBid"],
        "unknown": (await portal(CREATE, bid(FactCharter(), "1000.00"))).ok()["createBid"],
    }
    accepted = (await portal(CREATE, bid(offered, "1000.00"))).ok()["createBid"]
    for_the_vendor_by_staff = (
        await vendors_staff(CREATE, bid(out_of_area, "1000.00", vendorId=vendor["id"]))
    ).ok()["createBid"]

    for name, payload in refused.items():
        assert payload["bid"] is None, name
        assert payload["userErrors"] == [
            {
                "field": "charterId",
                "code": "NOT_FOUND",
                "message": "This charter is not open to your bids.",
            }
        ], name
    assert accepted["userErrors"] == []
    # Staff may place a bid they took for a vendor (by phone) on any biddable charter.
    assert for_the_vendor_by_staff["userErrors"] == []
    assert await stored_bids(sessions) == 2


async def test_finding_13_refusals_name_no_fact_of_a_charter_the_vendor_may_not_read(
    make_vendor, vendors_staff, vendors_as, sessions
):
    vendor = await make_vendor("Curious Coaches")
    portal, _ = await vendor_user(vendors_staff, vendors_as, vendor["id"])
    pickup = datetime.now(UTC) + timedelta(days=3)
    secret = FactCharter(vehicle_ids=[uuid.uuid4()])
    await secret.project(
        sessions,
        "booked",
        pickupAt=pickup.isoformat(),
        pickupLatitude="39.739200",
        pickupLongitude="-104.990300",
    )
    # The review's probe: validUntil after the pickup made the message tell the pickup time.
    probes = [
        bid(secret, "1000.00", validUntil=(pickup + timedelta(days=1)).isoformat()),
        bid(secret, "1000.00", charterVehicleId=str(uuid.uuid4())),
        bid(secret, "1000.00", charterVehicleId=str(secret.vehicle_ids[0])),
    ]

    answers = [(await portal(CREATE, probe)).ok()["createBid"] for probe in probes]

    text = str(answers)
    assert pickup.isoformat()[:16] not in text
    assert pickup.date().isoformat() not in text
    assert secret.reference not in text
    assert "booked" not in text.lower()
    assert {e["message"] for a in answers for e in a["userErrors"]} == {
        "This charter is not open to your bids."
    }
    assert await stored_bids(sessions) == 0
