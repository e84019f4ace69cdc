"""`updateVendor`'s and `setVendorStatus`'s userErrors name their argument, `id` (the convention: the GraphQL input
field), for an unknown vendor; mutations whose argument is `vendorId` keep naming that."""

from __future__ import annotations

import uuid
from typing import Any

UPDATE = """mutation($id: ID!) {
  updateVendor(id: $id, input: {city: "Memphis"}) { vendor { id } userErrors { field code } } }"""
STATUS = """mutation($id: ID!) {
  setVendorStatus(id: $id, status: ACTIVE) { vendor { id } userErrors { field code } } }"""
LINK = """mutation($vendorId: ID!, $userId: ID!) {
  linkVendorUser(vendorId: $vendorId, userId: $userId) { vendor { id } userErrors { field code } } }"""


async def test_an_unknown_vendor_is_named_by_the_mutations_own_argument(
    vendors_staff: Any,
) -> None:
    nowhere = str(uuid.uuid4())
    updated = (await vendors_staff(UPDATE, {"id": nowhere})).ok()["updateVendor"]
    assert updated["vendor"] is None
    assert [(e["field"], e["code"]) for e in updated["userErrors"]] == [("id", "NOT_FOUND")]

    status = (await vendors_staff(STATUS, {"id": nowhere})).ok()["setVendorStatus"]
    assert [(e["field"], e["code"]) for e in status["userErrors"]] == [("id", "NOT_FOUND")]

    linked = (await vendors_staff(LINK, {"vendorId": nowhere, "userId": str(uuid.uuid4())})).ok()[
        "linkVendorUser"
    ]
    assert [(e["field"], e["code"]) for e in linked["userErrors"]] == [("vendorId", "NOT_FOUND")]
