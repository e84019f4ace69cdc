"""What finance keeps of vendors' records, from their events (never their tables).

- `vendors.vendor_changed`: a vendor's name, status, payment terms, e-mail and
  address (bills take their default terms from it; the accounting sync sends it).
- `vendors.vendor_user_linked`: which vendor a vendor login works for, so a
  vendor reads its own bills and payables.
- `vendors.assignment_changed`: a vendor's job on a charter and its agreed
  amount, which a bill from the assignment charges.

Each handler is an idempotent upsert guarded by the event's time (the
relay's `occurredAt`), like `facts.py`: a redelivered or late event never
overwrites a newer fact.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from subgraphs.finance.models import AssignmentFact, VendorFact, VendorUserFact
from subgraphs.finance.service import sync_outbox
from subgraphs.kit.facts import upsert_newer

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

VENDOR_CHANGED = "vendors.vendor_changed"
VENDOR_USER_LINKED = "vendors.vendor_user_linked"
ASSIGNMENT_CHANGED = "vendors.assignment_changed"
ADDRESS_KEYS = ("line1", "city", "region", "postalCode")


def _uuid(value: Any) -> uuid.UUID | None:
    return uuid.UUID(str(value)) if value else None


def _money(value: Any) -> Decimal | None:
    return Decimal(str(value)) if value is not None else None


def _text(value: Any, limit: int) -> str | None:
    return str(value)[:limit] if value else None


async def apply_vendor_event(session: AsyncSession, event: dict[str, Any]) -> None:
    payload = event.get("payload") or {}
    if "vendorId" not in payload or "occurredAt" not in event:
        return
    vendor_id = uuid.UUID(payload["vendorId"])
    address = payload.get("address") or {}
    changed = await upsert_newer(
        session,
        VendorFact,
        "vendor_id",
        {
            "vendor_id": vendor_id,
            "name": str(payload.get("name") or "")[:200],
            "status": _text(payload.get("status"), 20),
            "payment_terms": _text(payload.get("paymentTerms"), 50),
            "email": _text(payload.get("email"), 254),
            "address": {k: address.get(k) for k in ADDRESS_KEYS} if address else None,
            "as_of": datetime.fromisoformat(event["occurredAt"]),
        },
    )
    if changed:
        await sync_outbox.enqueue(session, "vendor", vendor_id)


async def apply_vendor_user_event(session: AsyncSession, event: dict[str, Any]) -> None:
    payload = event.get("payload") or {}
    if "userId" not in payload or "vendorId" not in payload or "occurredAt" not in event:
        return
    await upsert_newer(
        session,
        VendorUserFact,
        "user_id",
        {
            "user_id": uuid.UUID(payload["userId"]),
            "vendor_id": uuid.UUID(payload["vendorId"]),
            "as_of": datetime.fromisoformat(event["occurredAt"]),
        },
    )


async def apply_assignment_event(session: AsyncSession, event: dict[str, Any]) -> None:
    payload = event.get("payload") or {}
    needed = ("assignmentId", "charterId", "vendorId", "status")
    if any(k not in payload for k in needed) or "occurredAt" not in event:
        return
    await upsert_newer(
        session,
        AssignmentFact,
        "assignment_id",
        {
            "assignment_id": uuid.UUID(payload["assignmentId"]),
            "charter_id": uuid.UUID(payload["charterId"]),
            "charter_vehicle_id": _uuid(payload.get("charterVehicleId")),
            "vendor_id": uuid.UUID(payload["vendorId"]),
            "amount": _money(payload.get("amount")),
            "status": str(payload["status"])[:20],
            "as_of": datetime.fromisoformat(event["occurredAt"]),
        },
    )
