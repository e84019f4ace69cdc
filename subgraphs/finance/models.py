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
    text,
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
    status: Mapped[str | None] = mapped_column(String(20))
    #: Sales' billing address, printed on invoices: {line1, line2, city, region, postalCode, country}.
    billing_address: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    email: Mapped[str | None] = mapped_column(String(254))
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CharterFact(Base):
    """Charters' and pricing's facts of a charter: who, when, status, the accepted price."""

    __tablename__ = "charter_facts"
    __table_args__ = (
        Index("ix_finance_charter_facts_client", "client_id"),
        #: month-to-date figures read the charters accepted since the 1st
        Index("ix_finance_charter_facts_accepted_at", "accepted_at"),
    )

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
    #: What the charter's vehicles cost the operator (vendor or fleet), for profit figures.
    vehicle_cost: Mapped[Decimal | None] = mapped_column(MONEY)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancellation_fee: Mapped[Decimal | None] = mapped_column(MONEY)
    cancellation_reason: Mapped[str | None] = mapped_column(String(1000))


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
        # The month-end run makes one consolidated invoice per client and period, once.
        Index(
            "uq_invoices_consolidated_period",
            "client_id",
            "period_start",
            "period_end",
            unique=True,
            postgresql_where=text("charter_id IS NULL AND status <> 'void'"),
        ),
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
    __table_args__ = (
        Index("ix_invoice_lines_invoice", "invoice_id", "position"),
        # A charter's invoices, consolidated ones included, are found through their lines.
        Index("ix_invoice_lines_charter", "charter_id"),
    )

    invoice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("invoices.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    charter_id: Mapped[uuid.UUID | None] = mapped_column()
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal(1))
    unit_price: Mapped[Decimal] = mapped_column(MONEY)
    amount: Mapped[Decimal] = mapped_column(MONEY)


PAYMENT_METHODS = ("card", "ach", "check", "wire", "purchase_order", "cash")
#: A refund is a payment of its own with a negative amount, applied negatively.
PAYMENT_KINDS = ("payment", "refund")
#: Where a provider's charge or refund stands; manual entries are `succeeded` at once.
PROVIDER_STATUSES = ("pending", "succeeded", "failed")


class Payment(UUIDPrimaryKey, Timestamps, Base):
    """Money received from a client; `applied` never exceeds `amount` (row lock on apply)."""

    __tablename__ = "payments"
    __table_args__ = (
        one_of("method", PAYMENT_METHODS, "method"),
        one_of("kind", PAYMENT_KINDS, "kind"),
        one_of("provider_status", PROVIDER_STATUSES, "provider_status"),
        CheckConstraint(
            "(kind = 'payment' AND amount > 0 AND applied >= 0 AND applied <= amount"
            " AND refund_of_id IS NULL)"
            " OR (kind = 'refund' AND amount < 0 AND applied <= 0 AND applied >= amount"
            " AND refund_of_id IS NOT NULL)",
            name="amount_by_kind",
        ),
        CheckConstraint(
            "(kind = 'payment' AND refunded >= 0 AND refunded <= amount)"
            " OR (kind = 'refund' AND refunded = 0)",
            name="refunded",
        ),
        Index("ix_payments_refund_of", "refund_of_id"),
        Index("ix_payments_client_received", "client_id", "received_on"),
        Index("ix_payments_method_received", "method", "received_on"),
        #: the payments list: a window of received days, newest first
        Index("ix_payments_received_created", "received_on", "created_at", "id"),
    )

    client_id: Mapped[uuid.UUID] = mapped_column()
    kind: Mapped[str] = mapped_column(String(10), default="payment", server_default="payment")
    #: The payment a refund gives back (part of); NULL for a payment.
    refund_of_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("payments.id"))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    applied: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    #: On a payment: the sum of its refunds (positive), kept with them under the row lock.
    refunded: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"), server_default="0.00")
    provider_status: Mapped[str] = mapped_column(
        String(10), default="succeeded", server_default="succeeded"
    )
    saved_method_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("saved_payment_methods.id")
    )
    received_on: Mapped[date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(20))
    #: Check number and bank, card brand and last four, PO number...
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    reference: Mapped[str | None] = mapped_column(String(100))
    provider_ref: Mapped[str | None] = mapped_column(String(100), unique=True)
    created_by: Mapped[uuid.UUID | None] = mapped_column()


class PaymentApplication(UUIDPrimaryKey, Base):
    """Part of a payment applied to one charter (and its invoice, if any).

    A refund's application is negative: it takes money back off the charter.

    `idempotency_key` is unique: the same application sent twice applies
    once. Unapplying keeps the row (`unapplied_at`, audited).
    """

    __tablename__ = "payment_applications"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount"),
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


class DailyRun(Base):
    """A scheduled job's run per day (or period), so running it twice does nothing twice."""

    __tablename__ = "daily_runs"

    job: Mapped[str] = mapped_column(String(50), primary_key=True)
    run_on: Mapped[date] = mapped_column(Date, primary_key=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSONB)


# --- vendors: what finance keeps of them, their bills and what was paid -----------------


class VendorFact(Base):
    """Vendors' vendors as finance needs them (name, terms, address), from their events."""

    __tablename__ = "vendor_facts"

    vendor_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str | None] = mapped_column(String(20))
    payment_terms: Mapped[str | None] = mapped_column(String(50))
    email: Mapped[str | None] = mapped_column(String(254))
    #: {line1, city, region, postalCode}, for the accounting sync.
    address: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class VendorUserFact(Base):
    """Which vendor a vendor login belongs to (`vendors.vendor_user_linked`)."""

    __tablename__ = "vendor_user_facts"

    user_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    vendor_id: Mapped[uuid.UUID] = mapped_column(index=True)
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AssignmentFact(Base):
    """A vendor's assignment to a charter vehicle and its agreed amount (`vendors.assignment_changed`)."""

    __tablename__ = "assignment_facts"
    __table_args__ = (
        Index("ix_assignment_facts_vendor", "vendor_id"),
        Index("ix_assignment_facts_charter", "charter_id"),
    )

    assignment_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    charter_id: Mapped[uuid.UUID] = mapped_column()
    charter_vehicle_id: Mapped[uuid.UUID | None] = mapped_column()
    vendor_id: Mapped[uuid.UUID] = mapped_column()
    amount: Mapped[Decimal | None] = mapped_column(MONEY)
    status: Mapped[str] = mapped_column(String(20))
    as_of: Mapped[datetime] = mapped_column(DateTime(timezone=True))


BILL_STATUSES = ("received", "approved", "partially_paid", "paid", "overdue", "disputed")
BILL_TERMS = ("due_on_receipt", "net_30", "net_60")
BILL_PAYMENT_METHODS = ("check", "ach", "wire", "card")


class VendorBill(UUIDPrimaryKey, Timestamps, Base):
    """What a vendor asks to be paid (`BILL-YYYY-NNNNN`): from an assignment or by hand."""

    __tablename__ = "vendor_bills"
    __table_args__ = (
        one_of("status", BILL_STATUSES, "status"),
        one_of("terms", BILL_TERMS, "terms"),
        CheckConstraint("subtotal >= 0 AND tax >= 0 AND total = subtotal + tax", name="total"),
        CheckConstraint("paid >= 0 AND paid <= total", name="paid"),
        Index("ix_vendor_bills_vendor_due", "vendor_id", "due_on"),
        Index("ix_vendor_bills_charter", "charter_id"),
        # One bill per assignment: a second one for the same job is a mistake.
        Index(
            "uq_vendor_bills_assignment",
            "assignment_id",
            unique=True,
            postgresql_where=text("assignment_id IS NOT NULL"),
        ),
    )

    number: Mapped[str] = mapped_column(String(20), unique=True)
    vendor_id: Mapped[uuid.UUID] = mapped_column()
    assignment_id: Mapped[uuid.UUID | None] = mapped_column()
    charter_id: Mapped[uuid.UUID | None] = mapped_column()
    #: The vendor's own invoice number, as printed on what they sent.
    vendor_reference: Mapped[str | None] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(String(500))
    bill_date: Mapped[date] = mapped_column(Date)
    terms: Mapped[str] = mapped_column(String(20))
    due_on: Mapped[date] = mapped_column(Date)
    subtotal: Mapped[Decimal] = mapped_column(MONEY)
    tax: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    total: Mapped[Decimal] = mapped_column(MONEY)
    paid: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0.00"))
    status: Mapped[str] = mapped_column(String(20), default="received")
    approved_by: Mapped[uuid.UUID | None] = mapped_column()
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    dispute_reason: Mapped[str | None] = mapped_column(String(1000))
    created_by: Mapped[uuid.UUID | None] = mapped_column()


class BillPayment(UUIDPrimaryKey, Base):
    """Money paid to a vendor against one bill; the key makes a resend pay once."""

    __tablename__ = "bill_payments"
    __table_args__ = (
        one_of("method", BILL_PAYMENT_METHODS, "method"),
        CheckConstraint("amount > 0", name="amount"),
        Index("ix_bill_payments_bill", "bill_id"),
        Index("ix_bill_payments_paid_on", "paid_on"),
    )

    bill_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("vendor_bills.id"))
    amount: Mapped[Decimal] = mapped_column(MONEY)
    paid_on: Mapped[date] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(10))
    #: Check number, card last four, ACH or wire trace...
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    reference: Mapped[str | None] = mapped_column(String(100))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_by: Mapped[uuid.UUID | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


# --- the accounting sync (QuickBooks Online) ------------------------------------------------

SYNC_ENTITIES = ("customer", "vendor", "invoice", "payment", "bill")
SYNC_STATUSES = ("pending", "processing", "synced", "failed", "dead")


class SyncRecord(UUIDPrimaryKey, Base):
    """One change to send to QuickBooks, written in the transaction that made it.

    The row id is the request id QuickBooks deduplicates on, so a worker
    killed between sending and recording sends the same request again and
    QuickBooks answers with the record it already made.
    """

    __tablename__ = "sync_records"
    __table_args__ = (
        one_of("entity", SYNC_ENTITIES, "entity"),
        one_of("status", SYNC_STATUSES, "status"),
        Index("ix_sync_records_due", "status", "next_attempt_at"),
        Index("ix_sync_records_entity", "entity", "entity_id", "created_at"),
    )

    entity: Mapped[str] = mapped_column(String(10))
    entity_id: Mapped[uuid.UUID] = mapped_column()
    #: `save` or `void` (quickbooks.Operation).
    operation: Mapped[str] = mapped_column(String(10), default="save")
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    synced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class QboMapping(Base):
    """An Athena record's QuickBooks id and version (SyncToken), for sparse updates."""

    __tablename__ = "qbo_mappings"
    __table_args__ = (
        one_of("entity", SYNC_ENTITIES, "entity"),
        Index("uq_qbo_mappings_qbo_id", "entity", "qbo_id", unique=True),
    )

    entity: Mapped[str] = mapped_column(String(10), primary_key=True)
    entity_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    qbo_id: Mapped[str] = mapped_column(String(50))
    sync_token: Mapped[str] = mapped_column(String(20))
    synced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class QboToken(Base):
    """The connected company's OAuth2 pair; QuickBooks rotates the refresh token on each use."""

    __tablename__ = "qbo_tokens"

    realm_id: Mapped[str] = mapped_column(String(50), primary_key=True)
    access_token: Mapped[str] = mapped_column(Text)
    refresh_token: Mapped[str] = mapped_column(Text)
    access_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    refresh_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


SYNC_CONFLICT_STATUSES = ("held", "resolved")


class SyncConflict(UUIDPrimaryKey, Base):
    """A QuickBooks change that disagrees with Athena's record, held for a person."""

    __tablename__ = "sync_conflicts"
    __table_args__ = (
        one_of("status", SYNC_CONFLICT_STATUSES, "status"),
        Index("ix_sync_conflicts_entity", "entity", "entity_id"),
    )

    entity: Mapped[str] = mapped_column(String(10))
    entity_id: Mapped[uuid.UUID | None] = mapped_column()
    qbo_id: Mapped[str] = mapped_column(String(50))
    operation: Mapped[str] = mapped_column(String(20))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    status: Mapped[str] = mapped_column(String(10), default="held")
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    resolved_by: Mapped[uuid.UUID | None] = mapped_column()
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolution: Mapped[str | None] = mapped_column(String(500))


# --- autopay (issue 14 §2): a client's standing order and what each due date charged ----------

AUTOPAY_RESULTS = ("succeeded", "pending", "declined", "failed")


class Autopay(Timestamps, Base):
    """A client's standing order to charge one of its saved methods on its due dates.

    Removing the saved method clears it (ON DELETE SET NULL): autopay is off
    until the client names another, never charged to a method it took back.
    """

    __tablename__ = "autopay"

    client_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    saved_method_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("saved_payment_methods.id", ondelete="SET NULL")
    )
    changed_by: Mapped[uuid.UUID | None] = mapped_column()


class AutopayAttempt(UUIDPrimaryKey, Base):
    """One instalment charged (or tried) by the autopay job on one operator-local day.

    The unique (instalment, day) row is claimed in the charging transaction,
    so a rerun or a second replica that day finds it and charges nothing;
    `idempotency_key` is the provider's and the application's key.
    """

    __tablename__ = "autopay_attempts"
    __table_args__ = (
        one_of("status", AUTOPAY_RESULTS, "status"),
        Index("uq_autopay_attempts_instalment_day", "instalment_id", "run_on", unique=True),
        Index("ix_autopay_attempts_client", "client_id", "attempted_at"),
    )

    client_id: Mapped[uuid.UUID] = mapped_column()
    charter_id: Mapped[uuid.UUID] = mapped_column()
    #: Plain: a re-plan replaces instalments, their attempts stay as history.
    instalment_id: Mapped[uuid.UUID] = mapped_column()
    run_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    status: Mapped[str] = mapped_column(String(10))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    saved_method_id: Mapped[uuid.UUID | None] = mapped_column()
    payment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("payments.id"))
    reason: Mapped[str | None] = mapped_column(String(500))
    attempted_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


outbox = outbox_table(Base.metadata)
