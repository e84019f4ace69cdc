"""A cancelled charter's vendors: assignments released and each vendor e-mailed (issue 13 §6).

Charters' event is applied exactly as the consumer applies it
(`FactCharter.project`); the end-to-end path from charters' dispatch
cancellation over Redis is in tests/charters/test_cancel_workflow.py; the mail itself
(notifications' since issue 14 §1) in tests/notifications/test_vendor_messages.py.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from subgraphs.vendors.models import VendorAssignment, outbox
from subgraphs.vendors.service.cancellation_alerts import TOPIC
from tests.support.vendors_facts import ASSIGN, FactCharter, served, vendor_user


async def notices(sessions: Any) -> list[dict[str, Any]]:
    async with sessions() as session:
        rows = await session.scalars(
            select(outbox.c.payload).where(outbox.c.topic == TOPIC).order_by(outbox.c.id)
        )
        return list(rows)


async def status_of(sessions: Any, assignment_id: str) -> str:
    async with sessions() as session:
        return (await session.get_one(VendorAssignment, uuid.UUID(assignment_id))).status


async def test_cancelling_releases_every_live_assignment_and_queues_one_mail_each(
    make_vendor, vendors_staff, vendors_as, sessions
):
    charter = FactCharter(vehicle_ids=[uuid.uuid4(), uuid.uuid4()])
    await charter.project(sessions, "booked", pickupAddress="FedExForum, Memphis, TN")
    vendor = await make_vendor(email="ops@coaches.example")
    portal, _ = await vendor_user(vendors_staff, vendors_as, vendor["id"])
    confirmed = await served(vendors_staff, portal, charter.vehicle_ids[0], vendor["id"])
    offered = (
        await vendors_staff(
            ASSIGN, {"cv": str(charter.vehicle_ids[1]), "vendor": vendor["id"], "amount": "800.00"}
        )
    ).ok()["assignVendor"]["assignment"]["id"]
    assert await notices(sessions) == []

    cancelled = {
        "pickupAddress": "FedExForum, Memphis, TN",
        "pickupTimeZone": "America/Chicago",
        "cancellationReason": "Game postponed",
    }
    await charter.project(sessions, "cancelled", **cancelled)
    await charter.project(sessions, "cancelled", **cancelled)  # re-delivered: nothing new

    assert await status_of(sessions, confirmed) == "cancelled"
    assert await status_of(sessions, offered) == "cancelled"
    sent = await notices(sessions)
    assert sorted(n["assignmentId"] for n in sent) == sorted([confirmed, offered])
    for notice in sent:
        assert notice["vendorId"] == vendor["id"]
        assert notice["vendorName"] == vendor["name"]
        assert notice["recipients"] == ["ops@coaches.example"]
        assert notice["reference"] == charter.reference
        assert notice["reason"] == "Game postponed"
        assert notice["pickupAddress"] == "FedExForum, Memphis, TN"
        assert notice["pickupTimeZone"] == "America/Chicago"


async def test_a_charter_that_ends_normally_mails_nobody(
    make_vendor, vendors_staff, vendors_as, sessions
):
    charter = FactCharter()
    await charter.project(sessions, "booked")
    vendor = await make_vendor(email="ops@coaches.example")
    portal, _ = await vendor_user(vendors_staff, vendors_as, vendor["id"])
    assignment = await served(vendors_staff, portal, charter.vehicle_ids[0], vendor["id"])

    await charter.project(sessions, "completed")

    assert await status_of(sessions, assignment) == "completed"
    assert await notices(sessions) == []
