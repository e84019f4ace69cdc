"""A charter's payment plan: its instalments and how much of each is paid."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any

import strawberry

from subgraphs.kit.scalars import Money

ZERO = Decimal("0.00")


@strawberry.enum
class InstalmentKind(Enum):
    DEPOSIT = "deposit"
    BALANCE = "balance"
    INSTALMENT = "instalment"


@strawberry.type(description="One instalment; `paid` is what the charter's payments cover of it.")
class PlanInstalment:
    sequence: int
    kind: InstalmentKind
    amount: Money
    due_on: date
    paid: Money


@strawberry.type(
    description="When a charter's accepted price falls due; the version moves on each change."
)
class PaymentPlan:
    version: int
    total: Money
    instalments: list[PlanInstalment]

    @classmethod
    def from_rows(cls, plan: Any, instalments: list[Any], paid: Decimal) -> PaymentPlan:
        """Payments cover instalments in their order (as `service/balances.py` counts them)."""
        left = max(paid, ZERO)
        out = []
        for row in instalments:
            part = min(row.amount, left)
            left -= part
            out.append(
                PlanInstalment(
                    sequence=row.sequence,
                    kind=InstalmentKind(row.kind),
                    amount=row.amount,
                    due_on=row.due_on,
                    paid=part,
                )
            )
        return cls(version=plan.version, total=plan.total, instalments=out)
