"""The daily check log: checks received per day in a date range, with each day's total.

A check is a payment (not a refund) by check whose provider did not fail
it, counted on the day it was received (`received_on`, the operator's
calendar day entered with it). Each check shows its number and bank (as
recorded), the payer and the amount; each day its count and sum.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select

from subgraphs.finance.models import ClientFact, Payment

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

ZERO = Decimal("0.00")
MAX_DAYS = 366


@dataclass(frozen=True)
class Check:
    payment_id: uuid.UUID
    received_on: date
    number: str | None
    bank: str | None
    payer_id: uuid.UUID
    payer: str
    amount: Decimal
    reference: str | None = None


@dataclass
class CheckDay:
    day: date
    checks: list[Check] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.checks)

    @property
    def total(self) -> Decimal:
        return sum((c.amount for c in self.checks), ZERO)


def by_day(checks: Iterable[Check]) -> list[CheckDay]:
    days: dict[date, CheckDay] = {}
    for check in sorted(checks, key=lambda c: (c.received_on, c.number or "", str(c.payment_id))):
        days.setdefault(check.received_on, CheckDay(check.received_on)).checks.append(check)
    return sorted(days.values(), key=lambda d: d.day)


def total(days: Iterable[CheckDay]) -> tuple[int, Decimal]:
    days = list(days)
    return sum(d.count for d in days), sum((d.total for d in days), ZERO)


async def check_log(session: AsyncSession, start: date, end: date) -> list[CheckDay]:
    if start > end:
        raise ValueError("from is on or before to.")
    if (end - start).days >= MAX_DAYS:
        raise ValueError(f"The range is at most {MAX_DAYS} days.")
    rows = (
        await session.execute(
            select(Payment, ClientFact.name)
            .outerjoin(ClientFact, ClientFact.client_id == Payment.client_id)
            .where(
                Payment.method == "check",
                Payment.kind == "payment",
                Payment.provider_status != "failed",
                Payment.received_on >= start,
                Payment.received_on <= end,
            )
        )
    ).all()
    return by_day(
        Check(
            payment_id=p.id,
            received_on=p.received_on,
            number=(p.details or {}).get("checkNumber"),
            bank=(p.details or {}).get("bank"),
            payer_id=p.client_id,
            payer=name or "",
            amount=p.amount,
            reference=p.reference,
        )
        for p, name in rows
    )
