"""Invoices and their lines."""

from __future__ import annotations

import uuid
from datetime import date
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from subgraphs.finance import loaders as L
from subgraphs.finance.types.payments import gid
from subgraphs.finance.types.sync import AccountingSync, accounting_sync_field
from subgraphs.kit.scalars import Money


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
    period_start: date | None = strawberry.field(
        default=None, description="A consolidated invoice's first day; null on a charter's own."
    )
    period_end: date | None = strawberry.field(
        default=None, description="A consolidated invoice's last day (inclusive)."
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
            period_start=row.period_start,
            period_end=row.period_end,
        )

    @strawberry.field(description="Its lines, in order.")
    async def lines(self, info: Info) -> list[InvoiceLine]:
        rows = await info.context.loaders.get(L.InvoiceLinesByInvoiceLoader).load(
            uuid.UUID(self.id)
        )
        return [InvoiceLine(description=r.description, amount=r.amount) for r in rows]

    accounting_sync: AccountingSync | None = accounting_sync_field("invoice")
