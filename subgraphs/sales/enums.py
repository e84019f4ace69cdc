"""Sales' GraphQL enums; their values are the strings stored in the tables."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum(description="What kind of customer a client is.")
class ClientType(Enum):
    CORPORATE = "corporate"
    PERSONAL = "personal"
    GOVERNMENT = "government"
    SCHOOL = "school"
    NONPROFIT = "nonprofit"


@strawberry.enum
class ClientStatus(Enum):
    ACTIVE = "active"
    INACTIVE = "inactive"


@strawberry.enum(description="When the client's invoices fall due.")
class PaymentTerms(Enum):
    DUE_ON_RECEIPT = "due_on_receipt"
    NET_15 = "net_15"
    NET_30 = "net_30"
    NET_60 = "net_60"


@strawberry.enum(description="Where a lead came from.")
class LeadSource(Enum):
    WEB = "web"
    PHONE = "phone"
    EMAIL = "email"
    REFERRAL = "referral"
    WALK_IN = "walk_in"
    PARTNER = "partner"


@strawberry.enum(
    description="A lead's place in the pipeline: NEW -> CONTACTED -> QUALIFIED -> QUOTED -> "
    "CONVERTED, or LOST (with a reason) from any open status."
)
class LeadStatus(Enum):
    NEW = "new"
    CONTACTED = "contacted"
    QUALIFIED = "qualified"
    QUOTED = "quoted"
    CONVERTED = "converted"
    LOST = "lost"


@strawberry.enum(description="What was done about a lead; calls, e-mails, meetings are contacts.")
class LeadActivityType(Enum):
    CALL = "call"
    EMAIL = "email"
    MEETING = "meeting"
    NOTE = "note"
    STATUS_CHANGE = "status_change"


@strawberry.enum(description="How a lead's agent was chosen.")
class AssignmentMethod(Enum):
    ROUND_ROBIN = strawberry.enum_value(
        "round_robin", description="The weighted round-robin queue picked it."
    )
    EXISTING_CLIENT = strawberry.enum_value(
        "existing_client",
        description="The lead's e-mail or phone matched a client; the client's agent got it.",
    )
    MANUAL = strawberry.enum_value(
        "manual", description="Named by hand: the creating agent itself, or staff's choice."
    )


# Charters' TripType, value for value: convertLead passes it on to createCharter,
# and the composed graph has one TripType.
@strawberry.enum(description="The kind of trip a charter is.")
class TripType(Enum):
    ONE_WAY = "one_way"
    ROUND_TRIP = "round_trip"
    OVERNIGHT = "overnight"
    MULTI_DAY = "multi_day"
    LOCAL = "local"
    SHUTTLE = "shuttle"
    EVENT = "event"
