"""Finance's tables, all in the `finance` PostgreSQL schema.

Charters, clients, vendors and users are owned elsewhere: plain UUID
columns, never a foreign key. What finance must know of them at write time
(a charter's client, status, pickup and accepted price; a client's terms)
comes from their owners' events into the `*_facts` tables.

Money is `MONEY` (NUMERIC(12,2)); an application's amount is never more
than what its payment has left nor more than its invoice still owes: row
locks in the applying transaction (service/applications.py), and a unique
idempotency key per application.
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
    Numeric,
    String,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncAttrs
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from subgraphs.kit.models import MONEY, Timestamps, UUIDPrimaryKey, one_of, schema_metadata
from subgraphs.kit.outbox import outbox_table

SCHEMA = "finance"


class Base(AsyncAttrs, DeclarativeBase):
    metadata = schema_metadata(SCHEMA)


class PaymentConfig(Base):
    """The operator's payment rules (one row); seed 001 section 7's defaults, audited."""

    __tablename__ = "payment_config"
    __table_args__ = (
        CheckConstraint("id = 1", name="single_row"),
        CheckConstraint("deposit_percent >= 0 AND deposit_percent <= 100", name="deposit_percent"),
        CheckConstraint("deposit_days_before >= 0", name="deposit_days"),
        CheckConstraint("balance_days_before >= 0", name="balance_days"),
        CheckConstraint("po_credit_limit >= 0", name="po_credit_limit"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=1)
    deposit_percent: Mapped[Decimal] = mapped_column(Numeric(5, 2), default=Decimal(25))
    deposit_days_before: Mapped[int] = mapped_column(Integer, default=30)
    balance_days_before: Mapped[int] = mapped_column(Integer, default=2)
    autopay_allowed: Mapped[bool] = mapped_column(Boolean, default=True)
    card_on_file_required: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Client types that may pay by purchase order.
    po_client_types: Mapped[list[str]] = mapped_column(
        JSONB, default=lambda: ["government", "corporate"]
    )
    po_credit_limit: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("50000.00"))
    updated_by: Mapped[uuid.UUID | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ConfigAudit(UUIDPrimaryKey, Base):
    __tablename__ = "payment_config_audit"

    actor_id: Mapped[uuid.UUID | None] = mapped_column()
    impersonator_id: Mapped[uuid.UUID | None] = mapped_column()
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class ClientFact(Base):
    """Sales' clients as finance needs them (terms, credit, type), from `sales.client_changed`."""

    __tablename__ = "client_facts"

    client_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    client_type: Mapped[str | None] = mapped_column(String(20))
    payment_terms: Mapped[str | None] = mapped_column(String(20))
    credit_limit: Mapped[Decimal | None] = mapped_column(MONEY)
    tax_exempt: Mapped[bool] = mapped_column(Boolean, default=False)
    sales_agent_id: Mapped[uuid.UUID | None] = mapped_column()
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CharterFact(Base):
    """Charters' and pricing's facts of a charter: who, when, status, the accepted price."""

    __tablename__ = "charter_facts"
    __table_args__ = (Index("ix_finance_charter_facts_client", "client_id"),)

    charter_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    reference: Mapped[str | None] = mapped_column(String(20))
    client_id: Mapped[uuid.UUID | None] = mapped_column()
    sales_agent_id: Mapped[uuid.UUID | None] = mapped_column()
    status: Mapped[str] = mapped_column(String(20), default="quote")
    pickup_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: The accepted quote's total and lines (pricing's `pricing.quote_accepted`).
    accepted_total: Mapped[Decimal | None] = mapped_column(MONEY)
    accepted_tax: Mapped[Decimal | None] = mapped_column(MONEY)
    accepted_lines: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


INSTALMENT_KINDS = ("deposit", "balance", "instalment")


class PaymentPlan(Timestamps, Base):
    """How a booked charter is paid: instalments that sum to its accepted price."""

    __tablename__ = "payment_plans"

    charter_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    client_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    total: Mapped[Decimal] = mapped_column(MONEY)
    version: Mapped[int] = mapped_column(Integer, default=1)


class Instalment(UUIDPrimaryKey, Base):
    __tablename__ = "plan_instalments"
    __table_args__ = (
        one_of("kind", INSTALMENT_KINDS, "kind"),
        CheckConstraint("amount >= 0", name="amount"),
        Index("ix_plan_instalments_plan", "charter_id", "sequence"),
        Index("ix_plan_instalments_due", "due_on"),
    )

    charter_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("payment_plans.charter_id", ondelete="CASCADE")
    )
    sequence: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    due_on: Mapped[date] = mapped_column(Date)


class NumberCounter(Base):
    """Gapless numbers per kind and year (`INV-2026-00001`): taken under the row's lock."""

    __tablename__ = "number_counters"

    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


INVOICE_STATUSES = ("draft", "sent", "partially_paid", "paid", "overdue", "void")


class Invoice(UUIDPrimaryKey, Timestamps, Base):
    __tablename__ = "invoices"
    __table_args__ = (
        one_of("status", INVOICE_STATUSES, "status"),
        CheckConstraint("total >= 0", name="total"),
        Index("ix_invoices_client_due", "client_id", "due_on"),
        Index("ix_invoices_charter", "charter_id"),
    )

    number: Mapped[str] = mapped_column(String(20), unique=True)
    client_id: Mapped[uuid.UUID] = mapped_column()
    #: The charter a per-charter invoice bills; NULL for a consolidated one.
    charter_id: Mapped[uuid.UUID | None] = mapped_column()
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="draft")
    issued_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    subtotal: Mapped[Decimal] = mapped_column(MONEY)
    tax: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    total: Mapped[Decimal] = mapped_column(MONEY)
    #: Applied payments, kept with the applications in one transaction.
    paid: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    void_reason: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[uuid.UUID | None] = mapped_column()


class InvoiceLine(UUIDPrimaryKey, Base):
    __tablename__ = "invoice_lines"
    __table_args__ = (Index("ix_invoice_lines_invoice", "invoice_id", "position"),)

    invoice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    charter_id: Mapped[uuid.UUID | None] = mapped_column()
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal(1))
    unit_price: Mapped[Decimal] = mapped_column(MONEY)
    amount: Mapped[Decimal] = mapped_column(MONEY)


PAYMENT_METHODS = ("card", "ach", "check", "wire", "purchase_order", "cash")


class Payment(UUIDPrimaryKey, Timestamps, Base):
    """Money received from a client; `applied` never exceeds `amount` (row lock on apply)."""

    __tablename__ = "payments"
    __table_args__ = (
        one_of("method", PAYMENT_METHODS, "method"),
        CheckConstraint("amount > 0", name="amount"),
        CheckConstraint("applied >= 0 AND applied <= amount", name="applied"),
        Index("ix_payments_client_received", "client_id", "received_on"),
        Index("ix_payments_method_received", "method", "received_on"),
    )

    client_id: Mapped[uuid.UUID] = mapped_column()
    amount: Mapped[Decimal] = mapped_column(MONEY)
    applied: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    received_on: Mapped[date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(20))
    #: Check number and bank, card brand and last four, PO number...
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    reference: Mapped[str | None] = mapped_column(String(100))
    provider_ref: Mapped[str | None] = mapped_column(String(100), unique=True)
    created_by: Mapped[uuid.UUID | None] = mapped_column()


class PaymentApplication(UUIDPrimaryKey, Base):
    """Part of a payment applied to one charter (and its invoice, if any).

    `idempotency_key` is unique: the same application sent twice applies
    once. Unapplying keeps the row (`unapplied_at`, audited).
    """

    __tablename__ = "payment_applications"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount"),
        Index("ix_payment_applications_payment", "payment_id"),
        Index("ix_payment_applications_charter", "charter_id"),
        Index("ix_payment_applications_invoice", "invoice_id"),
    )

    payment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payments.id"))
    charter_id: Mapped[uuid.UUID] = mapped_column()
    invoice_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("invoices.id"))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    applied_by: Mapped[uuid.UUID | None] = mapped_column()
    applied_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    unapplied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    unapplied_by: Mapped[uuid.UUID | None] = mapped_column()
    unapply_reason: Mapped[str | None] = mapped_column(String(500))


class FinanceAudit(UUIDPrimaryKey, Base):
    """Every change to a payment, application, invoice or plan: who, when, before, after."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_finance_audit_entity", "entity", "entity_id", "at"),)

    entity: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[uuid.UUID] = mapped_column()
    action: Mapped[str] = mapped_column(String(50))
    actor_id: Mapped[uuid.UUID | None] = mapped_column()
    impersonator_id: Mapped[uuid.UUID | None] = mapped_column()
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class SavedPaymentMethod(UUIDPrimaryKey, Timestamps, Base):
    """A client's card or bank account at the provider: a token, never a number."""

    __tablename__ = "saved_payment_methods"
    __table_args__ = (
        Index("uq_saved_payment_methods_token", "provider", "token", unique=True),
        CheckConstraint("last4 ~ '^[0-9]{4}$'", name="last4"),
    )

    client_id: Mapped[uuid.UUID] = mapped_column(index=True)
    provider: Mapped[str] = mapped_column(String(20))
    token: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10), default="card")
    brand: Mapped[str | None] = mapped_column(String(30))
    last4: Mapped[str] = mapped_column(String(4))
    exp_month: Mapped[int | None] = mapped_column(Integer)
    exp_year: Mapped[int | None] = mapped_column(Integer)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)


outbox = outbox_table(Base.metadata)
