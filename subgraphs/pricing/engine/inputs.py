"""What the engine is given and what it answers: plain frozen values, money as Decimal."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

RULE_TYPES = (
    "base_rate",  # a fixed amount per vehicle for the trip
    "mileage_rate",  # per mile, per vehicle
    "hourly_rate",  # per hour (pickup to end), per vehicle
    "time_multiplier",  # a factor on the time-and-distance charges, e.g. 1.25 on weekends
    "seasonal",  # the same, conditioned on date ranges (peak season)
    "fuel_surcharge",  # per mile, per vehicle; never multiplied
    "flat_fee",  # a fixed fee for the trip, e.g. a weekend fee
    "minimum_charge",  # the subtotal's floor
    "client_specific",  # a percentage adjustment for one client (negative: a discount)
    "vehicle_specific",  # a fixed amount per vehicle of one vehicle type
    "second_driver_rate",  # per hour, when hours of service need a second driver
)
#: Rule types priced per vehicle (one line per vehicle type of the trip).
PER_VEHICLE = frozenset({"base_rate", "mileage_rate", "hourly_rate", "fuel_surcharge"})
#: Rule types whose winner is a factor on the time-and-distance charges.
MULTIPLIERS = frozenset({"time_multiplier", "seasonal"})
SCOPES = ("global", "vehicle_type", "hub", "route", "client")
#: More specific scopes win over less specific ones before priority is considered.
SPECIFICITY = {scope: rank for rank, scope in enumerate(SCOPES)}
MODIFIER_KINDS = ("day_of_week", "event", "hub", "asap", "peak_season", "holiday")
AMENITY_PRICING = ("flat_fee", "per_passenger", "per_hour", "per_day")


def cents(value: Decimal) -> Decimal:
    """Round half-up to cents: the one rounding each line gets, once."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Conditions:
    """When a rule or modifier applies; an empty set or tuple means "always"."""

    #: ISO weekdays of the pickup's local date: 1 Monday ... 7 Sunday.
    days_of_week: frozenset[int] = frozenset()
    #: Inclusive local date ranges of the pickup.
    date_ranges: tuple[tuple[date, date], ...] = ()
    vehicle_types: frozenset[uuid.UUID] = frozenset()
    trip_types: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Rule:
    id: uuid.UUID
    name: str
    rule_type: str
    value: Decimal
    scope: str = "global"
    #: The client, vehicle type, hub or route the scope names (None for global).
    scope_value: str | None = None
    conditions: Conditions = field(default_factory=Conditions)
    priority: int = 0
    valid_from: date | None = None
    valid_until: date | None = None


@dataclass(frozen=True)
class Modifier:
    """An adjustment on the rules' subtotal: a percentage of it or a fixed amount.

    Stacking (documented in `calculate`): applicable modifiers apply in
    descending priority; every percentage is of the same pre-modifier
    subtotal (they add, they do not compound, so order never changes an
    amount); an `exclusive` modifier stops every lower-priority one.
    """

    id: uuid.UUID
    name: str
    kind: str
    adjustment: str  # "percentage" or "fixed"
    value: Decimal
    conditions: Conditions = field(default_factory=Conditions)
    hubs: frozenset[str] = frozenset()
    #: asap: applies when the pickup is within this many hours of quoting.
    within_hours: int | None = None
    priority: int = 0
    exclusive: bool = False


@dataclass(frozen=True)
class AmenityLine:
    name: str
    pricing: str  # one of AMENITY_PRICING
    unit_price: Decimal
    quantity: int = 1


@dataclass(frozen=True)
class Promo:
    code: str
    discount_type: str  # "percentage" or "fixed"
    value: Decimal
    minimum_amount: Decimal | None = None
    vehicle_types: frozenset[uuid.UUID] = frozenset()
    trip_types: frozenset[str] = frozenset()
    valid_from: date | None = None
    valid_until: date | None = None


@dataclass(frozen=True)
class VehicleFacts:
    vehicle_type_id: uuid.UUID
    name: str
    count: int = 1


@dataclass(frozen=True)
class TripFacts:
    """What the engine knows of one trip; `pickup_local` carries the zone's wall time."""

    pickup_local: datetime
    hours: Decimal
    miles: Decimal
    trip_type: str
    passengers: int
    vehicles: tuple[VehicleFacts, ...]
    client_id: str | None = None
    hub: str | None = None
    route: str | None = None
    #: When the quote is calculated, in the pickup's zone (ASAP modifiers).
    quoted_local: datetime | None = None
    #: Days the trip spans (per-day amenities); at least 1.
    days: int = 1
    second_driver: bool = False
    tax_rate: Decimal = ZERO


@dataclass(frozen=True)
class Line:
    label: str
    kind: str  # a rule type, "modifier", "amenity", "minimum_charge", "promo", "tax"
    amount: Decimal
    source_id: uuid.UUID | None = None


@dataclass(frozen=True)
class PricedQuote:
    lines: tuple[Line, ...]
    subtotal: Decimal
    discount: Decimal
    tax: Decimal
    total: Decimal
    #: Why a promo code was not applied (None when applied or none given).
    promo_refusal: str | None = None
