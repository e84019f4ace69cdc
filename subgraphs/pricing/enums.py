"""Pricing's GraphQL enums; their values are the strings stored in the tables.

`TripType` and `CharterStatus` mirror charters' enums value for value
(composition merges same-named enums; pricing reads them through
`@requires` and names trip types in rule conditions).
"""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum(description="What a pricing rule prices.")
class RuleType(Enum):
    BASE_RATE = "base_rate"
    MILEAGE_RATE = "mileage_rate"
    HOURLY_RATE = "hourly_rate"
    TIME_MULTIPLIER = "time_multiplier"
    SEASONAL = "seasonal"
    FUEL_SURCHARGE = "fuel_surcharge"
    FLAT_FEE = "flat_fee"
    MINIMUM_CHARGE = "minimum_charge"
    CLIENT_SPECIFIC = "client_specific"
    VEHICLE_SPECIFIC = "vehicle_specific"
    SECOND_DRIVER_RATE = "second_driver_rate"


@strawberry.enum(description="Which trips a rule is for; more specific scopes win.")
class RuleScope(Enum):
    GLOBAL = "global"
    VEHICLE_TYPE = "vehicle_type"
    HUB = "hub"
    ROUTE = "route"
    CLIENT = "client"


@strawberry.enum
class TripType(Enum):
    ONE_WAY = "one_way"
    ROUND_TRIP = "round_trip"
    OVERNIGHT = "overnight"
    MULTI_DAY = "multi_day"
    LOCAL = "local"
    SHUTTLE = "shuttle"
    EVENT = "event"


@strawberry.enum
class CharterStatus(Enum):
    QUOTE = "quote"
    BOOKED = "booked"
    CONFIRMED = "confirmed"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


@strawberry.enum
class AmenityCategory(Enum):
    REFRESHMENTS = "refreshments"
    ENTERTAINMENT = "entertainment"
    COMFORT = "comfort"
    ACCESSIBILITY = "accessibility"


@strawberry.enum(description="What an amenity's price is multiplied by.")
class AmenityPricing(Enum):
    FLAT_FEE = "flat_fee"
    PER_PASSENGER = "per_passenger"
    PER_HOUR = "per_hour"
    PER_DAY = "per_day"


@strawberry.enum
class DiscountType(Enum):
    PERCENTAGE = "percentage"
    FIXED = "fixed"


@strawberry.enum
class ModifierKind(Enum):
    DAY_OF_WEEK = "day_of_week"
    EVENT = "event"
    HUB = "hub"
    ASAP = "asap"
    PEAK_SEASON = "peak_season"
    HOLIDAY = "holiday"


@strawberry.enum(description="What a quote line is for.")
class QuoteLineKind(Enum):
    BASE_RATE = "base_rate"
    MILEAGE_RATE = "mileage_rate"
    HOURLY_RATE = "hourly_rate"
    TIME_MULTIPLIER = "time_multiplier"
    SEASONAL = "seasonal"
    FUEL_SURCHARGE = "fuel_surcharge"
    FLAT_FEE = "flat_fee"
    MINIMUM_CHARGE = "minimum_charge"
    CLIENT_SPECIFIC = "client_specific"
    VEHICLE_SPECIFIC = "vehicle_specific"
    SECOND_DRIVER_RATE = "second_driver_rate"
    MODIFIER = "modifier"
    AMENITY = "amenity"
    PROMO = "promo"
    TAX = "tax"
