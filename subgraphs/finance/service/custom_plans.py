"""Custom instalments: finance staff replace the unpaid part of a charter's plan.

Money applied to a charter covers its instalments in their order
(`balances.py`). What is already paid stays covered: the instalments (or
the part of one) that the charter's payments cover now are kept as they
are, and the caller's instalments replace the rest. Kept and new together
sum to the accepted price, so the new ones sum to the price less what is
paid. The plan's version moves on; the change is audited with the reason
"custom", the instalments before and after.

The charter's facts row is locked first (as applications lock it), then
the plan's row, so a payment applied at the same moment waits.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select

from subgraphs.finance.error_codes import FinanceErrorCode as Code
from subgraphs.finance.models import (
    INSTALMENT_KINDS,
    CharterFact,
    FinanceAudit,
    Instalment,
    PaymentApplication,
    PaymentPlan,
)
from subgraphs.finance.service import instalment_events
from subgraphs.kit.auditing import plain
from subgraphs.kit.errors import Problem, ServiceError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
MAX_INSTALMENTS = 24
REASON = "custom"


@dataclass(frozen=True)
class NewInstalment:
    amount: Decimal
    due_on: date
    kind: str = "instalment"


def problems_of(given: list[NewInstalment], today: date) -> list[Problem]:
    if not given:
        return [Problem(Code.REQUIRED, "At least one instalment.", "instalments")]
    if len(given) > MAX_INSTALMENTS:
        return [
            Problem(Code.OUT_OF_RANGE, f"At most {MAX_INSTALMENTS} instalments.", "instalments")
        ]
    problems = []
    previous: date | None = None
    for n, item in enumerate(given):
        at = f"instalments[{n}]"
        if item.amount != item.amount.quantize(CENT):
            problems.append(
                Problem(Code.INVALID, "Amounts have at most two decimals.", f"{at}.amount")
            )
        elif item.amount <= 0:
            problems.append(
                Problem(Code.OUT_OF_RANGE, "An instalment is above zero.", f"{at}.amount")
            )
        if item.due_on < today:
            problems.append(Problem(Code.INVALID, "Not in the past.", f"{at}.dueOn"))
        elif previous is not None and item.due_on < previous:
            problems.append(Problem(Code.INVALID, "In due-date order.", f"{at}.dueOn"))
        previous = item.due_on
        if item.kind not in INSTALMENT_KINDS:
            problems.append(
                Problem(Code.INVALID, f"One of {', '.join(INSTALMENT_KINDS)}.", f"{at}.kind")
            )
    return problems


def covered_parts(
    instalments: list[Instalment], paid: Decimal, today: date
) -> list[tuple[str, Decimal, date]]:
    """The instalments (or parts) `paid` covers, in order; money beyond them is kept as one more."""
    kept: list[tuple[str, Decimal, date]] = []
    left = max(paid, ZERO)
    for item in instalments:
        if left <= 0:
            break
        part = min(item.amount, left)
        if part > 0:
            kept.append((item.kind, part, item.due_on))
        left -= part
    if left > 0:
        kept.append(("instalment", left, today))
    return kept


def _plain(rows: list[tuple[str, Decimal, date]]) -> list[list[Any]]:
    return [[kind, plain(amount), plain(due_on)] for kind, amount, due_on in rows]


async def set_plan(
    session: AsyncSession,
    charter_id: uuid.UUID,
    given: list[NewInstalment],
    actor: Viewer,
    today: date,
) -> PaymentPlan:
    problems = problems_of(given, today)
    if problems:
        raise ServiceError(problems)
    fact = await session.scalar(
        select(CharterFact).where(CharterFact.charter_id == charter_id).with_for_update()
    )
    if fact is None or fact.accepted_total is None:
        raise ServiceError.of(
            Code.NOT_PAYABLE, "This charter has no accepted price to plan yet.", "charterId"
        )
    if fact.status == "cancelled":
        raise ServiceError.of(Code.NOT_PAYABLE, "The charter is cancelled.", "charterId")
    plan = await session.scalar(
        select(PaymentPlan).where(PaymentPlan.charter_id == charter_id).with_for_update()
    )
    old = (
        list(
            (
                await session.scalars(
                    select(Instalment)
                    .where(Instalment.charter_id == charter_id)
                    .order_by(Instalment.sequence)
                )
            ).all()
        )
        if plan is not None
        else []
    )
    paid = Decimal(
        await session.scalar(
            select(func.coalesce(func.sum(PaymentApplication.amount), 0)).where(
                PaymentApplication.charter_id == charter_id,
                PaymentApplication.unapplied_at.is_(None),
            )
        )
        or 0
    )
    kept = covered_parts(old, min(paid, fact.accepted_total), today)
    unpaid = fact.accepted_total - sum((amount for _, amount, _ in kept), ZERO)
    offered = sum((item.amount for item in given), ZERO)
    if offered != unpaid:
        raise ServiceError.of(
            Code.PLAN_TOTAL,
            f"The instalments come to {offered}; the accepted price {fact.accepted_total} less "
            f"the {fact.accepted_total - unpaid} paid leaves {unpaid} to plan.",
            "instalments",
        )
    before = (
        {
            "version": plan.version,
            "instalments": _plain([(i.kind, i.amount, i.due_on) for i in old]),
        }
        if plan is not None
        else None
    )
    removed: list[uuid.UUID] = []
    if plan is None:
        plan = PaymentPlan(
            charter_id=charter_id, client_id=fact.client_id, total=fact.accepted_total, version=1
        )
        session.add(plan)
    else:
        plan.total = fact.accepted_total
        plan.version += 1
        removed = list(
            await session.scalars(
                delete(Instalment)
                .where(Instalment.charter_id == charter_id)
                .returning(Instalment.id)
            )
        )
    await session.flush()
    rows = kept + [(item.kind, item.amount, item.due_on) for item in given]
    for n, (kind, amount, due_on) in enumerate(rows, start=1):
        session.add(
            Instalment(
                id=uuid.uuid4(),
                charter_id=charter_id,
                sequence=n,
                kind=kind,
                amount=amount,
                due_on=due_on,
            )
        )
    session.add(
        FinanceAudit(
            id=uuid.uuid4(),
            entity="plan",
            entity_id=charter_id,
            action="custom_plan",
            actor_id=actor.user_id,
            impersonator_id=actor.impersonator_id,
            before=before,
            after={
                "version": plan.version,
                "total": plain(fact.accepted_total),
                "instalments": _plain(rows),
            },
            reason=REASON,
        )
    )
    await session.flush()
    await instalment_events.announce(session, charter_id, removed)
    return plan
