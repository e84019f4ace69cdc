"""GraphQL enums of vendors; values are the strings stored in the tables."""

from __future__ import annotations

from enum import Enum

import strawberry


@strawberry.enum
class VendorType(Enum):
    OWNER_OPERATOR = "owner_operator"
    FLEET_OPERATOR = "fleet_operator"
    BROKER = "broker"


@strawberry.enum
class VendorStatus(Enum):
    PENDING = "pending"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    INACTIVE = "inactive"
    REJECTED = "rejected"
    BANNED = "banned"


@strawberry.enum(description="DOT, MC and insurance (COI) are required; more may follow.")
class CertificationType(Enum):
    DOT = "dot"
    MC = "mc"
    INSURANCE = "insurance"
    BUSINESS_LICENSE = "business_license"
    VEHICLE_REGISTRATION = "vehicle_registration"
    DRIVER_BACKGROUND_CHECK = "driver_background_check"
    SAFETY_INSPECTION = "safety_inspection"


@strawberry.enum(
    description="PENDING_VERIFICATION until a manager verifies it (ACTIVE) or rejects it; "
    "only an ACTIVE, unexpired certification counts for compliance."
)
class CertificationStatus(Enum):
    PENDING_VERIFICATION = "pending_verification"
    ACTIVE = "active"
    EXPIRED = "expired"
    SUSPENDED = "suspended"
    REVOKED = "revoked"
    REJECTED = "rejected"


@strawberry.enum
class ContactKind(Enum):
    PRIMARY = "primary"
    DISPATCH = "dispatch"
    BILLING = "billing"


@strawberry.enum
class AssignmentStatus(Enum):
    OFFERED = "offered"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    RECOVERY_REQUESTED = "recovery_requested"
    CANCELLED = "cancelled"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


@strawberry.enum
class BidStatus(Enum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"
    UNDER_REVIEW = "under_review"


@strawberry.enum
class OnboardingStatus(Enum):
    RECEIVED = "received"
    APPROVED = "approved"
    REJECTED = "rejected"
