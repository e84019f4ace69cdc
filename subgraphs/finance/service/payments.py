"""Recording money received: who paid, how much, when, how; bad input changes nothing.

A payment is dated on or before today in the operator's time zone (money
received tomorrow is a promise, not a payment); a check names its number,
a wire or card its reference. The payer must be a client finance knows
(from sales' events). Applying it to charters is `applications.py`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from subgraphs.finance.error_codes import FinanceErrorCode as Code
from subgraphs.finance.models import PAYMENT_METHODS, ClientFact, FinanceAudit, Payment
from subgraphs.kit.auditing import plain
from subgraphs.kit.errors import Problem, ServiceError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from subgraphs.kit.auth.viewer import Viewer

CENT = Decimal("0.01")
#: What each method must name in its details.
REQUIRED_DETAILS = {"check": ("checkNumber",), "purchase_order": ("poNumber",)}
MAX_AMOUNT = Decimal("10000000.00")


@dataclass(frozen=True)
class PaymentInput:
    client_id: uuid.UUID
    amount: Decimal
    received_on: date
    method: str
    details: dict[str, str] = field(default_factory=dict)
    reference: str | None = None


def problems_of(given: PaymentInput, today: date) -> list[Problem]:
    problems = []
    if given.amount != given.amount.quantize(CENT):
        problems.append(Problem(Code.INVALID, "Amounts have at most two decimals.", "amount"))
    elif not Decimal(0) < given.amount <= MAX_AMOUNT:
        problems.append(Problem(Code.OUT_OF_RANGE, "A payment is above zero.", "amount"))
    if given.received_on > today:
        problems.append(
            Problem(Code.IN_THE_FUTURE, "A payment is received today or earlier.", "receivedOn")
        )
    if given.method not in PAYMENT_METHODS:
        problems.append(Problem(Code.INVALID, f"Unknown method {given.method!r}.", "method"))
    for name in REQUIRED_DETAILS.get(given.method, ()):
        if not (given.details.get(name) or "").strip():
            problems.append(Problem(Code.REQUIRED, f"A {given.method} names its {name}.", name))
    if given.reference is not None and len(given.reference) > 100:
        problems.append(Problem(Code.INVALID, "At most 100 characters.", "reference"))
    return problems


async def record(session: AsyncSession, given: PaymentInput, actor: Viewer, today: date) -> Payment:
    problems = problems_of(given, today)
    if problems:
        raise ServiceError(problems)
    known = await session.scalar(
        select(ClientFact.client_id).where(ClientFact.client_id == given.client_id)
    )
    if known is None:
        raise ServiceError.of(Code.UNKNOWN_CLIENT, "Finance does not know this client.", "clientId")
    payment = Payment(
        id=uuid.uuid4(),
        client_id=given.client_id,
        amount=given.amount,
        applied=Decimal("0.00"),
        received_on=given.received_on,
        method=given.method,
        details={k: v.strip() for k, v in given.details.items()},
        reference=given.reference,
        created_by=actor.user_id,
    )
    session.add(payment)
    await session.flush()
    session.add(
        FinanceAudit(
            id=uuid.uuid4(),
            entity="payment",
            entity_id=payment.id,
            action="record",
            actor_id=actor.user_id,
            impersonator_id=actor.impersonator_id,
            after={k: plain(v) for k, v in _snapshot(payment).items()},
        )
    )
    return payment


def _snapshot(payment: Payment) -> dict[str, Any]:
    return {
        "client_id": payment.client_id,
        "amount": payment.amount,
        "received_on": payment.received_on,
        "method": payment.method,
        "reference": payment.reference,
    }
