from __future__ import annotations

from datetime import datetime

import strawberry

from subgraphs.charters.types import (
    BlackoutDate,
    ChangeCase,
    Charter,
    CharterVehicle,
    Driver,
    Vehicle,
    VehicleType,
)
from subgraphs.kit.payloads import UserError


@strawberry.type
class CharterPayload:
    charter: Charter | None = None
    change_case: ChangeCase | None = strawberry.field(
        default=None, description="Set when the charter is booked: the change awaits its case."
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class CharterVehiclePayload:
    charter_vehicle: CharterVehicle | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class QuoteLinkPayload:
    token: str | None = None
    expires_at: datetime | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class FleetPayload:
    vehicle_type: VehicleType | None = None
    vehicle: Vehicle | None = None
    driver: Driver | None = None
    blackout_date: BlackoutDate | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ChangeCasePayload:
    change_case: ChangeCase | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)
