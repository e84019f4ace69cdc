"""A vendor whose service area or standing changes has its offers re-announced.

Charters decides vendor reads from vendors' announcements; moving a vendor's
base (or suspending it) changes which open charters it is offered, so
vendors announces those charters again, and charters' projection follows.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy import select

from subgraphs.charters.models import VendorCharterAccess
from tests.support.vendors_facts import FactCharter

UPDATE = """
mutation($id: ID!, $input: VendorInput!) {
  updateVendor(id: $id, input: $input) { vendor { id } userErrors { field code message } }
}"""
SET_STATUS = """
mutation($id: ID!, $status: VendorStatus!) {
  setVendorStatus(id: $id, status: $status) { vendor { id } userErrors { field code message } }
}"""
SEATTLE = {"baseLatitude": 47.6062, "baseLongitude": -122.3321, "serviceRadiusMiles": 100}
MEMPHIS = {"baseLatitude": 35.1495, "baseLongitude": -90.049, "serviceRadiusMiles": 150}


async def charters_reasons(sessions: Any, charter: FactCharter, vendor_id: str) -> list[str]:
    async with sessions() as session:
        reasons = await session.scalar(
            select(VendorCharterAccess.reasons).where(
                VendorCharterAccess.charter_id == charter.id,
                VendorCharterAccess.vendor_id == uuid.UUID(vendor_id),
            )
        )
    return list(reasons or [])


async def settles(sessions: Any, charter: FactCharter, vendor_id: str, want: list[str]) -> None:
    """Charters' projection reaches `want` (events travel through the outbox and Redis)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while (got := await charters_reasons(sessions, charter, vendor_id)) != want:
        assert loop.time() < deadline, f"charters holds {got}, expected {want}"
        await asyncio.sleep(0.05)


async def changed(vendors_staff: Any, query: str, variables: dict[str, Any], name: str) -> None:
    payload = (await vendors_staff(query, variables)).ok()[name]
    assert payload["userErrors"] == [], payload


async def test_moving_a_vendors_base_offers_it_the_charters_of_its_new_area_and_no_others(
    sessions, charters_server, vendors_staff, make_vendor
):
    memphis_trip = FactCharter()  # picks up in Memphis, far from the Dallas hub: an opportunity
    await memphis_trip.project(sessions, "booked")
    vendor = await make_vendor(**SEATTLE)
    await settles(sessions, memphis_trip, vendor["id"], [])

    await changed(vendors_staff, UPDATE, {"id": vendor["id"], "input": MEMPHIS}, "updateVendor")
    await settles(sessions, memphis_trip, vendor["id"], ["offer"])

    await changed(vendors_staff, UPDATE, {"id": vendor["id"], "input": SEATTLE}, "updateVendor")
    await settles(sessions, memphis_trip, vendor["id"], [])


async def test_a_narrower_radius_withdraws_the_offer_and_a_suspension_too(
    sessions, charters_server, vendors_staff, make_vendor
):
    memphis_trip = FactCharter()
    await memphis_trip.project(sessions, "quote")
    near = await make_vendor(**MEMPHIS)
    # Based 100 miles north of Memphis: offered while its radius reaches it.
    north = await make_vendor(baseLatitude=36.59, baseLongitude=-90.049, serviceRadiusMiles=150)
    await settles(sessions, memphis_trip, near["id"], ["offer"])
    await settles(sessions, memphis_trip, north["id"], ["offer"])

    await changed(
        vendors_staff,
        UPDATE,
        {"id": north["id"], "input": {"serviceRadiusMiles": 50}},
        "updateVendor",
    )
    await changed(
        vendors_staff, SET_STATUS, {"id": near["id"], "status": "SUSPENDED"}, "setVendorStatus"
    )

    await settles(sessions, memphis_trip, north["id"], [])
    await settles(sessions, memphis_trip, near["id"], [])
    await changed(
        vendors_staff, SET_STATUS, {"id": near["id"], "status": "ACTIVE"}, "setVendorStatus"
    )
    await settles(sessions, memphis_trip, near["id"], ["offer"])
