"""Bid opportunities: far from the hub (> 200 miles), inside the vendor's radius, not yet bid on.

The hub is the default (Dallas, 32.7767, -96.7970). Points on the hub's
meridian make the great-circle distances easy to check: one degree of
latitude is 69.0933 miles on a sphere of radius 3958.7613 miles.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from subgraphs.kit.geo import great_circle_miles
from tests.support.vendors_facts import FactCharter, vendor_user

HUB = (32.7767, -96.7970)
LON = "-96.797"
OPPORTUNITIES = """
query($vendorId: ID) {
  bidOpportunities(vendorId: $vendorId) {
    totalCount
    edges { node { charter { id } reference status milesFromHub milesFromBase vehicles { id } } }
  }
}"""


def nodes(answer: Any) -> list[dict[str, Any]]:
    return [edge["node"] for edge in answer["bidOpportunities"]["edges"]]


async def offered(client: Any) -> list[dict[str, Any]]:
    return nodes((await client(OPPORTUNITIES)).ok())


CREATE = """
mutation($input: CreateBidInput!) {
  createBid(input: $input) { bid { id } userErrors { field code message } }
}"""
WITHDRAW = "mutation($id: ID!) { withdrawBid(id: $id) { userErrors { code } } }"


def test_haversine_matches_known_great_circle_distances():
    assert great_circle_miles(HUB, HUB) == 0.0
    assert great_circle_miles(HUB, (29.7604, -95.3698)) == pytest.approx(
        224.80, abs=0.01
    )  # Houston
    assert great_circle_miles(HUB, (30.2672, -97.7431)) == pytest.approx(182.12, abs=0.01)  # Austin
    # On one meridian the distance is the latitude difference times 69.0933 miles.
    assert great_circle_miles(HUB, (29.8820, -96.7970)) == pytest.approx(
        2.8947 * 69.09332, abs=1e-3
    )


async def pickup_at(sessions: Any, lat: str, lon: str = LON, status: str = "quote", **extra: Any):
    charter = FactCharter()
    await charter.project(sessions, status, pickupLatitude=lat, pickupLongitude=lon, **extra)
    return charter


@pytest.fixture
async def southern_vendor(make_vendor: Any, vendors_staff: Any, vendors_as: Any) -> Any:
    """A vendor based at 29.5 on the hub's meridian (226.3 miles south), radius 100."""
    vendor = await make_vendor(
        "Southern Coaches", baseLatitude=29.5, baseLongitude=-96.797, serviceRadiusMiles=100
    )
    portal, _ = await vendor_user(vendors_staff, vendors_as, vendor["id"])
    return vendor, portal


async def test_only_pickups_beyond_200_miles_from_the_hub_are_offered(southern_vendor, sessions):
    _, portal = southern_vendor
    inside = await pickup_at(sessions, "29.882100")  # 199.998 miles from the hub
    beyond = await pickup_at(sessions, "29.882000")  # 200.005 miles from the hub

    found = await offered(portal)

    assert (
        great_circle_miles(HUB, (29.8821, -96.797))
        < 200
        < great_circle_miles(HUB, (29.882, -96.797))
    )
    assert [o["charter"]["id"] for o in found] == [str(beyond.id)]
    assert str(inside.id) not in str(found)
    assert found[0]["milesFromHub"] == 200.0
    assert found[0]["milesFromBase"] == round(
        great_circle_miles((29.5, -96.797), (29.882, -96.797)), 1
    )
    assert found[0]["status"] == "QUOTE"
    assert found[0]["vehicles"] == [{"id": str(beyond.vehicle_ids[0])}]


async def test_only_pickups_inside_the_service_radius_are_offered(southern_vendor, sessions):
    _, portal = southern_vendor
    edge = await pickup_at(sessions, "28.052700")  # 99.999 miles from the base
    past_edge = await pickup_at(sessions, "28.052600")  # 100.006 miles from the base
    houston = await pickup_at(sessions, "29.7604", "-95.3698", status="booked")

    found = await offered(portal)

    ids = {o["charter"]["id"] for o in found}
    assert ids == {str(edge.id), str(houston.id)}
    assert str(past_edge.id) not in ids


async def test_templates_past_pickups_closed_charters_and_bid_ones_are_not_offered(
    southern_vendor, sessions
):
    _, portal = southern_vendor
    far = "29.0"
    open_one = await pickup_at(sessions, far)
    await pickup_at(sessions, far, isTemplate=True)
    await pickup_at(sessions, far, pickupAt=(datetime.now(UTC) - timedelta(hours=1)).isoformat())
    await pickup_at(sessions, far, status="confirmed")
    await pickup_at(sessions, far, status="cancelled")
    no_place = FactCharter()
    await no_place.project(sessions, "quote", pickupLatitude=None, pickupLongitude=None)
    bid_on = await pickup_at(sessions, far)
    withdrawn_on = await pickup_at(sessions, far)
    for charter in (bid_on, withdrawn_on):
        payload = (
            await portal(
                CREATE,
                {
                    "input": {
                        "charterId": str(charter.id),
                        "amount": "2000.00",
                        "vehicleType": "coach",
                        "validUntil": (datetime.now(UTC) + timedelta(days=2)).isoformat(),
                    }
                },
            )
        ).ok()["createBid"]
        assert payload["userErrors"] == []
    await portal(WITHDRAW, {"id": payload["bid"]["id"]})

    found = await offered(portal)

    assert sorted(o["charter"]["id"] for o in found) == sorted(
        [str(open_one.id), str(withdrawn_on.id)]
    )


async def test_staff_ask_for_a_vendor_and_vendors_only_for_themselves(
    southern_vendor, make_vendor, vendors_staff, vendors_as, sessions
):
    vendor, portal = southern_vendor
    charter = await pickup_at(sessions, "29.0")
    other = await make_vendor(
        "Other", baseLatitude=29.0, baseLongitude=-96.797, serviceRadiusMiles=10
    )
    no_area = await make_vendor(
        "Nowhere", baseLatitude=None, baseLongitude=None, serviceRadiusMiles=None
    )

    for_staff = (await vendors_staff(OPPORTUNITIES, {"vendorId": vendor["id"]})).ok()
    no_vendor = await vendors_staff(OPPORTUNITIES)
    snooping = await portal(OPPORTUNITIES, {"vendorId": other["id"]})
    own_by_id = (await portal(OPPORTUNITIES, {"vendorId": vendor["id"]})).ok()
    without_area = (await vendors_staff(OPPORTUNITIES, {"vendorId": no_area["id"]})).ok()
    unknown = await vendors_staff(OPPORTUNITIES, {"vendorId": str(uuid.uuid4())})
    client = await vendors_as("client")
    as_client = await client(OPPORTUNITIES)

    assert [o["charter"]["id"] for o in nodes(for_staff)] == [str(charter.id)]
    assert no_vendor.error_codes == ["BAD_USER_INPUT"]
    assert snooping.error_codes == ["NOT_FOUND"]
    assert [o["charter"]["id"] for o in nodes(own_by_id)] == [str(charter.id)]
    assert nodes(without_area) == []
    assert unknown.error_codes == ["NOT_FOUND"]
    assert as_client.error_codes == ["FORBIDDEN"]


async def test_a_charter_whose_bid_is_under_review_is_not_offered_again(
    southern_vendor, sessions, vendors_staff
):
    _, portal = southern_vendor
    charter = await pickup_at(sessions, "29.0")
    created = (
        await portal(
            CREATE,
            {
                "input": {
                    "charterId": str(charter.id),
                    "amount": "2000.00",
                    "vehicleType": "coach",
                    "validUntil": (datetime.now(UTC) + timedelta(days=2)).isoformat(),
                }
            },
        )
    ).ok()["createBid"]
    reviewed = (
        await vendors_staff(
            "mutation($id: ID!) { reviewBid(id: $id) { bid { status } userErrors { code } } }",
            {"id": created["bid"]["id"]},
        )
    ).ok()["reviewBid"]

    assert reviewed == {"bid": {"status": "UNDER_REVIEW"}, "userErrors": []}
    assert await offered(portal) == []
