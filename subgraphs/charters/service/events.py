"""Domain events of charters, written to the outbox with the change."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, inspect, select

from subgraphs.charters.models import Charter, CharterVehicle, Stop, VehicleType, outbox
from subgraphs.kit.outbox import emit

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

CHARTER_CHANGED = "charters.charter_changed"
QUOTE_SENT = "charters.quote_sent"
DRIVER_ASSIGNED = "charters.driver_assigned"
VEHICLE_TYPE_CHANGED = "charters.vehicle_type_changed"
_PREVIOUS_PICKUP = "charters.previous_pickup_at"


@event.listens_for(Charter.pickup_at, "set", active_history=True)
def _remember_previous_pickup(target: Charter, value: Any, old: Any, initiator: Any) -> None:
    """Keep the pickup a charter had before this transaction moved it.

    The event then carries `previousPickupAt`, so a dispatch board watching
    the old window learns the charter left it, whichever path moved it.
    """
    if isinstance(old, datetime) and value != old:
        inspect(target).info.setdefault(_PREVIOUS_PICKUP, old)


async def charter_changed(
    session: AsyncSession, charter: Charter, changes: Iterable[str], **extra: object
) -> None:
    """Tell the dispatch board, and other subgraphs' projections, that a charter changed.

    The payload carries the facts other subgraphs keep about a charter
    (status, client, pickup time and place), so they never read our tables.
    """
    previous = inspect(charter).info.pop(_PREVIOUS_PICKUP, None)
    await session.flush()
    first_stop = await session.scalar(
        select(Stop).where(Stop.charter_id == charter.id).order_by(Stop.position).limit(1)
    )
    vehicles = (
        await session.execute(
            select(
                CharterVehicle.id,
                CharterVehicle.capacity,
                CharterVehicle.vehicle_type_id,
                CharterVehicle.cost,
            )
            .where(CharterVehicle.charter_id == charter.id)
            .order_by(CharterVehicle.position, CharterVehicle.id)
        )
    ).all()
    if previous is not None and previous != charter.pickup_at:
        extra = {"previousPickupAt": previous.isoformat(), **extra}
    await emit(
        session,
        outbox,
        CHARTER_CHANGED,
        {
            "charterId": str(charter.id),
            "reference": charter.reference,
            "status": charter.status,
            "pickupAt": charter.pickup_at.isoformat(),
            # Notifications shows the pickup in its own zone and tells a client of a revision.
            "pickupTimeZone": charter.pickup_time_zone,
            "quoteRevision": charter.quote_revision,
            "clientId": str(charter.client_id),
            "salesAgentId": str(charter.sales_agent_id) if charter.sales_agent_id else None,
            "isTemplate": charter.is_template,
            "pickupAddress": first_stop.address if first_stop else None,
            "pickupLatitude": _number(first_stop.latitude) if first_stop else None,
            "pickupLongitude": _number(first_stop.longitude) if first_stop else None,
            "version": charter.version,
            "passengerCount": charter.passenger_count,
            "tripType": charter.trip_type,
            "vehicles": [
                {"id": str(v.id), "capacity": v.capacity, "vehicleTypeId": str(v.vehicle_type_id)}
                for v in vehicles
            ],
            # What the vehicles cost the operator and what a cancellation kept: finance's
            # profit and cancellation reports read them from here, never from our tables.
            "vehicleCost": _number(_total_cost(v.cost for v in vehicles)),
            "cancelledAt": charter.cancelled_at.isoformat() if charter.cancelled_at else None,
            "cancellationFee": _number(charter.cancellation_fee),
            "cancellationReason": charter.cancellation_reason,
            "changes": sorted(set(changes)),
            # The tours departure a shuttle operates (issue 15 §5): tours links it back.
            "tourSlotId": str(charter.tour_slot_id) if charter.tour_slot_id else None,
            **extra,
        },
    )


def _number(value: Decimal | None) -> str | None:
    return str(value) if value is not None else None


def _total_cost(costs: Iterable[Decimal | None]) -> Decimal | None:
    """The vehicles' summed cost; None when no vehicle has one (unknown, not free)."""
    known = [c for c in costs if c is not None]
    return sum(known, Decimal("0.00")) if known else None


async def quote_sent(
    session: AsyncSession, charter: Charter, token: str, expires_at: datetime, portal_url: str
) -> None:
    """`charters.quote_sent`: staff shared an open quote; notifications mails the client its link.

    The link is the portal's page for the token when a portal is configured,
    else the token alone (a client of the API opens it with `quoteByLink`).
    """
    base = portal_url.rstrip("/")
    first_stop = await session.scalar(
        select(Stop).where(Stop.charter_id == charter.id).order_by(Stop.position).limit(1)
    )
    await emit(
        session,
        outbox,
        QUOTE_SENT,
        {
            "charterId": str(charter.id),
            "reference": charter.reference,
            "clientId": str(charter.client_id),
            "revision": charter.quote_revision,
            "link": f"{base}/quote?token={token}" if base else token,
            "expiresAt": expires_at.isoformat(),
            # the mail needs the trip even before the charter's own event reached the reader
            "pickupAt": charter.pickup_at.isoformat(),
            "pickupTimeZone": charter.pickup_time_zone,
            "pickupAddress": first_stop.address if first_stop else None,
            "passengerCount": charter.passenger_count,
        },
    )


async def driver_assigned(
    session: AsyncSession,
    charter: Charter,
    row: CharterVehicle,
    driver_user_id: object,
    *,
    driver_name: str | None,
    vehicle_description: str | None,
) -> None:
    """`charters.driver_assigned`: notifications tells the driver (their account) of the trip.

    The driver's account id is in no other event; the pickup travels with its
    time zone, so the driver reads it in the pickup's local time.
    """
    first_stop = await session.scalar(
        select(Stop).where(Stop.charter_id == charter.id).order_by(Stop.position).limit(1)
    )
    await emit(
        session,
        outbox,
        DRIVER_ASSIGNED,
        {
            "charterId": str(charter.id),
            "charterVehicleId": str(row.id),
            "driverUserId": str(driver_user_id),
            "driverName": driver_name,
            "reference": charter.reference,
            "pickupAt": charter.pickup_at.isoformat(),
            "pickupTimeZone": charter.pickup_time_zone,
            "pickupAddress": first_stop.address if first_stop else None,
            "passengerCount": charter.passenger_count,
            "vehicleDescription": vehicle_description,
        },
    )


async def vehicle_type_changed(session: AsyncSession, vehicle_type: VehicleType) -> None:
    """Tell pricing (rates per vehicle type, recommendations) what a vehicle type is now."""
    await emit(
        session,
        outbox,
        VEHICLE_TYPE_CHANGED,
        {
            "vehicleTypeId": str(vehicle_type.id),
            "name": vehicle_type.name,
            "capacity": vehicle_type.capacity,
            "active": True,
        },
    )
