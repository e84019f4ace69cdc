"""Payment plans: when a booked charter's price falls due, from the operator's configuration.

Seed 001's rule: a deposit (25 %) due 30 days before pickup and the
balance due 2 days before; booking closer than that puts the deposit due
at once (never in the past). Amounts are exact: the deposit is rounded
half-up to cents, the balance is the rest, so the instalments always sum
to the price. A new accepted price re-plans what is unpaid (audited).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from sqlalchemy import delete, select

from subgraphs.finance.models import FinanceAudit, Instalment, PaymentConfig, PaymentPlan
from subgraphs.finance.service import instalment_events
from subgraphs.kit.auditing import plain

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Due:
    kind: str
    amount: Decimal
    due_on: date


def schedule(total: Decimal, pickup_on: date, today: date, config: PaymentConfig) -> list[Due]:
    deposit = (total * config.deposit_percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    deposit_on = max(pickup_on - timedelta(days=config.deposit_days_before), today)
    balance_on = max(pickup_on - timedelta(days=config.balance_days_before), today)
    if deposit <= 0 or deposit >= total:
        return [Due("balance", total, balance_on)]
    return [Due("deposit", deposit, deposit_on), Due("balance", total - deposit, balance_on)]


async def config(session: AsyncSession) -> PaymentConfig:
    row = await session.get(PaymentConfig, 1)
    if row is None:  # the migration inserts it; an emptied table gets the defaults back
        row = PaymentConfig(id=1)
        session.add(row)
        await session.flush()
    return row


async def plan(
    session: AsyncSession,
    charter_id: uuid.UUID,
    client_id: uuid.UUID | None,
    total: Decimal,
    pickup_on: date,
    today: date,
) -> PaymentPlan:
    """Create the charter's plan, or re-plan it for a new price (what is due is replaced)."""
    existing = await session.scalar(
        select(PaymentPlan).where(PaymentPlan.charter_id == charter_id).with_for_update()
    )
    dues = schedule(total, pickup_on, today, await config(session))
    if existing is not None and existing.total == total:
        return existing
    if existing is None:
        existing = PaymentPlan(charter_id=charter_id, client_id=client_id, total=total, version=1)
        session.add(existing)
        action, before = "plan", None
        removed: list[uuid.UUID] = []
    else:
        before = {"total": plain(existing.total), "version": existing.version}
        existing.total = total
        existing.version += 1
        removed = list(
            await session.scalars(
                delete(Instalment)
                .where(Instalment.charter_id == charter_id)
                .returning(Instalment.id)
            )
        )
        action = "replan"
    await session.flush()
    for n, due in enumerate(dues, start=1):
        session.add(
            Instalment(
                id=uuid.uuid4(),
                charter_id=charter_id,
                sequence=n,
                kind=due.kind,
                amount=due.amount,
                due_on=due.due_on,
            )
        )
    session.add(
        FinanceAudit(
            id=uuid.uuid4(),
            entity="plan",
            entity_id=charter_id,
            action=action,
            before=before,
            after={
                "total": plain(total),
                "instalments": [[d.kind, plain(d.amount), plain(d.due_on)] for d in dues],
            },
            reason="New accepted price" if action == "replan" else None,
        )
    )
    await session.flush()  # sessions do not autoflush: a re-plan in this transaction must see these
    await instalment_events.announce(session, charter_id, removed)
    return existing
