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


outbox = outbox_table(Base.metadata)
