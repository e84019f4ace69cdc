"""Vendors' tables, all in the `vendors` PostgreSQL schema.

Charters and users are owned elsewhere: they appear here as plain UUID
columns, and the facts vendors needs about a charter (status, client,
pickup time and place, its vehicles) are a projection fed by charters'
events (`charter_facts`, `charter_vehicle_facts`), never a read of
charters' tables.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from subgraphs.kit.models import (
    COORDINATE,
    MONEY,
    Timestamps,
    UUIDPrimaryKey,
    one_of,
    schema_metadata,
)
from subgraphs.kit.outbox import outbox_table

SCHEMA = "vendors"


class Base(AsyncAttrs, DeclarativeBase):
    metadata = schema_metadata(SCHEMA)


VENDOR_TYPES = ("owner_operator", "fleet_operator", "broker")
VENDOR_STATUSES = ("pending", "active", "suspended", "inactive", "rejected", "banned")
CONTACT_KINDS = ("primary", "dispatch", "billing")
CERTIFICATION_TYPES = (
    "dot",
    "mc",
    "insurance",
    "business_license",
    "vehicle_registration",
    "driver_background_check",
    "safety_inspection",
)
#: `pending_verification`: recorded by the vendor (or junior staff), not yet checked by a
#: manager; it does not count for compliance until verified (`active`) or is `rejected`.
CERTIFICATION_STATUSES = (
    "pending_verification",
    "active",
    "expired",
    "suspended",
    "revoked",
    "rejected",
)
ALERT_KINDS = ("30_days", "15_days", "7_days", "expired")
BID_STATUSES = (
    "draft",
    "submitted",
    "accepted",
    "rejected",
    "withdrawn",
    "expired",
    "under_review",
)
ASSIGNMENT_STATUSES = (
    "offered",
    "confirmed",
    "declined",
    "recovery_requested",
    "cancelled",
    "in_progress",
    "completed",
)
#: Assignment statuses that hold the charter vehicle (one at a time): a trip
#: under way holds it too; a completed one no longer does.
HOLDING_ASSIGNMENT = ("offered", "confirmed", "recovery_requested", "in_progress")
SUBMISSION_STATUSES = ("received", "approved", "rejected")


class Vendor(UUIDPrimaryKey, Timestamps, Base):
    """An affiliate operator the company subcontracts charter vehicles to."""

    __tablename__ = "vendors"
    __table_args__ = (
        one_of("vendor_type", VENDOR_TYPES, "vendor_type"),
        one_of("status", VENDOR_STATUSES, "status"),
        CheckConstraint("service_radius_miles IS NULL OR service_radius_miles > 0", name="radius"),
    )

    business_name: Mapped[str] = mapped_column(String(200), index=True)
    legal_name: Mapped[str | None] = mapped_column(String(200))
    vendor_type: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    address_line: Mapped[str | None] = mapped_column(String(300))
    city: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(2))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    dot_number: Mapped[str | None] = mapped_column(String(20))
    mc_number: Mapped[str | None] = mapped_column(String(20))
    #: Only admins and accounting see it whole; everyone else a masked form.
    tax_id: Mapped[str | None] = mapped_column(String(20))
    vehicle_count: Mapped[int] = mapped_column(Integer, default=0)
    vehicle_types: Mapped[list[str]] = mapped_column(ARRAY(String(50)), default=list)
    max_passenger_capacity: Mapped[int | None] = mapped_column(Integer)
    base_latitude: Mapped[Decimal | None] = mapped_column(COORDINATE)
    base_longitude: Mapped[Decimal | None] = mapped_column(COORDINATE)
    service_radius_miles: Mapped[int | None] = mapped_column(Integer)
    service_states: Mapped[list[str]] = mapped_column(ARRAY(String(2)), default=list)
    payment_terms: Mapped[str | None] = mapped_column(String(50))
    preferred: Mapped[bool] = mapped_column(default=False)
    approved_by: Mapped[uuid.UUID | None] = mapped_column()
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status_reason: Mapped[str | None] = mapped_column(String(500))


class VendorContact(UUIDPrimaryKey, Base):
    __tablename__ = "vendor_contacts"
    __table_args__ = (one_of("kind", CONTACT_KINDS, "kind"),)

    vendor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("vendors.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))


class VendorUser(Base):
    """A login with the vendor role belongs to exactly one vendor."""

    __tablename__ = "vendor_users"

    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    vendor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("vendors.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class VendorAudit(UUIDPrimaryKey, Base):
    """Every change to a vendor and its compliance: who, when, before, after."""

    __tablename__ = "vendor_audit"
    __table_args__ = (Index("ix_vendor_audit_vendor_at", "vendor_id", "at"),)

    vendor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("vendors.id"))
    entity: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[uuid.UUID] = mapped_column()
    action: Mapped[str] = mapped_column(String(50))
    actor_id: Mapped[uuid.UUID | None] = mapped_column()
    #: The staff member acting as `actor_id` ("view as"), from the token's `act.sub`.
    impersonator_id: Mapped[uuid.UUID | None] = mapped_column()
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Document(UUIDPrimaryKey, Base):
    """An uploaded compliance document; the bytes live in the storage backend."""

    __tablename__ = "documents"

    vendor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("vendors.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(300), unique=True)
    uploaded_by: Mapped[uuid.UUID | None] = mapped_column()
    uploaded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class Certification(UUIDPrimaryKey, Timestamps, Base):
    """A DOT, MC, insurance ... certificate; only a verified (`active`) one counts.

    Verification is a manager's act (seed 000): who and when are kept in
    `verified_by`/`verified_at`, a refusal in `rejected_*` with its reason.
    """

    __tablename__ = "certifications"
    __table_args__ = (
        one_of("cert_type", CERTIFICATION_TYPES, "cert_type"),
        one_of("status", CERTIFICATION_STATUSES, "status"),
        CheckConstraint("expires_on >= issued_on", name="dates_ordered"),
        Index(
            "ix_certifications_expiring", "expires_on", postgresql_where=text("status = 'active'")
        ),
    )

    vendor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("vendors.id"), index=True)
    cert_type: Mapped[str] = mapped_column(String(40))
    number: Mapped[str] = mapped_column(String(100))
    issued_on: Mapped[date] = mapped_column(Date)
    expires_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="pending_verification")
    verified_by: Mapped[uuid.UUID | None] = mapped_column()
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rejected_by: Mapped[uuid.UUID | None] = mapped_column()
    rejected_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rejection_reason: Mapped[str | None] = mapped_column(String(500))
    document_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("documents.id"))
    notes: Mapped[str | None] = mapped_column(Text)


class CertificationAlert(UUIDPrimaryKey, Base):
    """One row per alert sent: the daily job never sends the same one twice."""

    __tablename__ = "certification_alerts"
    __table_args__ = (
        one_of("kind", ALERT_KINDS, "kind"),
        UniqueConstraint("certification_id", "kind", name="uq_certification_alerts_once"),
    )

    certification_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("certifications.id"))
    kind: Mapped[str] = mapped_column(String(10))
    sent_on: Mapped[date] = mapped_column(Date)


class DailyRun(Base):
    """The compliance job's runs, one per day, so running it twice is harmless."""

    __tablename__ = "daily_runs"

    job: Mapped[str] = mapped_column(String(50), primary_key=True)
    run_on: Mapped[date] = mapped_column(Date, primary_key=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


class Bid(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "bids"
    __table_args__ = (
        one_of("status", BID_STATUSES, "status"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("vehicle_count > 0", name="vehicle_count_positive"),
        Index("ix_bids_charter_status", "charter_id", "status"),
        #: bid analytics read a window of submissions
        Index("ix_bids_submitted_at", "submitted_at"),
    )

    vendor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("vendors.id"), index=True)
    charter_id: Mapped[uuid.UUID] = mapped_column()
    #: Bids may be on one of a charter's vehicles rather than the whole charter.
    charter_vehicle_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    vehicle_type: Mapped[str] = mapped_column(String(50))
    vehicle_count: Mapped[int] = mapped_column(Integer, default=1)
    valid_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    notes: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[uuid.UUID | None] = mapped_column()
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_reason: Mapped[str | None] = mapped_column(String(500))


class VendorAssignment(UUIDPrimaryKey, Timestamps, Base):
    """Which vendor serves a charter vehicle; at most one holds it at a time."""

    __tablename__ = "vendor_assignments"
    __table_args__ = (
        one_of("status", ASSIGNMENT_STATUSES, "status"),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        Index(
            "uq_vendor_assignments_holding",
            "charter_vehicle_id",
            unique=True,
            postgresql_where=text(
                "status IN ('offered', 'confirmed', 'recovery_requested', 'in_progress')"
            ),
        ),
    )

    charter_vehicle_id: Mapped[uuid.UUID] = mapped_column(index=True)
    charter_id: Mapped[uuid.UUID] = mapped_column(index=True)
    vendor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("vendors.id"), index=True)
    bid_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("bids.id"))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    status: Mapped[str] = mapped_column(String(20), default="offered")
    decline_reason: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[uuid.UUID | None] = mapped_column()


#: A rating score: one decimal, 1.0 to 5.0 (the CHECKs bound it, the service checks the step).
RATING_SCORE = Numeric(2, 1)


class Rating(UUIDPrimaryKey, Base):
    __tablename__ = "ratings"
    __table_args__ = (
        UniqueConstraint("vendor_id", "charter_id", name="uq_ratings_vendor_charter"),
        *(
            CheckConstraint(f"{c} BETWEEN 1 AND 5", name=f"{c}_range")
            for c in (
                "overall",
                "vehicle_condition",
                "driver_professionalism",
                "on_time",
                "communication",
                "value",
            )
        ),
    )

    vendor_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("vendors.id"), index=True)
    charter_id: Mapped[uuid.UUID] = mapped_column()
    rated_by: Mapped[uuid.UUID] = mapped_column()
    #: Scores from 1.0 to 5.0 in steps of 0.1 (seed 002 rates 4.5), stored exactly.
    overall: Mapped[Decimal] = mapped_column(RATING_SCORE)
    vehicle_condition: Mapped[Decimal] = mapped_column(RATING_SCORE)
    driver_professionalism: Mapped[Decimal] = mapped_column(RATING_SCORE)
    on_time: Mapped[Decimal] = mapped_column(RATING_SCORE)
    communication: Mapped[Decimal] = mapped_column(RATING_SCORE)
    value: Mapped[Decimal] = mapped_column(RATING_SCORE)
    comment: Mapped[str | None] = mapped_column(Text)
    response: Mapped[str | None] = mapped_column(Text)
    responded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class OnboardingSubmission(UUIDPrimaryKey, Base):
    """An external onboarding form, stored once per submission id."""

    __tablename__ = "onboarding_submissions"
    __table_args__ = (one_of("status", SUBMISSION_STATUSES, "status"),)

    submission_id: Mapped[str] = mapped_column(String(100), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(20), default="received")
    vendor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("vendors.id"))
    decided_by: Mapped[uuid.UUID | None] = mapped_column()
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class CharterFacts(Base):
    """What vendors knows about a charter, from charters' events."""

    __tablename__ = "charter_facts"

    charter_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20))
    client_id: Mapped[uuid.UUID] = mapped_column()
    pickup_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    pickup_address: Mapped[str | None] = mapped_column(String(500))
    pickup_latitude: Mapped[Decimal | None] = mapped_column(COORDINATE)
    pickup_longitude: Mapped[Decimal | None] = mapped_column(COORDINATE)
    passenger_count: Mapped[int] = mapped_column(Integer)
    is_template: Mapped[bool] = mapped_column(default=False)
    #: The charter's version in the last event applied; older events are ignored.
    source_version: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CharterVehicleFacts(Base):
    __tablename__ = "charter_vehicle_facts"

    charter_vehicle_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    charter_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("charter_facts.charter_id", ondelete="CASCADE"), index=True
    )
    capacity: Mapped[int] = mapped_column(Integer)


outbox = outbox_table(Base.metadata)
