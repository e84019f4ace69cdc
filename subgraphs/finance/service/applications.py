"""Applying payments to charters and invoices: never more than a payment has, never twice.

One payment may pay many charters (a check for three deposits). Every
application runs in one transaction that locks, in this order, the payment
row, then the invoice row (or, without an invoice, the charter's facts
row), so concurrent applications queue on what they share and a fixed
order leaves no room for deadlock. Under those locks:

- the amount is at most what the payment has left (`amount - applied`);
- it is at most what the invoice (or the charter's accepted price) still owes;
- the payment's `applied` and the invoice's `paid` move with the row.

The database holds the same line (`CHECK applied <= amount`). Every
application carries an idempotency key (unique): the same application
sent again answers the first one; the same key with different content is
a conflict. Unapplying keeps the row, with who, when and why.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from subgraphs.finance.error_codes import FinanceErrorCode as Code
from subgraphs.finance.models import (
    CharterFact,
    FinanceAudit,
    Invoice,
    Payment,
    PaymentApplication,
    outbox,
)
from subgraphs.finance.service import instalment_events, sync_outbox
from subgraphs.finance.states import INVOICE
from subgraphs.kit.auditing import plain
from subgraphs.kit.errors import ServiceError
from subgraphs.kit.outbox import emit

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer

CENT = Decimal("0.01")
TOPIC = "finance.payment_applied"
MAX_KEY = 200
#: Invoices that can take money.
PAYABLE = frozenset({"sent", "partially_paid", "overdue"})


@dataclass(frozen=True)
class Application:
    payment_id: uuid.UUID
    charter_id: uuid.UUID
    amount: Decimal
    idempotency_key: str
    invoice_id: uuid.UUID | None = None


def _audit(
    session: AsyncSession,
    entity: str,
    entity_id: uuid.UUID,
    action: str,
    actor: Viewer,
    after: dict[str, object],
    reason: str | None = None,
) -> None:
    session.add(
        FinanceAudit(
            id=uuid.uuid4(),
            entity=entity,
            entity_id=entity_id,
            action=action,
            actor_id=actor.user_id,
            impersonator_id=actor.impersonator_id,
            before=None,
            after={k: plain(v) for k, v in after.items()},
            reason=reason,
        )
    )


async def _announce(
    session: AsyncSession, row: PaymentApplication, action: str, payment: Payment | None = None
) -> None:
    """`finance.payment_applied`: a charter's balance moved (dashboards, sync, notifications).

    The client, method and day of the payment let notifications write the receipt; the
    charter's instalments are announced again with what they still want (reminders).
    """
    await emit(
        session,
        outbox,
        TOPIC,
        {
            "applicationId": str(row.id),
            "paymentId": str(row.payment_id),
            "charterId": str(row.charter_id),
            "invoiceId": str(row.invoice_id) if row.invoice_id else None,
            "amount": str(row.amount),
            "action": action,
            "clientId": str(payment.client_id) if payment is not None else None,
            "method": payment.method if payment is not None else None,
            "receivedOn": payment.received_on.isoformat() if payment is not None else None,
        },
    )
    await instalment_events.announce(session, row.charter_id)


async def _existing(session: AsyncSession, given: Application) -> PaymentApplication | None:
    row = await session.scalar(
        select(PaymentApplication).where(
            PaymentApplication.idempotency_key == given.idempotency_key
        )
    )
    if row is None:
        return None
    same = (
        row.payment_id == given.payment_id
        and row.charter_id == given.charter_id
        and row.invoice_id == given.invoice_id
        and row.amount == given.amount
    )
    if not same:
        raise ServiceError.of(
            Code.CONFLICT,
            "This idempotency key was used for another application.",
            "idempotencyKey",
        )
    return row


def _check_input(given: Application) -> None:
    if not 0 < len(given.idempotency_key.strip()) <= MAX_KEY:
        raise ServiceError.of(
            Code.INVALID, f"An idempotency key of 1 to {MAX_KEY} characters.", "idempotencyKey"
        )
    if given.amount <= 0:
        raise ServiceError.of(Code.OUT_OF_RANGE, "An application is above zero.", "amount")
    if given.amount != given.amount.quantize(CENT):
        raise ServiceError.of(Code.INVALID, "Amounts have at most two decimals.", "amount")


async def _charter_owes(session: AsyncSession, charter_id: uuid.UUID) -> Decimal:
    """What a charter still owes: its accepted price less what is applied to it (locked)."""
    fact = await session.scalar(
        select(CharterFact).where(CharterFact.charter_id == charter_id).with_for_update()
    )
    if fact is None or fact.accepted_total is None:
        raise ServiceError.of(
            Code.NOT_PAYABLE, "This charter has no accepted price to pay yet.", "charterId"
        )
    if fact.status == "cancelled":
        raise ServiceError.of(Code.NOT_PAYABLE, "The charter is cancelled.", "charterId")
    applied = await session.scalar(
        select(func.coalesce(func.sum(PaymentApplication.amount), 0)).where(
            PaymentApplication.charter_id == charter_id,
            PaymentApplication.unapplied_at.is_(None),
        )
    )
    return fact.accepted_total - Decimal(applied or 0)


async def apply(session: AsyncSession, given: Application, actor: Viewer) -> PaymentApplication:
    _check_input(given)
    payment = await session.scalar(
        select(Payment).where(Payment.id == given.payment_id).with_for_update()
    )
    if payment is None:
        raise ServiceError.of(Code.NOT_FOUND, "No such payment.", "paymentId")
    again = await _existing(session, given)
    if again is not None:
        return again
    left = payment.amount - payment.applied
    if given.amount > left:
        raise ServiceError.of(
            Code.EXCEEDS_PAYMENT,
            f"The payment has {left} left to apply; {given.amount} is more.",
            "amount",
        )
    invoice = None
    if given.invoice_id is not None:
        invoice = await session.scalar(
            select(Invoice).where(Invoice.id == given.invoice_id).with_for_update()
        )
        if invoice is None:
            raise ServiceError.of(Code.NOT_FOUND, "No such invoice.", "invoiceId")
        if invoice.client_id != payment.client_id:
            raise ServiceError.of(Code.INVALID, "The invoice is another client's.", "invoiceId")
        if invoice.status not in PAYABLE:
            raise ServiceError.of(
                Code.NOT_PAYABLE, f"A {invoice.status} invoice takes no payment.", "invoiceId"
            )
        if invoice.charter_id is not None and invoice.charter_id != given.charter_id:
            raise ServiceError.of(Code.INVALID, "The invoice bills another charter.", "charterId")
        owes = invoice.total - invoice.paid
    else:
        owes = await _charter_owes(session, given.charter_id)
    if given.amount > owes:
        raise ServiceError.of(
            Code.EXCEEDS_BALANCE, f"Only {owes} is owed; {given.amount} is more.", "amount"
        )
    payment.applied += given.amount
    if invoice is not None:
        invoice.paid += given.amount
        invoice.status = "paid" if invoice.paid == invoice.total else "partially_paid"
    row = PaymentApplication(
        id=uuid.uuid4(),
        payment_id=payment.id,
        charter_id=given.charter_id,
        invoice_id=given.invoice_id,
        amount=given.amount,
        idempotency_key=given.idempotency_key,
        applied_by=actor.user_id,
    )
    session.add(row)
    await session.flush()
    _audit(
        session,
        "application",
        row.id,
        "apply",
        actor,
        {
            "payment": payment.id,
            "charter": given.charter_id,
            "invoice": given.invoice_id,
            "amount": given.amount,
        },
    )
    await _announce(session, row, "applied", payment)
    # QuickBooks' payment lists the invoices it pays: the payment changed.
    await sync_outbox.enqueue(session, "payment", payment.id)
    return row


async def unapply(
    session: AsyncSession, application_id: uuid.UUID, reason: str, actor: Viewer
) -> PaymentApplication:
    """Take an application back (a bounced check, a mistake): audited with the reason."""
    reason = reason.strip()
    if not reason or len(reason) > 500:
        raise ServiceError.of(Code.REQUIRED, "Say why, in at most 500 characters.", "reason")
    found = await session.scalar(
        select(PaymentApplication.payment_id).where(PaymentApplication.id == application_id)
    )
    if found is None:
        raise ServiceError.of(Code.NOT_FOUND, "No such application.", "id")
    # The same lock order as `apply`: payment, then invoice, then the application.
    payment = await session.scalar(select(Payment).where(Payment.id == found).with_for_update())
    row = await session.scalar(
        select(PaymentApplication).where(PaymentApplication.id == application_id).with_for_update()
    )
    if payment is None or row is None:  # pragma: no cover - read above, never deleted
        raise ServiceError.of(Code.NOT_FOUND, "No such application.", "id")
    if row.unapplied_at is not None:
        raise ServiceError.of(Code.CONFLICT, "This application was already taken back.", "id")
    if row.invoice_id is not None:
        invoice = await session.scalar(
            select(Invoice).where(Invoice.id == row.invoice_id).with_for_update()
        )
        if invoice is not None:
            invoice.paid -= row.amount
            if invoice.status in ("paid", "partially_paid"):
                target = "partially_paid" if invoice.paid > 0 else "sent"
                if target != invoice.status:
                    INVOICE.check(invoice.status, target)
                    invoice.status = target
    payment.applied -= row.amount
    row.unapplied_at = datetime.now(UTC)
    row.unapplied_by = actor.user_id
    row.unapply_reason = reason
    _audit(session, "application", row.id, "unapply", actor, {"amount": row.amount}, reason)
    await _announce(session, row, "unapplied", payment)
    await sync_outbox.enqueue(session, "payment", payment.id)
    return row
