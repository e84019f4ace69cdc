"""Issue 9 "Done means": each portal reads its own world through the router, and no more.

Real identity, charters and vendors apps; vendors' bids and assignments
reach charters through the outbox, Redis streams and charters' consumer.
"""

from __future__ import annotations

import uuid
from typing import Any

from tests.charters.test_portal_drivers import driven_charter, linked_driver
from tests.support.graphql_client import GraphQLResponse
from tests.support.vendors_facts import LINK

MEMPHIS = [
    {
        "type": "PICKUP",
        "address": "FedExForum, Memphis, TN",
        "latitude": 35.1382,
        "longitude": -90.0506,
    },
    {
        "type": "DROPOFF",
        "address": "Graceland, Memphis, TN",
        "latitude": 35.0477,
        "longitude": -90.0260,
    },
]
BOOK = (
    """mutation($id: ID!) { setCharterStatus(id: $id, status: BOOKED) { userErrors { code } } }"""
)
CREATE_BID = """
mutation($input: CreateBidInput!) {
  createBid(input: $input, submit: true) { bid { id } userErrors { field code message } }
}"""
ASSIGN = """
mutation($cv: ID!, $vendor: ID!, $amount: Money!) {
  assignVendor(charterVehicleId: $cv, vendorId: $vendor, amount: $amount) {
    assignment { id } userErrors { field code message }
  }
}"""
MY_BIDS = """
{ myBids { edges { node { amount charter { reference stops { address } totalCost client { id } } } } } }"""
MY_ASSIGNMENTS = """
{ myAssignments(window: PENDING) { edges { node { status charter { reference stops { address } } } } } }"""
MY_CHARTERS = """
{ myCharters { totalCount edges { node { reference status stops { address } totalCost
  notes vehicles { capacity vendor { name } } } } } }"""
CHARTER = """query($id: ID!) { charter(id: $id) { reference stops { address } } }"""


def errors_at(response: GraphQLResponse) -> dict[str, str]:
    return {".".join(str(p) for p in e["path"]): e["extensions"]["code"] for e in response.errors}


async def memphis_charter(staff: Any, bookable_charter: Any, company: str) -> dict[str, Any]:
    charter = await bookable_charter(clientId=company, stops=MEMPHIS, days=10)
    assert (await staff(BOOK, {"id": charter["id"]})).ok()["setCharterStatus"]["userErrors"] == []
    return charter


async def vendor_login(vendors_staff: Any, make_vendor: Any, **area: Any) -> tuple[dict, uuid.UUID]:
    vendor = await make_vendor(**area)
    user_id = uuid.uuid4()
    linked = (await vendors_staff(LINK, {"vendorId": vendor["id"], "userId": str(user_id)})).ok()
    assert linked["linkVendorUser"]["userErrors"] == []
    return vendor, user_id


async def test_a_client_reads_its_charters_itineraries_through_the_router(
    staff, bookable_charter, through_router
):
    company = uuid.uuid4()
    charter = await memphis_charter(staff, bookable_charter, str(company))
    await bookable_charter(clientId=str(uuid.uuid4()))  # another company's
    client = await through_router("client", client_id=company)

    answer = await client(MY_CHARTERS)

    page = answer.data["myCharters"]
    assert page["totalCount"] == 1
    node = page["edges"][0]["node"]
    assert node["reference"] == charter["reference"]
    assert [s["address"] for s in node["stops"]] == [s["address"] for s in MEMPHIS]
    assert node["totalCost"] == "1250.00"
    assert node["notes"] is None
    assert node["vehicles"] == [{"capacity": 56, "vendor": None}]
    assert errors_at(answer) == {
        "myCharters.edges.0.node.notes": "FORBIDDEN",
        "myCharters.edges.0.node.vehicles.0.vendor": "FORBIDDEN",
    }


async def test_a_vendor_reads_the_charters_it_bid_on_and_is_assigned_to(
    staff,
    bookable_charter,
    projected,
    vendors_staff,
    vendors_as,
    make_vendor,
    through_router,
    vendor_may_read,
):
    charter = await memphis_charter(staff, bookable_charter, str(uuid.uuid4()))
    await projected(charter["vehicles"][0]["id"])
    vendor, user_id = await vendor_login(vendors_staff, make_vendor)
    bidder = await vendors_as("vendor", user_id=user_id)
    bid = {
        "charterId": charter["id"],
        "amount": "900.00",
        "vehicleType": "56-seat coach",
        "vehicleCount": 1,
    }
    created = (await bidder(CREATE_BID, {"input": bid})).ok()["createBid"]
    assert created["userErrors"] == [], created
    await vendor_may_read(user_id, charter["id"])
    portal = await through_router("vendor", user_id=user_id)

    bids = await portal(MY_BIDS)

    (edge,) = bids.data["myBids"]["edges"]
    assert edge["node"]["amount"] == "900.00"
    assert edge["node"]["charter"]["reference"] == charter["reference"]
    assert [s["address"] for s in edge["node"]["charter"]["stops"]] == [
        s["address"] for s in MEMPHIS
    ]
    assert edge["node"]["charter"]["totalCost"] is None
    assert edge["node"]["charter"]["client"] is None
    assert errors_at(bids) == {
        "myBids.edges.0.node.charter.totalCost": "FORBIDDEN",
        "myBids.edges.0.node.charter.client": "FORBIDDEN",
    }

    assigned = (
        await vendors_staff(
            ASSIGN,
            {"cv": charter["vehicles"][0]["id"], "vendor": vendor["id"], "amount": "850.00"},
        )
    ).ok()["assignVendor"]
    assert assigned["userErrors"] == [], assigned
    mine = (await portal(MY_ASSIGNMENTS)).ok()["myAssignments"]["edges"]
    assert [(e["node"]["status"], e["node"]["charter"]["reference"]) for e in mine] == [
        ("OFFERED", charter["reference"])
    ]


async def test_a_vendor_outside_the_charter_reads_nothing_of_it(
    staff, bookable_charter, projected, vendors_staff, make_vendor, through_router
):
    charter = await memphis_charter(staff, bookable_charter, str(uuid.uuid4()))
    await projected(charter["vehicles"][0]["id"])
    # Based in Seattle: the Memphis charter is not offered to it.
    _, user_id = await vendor_login(
        vendors_staff, make_vendor, baseLatitude=47.6, baseLongitude=-122.3, serviceRadiusMiles=50
    )
    portal = await through_router("vendor", user_id=user_id)

    answer = await portal(CHARTER, {"id": charter["id"]})

    assert answer.data is None
    assert answer.error_codes == ["NOT_FOUND"]


async def test_a_driver_reads_its_trips_through_the_router_and_no_money(
    staff, bookable_charter, through_router
):
    user_id = uuid.uuid4()
    driver_id = await linked_driver(staff, user_id)
    trip = await driven_charter(staff, bookable_charter, driver_id, days=3)
    driver = await through_router("driver", user_id=user_id)

    answer = await driver("{ myTrips { vehicle { plate } cost charter { reference totalCost } } }")

    assert answer.data == {
        "myTrips": [
            {
                "vehicle": {"plate": trip["plate"]},
                "cost": None,
                "charter": {"reference": trip["reference"], "totalCost": None},
            }
        ]
    }
    assert errors_at(answer) == {
        "myTrips.0.cost": "FORBIDDEN",
        "myTrips.0.charter.totalCost": "FORBIDDEN",
    }
