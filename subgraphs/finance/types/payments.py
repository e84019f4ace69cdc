"""Payments, their applications and a charter's balance: thin views of finance's rows."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from subgraphs.finance import loaders as L
from subgraphs.finance.service.access import may_read_invoice
from subgraphs.finance.types.sync import AccountingSync, accounting_sync_field
from subgraphs.kit.errors import ForbiddenError
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


@strawberry.enum
class PaymentKind(Enum):
    PAYMENT = "payment"
    REFUND = "refund"


@strawberry.enum
class ProviderStatus(Enum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


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
    kind: PaymentKind = strawberry.field(
        description="A refund is a payment of its own, negative, of another payment."
    )
    refund_of_id: strawberry.ID | None = strawberry.field(
        description="The payment a refund gives back (part of)."
    )
    refunded: Money = strawberry.field(
        description="On a payment: the sum of its refunds (positive)."
    )
    provider_status: ProviderStatus = strawberry.field(
        description="Where the provider's charge or refund stands."
    )

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
            kind=PaymentKind(row.kind),
            refund_of_id=gid(row.refund_of_id) if row.refund_of_id else None,
            refunded=row.refunded,
            provider_status=ProviderStatus(row.provider_status),
        )

    accounting_sync: AccountingSync | None = accounting_sync_field("payment")


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

    @strawberry.field(
        description="The payment it came from: finance staff and the client that paid "
        "(others get null and FORBIDDEN)."
    )
    async def payment(self, info: Info) -> Payment | None:
        row = await info.context.loaders.get(L.PaymentByIdLoader).load(uuid.UUID(self.payment_id))
        viewer = await info.context.get_viewer()
        if not may_read_invoice(viewer, row.client_id if row else None):
            raise ForbiddenError("You may not see this payment.")
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
