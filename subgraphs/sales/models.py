"""Sales' tables, all in the `sales` PostgreSQL schema.

Users (the owning sales agent, audit actors) are owned by identity: plain
UUID columns here, joined through the graph, never a foreign key.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from subgraphs.kit.models import MONEY, Timestamps, UUIDPrimaryKey, one_of, schema_metadata
from subgraphs.kit.outbox import outbox_table

SCHEMA = "sales"


class Base(AsyncAttrs, DeclarativeBase):
    metadata = schema_metadata(SCHEMA)


CLIENT_TYPES = ("corporate", "personal", "government", "school", "nonprofit")
CLIENT_STATUSES = ("active", "inactive")
PAYMENT_TERMS = ("due_on_receipt", "net_15", "net_30", "net_60")


class Client(UUIDPrimaryKey, Timestamps, Base):
    """A customer of the operator: a company, school, agency or a person."""

    __tablename__ = "clients"
    __table_args__ = (
        one_of("client_type", CLIENT_TYPES, "client_type"),
        one_of("status", CLIENT_STATUSES, "status"),
        one_of("payment_terms", PAYMENT_TERMS, "payment_terms"),
        CheckConstraint("credit_limit IS NULL OR credit_limit >= 0", name="credit_limit"),
        Index("ix_clients_lower_name", text("lower(name)")),
    )

    name: Mapped[str] = mapped_column(String(200))
    client_type: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(20), default="active")
    billing_line1: Mapped[str | None] = mapped_column(String(200))
    billing_line2: Mapped[str | None] = mapped_column(String(200))
    billing_city: Mapped[str | None] = mapped_column(String(100))
    billing_region: Mapped[str | None] = mapped_column(String(100))
    billing_postal_code: Mapped[str | None] = mapped_column(String(20))
    billing_country: Mapped[str | None] = mapped_column(String(2))
    tax_exempt: Mapped[bool] = mapped_column(Boolean, default=False)
    credit_limit: Mapped[Decimal | None] = mapped_column(MONEY)
    payment_terms: Mapped[str] = mapped_column(String(20), default="net_30")
    #: The owning sales agent (an identity user id).
    sales_agent_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    notes: Mapped[str | None] = mapped_column(Text)


class ClientContact(UUIDPrimaryKey, Timestamps, Base):
    """A person at a client. Exactly one contact of a client with contacts is primary.

    At most one is enforced by a partial unique index; the service keeps at
    least one (the primary can be moved, not removed while others remain).
    Two clients may not share a primary contact e-mail (a second partial
    unique index), so matching a lead's e-mail to a client is unambiguous.
    E-mail is stored lower-case and phone in E.164, so matching is exact.
    """

    __tablename__ = "client_contacts"
    __table_args__ = (
        Index(
            "uq_client_contacts_one_primary",
            "client_id",
            unique=True,
            postgresql_where=text("is_primary"),
        ),
        Index(
            "uq_client_contacts_primary_email",
            "email",
            unique=True,
            postgresql_where=text("is_primary"),
        ),
        Index("ix_client_contacts_email", "email"),
        CheckConstraint("email IS NULL OR email = lower(email)", name="email_lower"),
    )

    client_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("clients.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    is_primary: Mapped[bool] = mapped_column(Boolean, default=False)


class ClientAudit(UUIDPrimaryKey, Base):
    """Every change to a client and its contacts: who, when, before, after."""

    __tablename__ = "client_audit"
    __table_args__ = (Index("ix_client_audit_client_at", "client_id", "at"),)

    client_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clients.id", ondelete="CASCADE"))
    entity: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[uuid.UUID] = mapped_column()
    action: Mapped[str] = mapped_column(String(50))
    actor_id: Mapped[uuid.UUID | None] = mapped_column()
    #: The staff member acting as `actor_id` ("view as"), from the token's `act.sub`.
    impersonator_id: Mapped[uuid.UUID | None] = mapped_column()
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


LEAD_SOURCES = ("web", "phone", "email", "referral", "walk_in", "partner")
LEAD_STATUSES = ("new", "contacted", "qualified", "quoted", "converted", "lost")
ACTIVITY_TYPES = ("call", "email", "meeting", "note", "status_change")
ASSIGNMENT_METHODS = ("round_robin", "existing_client", "manual")


class Lead(UUIDPrimaryKey, Timestamps, Base):
    """A prospective trip and the person asking, on its way through the pipeline.

    The status follows `states.LEAD` (the service checks every move); a
    lost lead carries its reason (a check constraint). `last_contact_at`,
    `next_follow_up_at` and `contact_count` are maintained by activities.
    """

    __tablename__ = "leads"
    __table_args__ = (
        one_of("source", LEAD_SOURCES, "source"),
        one_of("status", LEAD_STATUSES, "status"),
        CheckConstraint("status <> 'lost' OR lost_reason IS NOT NULL", name="lost_reason"),
        CheckConstraint("passengers IS NULL OR passengers > 0", name="passengers"),
        CheckConstraint("score >= 0 AND score <= 100", name="score"),
        CheckConstraint("contact_count >= 0", name="contact_count"),
        CheckConstraint("email IS NULL OR email = lower(email)", name="email_lower"),
        Index("ix_leads_created_at", "created_at", "id"),
        Index("ix_leads_agent_status", "agent_id", "status"),
        Index("ix_leads_next_follow_up_at", "next_follow_up_at"),
        Index("ix_leads_charter_id", "charter_id"),
        one_of("assignment_method", ASSIGNMENT_METHODS, "assignment_method"),
        CheckConstraint(
            "status <> 'converted' OR (charter_id IS NOT NULL AND client_id IS NOT NULL)",
            name="converted_has_charter",
        ),
    )

    source: Mapped[str] = mapped_column(String(20))
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(20))
    company: Mapped[str | None] = mapped_column(String(200))
    trip_date: Mapped[date | None] = mapped_column(Date)
    origin: Mapped[str | None] = mapped_column(String(200))
    destination: Mapped[str | None] = mapped_column(String(200))
    passengers: Mapped[int | None] = mapped_column(Integer)
    vehicle_type: Mapped[str | None] = mapped_column(String(50))
    notes: Mapped[str | None] = mapped_column(Text)
    #: The owning sales agent (an identity user id); NULL: unassigned.
    agent_id: Mapped[uuid.UUID | None] = mapped_column()
    status: Mapped[str] = mapped_column(String(20), default="new")
    lost_reason: Mapped[str | None] = mapped_column(String(500))
    score: Mapped[int] = mapped_column(Integer, default=0)
    #: The agent's explicit "hot" mark; `hot` also follows from the trip (service).
    marked_hot: Mapped[bool] = mapped_column(Boolean, default=False)
    last_contact_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    next_follow_up_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    contact_count: Mapped[int] = mapped_column(Integer, default=0)
    #: How the agent was chosen (`ASSIGNMENT_METHODS`); NULL while unassigned.
    assignment_method: Mapped[str | None] = mapped_column(String(20))
    assigned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: The client this lead is for: matched on creation or found/created by conversion.
    client_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("clients.id", ondelete="SET NULL"), index=True
    )
    #: The charter quote conversion created (a charters id: no foreign key).
    charter_id: Mapped[uuid.UUID | None] = mapped_column()
    converted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: The converted charter's status as charters last announced it (follow-ups).
    charter_status: Mapped[str | None] = mapped_column(String(20))
    charter_status_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LeadActivity(UUIDPrimaryKey, Base):
    """Something done about a lead: who (the viewer) and when (the server clock)."""

    __tablename__ = "lead_activities"
    __table_args__ = (
        one_of("activity_type", ACTIVITY_TYPES, "activity_type"),
        Index("ix_lead_activities_lead_at", "lead_id", "at", "id"),
    )

    lead_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    activity_type: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[uuid.UUID | None] = mapped_column()
    impersonator_id: Mapped[uuid.UUID | None] = mapped_column()
    notes: Mapped[str | None] = mapped_column(Text)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class LeadAudit(UUIDPrimaryKey, Base):
    """Every change to a lead: who, when, before, after (like `client_audit`)."""

    __tablename__ = "lead_audit"
    __table_args__ = (Index("ix_lead_audit_lead_at", "lead_id", "at"),)

    lead_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(String(50))
    actor_id: Mapped[uuid.UUID | None] = mapped_column()
    impersonator_id: Mapped[uuid.UUID | None] = mapped_column()
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SalesAgent(Base):
    """Identity's users as sales needs them: a projection of `identity.user_changed`.

    Sales checks every agent it is given against this table (an unknown or
    departed agent is a user error) and names agents without asking identity.
    """

    __tablename__ = "agents"

    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    #: Holds the sales_agent role now.
    is_sales_agent: Mapped[bool] = mapped_column(Boolean, default=False)
    #: The account can sign in (not deactivated).
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class LeadQueueEntry(Timestamps, Base):
    """One agent's place in the round-robin queue.

    `current_weight` is the smooth weighted round-robin state (nginx's
    algorithm): each pick adds every eligible agent's weight, takes the
    largest (ties by position) and subtracts the eligible total from it.
    `assigned_today` counts round-robin picks on `counted_on` (operator's
    local date); a new day starts from zero without a reset job. Positions
    order the queue and break ties; they need not be unique or dense.
    """

    __tablename__ = "lead_queue"
    __table_args__ = (
        CheckConstraint("weight >= 1 AND weight <= 100", name="weight"),
        CheckConstraint("max_per_day IS NULL OR max_per_day >= 1", name="max_per_day"),
        CheckConstraint("assigned_today >= 0", name="assigned_today"),
        Index("ix_lead_queue_position", "position"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("agents.user_id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer)
    weight: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    max_per_day: Mapped[int | None] = mapped_column(Integer)
    assigned_today: Mapped[int] = mapped_column(Integer, default=0)
    counted_on: Mapped[date | None] = mapped_column(Date)
    current_weight: Mapped[int] = mapped_column(Integer, default=0)
    assigned_total: Mapped[int] = mapped_column(Integer, default=0)
    last_assigned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class QueueAudit(UUIDPrimaryKey, Base):
    """Every change managers make to the queue: who, when, before, after."""

    __tablename__ = "lead_queue_audit"
    __table_args__ = (Index("ix_lead_queue_audit_at", "at"),)

    user_id: Mapped[uuid.UUID] = mapped_column()
    action: Mapped[str] = mapped_column(String(50))
    actor_id: Mapped[uuid.UUID | None] = mapped_column()
    impersonator_id: Mapped[uuid.UUID | None] = mapped_column()
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


CONVERSION_STATES = ("started", "client_ready", "done")


class LeadConversion(Timestamps, Base):
    """One `convertLead` call by its idempotency key: how far it got.

    A retry with the same key resumes from `state` (the client already found
    or created is reused; charters answers the same quote for the same key),
    so neither a repeated call nor a crash between steps duplicates anything.
    `request_hash` refuses a key reused for different input.
    """

    __tablename__ = "lead_conversions"
    __table_args__ = (
        one_of("state", CONVERSION_STATES, "state"),
        Index("ix_lead_conversions_lead", "lead_id"),
    )

    idempotency_key: Mapped[str] = mapped_column(String(200), primary_key=True)
    lead_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    request_hash: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(20), default="started")
    client_id: Mapped[uuid.UUID | None] = mapped_column()
    client_created: Mapped[bool] = mapped_column(Boolean, default=False)
    charter_id: Mapped[uuid.UUID | None] = mapped_column()
    actor_id: Mapped[uuid.UUID | None] = mapped_column()


FOLLOW_UP_KINDS = ("quote_unanswered", "lead_untouched")


class FollowUp(UUIDPrimaryKey, Base):
    """A follow-up sales decided on and announced (`sales.follow_up_due`).

    Unique per lead, kind and `quiet_since` (the moment the silence began),
    so the daily job announces each silence once, however often it runs.
    """

    __tablename__ = "follow_ups"
    __table_args__ = (
        one_of("kind", FOLLOW_UP_KINDS, "kind"),
        Index("uq_follow_ups_once", "lead_id", "kind", "quiet_since", unique=True),
    )

    lead_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("leads.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))
    quiet_since: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    client_id: Mapped[uuid.UUID | None] = mapped_column()
    charter_id: Mapped[uuid.UUID | None] = mapped_column()
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


outbox = outbox_table(Base.metadata)
