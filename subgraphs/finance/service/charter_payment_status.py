"""Charter payment status: every booked charter in exactly one class, and the zero-balance list.

Classes, in the order they are decided:

- `paid`: paid at least the accepted price (the zero-balance charters);
- `overdue`: an instalment due before today is not covered;
- `partially_paid`: something paid, nothing overdue;
- `unpaid`: nothing paid, nothing overdue yet.

Owed, paid and due are `Charter.balance`'s figures (`charter_money`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from subgraphs.finance.service import charter_money
from subgraphs.finance.service.charter_money import ZERO, CharterMoney

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

STATUSES = ("paid", "partially_paid", "unpaid", "overdue")


def status_of(charter: CharterMoney, overdue: Decimal) -> str:
    if charter.paid >= charter.owed:
        return "paid"
    if overdue > 0:
        return "overdue"
    if charter.paid > 0:
        return "partially_paid"
    return "unpaid"


@dataclass(frozen=True)
class StatusRow:
    charter: CharterMoney
    status: str
    due: Decimal
    overdue: Decimal


@dataclass(frozen=True)
class StatusTotals:
    count: int
    owed: Decimal
    paid: Decimal
    outstanding: Decimal
    due: Decimal
    overdue: Decimal


def classify(charters: Iterable[CharterMoney], today: date) -> list[StatusRow]:
    rows = []
    for charter in charter_money.by_reference(list(charters)):
        coverage = charter_money.cover(charter, today)
        rows.append(
            StatusRow(charter, status_of(charter, coverage.overdue), coverage.due, coverage.overdue)
        )
    return rows


def totals(rows: Iterable[StatusRow]) -> StatusTotals:
    rows = list(rows)
    return StatusTotals(
        count=len(rows),
        owed=sum((r.charter.owed for r in rows), ZERO),
        paid=sum((r.charter.paid for r in rows), ZERO),
        outstanding=sum((r.charter.outstanding for r in rows), ZERO),
        due=sum((r.due for r in rows), ZERO),
        overdue=sum((r.overdue for r in rows), ZERO),
    )


def counts(rows: Iterable[StatusRow]) -> dict[str, int]:
    out = dict.fromkeys(STATUSES, 0)
    for row in rows:
        out[row.status] += 1
    return out


async def payment_status(
    session: AsyncSession, today: date, status: str | None = None
) -> list[StatusRow]:
    """Every booked charter with an accepted price, classified (only `status`'s, when given)."""
    rows = classify(await charter_money.load(session, *charter_money.booked_with_price()), today)
    return [r for r in rows if status is None or r.status == status]


async def zero_balance(session: AsyncSession, today: date) -> list[StatusRow]:
    """The charters paid in full: the `paid` class of `payment_status`, nothing else."""
    return await payment_status(session, today, "paid")
