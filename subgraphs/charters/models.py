"""Charters' tables, all in the `charters` PostgreSQL schema.

Cross-subgraph references (clients, users, vendors) are plain UUID columns:
the graph joins them through federation, never through foreign keys.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSTZRANGE, ExcludeConstraint, Range
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

SCHEMA = "charters"


class Base(AsyncAttrs, DeclarativeBase):
    metadata = schema_metadata(SCHEMA)


CHARTER_STATUSES = ("quote", "booked", "confirmed", "in_progress", "completed", "cancelled")
TRIP_TYPES = ("one_way", "round_trip", "overnight", "multi_day", "local", "shuttle", "event")
STOP_TYPES = ("pickup", "dropoff", "waypoint")
VEHICLE_STATUSES = ("pending", "assigned", "confirmed", "en_route", "completed")
DISPATCH_STATUSES = (
    "not_ready",
    "ready",
    "dispatched",
    "in_transit",
    "on_site",
    "completed",
    "issue",
)
FLEET_STATUSES = ("active", "maintenance", "retired")
RECOVERY_STATUSES = ("not_needed", "pending", "vendor_search", "vendor_assigned", "resolved")
BLACKOUT_KINDS = ("holiday", "maintenance", "weather", "other")
CHANGE_STATUSES = (
    "pending",
    "under_review",
    "vendor_quoted",
    "awaiting_client_approval",
    "approved",
    "implemented",
    "rejected",
    "cancelled",
)
CHANGE_TYPES = (
    "date_time_change",
    "itinerary_modification",
    "passenger_count_change",
    "vehicle_change",
    "amenity_change",
    "cancellation",
    "other",
    # Seed 002's typed changes (issue 9).
    "pickup_location_change",
    "destination_change",
    "amenity_addition",
    "amenity_removal",
    "pricing_adjustment",
)
PRIORITIES = ("low", "medium", "high", "urgent")
IMPACT_LEVELS = ("minimal", "moderate", "significant", "major")


class ReferenceCounter(Base):
    """Per-kind, per-year counters behind readable references (CH-2026-000123)."""

    __tablename__ = "reference_counters"

    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer, default=0)


class VehicleType(UUIDPrimaryKey, Base):
    __tablename__ = "vehicle_types"
    __table_args__ = (CheckConstraint("capacity > 0", name="capacity_positive"),)

    name: Mapped[str] = mapped_column(String(100), unique=True)
    capacity: Mapped[int] = mapped_column(Integer)
    description: Mapped[str | None] = mapped_column(Text)


class Vehicle(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "vehicles"
    __table_args__ = (one_of("status", FLEET_STATUSES, "status"),)

    plate: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str | None] = mapped_column(String(100))
    vehicle_type_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("vehicle_types.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="active")


class Driver(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "drivers"

    #: The driver's account in identity.
    user_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    name: Mapped[str] = mapped_column(String(200))
    licence_class: Mapped[str] = mapped_column(String(20))
    licence_expires_on: Mapped[date] = mapped_column(Date)
    active: Mapped[bool] = mapped_column(default=True)


class BlackoutDate(UUIDPrimaryKey, Base):
    """Days nothing may be booked: everywhere, or for one vehicle type."""

    __tablename__ = "blackout_dates"
    __table_args__ = (
        one_of("kind", BLACKOUT_KINDS, "kind"),
        CheckConstraint("ends_on >= starts_on", name="ordered"),
    )

    starts_on: Mapped[date] = mapped_column(Date, index=True)
    ends_on: Mapped[date] = mapped_column(Date)
    vehicle_type_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("vehicle_types.id"))
    kind: Mapped[str] = mapped_column(String(20))
    description: Mapped[str | None] = mapped_column(String(500))


class CharterSeries(UUIDPrimaryKey, Timestamps, Base):
    """A recurring charter: instances are charters pointing here by id."""

    __tablename__ = "charter_series"

    name: Mapped[str] = mapped_column(String(200))
    client_id: Mapped[uuid.UUID] = mapped_column(index=True)
    template_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("charters.id"))
    #: RFC 5545 RRULE (without DTSTART); DTSTART is the local start below.
    rrule: Mapped[str] = mapped_column(String(500))
    starts_local: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    time_zone: Mapped[str] = mapped_column(String(64))
    exception_dates: Mapped[list[date]] = mapped_column(ARRAY(Date), default=list)
    active: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[uuid.UUID | None] = mapped_column()
    description: Mapped[str | None] = mapped_column(Text)


class Charter(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "charters"
    __table_args__ = (
        one_of("status", CHARTER_STATUSES, "status"),
        one_of("trip_type", TRIP_TYPES, "trip_type"),
        CheckConstraint("passenger_count > 0", name="passengers_positive"),
        CheckConstraint("ends_at IS NULL OR ends_at > pickup_at", name="ends_after_pickup"),
        CheckConstraint(
            "estimated_miles IS NULL OR (estimated_miles > 0 AND estimated_miles <= 10000)",
            name="estimated_miles_range",
        ),
        UniqueConstraint("series_id", "occurrence_date", name="uq_charters_series_occurrence"),
        Index("ix_charters_pickup_at", "pickup_at"),
        Index("ix_charters_status_pickup", "status", "pickup_at"),
    )

    reference: Mapped[str] = mapped_column(String(20), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="quote")
    client_id: Mapped[uuid.UUID] = mapped_column(index=True)
    sales_agent_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    created_by: Mapped[uuid.UUID | None] = mapped_column()
    trip_type: Mapped[str] = mapped_column(String(20))
    passenger_count: Mapped[int] = mapped_column(Integer)
    #: The pickup as the client said it: local wall time in an IANA zone.
    pickup_local: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    pickup_time_zone: Mapped[str] = mapped_column(String(64))
    #: The same instant in UTC, for ordering and windows.
    pickup_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    notes: Mapped[str | None] = mapped_column(Text)
    requires_second_driver: Mapped[bool] = mapped_column(default=False)
    #: Trip miles as the agent entered them; pricing prefers them to a distance
    #: estimated from the stops' coordinates.
    estimated_miles: Mapped[Decimal | None] = mapped_column(Numeric(7, 1))
    quote_revision: Mapped[int] = mapped_column(Integer, default=1)
    #: Bumped by every change; a change case remembers the version it saw.
    version: Mapped[int] = mapped_column(Integer, default=1)

    is_template: Mapped[bool] = mapped_column(default=False)
    template_name: Mapped[str | None] = mapped_column(String(200))
    cloned_from_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("charters.id"))
    split_from_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("charters.id"))
    series_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("charter_series.id", use_alter=True), index=True
    )
    occurrence_date: Mapped[date | None] = mapped_column(Date)

    #: Who meets the coach at the pickup: the one client contact vendors and drivers see.
    pickup_contact_name: Mapped[str | None] = mapped_column(String(200))
    pickup_contact_phone: Mapped[str | None] = mapped_column(String(40))
    #: Instructions marked for the vendors serving the trip, and for its drivers.
    vendor_instructions: Mapped[str | None] = mapped_column(Text)
    driver_instructions: Mapped[str | None] = mapped_column(Text)

    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_by: Mapped[uuid.UUID | None] = mapped_column()
    cancellation_reason: Mapped[str | None] = mapped_column(String(1000))
    cancellation_fee: Mapped[Decimal | None] = mapped_column(MONEY)

    #: `optimizeRoute`'s estimate for the stops' order (great-circle legs).
    route_distance_miles: Mapped[Decimal | None] = mapped_column(Numeric(8, 1))
    route_duration_minutes: Mapped[int | None] = mapped_column(Integer)
    route_optimized_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    #: The tours departure this shuttle operates (issue 15 §5): one charter per departure.
    tour_slot_id: Mapped[uuid.UUID | None] = mapped_column(unique=True)

    #: When the charter was booked (its quote accepted): demand by booking date (issue 16).
    booked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)


class QuoteRevision(UUIDPrimaryKey, Base):
    """A quote as it stood before a revision; the charter row is the newest."""

    __tablename__ = "quote_revisions"
    __table_args__ = (UniqueConstraint("charter_id", "revision"),)

    charter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("charters.id"), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by: Mapped[uuid.UUID | None] = mapped_column()


class Stop(UUIDPrimaryKey, Base):
    __tablename__ = "stops"
    __table_args__ = (
        one_of("stop_type", STOP_TYPES, "stop_type"),
        CheckConstraint("position >= 1", name="position_positive"),
        UniqueConstraint(
            "charter_id",
            "position",
            name="uq_stops_charter_position",
            deferrable=True,
            initially="DEFERRED",
        ),
    )

    charter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("charters.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    stop_type: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(500))
    latitude: Mapped[Decimal | None] = mapped_column(COORDINATE)
    longitude: Mapped[Decimal | None] = mapped_column(COORDINATE)
    planned_arrival: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    planned_departure: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    notes: Mapped[str | None] = mapped_column(String(1000))


class CharterVehicle(UUIDPrimaryKey, Timestamps, Base):
    """One vehicle of a charter; a vehicle or driver is never on two at once.

    `busy` is the time the vehicle and driver are committed. The exclusion
    constraints hold only while `holds_resources` is true, so a cancelled
    charter frees its vehicle and driver without losing the history.
    """

    __tablename__ = "charter_vehicles"
    __table_args__ = (
        one_of("status", VEHICLE_STATUSES, "status"),
        one_of("dispatch_status", DISPATCH_STATUSES, "dispatch_status"),
        one_of("recovery_status", RECOVERY_STATUSES, "recovery_status"),
        CheckConstraint("capacity > 0", name="capacity_positive"),
        CheckConstraint("cost >= 0", name="cost_not_negative"),
        ExcludeConstraint(
            ("vehicle_id", "="),
            ("busy", "&&"),
            name="ex_charter_vehicles_vehicle_overlap",
            using="gist",
            where="vehicle_id IS NOT NULL AND holds_resources",
        ),
        ExcludeConstraint(
            ("driver_id", "="),
            ("busy", "&&"),
            name="ex_charter_vehicles_driver_overlap",
            using="gist",
            where="driver_id IS NOT NULL AND holds_resources",
        ),
    )

    charter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("charters.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=1)
    vehicle_type_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("vehicle_types.id"))
    capacity: Mapped[int] = mapped_column(Integer)
    cost: Mapped[Decimal] = mapped_column(MONEY)
    vehicle_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("vehicles.id"), index=True)
    driver_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("drivers.id"), index=True)
    pickup_address: Mapped[str | None] = mapped_column(String(500))
    dropoff_address: Mapped[str | None] = mapped_column(String(500))
    special_requirements: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    dispatch_status: Mapped[str] = mapped_column(String(20), default="not_ready")
    busy: Mapped[Range[datetime]] = mapped_column(TSTZRANGE)
    holds_resources: Mapped[bool] = mapped_column(default=True)
    #: The open recovery case's status, `not_needed` when there is none (issue 13).
    recovery_status: Mapped[str] = mapped_column(
        String(20), default="not_needed", server_default="not_needed"
    )
    #: The driver app's trip: started (first stop departed) and completed.
    trip_started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    trip_completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ChangeCase(UUIDPrimaryKey, Timestamps, Base):
    """A requested change to a booked charter, applied only once approved."""

    __tablename__ = "change_cases"
    __table_args__ = (
        one_of("status", CHANGE_STATUSES, "status"),
        one_of("change_type", CHANGE_TYPES, "change_type"),
        one_of("priority", PRIORITIES, "priority"),
        one_of("impact_level", IMPACT_LEVELS, "impact_level"),
        Index("ix_change_cases_status", "status"),
    )

    case_number: Mapped[str] = mapped_column(String(20), unique=True)
    charter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("charters.id"), index=True)
    change_type: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(30), default="pending")
    priority: Mapped[str] = mapped_column(String(10), default="medium")
    impact_level: Mapped[str] = mapped_column(String(12), default="moderate")
    title: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[uuid.UUID | None] = mapped_column()
    before: Mapped[dict[str, Any]] = mapped_column(JSONB)
    after: Mapped[dict[str, Any]] = mapped_column(JSONB)
    #: The charter's version when the snapshot was taken (stale check).
    charter_version: Mapped[int] = mapped_column(Integer)
    current_price: Mapped[Decimal | None] = mapped_column(MONEY)
    #: The requester's figure: informational only, it decides nothing.
    proposed_price: Mapped[Decimal | None] = mapped_column(MONEY)
    #: The price the implemented change would produce, computed by the system
    #: from the after-snapshot (today the vehicles' costs); decides approval.
    new_price: Mapped[Decimal | None] = mapped_column(MONEY)
    requires_approval: Mapped[bool] = mapped_column(default=True)
    requires_manager: Mapped[bool] = mapped_column(default=False)
    decided_by: Mapped[uuid.UUID | None] = mapped_column()
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_notes: Mapped[str | None] = mapped_column(Text)
    implemented_by: Mapped[uuid.UUID | None] = mapped_column()
    implemented_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class KnownClient(Base):
    """The clients sales announced (`sales.client_changed`): a charter's client must be here.

    Sales owns clients; charters keeps this projection of its events so that
    a charter never points at an id that names nothing (service/directory.py).
    """

    __tablename__ = "known_clients"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    #: Who registered the client by hand (the retired `registerClient`); None
    #: for clients learnt from sales' events.
    registered_by: Mapped[uuid.UUID | None] = mapped_column()
    #: As of when `name` is true: the `occurredAt` of the sales event applied.
    registered_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class KnownSalesAgent(Base):
    """Each user identity announced (`identity.user_changed`), and whether it is an agent now.

    Charters cannot read identity's users; this projection is what lets staff
    name another agent on a charter. Users who are not (or no longer) active
    sales agents keep a row with `active` false, so that an older event
    arriving late cannot make them agents again (service/directory.py).
    """

    __tablename__ = "known_sales_agents"

    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    #: Holds the sales_agent role and is not disabled, as of `last_seen_at`.
    active: Mapped[bool] = mapped_column(server_default=true())
    #: As of when `active` is true: the `occurredAt` of the identity event applied.
    last_seen_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class ChangeCaseEvent(UUIDPrimaryKey, Base):
    """Each transition of a change case: who moved it, from what, to what."""

    __tablename__ = "change_case_events"

    change_case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("change_cases.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(30))
    to_status: Mapped[str] = mapped_column(String(30))
    actor_id: Mapped[uuid.UUID | None] = mapped_column()
    #: The staff member acting as `actor_id` (impersonation), if any.
    impersonator_id: Mapped[uuid.UUID | None] = mapped_column()
    notes: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AuditEntry(UUIDPrimaryKey, Base):
    """Every change to a charter, its stops and vehicles: who, when, old, new."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_charter_at", "charter_id", "at"),)

    charter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("charters.id"))
    entity: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[uuid.UUID] = mapped_column()
    action: Mapped[str] = mapped_column(String(50))
    actor_id: Mapped[uuid.UUID | None] = mapped_column()
    impersonator_id: Mapped[uuid.UUID | None] = mapped_column()
    old: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    new: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    #: write order: entries of one transaction share `at` (a recovery case's pending,
    #: then vendor_search) and are told apart, newest first, by this
    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=True))


class VendorAccount(Base):
    """Vendors' projection: which vendor a vendor-role user account works for.

    Fed by vendors' `vendors.vendor_user_linked` events; charters cannot read
    vendors' tables, and a vendor's token names only the user.
    """

    __tablename__ = "vendor_accounts"

    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    vendor_id: Mapped[uuid.UUID] = mapped_column(index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class VendorCharterAccess(Base):
    """Vendors' projection: which vendors may read a charter, and why.

    Fed by vendors' `vendors.charter_access_changed` events, each carrying the
    whole current set for one charter (`reasons`: assignment, bid, offer).
    """

    __tablename__ = "vendor_charter_access"

    charter_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    vendor_id: Mapped[uuid.UUID] = mapped_column(primary_key=True, index=True)
    reasons: Mapped[list[str]] = mapped_column(ARRAY(String(20)))


class VendorAccessVersion(Base):
    """When vendors computed the access set charters holds for a charter.

    An event computed earlier than what is held (a redelivery) changes nothing.
    """

    __tablename__ = "vendor_access_versions"

    charter_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class IdempotencyKey(Base):
    """A caller's key for one createCharter: a repeat answers the first charter.

    Another subgraph (sales' conversion) retries its call after a failure it
    cannot tell apart from success; the key row is inserted in the charter's
    own transaction, so a failed create leaves no key behind, and concurrent
    calls with one key serialise on its primary key.
    """

    __tablename__ = "idempotency_keys"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    actor_id: Mapped[uuid.UUID | None] = mapped_column()
    #: sha256 of the canonical createCharter input without the key.
    request_hash: Mapped[str] = mapped_column(String(64))
    #: Deferred: the key row goes in first (its unique index is what a concurrent
    #: call waits on), the charter it names later in the same transaction.
    charter_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("charters.id", deferrable=True, initially="DEFERRED")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


# --- dispatch operations (issue 13) ---------------------------------------------------

TASK_KINDS = (
    "vehicle_assigned",
    "vendor_assigned",
    "vendor_confirmed",
    "driver_assigned",
    "driver_confirmed",
    "route_verified",
    "documents_ready",
)
TASK_STATUSES = ("pending", "in_progress", "completed", "skipped")
CONFIRMATION_PARTIES = ("driver", "vendor")
CONTACT_CHANNELS = ("phone", "sms", "email", "app")
CONTACT_PARTIES = ("driver", "vendor", "client")
CONTACT_OUTCOMES = ("reached", "confirmed", "voicemail", "no_answer", "declined", "wrong_number")
INSTRUCTION_KINDS = (
    "pickup",
    "dropoff",
    "route_notes",
    "passenger_requirements",
    "equipment",
    "safety",
)
INSTRUCTION_PRIORITIES = ("normal", "important", "critical")
RECOVERY_SUBJECTS = ("vendor", "driver")
RECOVERY_REASONS = (
    "vehicle_breakdown",
    "vendor_declined",
    "vendor_no_show",
    "recovery_requested",
    "driver_unavailable",
    "other",
)
PHOTO_KINDS = ("exterior", "interior", "damage", "other")


class DispatchTask(UUIDPrimaryKey, Timestamps, Base):
    """A readiness step of a booked charter (or one of its vehicles), due before pickup.

    `due_before_minutes` is kept so a rescheduled charter moves its open
    tasks' `due_at` with it. One task per kind and charter vehicle (or
    charter, for charter-wide kinds): generating twice makes nothing new.
    """

    __tablename__ = "dispatch_tasks"
    __table_args__ = (
        one_of("kind", TASK_KINDS, "kind"),
        one_of("status", TASK_STATUSES, "status"),
        CheckConstraint("status <> 'skipped' OR skip_reason IS NOT NULL", name="skip_reason"),
        Index(
            "uq_dispatch_tasks_kind",
            "charter_id",
            text("coalesce(charter_vehicle_id, '00000000-0000-0000-0000-000000000000'::uuid)"),
            "kind",
            unique=True,
        ),
        Index("ix_dispatch_tasks_open_due", "status", "due_at"),
    )

    charter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("charters.id"), index=True)
    charter_vehicle_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("charter_vehicles.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(30))
    status: Mapped[str] = mapped_column(String(20), default="pending")
    due_before_minutes: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: Set by the overdue job when an open task passes its due time.
    overdue_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: NULL when the task completed itself (its condition became true).
    completed_by: Mapped[uuid.UUID | None] = mapped_column()
    skip_reason: Mapped[str | None] = mapped_column(String(500))


class Confirmation(UUIDPrimaryKey, Base):
    """A driver or vendor confirmed a charter vehicle: who, when, how."""

    __tablename__ = "confirmations"
    __table_args__ = (
        one_of("party", CONFIRMATION_PARTIES, "party"),
        one_of("method", CONTACT_CHANNELS, "method"),
        Index("ix_confirmations_vehicle", "charter_vehicle_id", "party", "confirmed_at"),
    )

    charter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("charters.id"), index=True)
    charter_vehicle_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("charter_vehicles.id", ondelete="CASCADE")
    )
    party: Mapped[str] = mapped_column(String(10))
    #: The driver (drivers.id) or the vendor (vendors' id) that confirmed.
    party_id: Mapped[uuid.UUID | None] = mapped_column()
    method: Mapped[str] = mapped_column(String(10))
    #: The user who recorded it (the driver itself through the app, or a dispatcher).
    recorded_by: Mapped[uuid.UUID | None] = mapped_column()
    confirmed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(String(1000))


class ContactAttempt(UUIDPrimaryKey, Base):
    """A dispatcher's attempt to reach a driver, vendor or client about a charter."""

    __tablename__ = "contact_attempts"
    __table_args__ = (
        one_of("party", CONTACT_PARTIES, "party"),
        one_of("channel", CONTACT_CHANNELS, "channel"),
        one_of("outcome", CONTACT_OUTCOMES, "outcome"),
        Index("ix_contact_attempts_charter", "charter_id", "attempted_at"),
    )

    charter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("charters.id"))
    charter_vehicle_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("charter_vehicles.id", ondelete="CASCADE")
    )
    party: Mapped[str] = mapped_column(String(10))
    channel: Mapped[str] = mapped_column(String(10))
    outcome: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(String(1000))
    attempted_by: Mapped[uuid.UUID | None] = mapped_column()
    attempted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SpecialInstruction(UUIDPrimaryKey, Timestamps, Base):
    """An instruction for a charter; only those marked visible reach drivers or vendors."""

    __tablename__ = "special_instructions"
    __table_args__ = (
        one_of("kind", INSTRUCTION_KINDS, "kind"),
        one_of("priority", INSTRUCTION_PRIORITIES, "priority"),
        Index("ix_special_instructions_charter", "charter_id", "created_at"),
    )

    charter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("charters.id"))
    kind: Mapped[str] = mapped_column(String(30))
    priority: Mapped[str] = mapped_column(String(10), default="normal")
    text: Mapped[str] = mapped_column(String(2000))
    visible_to_driver: Mapped[bool] = mapped_column(default=False)
    visible_to_vendor: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[uuid.UUID | None] = mapped_column()
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RecoveryCase(UUIDPrimaryKey, Timestamps, Base):
    """A charter vehicle that lost its vendor (or driver) and needs a replacement.

    At most one open case per vehicle and subject; the vehicle's
    `recovery_status` mirrors the open case (not_needed when none).
    """

    __tablename__ = "recovery_cases"
    __table_args__ = (
        one_of("subject", RECOVERY_SUBJECTS, "subject"),
        one_of("status", RECOVERY_STATUSES, "status"),
        one_of("reason", RECOVERY_REASONS, "reason"),
        Index(
            "uq_recovery_cases_open",
            "charter_vehicle_id",
            "subject",
            unique=True,
            postgresql_where=text("status <> 'resolved'"),
        ),
        Index("ix_recovery_cases_status_opened", "status", "opened_at"),
        #: a vendor's recoveries in a window (`Vendor.recoveryCount`)
        Index("ix_recovery_cases_previous_vendor", "previous_vendor_id", "opened_at"),
    )

    charter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("charters.id"), index=True)
    charter_vehicle_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("charter_vehicles.id", ondelete="CASCADE")
    )
    subject: Mapped[str] = mapped_column(String(10), default="vendor")
    status: Mapped[str] = mapped_column(String(20), default="pending")
    reason: Mapped[str] = mapped_column(String(30))
    note: Mapped[str | None] = mapped_column(String(1000))
    #: NULL when opened automatically (a vendor's decline or recovery request).
    opened_by: Mapped[uuid.UUID | None] = mapped_column()
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    previous_vendor_id: Mapped[uuid.UUID | None] = mapped_column()
    previous_driver_id: Mapped[uuid.UUID | None] = mapped_column()
    replacement_vendor_id: Mapped[uuid.UUID | None] = mapped_column()
    replacement_driver_id: Mapped[uuid.UUID | None] = mapped_column()
    #: Vendors alerted about this case (ids), so a second search alerts only new ones.
    alerted_vendor_ids: Mapped[list[str]] = mapped_column(JSONB, default=list)
    resolved_by: Mapped[uuid.UUID | None] = mapped_column()
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class VendorAssignmentFact(Base):
    """Vendors' assignment of a charter vehicle, as `vendors.assignment_changed` says it."""

    __tablename__ = "vendor_assignment_facts"
    __table_args__ = (Index("ix_vendor_assignment_facts_vehicle", "charter_vehicle_id"),)

    assignment_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    charter_id: Mapped[uuid.UUID] = mapped_column(index=True)
    charter_vehicle_id: Mapped[uuid.UUID] = mapped_column()
    vendor_id: Mapped[uuid.UUID] = mapped_column()
    status: Mapped[str] = mapped_column(String(30))
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class VehiclePosition(Base):
    """A GPS fix posted by a driver's app; kept 30 days (a scheduled purge)."""

    __tablename__ = "vehicle_positions"
    __table_args__ = (
        CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude"),
        CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude"),
        Index("ix_vehicle_positions_vehicle_time", "charter_vehicle_id", "recorded_at"),
        Index("ix_vehicle_positions_recorded", "recorded_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    charter_vehicle_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("charter_vehicles.id", ondelete="CASCADE")
    )
    charter_id: Mapped[uuid.UUID] = mapped_column()
    driver_id: Mapped[uuid.UUID | None] = mapped_column()
    latitude: Mapped[Decimal] = mapped_column(COORDINATE)
    longitude: Mapped[Decimal] = mapped_column(COORDINATE)
    speed_kph: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    heading: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    accuracy_m: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class LatestPosition(Base):
    """The newest fix per charter vehicle, upserted with each batch (the board reads this)."""

    __tablename__ = "latest_positions"

    charter_vehicle_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("charter_vehicles.id", ondelete="CASCADE"), primary_key=True
    )
    charter_id: Mapped[uuid.UUID] = mapped_column(index=True)
    latitude: Mapped[Decimal] = mapped_column(COORDINATE)
    longitude: Mapped[Decimal] = mapped_column(COORDINATE)
    speed_kph: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    heading: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    accuracy_m: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class StopVisit(Base):
    """When a charter vehicle actually arrived at and left a stop (the driver app)."""

    __tablename__ = "stop_visits"

    charter_vehicle_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("charter_vehicles.id", ondelete="CASCADE"), primary_key=True
    )
    stop_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("stops.id", ondelete="CASCADE"), primary_key=True
    )
    arrived_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    departed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class TripNote(UUIDPrimaryKey, Base):
    __tablename__ = "trip_notes"
    __table_args__ = (Index("ix_trip_notes_vehicle", "charter_vehicle_id", "created_at"),)

    charter_vehicle_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("charter_vehicles.id", ondelete="CASCADE")
    )
    author_id: Mapped[uuid.UUID | None] = mapped_column()
    text: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class TripPhoto(UUIDPrimaryKey, Base):
    """A photo a driver uploaded for a trip; the bytes live in storage under `storage_key`."""

    __tablename__ = "trip_photos"
    __table_args__ = (
        one_of("kind", PHOTO_KINDS, "kind"),
        CheckConstraint("size_bytes > 0", name="size_positive"),
        Index("ix_trip_photos_vehicle", "charter_vehicle_id", "uploaded_at"),
    )

    charter_vehicle_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("charter_vehicles.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(10))
    storage_key: Mapped[str] = mapped_column(String(300), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str | None] = mapped_column(String(255))
    uploaded_by: Mapped[uuid.UUID | None] = mapped_column()
    uploaded_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class ChecklistItem(UUIDPrimaryKey, Timestamps, Base):
    """A pre-trip checklist item, configured by managers."""

    __tablename__ = "checklist_items"

    label: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[uuid.UUID | None] = mapped_column()


class ChecklistCompletion(Base):
    """One checklist item done for one trip (charter vehicle): who and when."""

    __tablename__ = "checklist_completions"

    charter_vehicle_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("charter_vehicles.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("checklist_items.id"), primary_key=True)
    completed_by: Mapped[uuid.UUID | None] = mapped_column()
    completed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DailyRun(Base):
    """A scheduled job's run per day, so running it twice does nothing twice."""

    __tablename__ = "daily_runs"

    job: Mapped[str] = mapped_column(String(50), primary_key=True)
    run_on: Mapped[date] = mapped_column(Date, primary_key=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


outbox = outbox_table(Base.metadata)


# --- documents on charters and legal terms (issue 14 §3, §2's e-signature) ----------------

#: Seed 001 section 4's categories, and job sheets for the vendors running the trip.
DOCUMENT_CATEGORIES = (
    "vendor_bid",
    "client_document",
    "terms_and_conditions",
    "contract",
    "invoice",
    "receipt",
    "job_sheet",
)
LEGAL_TERMS_KINDS = ("terms_and_conditions", "contract", "waiver")


class CharterDocument(UUIDPrimaryKey, Timestamps, Base):
    """A named document attached to a charter; its bytes are in its versions.

    A vendor's bid attachment keeps the vendor it came from (`vendor_id`), so
    competing vendors never read each other's bids.
    """

    __tablename__ = "charter_documents"
    __table_args__ = (
        one_of("category", DOCUMENT_CATEGORIES, "category"),
        CheckConstraint("version_count >= 1", name="version_count_positive"),
        Index("ix_charter_documents_charter", "charter_id", "created_at"),
        Index(
            "ix_charter_documents_expiring",
            "expires_on",
            postgresql_where=text("expires_on IS NOT NULL"),
        ),
    )

    charter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("charters.id"))
    category: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(200))
    expires_on: Mapped[date | None] = mapped_column(Date)
    #: The vendor whose account uploaded it (vendor bids); None for staff and clients.
    vendor_id: Mapped[uuid.UUID | None] = mapped_column()
    #: The client company whose user uploaded it; None for staff and vendors.
    client_id: Mapped[uuid.UUID | None] = mapped_column()
    #: The newest version's number (versions count from 1; none is ever removed).
    version_count: Mapped[int] = mapped_column(Integer, default=1)
    created_by: Mapped[uuid.UUID | None] = mapped_column()


class CharterDocumentVersion(UUIDPrimaryKey, Base):
    """One upload of a document: kept for good when a newer one arrives."""

    __tablename__ = "charter_document_versions"
    __table_args__ = (
        UniqueConstraint("document_id", "version", name="uq_charter_document_versions_number"),
        CheckConstraint("size_bytes > 0", name="size_positive"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    document_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("charter_documents.id", ondelete="CASCADE")
    )
    version: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(300), unique=True)
    uploaded_by: Mapped[uuid.UUID | None] = mapped_column()
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LegalTermsVersion(UUIDPrimaryKey, Base):
    """A published version of the terms, contract or waiver clients sign.

    The text is kept exactly as published and never edited; `sha256` is over
    its UTF-8 bytes. A newer version makes the older one not current: at most
    one current version per kind (a partial unique index).
    """

    __tablename__ = "legal_terms_versions"
    __table_args__ = (
        one_of("kind", LEGAL_TERMS_KINDS, "kind"),
        UniqueConstraint("kind", "version", name="uq_legal_terms_versions_number"),
        Index(
            "uq_legal_terms_versions_current",
            "kind",
            unique=True,
            postgresql_where=text("is_current"),
        ),
        CheckConstraint("char_length(sha256) = 64", name="sha256_length"),
    )

    kind: Mapped[str] = mapped_column(String(30))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    is_current: Mapped[bool] = mapped_column(default=True)
    published_by: Mapped[uuid.UUID | None] = mapped_column()
    published_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LegalTermsAudit(UUIDPrimaryKey, Base):
    """Who published or retired which terms version: terms belong to no charter."""

    __tablename__ = "legal_terms_audit"
    __table_args__ = (Index("ix_legal_terms_audit_version", "terms_version_id", "at"),)

    terms_version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("legal_terms_versions.id"))
    action: Mapped[str] = mapped_column(String(50))
    actor_id: Mapped[uuid.UUID | None] = mapped_column()
    impersonator_id: Mapped[uuid.UUID | None] = mapped_column()
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CharterSignature(UUIDPrimaryKey, Base):
    """An e-signature of a terms version for a charter, with what proves it.

    The terms' kind and SHA-256 are copied at signing, so the record stands
    on its own; `signer_id` is None for a quote-link signer (no account yet).
    """

    __tablename__ = "charter_signatures"
    __table_args__ = (
        Index("ix_charter_signatures_charter", "charter_id", "signed_at"),
        CheckConstraint("char_length(terms_sha256) = 64", name="sha256_length"),
    )

    charter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("charters.id"))
    terms_version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("legal_terms_versions.id"))
    terms_kind: Mapped[str] = mapped_column(String(30))
    terms_sha256: Mapped[str] = mapped_column(String(64))
    signer_id: Mapped[uuid.UUID | None] = mapped_column()
    impersonator_id: Mapped[uuid.UUID | None] = mapped_column()
    typed_name: Mapped[str] = mapped_column(String(200))
    ip_address: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(500))
    signed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
