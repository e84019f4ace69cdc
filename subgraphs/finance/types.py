"""Finance's GraphQL types: thin views; who reads a balance is `service/access.py`."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from subgraphs.finance import loaders as L
from subgraphs.finance.service.access import may_read_balance
from subgraphs.kit.errors import ForbiddenError, UnauthenticatedError
from subgraphs.kit.ids import parse_uuid
from subgraphs.kit.scalars import Money

ZERO = Decimal("0.00")


def gid(value: uuid.UUID) -> strawberry.ID:
    return strawberry.ID(str(value))


@strawberry.enum
class PaymentMethod(Enum):
    CARD = "card"
    ACH = "ach"
    CHECK = "check"
    WIRE = "wire"
    PURCHASE_ORDER = "purchase_order"
    CASH = "cash"


@strawberry.type(description="Money received from a client.")
class Payment:
    id: strawberry.ID
    client_id: strawberry.ID
    amount: Money
    applied: Money = strawberry.field(description="The part applied to charters.")
    unapplied: Money = strawberry.field(description="What is left to apply.")
    received_on: date
    method: PaymentMethod
    reference: str | None
    check_number: str | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> Payment:
        return cls(
            id=gid(row.id),
            client_id=gid(row.client_id),
            amount=row.amount,
            applied=row.applied,
            unapplied=row.amount - row.applied,
            received_on=row.received_on,
            method=PaymentMethod(row.method),
            reference=row.reference,
            check_number=(row.details or {}).get("checkNumber"),
            created_at=row.created_at,
        )


@strawberry.type(description="Part of a payment applied to a charter (and its invoice).")
class PaymentApplication:
    id: strawberry.ID
    payment_id: strawberry.ID
    charter_id: strawberry.ID
    invoice_id: strawberry.ID | None
    amount: Money
    applied_at: datetime
    unapplied_at: datetime | None
    unapply_reason: str | None

    @classmethod
    def from_row(cls, row: Any) -> PaymentApplication:
        return cls(
            id=gid(row.id),
            payment_id=gid(row.payment_id),
            charter_id=gid(row.charter_id),
            invoice_id=gid(row.invoice_id) if row.invoice_id else None,
            amount=row.amount,
            applied_at=row.applied_at,
            unapplied_at=row.unapplied_at,
            unapply_reason=row.unapply_reason,
        )

    @strawberry.field(description="The payment it came from.")
    async def payment(self, info: Info) -> Payment | None:
        row = await info.context.loaders.get(L.PaymentByIdLoader).load(uuid.UUID(self.payment_id))
        return Payment.from_row(row) if row else None


@strawberry.type(description="What a charter owes, has paid and has due now.")
class Balance:
    owed: Money = strawberry.field(
        description="The accepted price (0 until the quote is accepted)."
    )
    paid: Money
    outstanding: Money = strawberry.field(description="Owed less paid.")
    due: Money = strawberry.field(description="Instalments due by today not yet paid.")
    next_due_on: date | None = strawberry.field(description="The next instalment not yet paid.")
    next_due_amount: Money


@strawberry.enum
class InvoiceStatus(Enum):
    DRAFT = "draft"
    SENT = "sent"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    OVERDUE = "overdue"
    VOID = "void"


@strawberry.type(description="One line of an invoice, as the accepted quote priced it.")
class InvoiceLine:
    description: str
    amount: Money


@strawberry.type(
    description="A numbered bill to a client (`INV-YYYY-NNNNN`); void keeps its number."
)
class Invoice:
    id: strawberry.ID
    number: str
    status: InvoiceStatus
    issued_on: date
    due_on: date
    subtotal: Money
    tax: Money
    total: Money
    paid: Money
    balance: Money = strawberry.field(description="Total less paid.")
    charter_id: strawberry.ID | None
    client_id: strawberry.ID
    void_reason: str | None
    pdf_url: str = strawberry.field(
        description="The PDF, for finance staff and the invoice's own client (bearer token)."
    )

    @classmethod
    def from_row(cls, row: Any) -> Invoice:
        return cls(
            id=gid(row.id),
            number=row.number,
            status=InvoiceStatus(row.status),
            issued_on=row.issued_on,
            due_on=row.due_on,
            subtotal=row.subtotal,
            tax=row.tax,
            total=row.total,
            paid=row.paid,
            balance=row.total - row.paid,
            charter_id=gid(row.charter_id) if row.charter_id else None,
            client_id=gid(row.client_id),
            void_reason=row.void_reason,
            pdf_url=f"/invoices/{row.id}.pdf",
        )

    @strawberry.field(description="Its lines, in order.")
    async def lines(self, info: Info) -> list[InvoiceLine]:
        rows = await info.context.loaders.get(L.InvoiceLinesByInvoiceLoader).load(
            uuid.UUID(self.id)
        )
        return [InvoiceLine(description=r.description, amount=r.amount) for r in rows]


async def _ensure_reader(info: Info, client_id: Any, agent_id: Any) -> None:
    viewer = await info.context.get_viewer()
    if not viewer.is_authenticated:
        raise UnauthenticatedError()
    if not may_read_balance(viewer, client_id, agent_id):
        raise ForbiddenError("You may not see this charter's money.")


@strawberry.federation.type(keys=["id"])
class Charter:
    id: strawberry.ID

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Charter:
        return cls(id=id)

    @strawberry.field(
        description="Owed, paid and due: finance staff, sales support, the charter's agent and "
        "its own client (others get null and FORBIDDEN)."
    )
    async def balance(self, info: Info) -> Balance | None:
        key = parse_uuid(self.id)
        found = await info.context.loaders.get(L.BalanceByCharterLoader).load(key) if key else None
        if found is None:
            await _ensure_reader(info, None, None)
            return Balance(
                owed=ZERO,
                paid=ZERO,
                outstanding=ZERO,
                due=ZERO,
                next_due_on=None,
                next_due_amount=ZERO,
            )
        await _ensure_reader(info, found.client_id, found.sales_agent_id)
        return Balance(
            owed=found.owed,
            paid=found.paid,
            outstanding=found.owed - found.paid,
            due=found.due,
            next_due_on=found.next_due_on,
            next_due_amount=found.next_due_amount,
        )

    @strawberry.field(description="Payments applied to this charter, oldest first (same readers).")
    async def payments(self, info: Info) -> list[PaymentApplication] | None:
        key = parse_uuid(self.id)
        if key is None:
            return []
        found = await info.context.loaders.get(L.BalanceByCharterLoader).load(key)
        await _ensure_reader(
            info, found.client_id if found else None, found.sales_agent_id if found else None
        )
        rows = await info.context.loaders.get(L.ApplicationsByCharterLoader).load(key)
        return [PaymentApplication.from_row(r) for r in rows if r.unapplied_at is None]

    @strawberry.field(description="The charter's invoices, void ones included (same readers).")
    async def invoices(self, info: Info) -> list[Invoice] | None:
        key = parse_uuid(self.id)
        if key is None:
            return []
        found = await info.context.loaders.get(L.BalanceByCharterLoader).load(key)
        await _ensure_reader(
            info, found.client_id if found else None, found.sales_agent_id if found else None
        )
        rows = await info.context.loaders.get(L.InvoicesByCharterLoader).load(key)
        return [Invoice.from_row(r) for r in rows]


@strawberry.type(description="A client's money with the operator.")
class Receivables:
    owed: Money
    paid: Money
    outstanding: Money


@strawberry.federation.type(keys=["id"])
class Client:
    id: strawberry.ID

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Client:
        return cls(id=id)

    @strawberry.field(
        description="Accepted prices of the client's charters, what it paid, what is left: "
        "finance staff, sales support and the client itself."
    )
    async def receivables(self, info: Info) -> Receivables | None:
        key = parse_uuid(self.id)
        await _ensure_reader(info, key, None)
        if key is None:
            return None
        owed, paid = await info.context.loaders.get(L.ReceivablesByClientLoader).load(key)
        return Receivables(owed=owed, paid=paid, outstanding=owed - paid)
