"""A client's saved payment methods: what identifies them to people, never a number or token."""

from __future__ import annotations

from enum import Enum
from typing import Any

import strawberry

from subgraphs.finance.types.payments import gid


@strawberry.enum
class SavedMethodKind(Enum):
    CARD = "card"
    ACH = "ach"


@strawberry.type(
    description="A card or bank account saved at the payment provider: its brand, last four and "
    "expiry, never its number (finance staff and the client itself)."
)
class SavedPaymentMethod:
    id: strawberry.ID
    provider: str
    kind: SavedMethodKind
    brand: str | None
    last4: str
    exp_month: int | None
    exp_year: int | None
    is_default: bool

    @classmethod
    def from_row(cls, row: Any) -> SavedPaymentMethod:
        return cls(
            id=gid(row.id),
            provider=row.provider,
            kind=SavedMethodKind(row.kind),
            brand=row.brand,
            last4=row.last4,
            exp_month=row.exp_month,
            exp_year=row.exp_year,
            is_default=row.is_default,
        )
