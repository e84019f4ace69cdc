"""Charters' facts pricing keeps, from charters' events (never its tables).

`charters.vehicle_type_changed` keeps the vehicle types rules and codes may
name (and recommendations seat parties in); `charters.charter_changed`
keeps, per charter, what pricing's mutations need: its client and sales
agent (who may apply a code, once per client), its status (a booked
charter's quote is closed), its trip type and vehicle types (a code's
eligibility). Handlers are idempotent and order-safe: an event older than
the row held changes nothing.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from subgraphs.kit.errors import ServiceError
from subgraphs.kit.facts import upsert_newer
from subgraphs.pricing.error_codes import PricingErrorCode as Code
from subgraphs.pricing.models import CharterFact, VehicleTypeFact

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

VEHICLE_TYPE_CHANGED = "charters.vehicle_type_changed"
CHARTER_CHANGED = "charters.charter_changed"


def _uuid(value: Any) -> uuid.UUID | None:
    return uuid.UUID(value) if value else None


async def apply_vehicle_type_event(session: AsyncSession, event: dict[str, Any]) -> None:
    payload = event.get("payload") or {}
    if "vehicleTypeId" not in payload or "occurredAt" not in event:
        return
    values = {
        "id": uuid.UUID(payload["vehicleTypeId"]),
        "name": str(payload.get("name") or "")[:100],
        "capacity": int(payload.get("capacity") or 0),
        "active": bool(payload.get("active", True)),
        "as_of": datetime.fromisoformat(event["occurredAt"]),
    }
    await upsert_newer(session, VehicleTypeFact, "id", values)


async def apply_charter_event(session: AsyncSession, event: dict[str, Any]) -> None:
    payload = event.get("payload") or {}
    if "charterId" not in payload or "occurredAt" not in event or payload.get("isTemplate"):
        return
    values = {
        "charter_id": uuid.UUID(payload["charterId"]),
        "client_id": _uuid(payload.get("clientId")),
        "sales_agent_id": _uuid(payload.get("salesAgentId")),
        "status": str(payload.get("status") or "quote"),
        "trip_type": payload.get("tripType"),
        "pickup_at": datetime.fromisoformat(payload["pickupAt"])
        if payload.get("pickupAt")
        else None,
        "vehicle_type_ids": sorted(
            {
                uuid.UUID(v["vehicleTypeId"])
                for v in payload.get("vehicles") or []
                if v.get("vehicleTypeId")
            },
            key=str,
        ),
        "as_of": datetime.fromisoformat(event["occurredAt"]),
    }
    await upsert_newer(session, CharterFact, "charter_id", values)


async def charter(session: AsyncSession, charter_id: uuid.UUID) -> CharterFact:
    row = await session.scalar(select(CharterFact).where(CharterFact.charter_id == charter_id))
    if row is None:
        raise ServiceError.of(
            Code.UNKNOWN_CHARTER, f"Pricing does not know charter {charter_id} (yet).", "charterId"
        )
    return row


async def vehicle_types(session: AsyncSession) -> list[VehicleTypeFact]:
    rows = await session.scalars(
        select(VehicleTypeFact).where(VehicleTypeFact.active).order_by(VehicleTypeFact.capacity)
    )
    return list(rows)


async def apply_charter_event_and_accept(session: AsyncSession, event: dict[str, Any]) -> None:
    """Keep the charter's facts; when it leaves the quote status, keep the quote it was shown."""
    from subgraphs.pricing.service.quotes import accept_latest

    await apply_charter_event(session, event)
    payload = event.get("payload") or {}
    if payload.get("charterId") and payload.get("status") not in (None, "quote"):
        await accept_latest(session, uuid.UUID(payload["charterId"]))
