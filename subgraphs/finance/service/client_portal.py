"""The client portal's money reads: the next payment due, recent payments, paid in full.

Each reads many clients (or charters) in a fixed number of statements, so a
page of clients through the router costs what one does.

- The next payment due is the earliest uncovered instalment across the
  client's booked charters, with what its payments leave uncovered of it
  (`charter_money.cover`, the rule `Charter.balance` follows).
- Recent payments are the client's payments (refunds and failed charges
  left out), newest first, with the charters each paid.
- A charter is paid in full when it owes an accepted price and has paid at
  least that (`charter_payment_status`'s `paid` class); it became so at the
  last moment its running total of applications (and unapplications,
  refunds included) reached the price, so a later refund and payment move
  the moment on.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from subgraphs.finance.models import CharterFact, Payment, PaymentApplication
from subgraphs.finance.service import charter_money
from subgraphs.finance.service.charter_money import ZERO

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

#: The most payments one `recentPayments` asks for.
MAX_RECENT = 50


@dataclass(frozen=True)
class NextDue:
    charter_id: uuid.UUID
    kind: str
    sequence: int
    amount: Decimal
    due_on: date


@dataclass(frozen=True)
class RecentPayment:
    id: uuid.UUID
    amount: Decimal
    received_on: date
    method: str
    created_at: datetime
    charter_ids: tuple[uuid.UUID, ...]


def next_due(charters: Iterable[charter_money.CharterMoney], today: date) -> NextDue | None:
    """The earliest uncovered instalment of these charters (ties: by reference, then order)."""
    best: tuple[Any, ...] | None = None
    found: NextDue | None = None
    for charter in charters:
        coverage = charter_money.cover(charter, today)
        for due, missing in zip(charter.instalments, coverage.missing, strict=True):
            if missing <= 0:
                continue
            rank = (due.due_on, charter.reference or "", str(charter.charter_id), due.sequence)
            if best is None or rank < best:
                best = rank
                found = NextDue(charter.charter_id, due.kind, due.sequence, missing, due.due_on)
            break  # later instalments of this charter fall due later
    return found


async def next_payments_due(
    session: AsyncSession, client_ids: Sequence[uuid.UUID], today: date
) -> dict[uuid.UUID, NextDue | None]:
    """Each client's next payment due, three statements for any number of clients."""
    charters = await charter_money.load(
        session, CharterFact.client_id.in_(client_ids), *charter_money.booked_with_price()
    )
    by_client: dict[uuid.UUID, list[charter_money.CharterMoney]] = {}
    for charter in charters:
        if charter.client_id is not None:
            by_client.setdefault(charter.client_id, []).append(charter)
    return {key: next_due(by_client.get(key, []), today) for key in client_ids}


async def recent_payments(
    session: AsyncSession, client_ids: Sequence[uuid.UUID], first: int
) -> dict[uuid.UUID, list[RecentPayment]]:
    """Each client's `first` newest payments with the charters they paid: two statements."""
    ranked = (
        select(
            Payment.id,
            Payment.client_id,
            Payment.amount,
            Payment.received_on,
            Payment.method,
            Payment.created_at,
            func.row_number()
            .over(
                partition_by=Payment.client_id,
                order_by=(Payment.received_on.desc(), Payment.created_at.desc(), Payment.id),
            )
            .label("n"),
        )
        .where(
            Payment.client_id.in_(client_ids),
            Payment.kind == "payment",
            Payment.provider_status != "failed",
        )
        .subquery()
    )
    rows = (
        await session.execute(
            select(ranked).where(ranked.c.n <= first).order_by(ranked.c.client_id, ranked.c.n)
        )
    ).all()
    paid: dict[uuid.UUID, list[uuid.UUID]] = {}
    if rows:
        for payment_id, charter_id in (
            await session.execute(
                select(PaymentApplication.payment_id, PaymentApplication.charter_id)
                .where(
                    PaymentApplication.payment_id.in_([r.id for r in rows]),
                    PaymentApplication.unapplied_at.is_(None),
                    PaymentApplication.amount > 0,
                )
                .order_by(
                    PaymentApplication.payment_id,
                    PaymentApplication.applied_at,
                    PaymentApplication.id,
                )
            )
        ).all():
            charters = paid.setdefault(payment_id, [])
            if charter_id not in charters:
                charters.append(charter_id)
    out: dict[uuid.UUID, list[RecentPayment]] = {key: [] for key in client_ids}
    for r in rows:
        out[r.client_id].append(
            RecentPayment(
                r.id, r.amount, r.received_on, r.method, r.created_at, tuple(paid.get(r.id, ()))
            )
        )
    return out


@dataclass(frozen=True)
class PaidInFull:
    paid: bool
    at: datetime | None


def paid_in_full(owed: Decimal, paid: Decimal, applications: Iterable[Any]) -> PaidInFull:
    """Whether `paid` covers `owed`, and since when (from the charter's application rows).

    Rows carry `amount`, `applied_at`, `unapplied_at`; an unapplied row
    counted from its application to its unapplication.
    """
    if owed <= 0 or paid < owed:
        return PaidInFull(False, None)
    moves: list[tuple[datetime, int, Decimal]] = []
    for row in applications:
        moves.append((row.applied_at, 0, row.amount))
        if row.unapplied_at is not None:
            moves.append((row.unapplied_at, 1, -row.amount))
    total, since = ZERO, None
    for at, _, amount in sorted(moves, key=lambda m: (m[0], m[1])):
        before = total
        total += amount
        if before < owed <= total:
            since = at
        elif total < owed:
            since = None
    return PaidInFull(True, since)
