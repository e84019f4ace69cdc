"""Vendors' facts finance keeps from their events: idempotent, and never older over newer."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from subgraphs.finance.app import PROJECTIONS
from subgraphs.finance.models import AssignmentFact, SyncRecord, VendorFact, VendorUserFact
from subgraphs.finance.service import vendor_facts

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def at(when: datetime, payload: dict[str, Any]) -> dict[str, Any]:
    return {"occurredAt": when.isoformat(), "payload": payload}


def vendor_payload(vendor_id: uuid.UUID, **change: Any) -> dict[str, Any]:
    return {
        "vendorId": str(vendor_id),
        "name": "Prairie Coaches",
        "status": "active",
        "paymentTerms": "net_60",
        "email": "ap@prairie.example",
        "address": {
            "line1": "12 Depot St",
            "city": "Amarillo",
            "region": "TX",
            "postalCode": "79101",
        },
        **change,
    }


async def apply(sessions: Any, handler: Any, event: dict[str, Any]) -> None:
    async with sessions() as session, session.begin():
        await handler(session, event)


def test_finance_listens_to_the_three_vendor_streams():
    assert PROJECTIONS["vendors.vendor_changed"][1] is vendor_facts.apply_vendor_event
    assert PROJECTIONS["vendors.vendor_user_linked"][1] is vendor_facts.apply_vendor_user_event
    assert PROJECTIONS["vendors.assignment_changed"][1] is vendor_facts.apply_assignment_event


async def test_a_vendor_fact_is_kept_updated_and_never_overwritten_by_an_older_event(sessions):
    vendor = uuid.uuid4()

    await apply(sessions, vendor_facts.apply_vendor_event, at(NOW, vendor_payload(vendor)))
    await apply(
        sessions,
        vendor_facts.apply_vendor_event,
        at(NOW + timedelta(minutes=5), vendor_payload(vendor, status="suspended")),
    )
    await apply(  # late, older: ignored
        sessions,
        vendor_facts.apply_vendor_event,
        at(NOW + timedelta(minutes=1), vendor_payload(vendor, name="Old Name")),
    )

    async with sessions() as session:
        fact = await session.get(VendorFact, vendor)
        synced = (
            await session.scalars(select(SyncRecord).where(SyncRecord.entity_id == vendor))
        ).all()
    assert fact is not None
    assert (fact.name, fact.status, fact.payment_terms, fact.email) == (
        "Prairie Coaches",
        "suspended",
        "net_60",
        "ap@prairie.example",
    )
    assert fact.address == {
        "line1": "12 Depot St",
        "city": "Amarillo",
        "region": "TX",
        "postalCode": "79101",
    }
    # One pending record covers both changes; the ignored event added nothing.
    assert [(s.entity, s.status) for s in synced] == [("vendor", "pending")]


async def test_a_stale_vendor_event_enqueues_no_sync(sessions):
    vendor = uuid.uuid4()
    await apply(sessions, vendor_facts.apply_vendor_event, at(NOW, vendor_payload(vendor)))
    async with sessions() as session, session.begin():
        for record in await session.scalars(select(SyncRecord)):
            record.status = "synced"

    await apply(
        sessions,
        vendor_facts.apply_vendor_event,
        at(NOW - timedelta(days=1), vendor_payload(vendor, name="Stale")),
    )

    async with sessions() as session:
        pending = (
            await session.scalars(select(SyncRecord).where(SyncRecord.status == "pending"))
        ).all()
    assert pending == []


async def test_a_vendor_login_is_linked_to_its_vendor_and_relinked_by_a_newer_event(sessions):
    user, first, second = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    link = vendor_facts.apply_vendor_user_event

    await apply(sessions, link, at(NOW, {"userId": str(user), "vendorId": str(first)}))
    await apply(sessions, link, at(NOW, {"userId": str(user), "vendorId": str(first)}))  # again
    await apply(
        sessions, link, at(NOW + timedelta(hours=1), {"userId": str(user), "vendorId": str(second)})
    )
    await apply(sessions, link, at(NOW, {"userId": str(user), "vendorId": str(first)}))  # late

    async with sessions() as session:
        rows = (await session.scalars(select(VendorUserFact))).all()
    assert [(r.user_id, r.vendor_id) for r in rows] == [(user, second)]


async def test_an_assignment_fact_carries_its_agreed_amount_and_latest_status(sessions):
    assignment, charter, vendor = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    payload = {
        "assignmentId": str(assignment),
        "charterId": str(charter),
        "charterVehicleId": str(uuid.uuid4()),
        "vendorId": str(vendor),
        "status": "offered",
        "amount": "1234.50",
    }
    handler = vendor_facts.apply_assignment_event

    await apply(sessions, handler, at(NOW, payload))
    await apply(
        sessions, handler, at(NOW + timedelta(minutes=2), {**payload, "status": "confirmed"})
    )
    await apply(
        sessions, handler, at(NOW + timedelta(minutes=1), {**payload, "status": "declined"})
    )
    await apply(sessions, handler, at(NOW, {"assignmentId": str(uuid.uuid4())}))  # incomplete

    async with sessions() as session:
        rows = (await session.scalars(select(AssignmentFact))).all()
    assert [(r.assignment_id, r.vendor_id, r.charter_id, r.status, r.amount) for r in rows] == [
        (assignment, vendor, charter, "confirmed", Decimal("1234.50"))
    ]
