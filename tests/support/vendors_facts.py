"""Vendor-side test helpers: charter facts as charters' events would project them,
a vendor user linked to a vendor, and served (confirmed) assignments."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from subgraphs.vendors.service.projection import apply_charter_event
from tests.support.graphql_client import GraphQLClient

LINK = """
mutation($vendorId: ID!, $userId: ID!) {
  linkVendorUser(vendorId: $vendorId, userId: $userId) { vendor { id } userErrors { field code message } }
}"""
ASSIGN = """
mutation($cv: ID!, $vendor: ID!, $amount: Money!) {
  assignVendor(charterVehicleId: $cv, vendorId: $vendor, amount: $amount) {
    assignment { id status } userErrors { field code message }
  }
}"""
RESPOND = """
mutation($id: ID!, $status: AssignmentStatus!, $reason: String) {
  respondToAssignment(id: $id, status: $status, reason: $reason) {
    assignment { id status } userErrors { field code message }
  }
}"""


#: Where a FactCharter picks up unless told otherwise (far from the hub, see above).
DEFAULT_PICKUP = ("35.149500", "-90.049000")


@dataclass
class FactCharter:
    """A charter as vendors' projection knows it (status, client, vehicles)."""

    id: uuid.UUID = field(default_factory=uuid.uuid4)
    client_id: uuid.UUID = field(default_factory=uuid.uuid4)
    vehicle_ids: list[uuid.UUID] = field(default_factory=lambda: [uuid.uuid4()])
    reference: str = field(default_factory=lambda: f"CH-2026-{uuid.uuid4().int % 10**6:06d}")
    version: int = 0

    async def project(
        self, sessions: async_sessionmaker[AsyncSession], status: str, **extra: Any
    ) -> None:
        """Apply one `charters.charter_changed` event exactly as the consumer does."""
        self.version += 1
        payload = {
            "charterId": str(self.id),
            "clientId": str(self.client_id),
            "reference": self.reference,
            "status": status,
            "pickupAt": (datetime.now(UTC) + timedelta(days=10)).isoformat(),
            "passengerCount": 40,
            # Memphis: 420 miles from the default hub (Dallas), so offered to vendors based near it.
            "pickupLatitude": DEFAULT_PICKUP[0],
            "pickupLongitude": DEFAULT_PICKUP[1],
            "version": self.version,
            "vehicles": [{"id": str(v), "capacity": 56} for v in self.vehicle_ids],
            **extra,
        }
        async with sessions() as session, session.begin():
            await apply_charter_event(session, {"payload": payload})


async def vendor_user(
    vendors_staff: GraphQLClient, vendors_as: Any, vendor_id: str
) -> tuple[GraphQLClient, uuid.UUID]:
    """A vendor-role login linked to `vendor_id`, and its user id."""
    user_id = uuid.uuid4()
    linked = (await vendors_staff(LINK, {"vendorId": vendor_id, "userId": str(user_id)})).ok()
    assert linked["linkVendorUser"]["userErrors"] == [], linked
    return await vendors_as("vendor", user_id=user_id), user_id


async def served(
    vendors_staff: GraphQLClient,
    vendor: GraphQLClient,
    charter_vehicle_id: uuid.UUID,
    vendor_id: str,
    amount: str = "900.00",
) -> str:
    """Assign the vehicle to the vendor and have the vendor confirm; the assignment id."""
    assigned = (
        await vendors_staff(
            ASSIGN, {"cv": str(charter_vehicle_id), "vendor": vendor_id, "amount": amount}
        )
    ).ok()["assignVendor"]
    assert assigned["userErrors"] == [], assigned
    answer = (
        await vendor(RESPOND, {"id": assigned["assignment"]["id"], "status": "CONFIRMED"})
    ).ok()["respondToAssignment"]
    assert answer["userErrors"] == [], answer
    return assigned["assignment"]["id"]  # type: ignore[no-any-return]
