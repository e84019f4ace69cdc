"""What vendors announces of a vendor and of an assignment, for finance's bills (issue 12 §4).

Finance keeps a vendor's name, status, terms and address from
`vendors.vendor_changed`, and bills an assignment's agreed amount from
`vendors.assignment_changed`: the outbox rows must carry those facts.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from subgraphs.vendors.models import outbox
from tests.support.vendors_facts import FactCharter

UPDATE = """
mutation($id: ID!, $input: VendorInput!) {
  updateVendor(id: $id, input: $input) { vendor { id } userErrors { field code message } }
}"""
ASSIGN = """
mutation($cv: ID!, $vendor: ID!, $amount: Money!) {
  assignVendor(charterVehicleId: $cv, vendorId: $vendor, amount: $amount) {
    assignment { id } userErrors { field code message }
  }
}"""


async def _announced(sessions: Any, topic: str, key: str, value: str) -> list[dict[str, Any]]:
    async with sessions() as session:
        rows = (
            await session.execute(
                select(outbox.c.payload).where(outbox.c.topic == topic).order_by(outbox.c.id)
            )
        ).all()
    return [r.payload for r in rows if r.payload.get(key) == value]


async def test_creating_editing_and_activating_a_vendor_announce_its_billing_facts(
    make_vendor, vendors_staff, sessions
):
    vendor = await make_vendor(
        "Prairie Coaches",
        email="ap@prairie.example",
        addressLine="12 Depot St",
        city="Amarillo",
        state="TX",
        postalCode="79101",
        paymentTerms="net_60",
    )
    edited = (
        await vendors_staff(UPDATE, {"id": vendor["id"], "input": {"paymentTerms": "net_30"}})
    ).ok()["updateVendor"]

    announced = await _announced(sessions, "vendors.vendor_changed", "vendorId", vendor["id"])

    assert edited["userErrors"] == []
    # Created (pending), activated, then edited: one event each, the whole set every time.
    assert [(e["status"], e["paymentTerms"]) for e in announced] == [
        ("pending", "net_60"),
        ("active", "net_60"),
        ("active", "net_30"),
    ]
    assert announced[-1] == {
        "vendorId": vendor["id"],
        "name": "Prairie Coaches",
        "status": "active",
        "paymentTerms": "net_30",
        "email": "ap@prairie.example",
        "address": {
            "line1": "12 Depot St",
            "city": "Amarillo",
            "region": "TX",
            "postalCode": "79101",
        },
    }


async def test_a_refused_edit_announces_nothing(make_vendor, vendors_as, sessions):
    vendor = await make_vendor("Quiet Coaches")
    before = await _announced(sessions, "vendors.vendor_changed", "vendorId", vendor["id"])
    stranger = await vendors_as("vendor", user_id=uuid.uuid4())

    answer = await stranger(UPDATE, {"id": vendor["id"], "input": {"city": "Waco"}})

    after = await _announced(sessions, "vendors.vendor_changed", "vendorId", vendor["id"])
    assert answer.errors or answer.data["updateVendor"]["userErrors"]
    assert after == before


async def test_an_assignment_announces_its_agreed_amount(make_vendor, vendors_staff, sessions):
    charter = FactCharter()
    await charter.project(sessions, "confirmed")
    vendor = await make_vendor()

    assigned = (
        await vendors_staff(
            ASSIGN,
            {"cv": str(charter.vehicle_ids[0]), "vendor": vendor["id"], "amount": "1234.50"},
        )
    ).ok()["assignVendor"]

    assert assigned["userErrors"] == []
    announced = await _announced(
        sessions, "vendors.assignment_changed", "assignmentId", assigned["assignment"]["id"]
    )
    assert [(e["status"], e["amount"], e["vendorId"]) for e in announced] == [
        ("offered", "1234.50", vendor["id"])
    ]
    # The seats wanted, for notifications' new-job mail (issue 14 §1).
    assert [e["capacity"] for e in announced] == [56]
