"""Notifications' tables, all in the `notifications` PostgreSQL schema.

Notifications owns what the business says to people: templates (versioned),
the messages it decided to send and what became of them (the delivery log,
with opens and clicks), and who wants to hear what (preferences). Whom to
tell and what about comes from the other subgraphs' events; what it must
know of their entities at send time (a client's e-mail, a charter's pickup
time and time zone, an installment's due date) is kept in the `*_facts`
projections, never read from their tables.

A message is decided once per (event, kind, recipient, channel): the
`idempotency_key` is unique, so an event delivered twice (the outbox is
at-least-once) queues nothing new. A message is handed to its channel at
most once: the worker claims it (`sending`) before the hand-off and records
the outcome after; one found still `sending` after a crash is NOT handed
over again (it is failed as "outcome unknown", for staff to look at).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from subgraphs.kit.models import MONEY, Timestamps, UUIDPrimaryKey, one_of, schema_metadata
from subgraphs.kit.outbox import outbox_table

SCHEMA = "notifications"

CHANNELS = ("email", "sms")
#: queued -> sending -> sent -> opened/clicked (first open, first click kept);
#: sending -> queued (a retryable failure, with `next_attempt_at`) or failed;
#: queued -> suppressed (the recipient opted out after it was queued)
MESSAGE_STATUSES = ("queued", "sending", "sent", "failed", "suppressed", "opened", "clicked")
TRACKING_KINDS = ("open", "click")
#: what a preference governs; `transactional` messages ignore every opt-out but the channel's
PREFERENCE_TOPICS = ("quotes", "reminders", "follow_ups", "marketing")


class Base(AsyncAttrs, DeclarativeBase):
    metadata = schema_metadata(SCHEMA)


outbox = outbox_table(Base.metadata)


# -- templates --------------------------------------------------------------------------------


class Template(UUIDPrimaryKey, Timestamps, Base):
    """One kind of message on one channel in one locale; its text lives in versions."""

    __tablename__ = "templates"
    __table_args__ = (
        UniqueConstraint("kind", "channel", "locale"),
        one_of("channel", CHANNELS, "channel"),
    )

    #: what the message is about: quote_sent, booking_confirmed, deposit_reminder, ...
    kind: Mapped[str] = mapped_column(String(60))
    channel: Mapped[str] = mapped_column(String(10))
    #: a Babel locale identifier (en, en_US, es, fr_CA)
    locale: Mapped[str] = mapped_column(String(20), default="en")
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    #: the version new messages are rendered with
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class TemplateVersion(UUIDPrimaryKey, Base):
    """A template's text as it stood: never edited, a change is a new version."""

    __tablename__ = "template_versions"
    __table_args__ = (UniqueConstraint("template_id", "version"),)
    __mapper_args__ = {"eager_defaults": True}

    template_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("templates.id"))
    version: Mapped[int] = mapped_column(Integer)
    #: Jinja2 sources; SMS has only `text`
    subject: Mapped[str | None] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    created_by: Mapped[uuid.UUID | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class TemplateAudit(UUIDPrimaryKey, Base):
    """Every change of a template: a version published, switched on or off; who and when."""

    __tablename__ = "template_audit"
    __table_args__ = (Index("ix_template_audit_template", "template_id", "at"),)

    template_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("templates.id"))
    change: Mapped[str] = mapped_column(String(20))
    actor_id: Mapped[uuid.UUID | None] = mapped_column()
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


# -- the delivery log -------------------------------------------------------------------------


class Message(UUIDPrimaryKey, Timestamps, Base):
    """One message to one recipient on one channel: decided, sent, opened, clicked."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("idempotency_key"),
        one_of("channel", CHANNELS, "channel"),
        one_of("status", MESSAGE_STATUSES, "status"),
        Index("ix_messages_due", "status", "next_attempt_at"),
        Index("ix_messages_charter", "charter_id", "created_at"),
        Index("ix_messages_lead", "lead_id", "created_at"),
        Index("ix_messages_client", "client_id", "created_at"),
        Index("ix_messages_created", "created_at"),
    )

    #: `<event id>:<kind>:<channel>:<recipient>` (or a job's own key): decided once
    idempotency_key: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(60))
    channel: Mapped[str] = mapped_column(String(10))
    #: an e-mail address or an E.164 phone number
    recipient: Mapped[str] = mapped_column(String(320))
    recipient_name: Mapped[str | None] = mapped_column(String(200))
    recipient_user_id: Mapped[uuid.UUID | None] = mapped_column()
    locale: Mapped[str] = mapped_column(String(20), default="en")
    #: receipts, password resets: sent whatever the recipient's topic opt-outs say
    transactional: Mapped[bool] = mapped_column(Boolean, default=False)
    template_id: Mapped[uuid.UUID | None] = mapped_column()
    template_version: Mapped[int | None] = mapped_column(Integer)
    #: what the message is about, for the log's filters (plain ids: owned elsewhere)
    client_id: Mapped[uuid.UUID | None] = mapped_column()
    charter_id: Mapped[uuid.UUID | None] = mapped_column()
    lead_id: Mapped[uuid.UUID | None] = mapped_column()
    vendor_id: Mapped[uuid.UUID | None] = mapped_column()
    #: the event that caused it (its outbox id), when one did
    event_id: Mapped[str | None] = mapped_column(String(100))
    #: the values the template is rendered with (JSON-safe: money and times as strings)
    variables: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    subject: Mapped[str | None] = mapped_column(Text)
    body_text: Mapped[str | None] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="queued")
    failure_reason: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    #: when a worker took it for the hand-off (a stale one is never handed over again)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    provider_message_id: Mapped[str | None] = mapped_column(String(200))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    clicked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class TrackingEvent(UUIDPrimaryKey, Base):
    """An open (the pixel) or a click (the redirect) of a message, each recorded once."""

    __tablename__ = "tracking_events"
    __table_args__ = (
        UniqueConstraint("message_id", "kind", "url"),
        one_of("kind", TRACKING_KINDS, "kind"),
    )

    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("messages.id"))
    kind: Mapped[str] = mapped_column(String(10))
    #: the clicked link ("" for an open)
    url: Mapped[str] = mapped_column(Text, default="")
    ip_address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Attachment(UUIDPrimaryKey, Base):
    """A file a message carries (a scheduled report): kept with the message, so a retry sends it.

    The bytes live in the row, written in the transaction that decides the message: a
    message is never queued without its file, and no disk has to be shared by replicas.
    """

    __tablename__ = "attachments"
    __table_args__ = (Index("ix_attachments_message", "message_id"),)

    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("messages.id"))
    #: as the recipient sees it (already cleaned by `kit.storage.clean_filename`)
    file_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


# -- preferences ------------------------------------------------------------------------------


class Choices(Timestamps):
    """The switches a company or a person sets; `service/preferences.py` reads them."""

    quotes: Mapped[bool] = mapped_column(Boolean, default=True)
    reminders: Mapped[bool] = mapped_column(Boolean, default=True)
    follow_ups: Mapped[bool] = mapped_column(Boolean, default=True)
    marketing: Mapped[bool] = mapped_column(Boolean, default=True)
    email: Mapped[bool] = mapped_column(Boolean, default=True)
    #: SMS only with an explicit opt-in (TCPA): off until turned on
    sms_opt_in: Mapped[bool] = mapped_column(Boolean, default=False)
    sms_phone: Mapped[str | None] = mapped_column(String(20))
    updated_by: Mapped[uuid.UUID | None] = mapped_column()


class ClientPreferences(Choices, Base):
    """What a client company wants to hear (seed 001 section 1); a missing row is the defaults."""

    __tablename__ = "client_preferences"

    client_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)


class UserPreferences(Choices, Base):
    """The same choices for one person's account (staff, vendor, driver, client user)."""

    __tablename__ = "user_preferences"

    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)


class PreferencesAudit(UUIDPrimaryKey, Base):
    """Every change of a preference: who (and for whom, when impersonating), before, after."""

    __tablename__ = "preferences_audit"

    client_id: Mapped[uuid.UUID | None] = mapped_column()
    user_id: Mapped[uuid.UUID | None] = mapped_column()
    actor_id: Mapped[uuid.UUID | None] = mapped_column()
    impersonator_id: Mapped[uuid.UUID | None] = mapped_column()
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


# -- what notifications knows of other subgraphs' entities (from their events) ---------------


class ClientFact(Base):
    """Sales' clients: whom to write to (`sales.client_changed`)."""

    __tablename__ = "client_facts"

    client_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(40))
    locale: Mapped[str] = mapped_column(String(20), default="en")
    status: Mapped[str | None] = mapped_column(String(30))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    #: the event time of the newest fact held (kit/facts.upsert_newer)
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class UserFact(Base):
    """Identity's accounts: e-mail, name, roles, the client a client user acts for."""

    __tablename__ = "user_facts"

    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200), default="")
    roles: Mapped[list[str]] = mapped_column(JSONB, default=list)
    client_id: Mapped[uuid.UUID | None] = mapped_column()
    vendor_id: Mapped[uuid.UUID | None] = mapped_column()
    phone: Mapped[str | None] = mapped_column(String(40))
    locale: Mapped[str] = mapped_column(String(20), default="en")
    status: Mapped[str | None] = mapped_column(String(30))
    #: the event time of the newest fact held (kit/facts.upsert_newer)
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CharterFact(Base):
    """Charters' charters: reference, client, status, pickup and its time zone."""

    __tablename__ = "charter_facts"
    __table_args__ = (Index("ix_charter_facts_pickup", "pickup_at"),)

    charter_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), default="")
    client_id: Mapped[uuid.UUID | None] = mapped_column()
    sales_agent_id: Mapped[uuid.UUID | None] = mapped_column()
    status: Mapped[str] = mapped_column(String(20), default="quote")
    pickup_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    pickup_time_zone: Mapped[str] = mapped_column(String(60), default="UTC")
    pickup_address: Mapped[str | None] = mapped_column(Text)
    pickup_latitude: Mapped[float | None] = mapped_column(Float)
    pickup_longitude: Mapped[float | None] = mapped_column(Float)
    passenger_count: Mapped[int | None] = mapped_column(Integer)
    #: accepted price (pricing.quote_accepted), for confirmations
    total: Mapped[Decimal | None] = mapped_column(MONEY)
    quote_revision: Mapped[int | None] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    #: the event time of the newest fact held (kit/facts.upsert_newer)
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class InstallmentFact(Base):
    """Finance's plan installments (deposit, balance, custom): what is due when, still open."""

    __tablename__ = "installment_facts"
    __table_args__ = (Index("ix_installment_facts_due", "due_on"),)

    installment_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    charter_id: Mapped[uuid.UUID] = mapped_column()
    client_id: Mapped[uuid.UUID | None] = mapped_column()
    kind: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    outstanding: Mapped[Decimal] = mapped_column(MONEY)
    due_on: Mapped[date] = mapped_column(Date)
    #: the event time of the newest fact held (kit/facts.upsert_newer)
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class VendorFact(Base):
    """Vendors' vendors: contact and service area, for alerts and bid opportunities."""

    __tablename__ = "vendor_facts"

    vendor_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str | None] = mapped_column(String(30))
    compliant: Mapped[bool] = mapped_column(Boolean, default=False)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    service_radius_miles: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    #: the event time of the newest fact held (kit/facts.upsert_newer)
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True))
