"""Recording money received: who paid, how much, when, how; bad input changes nothing.

A payment is dated on or before today in the operator's time zone (money
received tomorrow is a promise, not a payment); a check names its number,
a wire or card its reference. The payer must be a client finance knows
(from sales' events). Applying it to charters is `applications.py`.

A purchase order is credit, not money: only client types the payment
configuration names may pay by one, and the client's purchase orders
(less what was refunded of them) stay within the PO credit limit. The
client's facts row is locked while that sum is taken, so two purchase
orders recorded at once cannot both squeeze under the limit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from subgraphs.finance.error_codes import FinanceErrorCode as Code
from subgraphs.finance.models import PAYMENT_METHODS, ClientFact, FinanceAudit, Payment
from subgraphs.finance.service import plans, sync_outbox
from subgraphs.kit.auditing import plain
from subgraphs.kit.errors import Problem, ServiceError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer

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
    if given.method == "purchase_order":
        await _check_purchase_order(session, given)
    else:
        known = await session.scalar(
            select(ClientFact.client_id).where(ClientFact.client_id == given.client_id)
        )
        if known is None:
            raise ServiceError.of(
                Code.UNKNOWN_CLIENT, "Finance does not know this client.", "clientId"
            )
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
    await sync_outbox.enqueue(session, "payment", payment.id)
    return payment


async def _check_purchase_order(session: AsyncSession, given: PaymentInput) -> None:
    """A PO for an allowed client type, within the PO credit limit (the client's row locked)."""
    client = await session.scalar(
        select(ClientFact).where(ClientFact.client_id == given.client_id).with_for_update()
    )
    if client is None:
        raise ServiceError.of(Code.UNKNOWN_CLIENT, "Finance does not know this client.", "clientId")
    config = await plans.config(session)
    if client.client_type not in (config.po_client_types or []):
        allowed = ", ".join(config.po_client_types or []) or "no client"
        raise ServiceError.of(
            Code.PO_NOT_ALLOWED,
            f"Purchase orders are for {allowed} clients; this one is {client.client_type}.",
            "method",
        )
    open_total = await open_purchase_orders(session, given.client_id)
    if open_total + given.amount > config.po_credit_limit:
        raise ServiceError.of(
            Code.PO_CREDIT_LIMIT,
            f"The client's purchase orders come to {open_total}; with {given.amount} they would "
            f"pass the PO credit limit of {config.po_credit_limit}.",
            "method",
        )


async def open_purchase_orders(session: AsyncSession, client_id: uuid.UUID) -> Decimal:
    """The client's purchase orders less what was refunded of them.

    Nothing records a purchase order being settled yet, so each counts until refunded.
    """
    total = await session.scalar(
        select(func.coalesce(func.sum(Payment.amount - Payment.refunded), 0)).where(
            Payment.client_id == client_id,
            Payment.method == "purchase_order",
            Payment.kind == "payment",
            Payment.provider_status != "failed",
        )
    )
    return Decimal(total or 0)


async def change_date(
    session: AsyncSession,
    payment_id: uuid.UUID,
    received_on: date,
    reason: str,
    actor: Viewer,
    today: date,
) -> Payment:
    """Correct when a payment was received: a reason, not in the future, audited with both dates."""
    problems = []
    reason = reason.strip()
    if not reason or len(reason) > 500:
        problems.append(Problem(Code.REQUIRED, "Say why, in at most 500 characters.", "reason"))
    if received_on > today:
        problems.append(
            Problem(Code.IN_THE_FUTURE, "A payment is received today or earlier.", "receivedOn")
        )
    if problems:
        raise ServiceError(problems)
    payment = await session.scalar(
        select(Payment).where(Payment.id == payment_id).with_for_update()
    )
    if payment is None:
        raise ServiceError.of(Code.NOT_FOUND, "No such payment.", "id")
    if payment.received_on == received_on:
        return payment
    before = payment.received_on
    payment.received_on = received_on
    session.add(
        FinanceAudit(
            id=uuid.uuid4(),
            entity="payment",
            entity_id=payment.id,
            action="change_date",
            actor_id=actor.user_id,
            impersonator_id=actor.impersonator_id,
            before={"received_on": plain(before)},
            after={"received_on": plain(received_on)},
            reason=reason,
        )
    )
    await sync_outbox.enqueue(session, "payment", payment.id)
    await session.flush()
    return payment


def _snapshot(payment: Payment) -> dict[str, Any]:
    return {
        "client_id": payment.client_id,
        "amount": payment.amount,
        "received_on": payment.received_on,
        "method": payment.method,
        "reference": payment.reference,
    }
