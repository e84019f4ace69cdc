"""Tours' tables, all in the `tours` PostgreSQL schema (seed 004, done right).

Seats are counted, never recounted: `departure_slots.seats_booked` (seats
held by bookings) and `seats_held` (seats held for waitlist offers) change
only under the slot's row lock or by one conditional UPDATE in the
transaction that books, releases or offers them, and a CHECK keeps their
sum within `max_capacity`, so the database itself refuses an oversold slot.
`seats_available` is derived in the same row (a generated column), never
written by hand.

Customers are people, not accounts: a booking carries the customer's name,
e-mail and phone, and the account that made it (`user_id`) when there was
one; anonymous customers find their booking by reference plus e-mail.

Charters, vehicles and users are owned elsewhere: plain UUID columns.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Computed,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    Time,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, INET, JSONB
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

SCHEMA = "tours"

RECURRENCES = ("none", "daily", "weekly", "biweekly", "monthly", "custom")
BOOKING_STATUSES = ("pending", "confirmed", "completed", "cancelled", "refunded", "no_show")
CHANGE_TYPES = ("created", "status_change", "slot_change", "party_change", "cancellation")
WAITLIST_STATUSES = ("active", "notified", "converted", "expired", "cancelled")
BLACKOUT_TYPES = ("holiday", "maintenance", "weather", "custom")


class Base(AsyncAttrs, DeclarativeBase):
    metadata = schema_metadata(SCHEMA)


class ToursConfig(Base):
    """The operator's booking rules (one row); seed 004's configuration, editable by admins."""

    __tablename__ = "tours_config"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("child_rate_percent BETWEEN 0 AND 100", name="child_rate"),
        CheckConstraint("tax_rate_percent BETWEEN 0 AND 100", name="tax_rate"),
        CheckConstraint("cutoff_hours >= 0", name="cutoff_hours"),
        CheckConstraint("max_days_ahead >= 1", name="max_days_ahead"),
        CheckConstraint("party_min >= 1 AND party_max >= party_min", name="party_limits"),
        CheckConstraint("offer_hold_hours >= 1", name="offer_hold_hours"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=1)
    #: A child's (3-12) price as a percentage of an adult's; infants (0-2) travel free.
    child_rate_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal(70))
    #: Tax on the subtotal after discount.
    tax_rate_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal(10))
    #: Booking closes this many hours before departure.
    cutoff_hours: Mapped[int] = mapped_column(Integer, default=24)
    max_days_ahead: Mapped[int] = mapped_column(Integer, default=90)
    party_min: Mapped[int] = mapped_column(Integer, default=1)
    party_max: Mapped[int] = mapped_column(Integer, default=50)
    #: A waitlist offer holds its seats this long.
    offer_hold_hours: Mapped[int] = mapped_column(Integer, default=24)
    updated_by: Mapped[uuid.UUID | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Tour(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "tours"
    __table_args__ = (
        CheckConstraint("duration_minutes > 0", name="duration"),
        CheckConstraint("base_price >= 0", name="base_price"),
        CheckConstraint("min_party >= 1 AND max_party >= min_party", name="party"),
    )

    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    duration_minutes: Mapped[int] = mapped_column(Integer)
    #: Per adult; a schedule's `price_override` replaces it for that schedule's slots.
    base_price: Mapped[Decimal] = mapped_column(MONEY)
    min_party: Mapped[int] = mapped_column(Integer, default=1)
    max_party: Mapped[int] = mapped_column(Integer, default=50)
    #: The IANA zone departures are sold in (a schedule may name its own).
    time_zone: Mapped[str] = mapped_column(String(64), default="America/Chicago")
    #: Where passengers board: the pickup of the charter that operates a departure.
    meeting_point: Mapped[str] = mapped_column(Text, default="")
    meeting_latitude: Mapped[Decimal | None] = mapped_column(COORDINATE)
    meeting_longitude: Mapped[Decimal | None] = mapped_column(COORDINATE)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Schedule(UUIDPrimaryKey, Timestamps, Base):
    """A recurring pattern of departures; its slots are generated, idempotently."""

    __tablename__ = "schedules"
    __table_args__ = (
        one_of("recurrence", RECURRENCES, "recurrence"),
        CheckConstraint("duration_minutes > 0", name="duration"),
        CheckConstraint(
            "min_capacity >= 0 AND max_capacity >= 1 AND min_capacity <= max_capacity",
            name="capacity",
        ),
        CheckConstraint("valid_until IS NULL OR valid_until >= valid_from", name="validity"),
        CheckConstraint("price_override IS NULL OR price_override >= 0", name="price_override"),
    )

    tour_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tours.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    #: Local wall time of departure in `time_zone`: 09:00 stays 09:00 across DST changes.
    start_time: Mapped[time] = mapped_column(Time)
    time_zone: Mapped[str] = mapped_column(String(64))
    duration_minutes: Mapped[int] = mapped_column(Integer)
    recurrence: Mapped[str] = mapped_column(String(10))
    #: ISO weekdays (1 = Monday) for weekly and biweekly schedules.
    weekdays: Mapped[list[int]] = mapped_column(ARRAY(Integer), default=list)
    #: The RFC 5545 rule of a custom schedule (python-dateutil), DTSTART = valid_from + start_time.
    rrule: Mapped[str | None] = mapped_column(Text)
    max_capacity: Mapped[int] = mapped_column(Integer)
    #: Seats that must be sold by the cutoff for a departure to run.
    min_capacity: Mapped[int] = mapped_column(Integer, default=0)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    price_override: Mapped[Decimal | None] = mapped_column(MONEY)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[uuid.UUID | None] = mapped_column()


class DepartureSlot(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "departure_slots"
    __table_args__ = (
        CheckConstraint("max_capacity >= 0", name="max_capacity"),
        CheckConstraint("min_capacity >= 0", name="min_capacity"),
        CheckConstraint("seats_booked >= 0 AND seats_held >= 0", name="seats_nonnegative"),
        # the database's own refusal to oversell (issue 15 §2)
        CheckConstraint("seats_booked + seats_held <= max_capacity", name="no_oversell"),
        CheckConstraint("price_per_person >= 0", name="price"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        # one departure per schedule and local start: generation is idempotent
        UniqueConstraint("schedule_id", "date", "local_start", name="uq_slot_schedule_start"),
        Index("ix_departure_slots_tour_date", "tour_id", "date"),
    )

    tour_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tours.id"))
    schedule_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("schedules.id"), index=True)
    #: The local date and wall times of departure, in `time_zone`.
    date: Mapped[date] = mapped_column(Date)
    local_start: Mapped[time] = mapped_column(Time)
    local_end: Mapped[time] = mapped_column(Time)
    time_zone: Mapped[str] = mapped_column(String(64))
    #: The instants, for cutoffs and ordering (a DST day's 09:00 has its own offset).
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    max_capacity: Mapped[int] = mapped_column(Integer)
    min_capacity: Mapped[int] = mapped_column(Integer, default=0)
    seats_booked: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: Seats held for a waitlist offer until it is accepted or expires.
    seats_held: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    seats_available: Mapped[int] = mapped_column(
        Integer, Computed("max_capacity - seats_booked - seats_held", persisted=True)
    )
    price_per_person: Mapped[Decimal] = mapped_column(MONEY)
    #: Staff may close a departure to new bookings without cancelling it.
    available: Mapped[bool] = mapped_column(Boolean, default=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancellation_reason: Mapped[str | None] = mapped_column(Text)
    #: When the seats booked first reached the minimum (the departure will run).
    confirmed_to_run_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: The charter that operates it, once charters created it (`DepartureSlot.charter`).
    charter_id: Mapped[uuid.UUID | None] = mapped_column()


class Booking(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "bookings"
    __table_args__ = (
        one_of("status", BOOKING_STATUSES, "status"),
        CheckConstraint("adults >= 0 AND children >= 0 AND infants >= 0", name="party"),
        CheckConstraint("adults + children + infants >= 1", name="party_not_empty"),
        CheckConstraint(
            "subtotal >= 0 AND discount >= 0 AND tax >= 0 AND total >= 0", name="money"
        ),
        CheckConstraint("refund_due IS NULL OR refund_due >= 0", name="refund_due"),
        Index("ix_bookings_slot_status", "slot_id", "status"),
        Index("ix_bookings_email", text("lower(customer_email)")),
    )

    #: TB-YYYYMMDD-XXXXXX: the booking day and six random characters, unique.
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    tour_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tours.id"))
    slot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("departure_slots.id"))
    #: The account that booked, when there was one (a customer books for itself).
    user_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    #: Who created it: the customer's account, staff booking for someone, or None (anonymous).
    created_by: Mapped[uuid.UUID | None] = mapped_column()
    adults: Mapped[int] = mapped_column(Integer)
    children: Mapped[int] = mapped_column(Integer, default=0)
    infants: Mapped[int] = mapped_column(Integer, default=0)
    #: Seats taken: everyone, infants included (an infant is a person on the bus).
    seats: Mapped[int] = mapped_column(
        Integer, Computed("adults + children + infants", persisted=True)
    )
    customer_name: Mapped[str] = mapped_column(String(200))
    customer_email: Mapped[str] = mapped_column(String(320))
    customer_phone: Mapped[str] = mapped_column(String(40), default="")
    special_requirements: Mapped[str] = mapped_column(Text, default="")
    dietary_restrictions: Mapped[str] = mapped_column(Text, default="")
    accessibility_needs: Mapped[str] = mapped_column(Text, default="")
    #: Prices as charged: the adult price, the child price, subtotal, discount, tax, total.
    adult_price: Mapped[Decimal] = mapped_column(MONEY)
    child_price: Mapped[Decimal] = mapped_column(MONEY)
    subtotal: Mapped[Decimal] = mapped_column(MONEY)
    discount: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    tax: Mapped[Decimal] = mapped_column(MONEY)
    total: Mapped[Decimal] = mapped_column(MONEY)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    #: Set when cancelled: what is owed back (a full refund when staff cancel the departure).
    refund_due: Mapped[Decimal | None] = mapped_column(MONEY)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancellation_reason: Mapped[str | None] = mapped_column(Text)
    #: The waitlist entry this booking converted, if any.
    waitlist_entry_id: Mapped[uuid.UUID | None] = mapped_column()


class BookingChange(UUIDPrimaryKey, Base):
    """Every change of a booking: who, what, from and to, why, and from where."""

    __tablename__ = "booking_changes"
    __table_args__ = (one_of("change_type", CHANGE_TYPES, "change_type"),)

    booking_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("bookings.id"), index=True)
    #: The account that made it; None for an anonymous customer or the system (a job).
    changed_by: Mapped[uuid.UUID | None] = mapped_column()
    impersonator_id: Mapped[uuid.UUID | None] = mapped_column()
    change_type: Mapped[str] = mapped_column(String(20))
    old_value: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    new_value: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    #: The difference in total this change made (a modification's repricing).
    amount_difference: Mapped[Decimal | None] = mapped_column(MONEY)
    reason: Mapped[str] = mapped_column(Text, default="")
    ip_address: Mapped[str | None] = mapped_column(INET)
    user_agent: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class WaitlistEntry(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "waitlist_entries"
    __table_args__ = (
        one_of("status", WAITLIST_STATUSES, "status"),
        CheckConstraint("party_size >= 1", name="party_size"),
        # an offer holds seats on one slot until it expires
        CheckConstraint(
            "(status = 'notified') = (offer_slot_id IS NOT NULL AND offer_expires_at IS NOT NULL)",
            name="offer_when_notified",
        ),
        Index("ix_waitlist_tour_date_status", "tour_id", "requested_date", "status"),
    )

    tour_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("tours.id"))
    requested_date: Mapped[date] = mapped_column(Date)
    party_size: Mapped[int] = mapped_column(Integer)
    user_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    customer_name: Mapped[str] = mapped_column(String(200))
    customer_email: Mapped[str] = mapped_column(String(320))
    customer_phone: Mapped[str] = mapped_column(String(40), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    #: Higher first; staff set it. Ties go to the oldest entry.
    priority: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(10), default="active")
    offer_slot_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("departure_slots.id"))
    offered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    offer_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    converted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    booking_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("bookings.id"))


class BlackoutDate(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "blackout_dates"
    __table_args__ = (
        one_of("blackout_type", BLACKOUT_TYPES, "blackout_type"),
        CheckConstraint("end_date >= start_date", name="range"),
    )

    #: None: every tour.
    tour_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("tours.id"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    blackout_type: Mapped[str] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[uuid.UUID | None] = mapped_column()


class TourAudit(UUIDPrimaryKey, Base):
    """Every change to the catalogue and to waitlist entries: who, what, before and after.

    The catalogue is tours, schedules, departures, blackouts and the booking rules
    (`kit/auditing` writes the rows).

    Bookings have their own, richer log (`booking_changes`: the caller's address and
    user agent, the price difference).
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id", "at"),)

    entity: Mapped[str] = mapped_column(String(20))
    entity_id: Mapped[uuid.UUID | None] = mapped_column()
    #: The tour it belongs to, for a tour's whole history (None: global blackouts, config).
    tour_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(String(30))
    actor_id: Mapped[uuid.UUID | None] = mapped_column()
    impersonator_id: Mapped[uuid.UUID | None] = mapped_column()
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


outbox = outbox_table(Base.metadata)
