"""Charters' facts, kept from their events (`charters.charter_changed`).

Vendors needs to know a charter's status (ratings need a completed trip),
client (who may rate), pickup time and place (bid opportunities) and its
vehicles (what can be bid on or assigned). Handling is idempotent: an event
older than what we hold (lower charter version) changes nothing.

A charter that starts or ends moves its vendors' confirmed assignments
along (`assignments.follow_trip`), in the same transaction as the facts; a
cancelled one releases them all and queues an e-mail to each vendor
(`cancellation_alerts`).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert

from subgraphs.vendors.models import CharterFacts, CharterVehicleFacts
from subgraphs.vendors.service.charter_access import announce_access

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

TOPIC = "charters.charter_changed"


def _decimal(value: Any) -> Decimal | None:
    return Decimal(str(value)) if value is not None else None


async def apply_charter_event(session: AsyncSession, event: dict[str, Any]) -> None:
    payload = event.get("payload") or {}
    if "charterId" not in payload or "clientId" not in payload:
        return
    charter_id = uuid.UUID(payload["charterId"])
    version = int(payload.get("version") or 0)
    values = {
        "reference": payload["reference"],
        "status": payload["status"],
        "client_id": uuid.UUID(payload["clientId"]),
        "pickup_at": datetime.fromisoformat(payload["pickupAt"]),
        "pickup_address": payload.get("pickupAddress"),
        "pickup_latitude": _decimal(payload.get("pickupLatitude")),
        "pickup_longitude": _decimal(payload.get("pickupLongitude")),
        "passenger_count": int(payload.get("passengerCount") or 0),
        "is_template": bool(payload.get("isTemplate")),
        "source_version": version,
    }
    stmt = insert(CharterFacts).values(charter_id=charter_id, **values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[CharterFacts.charter_id],
        set_=values,
        where=CharterFacts.source_version <= version,
    )
    result = await session.execute(stmt.returning(CharterFacts.charter_id))
    if result.scalar() is None:
        return  # an older event than the facts we hold
    await _vehicles(session, charter_id, payload)
    # Imported here: assignments reads this module's `charter_of_vehicle`.
    from subgraphs.vendors.service.assignments import follow_trip

    moved = await follow_trip(session, charter_id, str(payload["status"]))
    if payload["status"] == "cancelled":
        # Each vendor the cancellation released is told by e-mail (issue 13 §6).
        from subgraphs.vendors.service.cancellation_alerts import announce

        await announce(session, moved, payload)


async def _vehicles(session: AsyncSession, charter_id: uuid.UUID, payload: dict[str, Any]) -> None:
    """Replace the charter's vehicle facts when the event lists them."""
    if "vehicles" in payload:
        await session.execute(
            delete(CharterVehicleFacts).where(CharterVehicleFacts.charter_id == charter_id)
        )
        for vehicle in payload["vehicles"]:
            # Upsert: a split moves a vehicle to another charter.
            row = {"charter_id": charter_id, "capacity": int(vehicle["capacity"])}
            await session.execute(
                insert(CharterVehicleFacts)
                .values(charter_vehicle_id=uuid.UUID(vehicle["id"]), **row)
                .on_conflict_do_update(
                    index_elements=[CharterVehicleFacts.charter_vehicle_id], set_=row
                )
            )
    # Becoming (or ceasing to be) an opportunity changes which vendors may read it.
    await announce_access(session, charter_id)


async def charter_of_vehicle(
    session: AsyncSession, charter_vehicle_id: uuid.UUID
) -> CharterFacts | None:
    return await session.scalar(
        select(CharterFacts)
        .join(CharterVehicleFacts, CharterVehicleFacts.charter_id == CharterFacts.charter_id)
        .where(CharterVehicleFacts.charter_vehicle_id == charter_vehicle_id)
    )
