"""Refunds: a payment of its own, negative, applied negatively to the charter it gives back to.

A refund never gives back more than its payment paid that charter less
what was already refunded of it there (and never more than the payment
less all its refunds). Every refund of a payment locks that payment's row
first, as applying and unapplying do, so refunds sent together queue on
it and the sums they check are the sums they change.

Card and ACH payments taken through a provider are refunded there, with
the refund's idempotency key, while the payment's row is locked: a retry
after a lost answer gets the provider's first refund back, not a second
one. Money given back by check, cash or wire is recorded only. A refund
the provider has accepted but not settled is `pending` until its webhook
(`settle_refund`): succeeded, or failed, when its negative applications are
reversed and the payment's `refunded` drops back, audited.

The refund's negative applications follow where the money went: an
invoice the payment paid gets its `paid` (and status) moved back first.
The first application carries the caller's idempotency key, so the same
refund sent twice answers the first.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, or_, select

from subgraphs.finance.error_codes import FinanceErrorCode as Code
from subgraphs.finance.models import FinanceAudit, Invoice, Payment, PaymentApplication, outbox
from subgraphs.finance.service import instalment_events, sync_outbox
from subgraphs.finance.service.payment_provider import (
    InvalidAmount,
    ProviderDeclined,
    ProviderError,
    ProviderUnavailable,
    RefundStatus,
)
from subgraphs.finance.states import INVOICE
from subgraphs.kit.auditing import plain
from subgraphs.kit.errors import Problem, ServiceError
from subgraphs.kit.outbox import emit

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer
    from subgraphs.finance.service.payment_provider import PaymentProvider

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
TOPIC = "finance.payment_refunded"
#: Room for the `#2`, `#3` of a refund split over several invoices (keys are 200 at most).
MAX_KEY = 190
PROVIDER_METHODS = frozenset({"card", "ach"})


@dataclass(frozen=True)
class RefundInput:
    payment_id: uuid.UUID
    charter_id: uuid.UUID
    amount: Decimal
    reason: str
    idempotency_key: str


def problems_of(given: RefundInput) -> list[Problem]:
    problems = []
    if given.amount != given.amount.quantize(CENT):
        problems.append(Problem(Code.INVALID, "Amounts have at most two decimals.", "amount"))
    elif given.amount <= 0:
        problems.append(Problem(Code.OUT_OF_RANGE, "A refund is above zero.", "amount"))
    if not given.reason.strip() or len(given.reason.strip()) > 500:
        problems.append(Problem(Code.REQUIRED, "Say why, in at most 500 characters.", "reason"))
    if not 0 < len(given.idempotency_key.strip()) <= MAX_KEY:
        problems.append(
            Problem(
                Code.INVALID, f"An idempotency key of 1 to {MAX_KEY} characters.", "idempotencyKey"
            )
        )
    return problems


def _key(given: RefundInput, n: int) -> str:
    return given.idempotency_key if n == 0 else f"{given.idempotency_key}#{n + 1}"


async def _existing(session: AsyncSession, given: RefundInput) -> Payment | None:
    """The refund this key already made, if the same; another use of the key is a conflict."""
    first = await session.scalar(
        select(PaymentApplication).where(
            PaymentApplication.idempotency_key == given.idempotency_key
        )
    )
    if first is None:
        return None
    refund = await session.get(Payment, first.payment_id)
    same = (
        refund is not None
        and refund.refund_of_id == given.payment_id
        and first.charter_id == given.charter_id
        and refund.amount == -given.amount
    )
    if not same:
        raise ServiceError.of(
            Code.CONFLICT, "This idempotency key was used for something else.", "idempotencyKey"
        )
    return refund


async def refundable_by_invoice(
    session: AsyncSession, payment_id: uuid.UUID, charter_id: uuid.UUID
) -> dict[uuid.UUID | None, Decimal]:
    """What a payment still has on a charter, per invoice (None: none), net of its refunds."""
    mine = select(Payment.id).where(
        or_(Payment.id == payment_id, Payment.refund_of_id == payment_id)
    )
    rows = await session.execute(
        select(PaymentApplication.invoice_id, func.sum(PaymentApplication.amount))
        .where(
            PaymentApplication.payment_id.in_(mine),
            PaymentApplication.charter_id == charter_id,
            PaymentApplication.unapplied_at.is_(None),
        )
        .group_by(PaymentApplication.invoice_id)
    )
    return {invoice_id: Decimal(total) for invoice_id, total in rows.all() if total > 0}


async def _at_provider(
    payment: Payment, given: RefundInput, provider: PaymentProvider
) -> tuple[str | None, str]:
    """(the provider's refund reference, provider_status); nothing to call for other methods."""
    if payment.method not in PROVIDER_METHODS or payment.provider_ref is None:
        return None, "succeeded"
    owner = (payment.details or {}).get("provider")
    if owner != provider.name:
        raise ServiceError.of(
            Code.PROVIDER_ERROR,
            f"This payment was taken through {owner or 'another provider'}, not {provider.name}.",
            "paymentId",
        )
    try:
        done = await provider.refund(
            payment.provider_ref, given.amount, given.idempotency_key, currency="usd"
        )
    except ProviderDeclined as exc:
        raise ServiceError.of(Code.DECLINED, exc.message, "amount") from exc
    except ProviderUnavailable as exc:
        raise ServiceError.of(
            Code.PROVIDER_UNAVAILABLE,
            "The payment provider did not answer; send the same refund again.",
            "paymentId",
        ) from exc
    except ProviderError as exc:
        raise ServiceError.of(Code.PROVIDER_ERROR, exc.message, "paymentId") from exc
    except InvalidAmount as exc:
        raise ServiceError.of(Code.INVALID, str(exc), "amount") from exc
    if done.status in (RefundStatus.FAILED, RefundStatus.CANCELED):
        raise ServiceError.of(Code.DECLINED, "The provider refused the refund.", "amount")
    return done.reference, "succeeded" if done.status is RefundStatus.SUCCEEDED else "pending"


def _move_invoice(invoice: Invoice, delta: Decimal) -> None:
    """Money back off an invoice (delta < 0) or onto it again (> 0): status follows."""
    invoice.paid += delta
    if invoice.status in ("paid", "partially_paid", "sent"):
        if invoice.paid == invoice.total:
            target = "paid"
        elif invoice.paid > 0:
            target = "partially_paid"
        else:
            target = "sent"
        if target != invoice.status:
            INVOICE.check(invoice.status, target)
            invoice.status = target


def _audit(
    session: AsyncSession,
    entity_id: uuid.UUID,
    action: str,
    actor: Viewer | None,
    before: dict[str, Any] | None,
    after: dict[str, Any],
    reason: str | None,
) -> None:
    session.add(
        FinanceAudit(
            id=uuid.uuid4(),
            entity="payment",
            entity_id=entity_id,
            action=action,
            actor_id=actor.user_id if actor else None,
            impersonator_id=actor.impersonator_id if actor else None,
            before=before,
            after={k: plain(v) for k, v in after.items()},
            reason=reason,
        )
    )


async def refund(
    session: AsyncSession,
    given: RefundInput,
    actor: Viewer,
    today: date,
    provider: PaymentProvider,
) -> Payment:
    problems = problems_of(given)
    if problems:
        raise ServiceError(problems)
    payment = await session.scalar(
        select(Payment).where(Payment.id == given.payment_id).with_for_update()
    )
    if payment is None:
        raise ServiceError.of(Code.NOT_FOUND, "No such payment.", "paymentId")
    if payment.kind != "payment":
        raise ServiceError.of(Code.INVALID, "A refund is not refunded.", "paymentId")
    again = await _existing(session, given)
    if again is not None:
        return again
    if payment.provider_status != "succeeded":
        raise ServiceError.of(
            Code.NOT_PAYABLE,
            f"The payment is {payment.provider_status} at the provider; refund it once it settles.",
            "paymentId",
        )
    parts = await refundable_by_invoice(session, payment.id, given.charter_id)
    refundable = min(sum(parts.values(), ZERO), payment.amount - payment.refunded)
    if given.amount > refundable:
        raise ServiceError.of(
            Code.EXCEEDS_REFUNDABLE,
            f"This payment has {refundable} to refund on this charter; {given.amount} is more.",
            "amount",
        )
    reference, status = await _at_provider(payment, given, provider)
    row = Payment(
        id=uuid.uuid4(),
        client_id=payment.client_id,
        kind="refund",
        refund_of_id=payment.id,
        amount=-given.amount,
        applied=-given.amount,
        refunded=ZERO,
        provider_status=status,
        received_on=today,
        method=payment.method,
        details={
            "reason": given.reason.strip(),
            "provider": (payment.details or {}).get("provider"),
        },
        reference=None,
        provider_ref=reference,
        created_by=actor.user_id,
    )
    session.add(row)
    payment.refunded += given.amount
    await session.flush()
    left = given.amount
    # Invoices first (the lock order is payment, then invoice), in a fixed order.
    order = sorted(parts, key=lambda k: (k is None, str(k)))
    for n, invoice_id in enumerate(order):
        if left == 0:
            break
        part = min(left, parts[invoice_id])
        left -= part
        if invoice_id is not None:
            invoice = await session.scalar(
                select(Invoice).where(Invoice.id == invoice_id).with_for_update()
            )
            if invoice is not None:
                _move_invoice(invoice, -part)
        session.add(
            PaymentApplication(
                id=uuid.uuid4(),
                payment_id=row.id,
                charter_id=given.charter_id,
                invoice_id=invoice_id,
                amount=-part,
                idempotency_key=_key(given, n),
                applied_by=actor.user_id,
            )
        )
    await session.flush()
    _audit(
        session,
        row.id,
        "refund",
        actor,
        None,
        {
            "refund_of": payment.id,
            "charter": given.charter_id,
            "amount": given.amount,
            "provider_status": status,
            "provider_ref": reference,
        },
        given.reason.strip(),
    )
    await _announce(session, row, given.charter_id, "refunded")
    await sync_outbox.enqueue(session, "payment", row.id)
    await sync_outbox.enqueue(session, "payment", payment.id)
    return row


async def _announce(
    session: AsyncSession, row: Payment, charter_id: uuid.UUID | None, action: str
) -> None:
    """`finance.payment_refunded`: a charter's balance moved back (dashboards, notifications)."""
    await emit(
        session,
        outbox,
        TOPIC,
        {
            "refundId": str(row.id),
            "paymentId": str(row.refund_of_id),
            "charterId": str(charter_id) if charter_id else None,
            "amount": str(-row.amount),
            "providerStatus": row.provider_status,
            "action": action,
        },
    )
    if charter_id is not None:  # what the charter's instalments still want moved back
        await instalment_events.announce(session, charter_id)


async def settle_refund(
    session: AsyncSession, reference: str, status: RefundStatus, reason: str | None = None
) -> Payment | None:
    """The provider's word on a pending refund; a replay, or news about a settled one, changes nothing.

    Failed (or canceled): the refund's negative applications are reversed
    and the payment's `refunded` drops back. None when the reference is
    not one of ours.
    """
    found = await session.scalar(
        select(Payment.refund_of_id).where(
            Payment.provider_ref == reference, Payment.kind == "refund"
        )
    )
    if found is None:
        return None
    # The lock order of `refund`: the payment, then its refund, then invoices.
    payment = await session.scalar(select(Payment).where(Payment.id == found).with_for_update())
    row = await session.scalar(
        select(Payment).where(Payment.provider_ref == reference).with_for_update()
    )
    if payment is None or row is None:  # pragma: no cover - read above, never deleted
        return None
    if row.provider_status != "pending" or status in (RefundStatus.PENDING,):
        return row
    before = {"provider_status": row.provider_status}
    if status is RefundStatus.SUCCEEDED:
        row.provider_status = "succeeded"
        _audit(
            session,
            row.id,
            "refund_succeeded",
            None,
            before,
            {"provider_status": "succeeded"},
            None,
        )
    else:
        row.provider_status = "failed"
        applications = (
            await session.scalars(
                select(PaymentApplication)
                .where(
                    PaymentApplication.payment_id == row.id,
                    PaymentApplication.unapplied_at.is_(None),
                )
                .order_by(PaymentApplication.invoice_id)
                .with_for_update()
            )
        ).all()
        now = datetime.now(UTC)
        why = f"The refund failed at the provider{': ' + reason if reason else ''}."
        for application in applications:
            if application.invoice_id is not None:
                invoice = await session.scalar(
                    select(Invoice).where(Invoice.id == application.invoice_id).with_for_update()
                )
                if invoice is not None:
                    _move_invoice(invoice, -application.amount)
            application.unapplied_at = now
            application.unapply_reason = why[:500]
            row.applied -= application.amount
        payment.refunded += row.amount  # row.amount is negative: what it had added comes off
        _audit(
            session,
            row.id,
            "refund_failed",
            None,
            before,
            {"provider_status": "failed", "reversed": -row.amount},
            why,
        )
        charter = applications[0].charter_id if applications else None
        await _announce(session, row, charter, "refund_failed")
        await sync_outbox.enqueue(session, "payment", payment.id)
    await sync_outbox.enqueue(session, "payment", row.id)
    await session.flush()
    return row
