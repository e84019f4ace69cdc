"""The payment configuration as finance staff read it (`READ_PAYMENT_CONFIG`)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import strawberry

from subgraphs.finance.types.payments import gid
from subgraphs.kit.scalars import Money


@strawberry.type(
    description="How bookings are paid (seed 001 §7): deposit and balance due dates, autopay, "
    "purchase orders; edited by accounting managers, audited."
)
class PaymentConfiguration:
    deposit_percent: Decimal = strawberry.field(description="Of the accepted price, 0 to 100.")
    deposit_days_before: int = strawberry.field(
        description="Deposit due this many days before pickup."
    )
    balance_days_before: int = strawberry.field(
        description="Balance due this many days before pickup."
    )
    autopay_allowed: bool
    card_on_file_required: bool
    po_client_types: list[str] = strawberry.field(
        description="Client types (sales' `ClientType` values) that may pay by purchase order."
    )
    po_credit_limit: Money = strawberry.field(
        description="The most a client's open purchase orders may come to."
    )
    updated_by: strawberry.ID | None
    updated_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> PaymentConfiguration:
        return cls(
            deposit_percent=Decimal(row.deposit_percent).quantize(Decimal("0.01")),
            deposit_days_before=row.deposit_days_before,
            balance_days_before=row.balance_days_before,
            autopay_allowed=row.autopay_allowed,
            card_on_file_required=row.card_on_file_required,
            po_client_types=list(row.po_client_types or []),
            po_credit_limit=row.po_credit_limit,
            updated_by=gid(row.updated_by) if row.updated_by else None,
            updated_at=row.updated_at,
        )
