"""Each charter's money as the receivables reports see it, read once and computed in Python.

A charter owes its accepted price (pricing's, in `charter_facts`); it has
paid the sum of live applications to it (refunds count negative); its plan
instalments are covered by what it paid in their order (the rule of
`balances.py`). From that one reading come the uncovered part of each
instalment, what is due by a day and what is overdue before it, so every
report agrees with `Charter.balance`. `cover` is a pure function: the
property tests check it against a direct cumulative-sum formula.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from subgraphs.finance.models import CharterFact, ClientFact, Instalment, PaymentApplication

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

ZERO = Decimal("0.00")
#: Charter statuses that owe their accepted price (cancelled and quotes do not).
BOOKED = ("booked", "confirmed", "in_progress", "completed")


@dataclass(frozen=True)
class Due:
    """One plan instalment: its order, kind, amount and due date."""

    sequence: int
    kind: str
    amount: Decimal
    due_on: date


@dataclass(frozen=True)
class CharterMoney:
    charter_id: uuid.UUID
    reference: str | None
    client_id: uuid.UUID | None
    client_name: str
    sales_agent_id: uuid.UUID | None
    status: str
    pickup_at: datetime | None
    owed: Decimal
    paid: Decimal
    instalments: tuple[Due, ...] = ()
    vehicle_cost: Decimal | None = None
    accepted_at: datetime | None = None
    cancelled_at: datetime | None = None
    cancellation_fee: Decimal | None = None
    cancellation_reason: str | None = None

    @property
    def outstanding(self) -> Decimal:
        return self.owed - self.paid


@dataclass(frozen=True)
class Coverage:
    """What a charter's payments leave uncovered of its plan on a given day."""

    missing: tuple[Decimal, ...] = field(default=())
    #: Uncovered instalments due on or before the day (as `Charter.balance.due`).
    due: Decimal = ZERO
    #: Uncovered instalments due before the day, never more than the charter's outstanding.
    overdue: Decimal = ZERO


def cover(charter: CharterMoney, today: date) -> Coverage:
    """Spend what the charter paid on its instalments in order; what is left uncovered is due."""
    left = charter.paid
    missing = []
    for due in charter.instalments:
        missing.append(max(due.amount - max(left, ZERO), ZERO))
        left -= due.amount
    due_now = sum(
        (m for m, d in zip(missing, charter.instalments, strict=True) if d.due_on <= today), ZERO
    )
    overdue = sum(
        (m for m, d in zip(missing, charter.instalments, strict=True) if d.due_on < today), ZERO
    )
    return Coverage(tuple(missing), due_now, min(overdue, max(charter.outstanding, ZERO)))


async def load(session: AsyncSession, *where: Any) -> list[CharterMoney]:
    """The charters matching `where` (conditions on `CharterFact`): three statements in all."""
    chosen = select(CharterFact.charter_id).where(*where)
    paid = (
        select(PaymentApplication.charter_id, func.sum(PaymentApplication.amount).label("paid"))
        .where(
            PaymentApplication.charter_id.in_(chosen),
            PaymentApplication.unapplied_at.is_(None),
        )
        .group_by(PaymentApplication.charter_id)
        .subquery()
    )
    rows = (
        await session.execute(
            select(CharterFact, ClientFact.name, func.coalesce(paid.c.paid, 0))
            .outerjoin(ClientFact, ClientFact.client_id == CharterFact.client_id)
            .outerjoin(paid, paid.c.charter_id == CharterFact.charter_id)
            .where(*where)
        )
    ).all()
    plan: dict[uuid.UUID, list[Due]] = {}
    for charter_id, sequence, kind, amount, due_on in (
        await session.execute(
            select(
                Instalment.charter_id,
                Instalment.sequence,
                Instalment.kind,
                Instalment.amount,
                Instalment.due_on,
            )
            .where(Instalment.charter_id.in_(chosen))
            .order_by(Instalment.charter_id, Instalment.sequence)
        )
    ).all():
        plan.setdefault(charter_id, []).append(Due(sequence, kind, amount, due_on))
    return [
        CharterMoney(
            charter_id=fact.charter_id,
            reference=fact.reference,
            client_id=fact.client_id,
            client_name=name or "",
            sales_agent_id=fact.sales_agent_id,
            status=fact.status,
            pickup_at=fact.pickup_at,
            owed=fact.accepted_total or ZERO,
            paid=Decimal(paid_amount),
            instalments=tuple(plan.get(fact.charter_id, ())),
            vehicle_cost=fact.vehicle_cost,
            accepted_at=fact.accepted_at,
            cancelled_at=fact.cancelled_at,
            cancellation_fee=fact.cancellation_fee,
            cancellation_reason=fact.cancellation_reason,
        )
        for fact, name, paid_amount in rows
    ]


def booked_with_price() -> list[Any]:
    """The charters that owe money: booked (or later, not cancelled) with an accepted price."""
    return [CharterFact.status.in_(BOOKED), CharterFact.accepted_total.is_not(None)]


def by_reference(rows: Sequence[CharterMoney]) -> list[CharterMoney]:
    return sorted(rows, key=lambda r: (r.reference or "", str(r.charter_id)))
