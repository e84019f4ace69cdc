"""GraphQL enums of charters; values are the strings stored in the tables."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum
class CharterStatus(Enum):
    QUOTE = "quote"
    BOOKED = "booked"
    CONFIRMED = "confirmed"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


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
class StopType(Enum):
    PICKUP = "pickup"
    DROPOFF = "dropoff"
    WAYPOINT = "waypoint"


@strawberry.enum
class CharterVehicleStatus(Enum):
    PENDING = "pending"
    ASSIGNED = "assigned"
    CONFIRMED = "confirmed"
    EN_ROUTE = "en_route"
    COMPLETED = "completed"


@strawberry.enum
class DispatchStatus(Enum):
    NOT_READY = "not_ready"
    READY = "ready"
    DISPATCHED = "dispatched"
    IN_TRANSIT = "in_transit"
    ON_SITE = "on_site"
    COMPLETED = "completed"
    ISSUE = "issue"


@strawberry.enum
class FleetStatus(Enum):
    ACTIVE = "active"
    MAINTENANCE = "maintenance"
    RETIRED = "retired"


@strawberry.enum
class BlackoutKind(Enum):
    HOLIDAY = "holiday"
    MAINTENANCE = "maintenance"
    WEATHER = "weather"
    OTHER = "other"


@strawberry.enum
class ChangeCaseStatus(Enum):
    PENDING = "pending"
    UNDER_REVIEW = "under_review"
    VENDOR_QUOTED = "vendor_quoted"
    AWAITING_CLIENT_APPROVAL = "awaiting_client_approval"
    APPROVED = "approved"
    IMPLEMENTED = "implemented"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


@strawberry.enum
class ChangeType(Enum):
    DATE_TIME_CHANGE = "date_time_change"
    ITINERARY_MODIFICATION = "itinerary_modification"
    PASSENGER_COUNT_CHANGE = "passenger_count_change"
    VEHICLE_CHANGE = "vehicle_change"
    AMENITY_CHANGE = "amenity_change"
    CANCELLATION = "cancellation"
    OTHER = "other"
    PICKUP_LOCATION_CHANGE = "pickup_location_change"
    DESTINATION_CHANGE = "destination_change"
    AMENITY_ADDITION = "amenity_addition"
    AMENITY_REMOVAL = "amenity_removal"
    PRICING_ADJUSTMENT = "pricing_adjustment"


@strawberry.enum
class ChangePriority(Enum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    URGENT = "urgent"


@strawberry.enum
class ImpactLevel(Enum):
    MINIMAL = "minimal"
    MODERATE = "moderate"
    SIGNIFICANT = "significant"
    MAJOR = "major"
