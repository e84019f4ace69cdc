"""What charters owe, have paid and have due: one statement for any number of charters.

Owed is the accepted price (pricing's, kept in `charter_facts`); paid is
the sum of live applications to the charter; due is what instalments
falling due by today still miss, and the next due date the first
instalment not yet covered (instalments are covered in their order).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from subgraphs.finance.models import CharterFact, Instalment, PaymentApplication

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Balance:
    charter_id: uuid.UUID
    client_id: uuid.UUID | None
    sales_agent_id: uuid.UUID | None
    owed: Decimal
    paid: Decimal
    due: Decimal
    next_due_on: date | None
    next_due_amount: Decimal


async def balances(
    session: AsyncSession, charter_ids: list[uuid.UUID], today: date
) -> dict[uuid.UUID, Balance]:
    paid_q = (
        select(PaymentApplication.charter_id, func.sum(PaymentApplication.amount).label("paid"))
        .where(
            PaymentApplication.charter_id.in_(charter_ids),
            PaymentApplication.unapplied_at.is_(None),
        )
        .group_by(PaymentApplication.charter_id)
        .subquery()
    )
    rows = (
        await session.execute(
            select(CharterFact, func.coalesce(paid_q.c.paid, 0))
            .outerjoin(paid_q, paid_q.c.charter_id == CharterFact.charter_id)
            .where(CharterFact.charter_id.in_(charter_ids))
        )
    ).all()
    dues = (
        await session.execute(
            select(Instalment.charter_id, Instalment.amount, Instalment.due_on)
            .where(Instalment.charter_id.in_(charter_ids))
            .order_by(Instalment.charter_id, Instalment.sequence)
        )
    ).all()
    plan: dict[uuid.UUID, list[tuple[Decimal, date]]] = {}
    for charter_id, amount, due_on in dues:
        plan.setdefault(charter_id, []).append((amount, due_on))
    out = {}
    for fact, paid_raw in rows:
        paid = Decimal(paid_raw)
        owed = fact.accepted_total or ZERO
        due, next_on, next_amount, covered = ZERO, None, ZERO, paid
        for amount, due_on in plan.get(fact.charter_id, []):
            missing = max(amount - covered, ZERO)
            covered = max(covered - amount, ZERO)
            if missing and due_on <= today:
                due += missing
            if missing and next_on is None:
                next_on, next_amount = due_on, missing
        out[fact.charter_id] = Balance(
            fact.charter_id,
            fact.client_id,
            fact.sales_agent_id,
            owed,
            paid,
            due,
            next_on,
            next_amount,
        )
    return out
