"""Input types shared by charters' mutations, and their conversion to plain values."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry

from subgraphs.charters.enums import ChangePriority, ChangeType, ImpactLevel, StopType, TripType
from subgraphs.charters.error_codes import CharterErrorCode as Code
from subgraphs.charters.service.change_cases import ChangeRequest
from subgraphs.charters.types import parse_uuid
from subgraphs.kit.errors import ServiceError
from subgraphs.kit.scalars import Money


@strawberry.input
class StopInput:
    type: StopType
    address: str
    latitude: float | None = None
    longitude: float | None = None
    planned_arrival: datetime | None = None
    planned_departure: datetime | None = None
    notes: str | None = None


@strawberry.input
class StopPatch:
    type: StopType | None = None
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    planned_arrival: datetime | None = None
    planned_departure: datetime | None = None
    notes: str | None = None


@strawberry.input
class CharterVehicleInput:
    vehicle_type_id: strawberry.ID
    cost: Money
    capacity: int | None = strawberry.field(default=None, description="Defaults to the type's.")
    pickup_address: str | None = None
    dropoff_address: str | None = None
    special_requirements: str | None = None


@strawberry.input
class CharterVehiclePatch:
    vehicle_type_id: strawberry.ID | None = None
    cost: Money | None = None
    capacity: int | None = None
    pickup_address: str | None = None
    dropoff_address: str | None = None
    special_requirements: str | None = None


@strawberry.input
class CreateCharterInput:
    client_id: strawberry.ID = strawberry.field(
        description="A client sales has announced; UNKNOWN_CLIENT otherwise."
    )
    trip_type: TripType
    passenger_count: int
    pickup_local: str = strawberry.field(
        description=(
            "Local wall time, e.g. 2026-05-01T07:30: in the future and within the booking "
            "horizon (BEYOND_HORIZON; 730 days unless configured)."
        )
    )
    pickup_time_zone: str = strawberry.field(description="IANA zone, e.g. America/Chicago.")
    ends_at: datetime | None = None
    notes: str | None = None
    requires_second_driver: bool = False
    estimated_miles: Decimal | None = strawberry.field(
        default=None,
        description=(
            "Trip miles for pricing: more than 0, at most 10000, one decimal place. Without "
            "them the quote estimates the distance from the stops' coordinates."
        ),
    )
    sales_agent_id: strawberry.ID | None = strawberry.field(
        default=None,
        description=(
            "The charter's agent: you by default. Only staff who edit any charter may name "
            "another agent, who must be a known sales agent (UNKNOWN_SALES_AGENT otherwise)."
        ),
    )
    stops: list[StopInput] = strawberry.field(default_factory=list)
    vehicles: list[CharterVehicleInput] = strawberry.field(default_factory=list)
    idempotency_key: str | None = strawberry.field(
        default=None,
        description=(
            "Up to 200 characters, chosen by the caller: repeating the call with the same key "
            "and input answers the same charter and creates nothing; the same key with other "
            "input, or by another user, is CONFLICT."
        ),
    )


@strawberry.input
class UpdateCharterInput:
    trip_type: TripType | None = None
    passenger_count: int | None = None
    pickup_local: str | None = None
    pickup_time_zone: str | None = None
    ends_at: datetime | None = None
    notes: str | None = None
    requires_second_driver: bool | None = None
    estimated_miles: Decimal | None = strawberry.field(
        default=strawberry.UNSET,
        description="Trip miles for pricing, as on create; null clears them.",
    )


@strawberry.input(description="How to file the change when the charter is already booked.")
class ChangeRequestInput:
    title: str | None = None
    reason: str | None = None
    change_type: ChangeType | None = None
    priority: ChangePriority = ChangePriority.MEDIUM
    impact_level: ImpactLevel = ImpactLevel.MODERATE
    proposed_price: Money | None = None


def parse_local(value: str, field: str = "pickupLocal") -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ServiceError.of(
            Code.INVALID, f"{value!r} is not a local date-time (YYYY-MM-DDTHH:MM).", field
        ) from None
    if parsed.tzinfo is not None:
        raise ServiceError.of(
            Code.INVALID, "Give the local time without an offset; the zone says where.", field
        )
    return parsed


def parse_id(value: strawberry.ID | None, field: str) -> Any:
    if value is None:
        return None
    key = parse_uuid(value)
    if key is None:
        raise ServiceError.of(Code.NOT_FOUND, f"{value!r} is not a known id.", field)
    return key


def stop_values(stop: StopInput | StopPatch, *, partial: bool = False) -> dict[str, Any]:
    values = {
        "stop_type": stop.type.value if stop.type else None,
        "address": stop.address,
        "latitude": stop.latitude,
        "longitude": stop.longitude,
        "planned_arrival": stop.planned_arrival.isoformat() if stop.planned_arrival else None,
        "planned_departure": stop.planned_departure.isoformat() if stop.planned_departure else None,
        "notes": stop.notes,
    }
    return {k: v for k, v in values.items() if v is not None} if partial else values


def vehicle_values(
    vehicle: CharterVehicleInput | CharterVehiclePatch, *, partial: bool = False
) -> dict[str, Any]:
    values = {
        "vehicle_type_id": str(parse_id(vehicle.vehicle_type_id, "vehicleTypeId"))
        if vehicle.vehicle_type_id is not None
        else None,
        "cost": str(vehicle.cost) if vehicle.cost is not None else None,
        "capacity": vehicle.capacity,
        "pickup_address": vehicle.pickup_address,
        "dropoff_address": vehicle.dropoff_address,
        "special_requirements": vehicle.special_requirements,
    }
    return {k: v for k, v in values.items() if v is not None} if partial else values


def change_request(
    given: ChangeRequestInput | None,
    default_type: str,
    default_title: str,
    current_price: Decimal | None = None,
) -> ChangeRequest:
    given = given or ChangeRequestInput()
    return ChangeRequest(
        change_type=given.change_type.value if given.change_type else default_type,
        title=given.title or default_title,
        reason=given.reason,
        priority=given.priority.value,
        impact_level=given.impact_level.value,
        proposed_price=given.proposed_price,
        current_price=current_price,
    )
