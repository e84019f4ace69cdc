"""Card and ACH money through the payment provider: charged, recorded and applied together.

The charter is checked and its facts row locked first (what it still owes
cannot move under us), then the provider charges, and only after it says
yes is the payment recorded and applied to the charter, in the same
transaction. A decline records nothing. The caller's idempotency key is
both the provider's (a retry after a lost answer charges once) and the
application's (the same payment sent twice answers the first); a
transaction-scoped advisory lock on the key makes a concurrent resend wait
for the first instead of racing it to the provider.

ACH settles later: its payment is recorded `pending` and applied; the
provider's webhook (`settle_payment`) says succeeded, or failed, when its
applications are taken back, audited.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from protocol.viewer import ANONYMOUS
from subgraphs.finance.error_codes import FinanceErrorCode as Code
from subgraphs.finance.models import (
    CharterFact,
    FinanceAudit,
    Payment,
    PaymentApplication,
    SavedPaymentMethod,
)
from subgraphs.finance.service import applications, sync_outbox
from subgraphs.finance.service.payment_provider import (
    ChargeRequest,
    InvalidAmount,
    PaymentMethodKind,
    PaymentStatus,
    ProviderDeclined,
    ProviderError,
    ProviderUnavailable,
)
from subgraphs.kit.auditing import plain
from subgraphs.kit.errors import Problem, ServiceError

if TYPE_CHECKING:
    from datetime import date

    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer
    from subgraphs.finance.service.payment_provider import PaymentProvider, ProviderMethod

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("10000000.00")
MAX_KEY = 200
CURRENCY = "usd"


@dataclass(frozen=True)
class CardPayment:
    charter_id: uuid.UUID
    amount: Decimal
    idempotency_key: str
    saved_method_id: uuid.UUID | None = None
    payment_method_token: str | None = None


def problems_of(given: CardPayment) -> list[Problem]:
    problems = []
    if given.amount != given.amount.quantize(CENT):
        problems.append(Problem(Code.INVALID, "Amounts have at most two decimals.", "amount"))
    elif not Decimal(0) < given.amount <= MAX_AMOUNT:
        problems.append(Problem(Code.OUT_OF_RANGE, "A payment is above zero.", "amount"))
    if not 0 < len(given.idempotency_key.strip()) <= MAX_KEY:
        problems.append(
            Problem(
                Code.INVALID, f"An idempotency key of 1 to {MAX_KEY} characters.", "idempotencyKey"
            )
        )
    token = (given.payment_method_token or "").strip()
    if (given.saved_method_id is None) == (not token):
        problems.append(
            Problem(
                Code.REQUIRED,
                "Name a saved payment method or a provider token, one of the two.",
                "savedMethodId",
            )
        )
    return problems


async def charter_client(session: AsyncSession, charter_id: uuid.UUID) -> uuid.UUID | None:
    """Whose charter it is, for the caller's authorization check before anything is charged."""
    return await session.scalar(
        select(CharterFact.client_id).where(CharterFact.charter_id == charter_id)
    )


async def _again(session: AsyncSession, given: CardPayment) -> Payment | None:
    first = await session.scalar(
        select(PaymentApplication).where(
            PaymentApplication.idempotency_key == given.idempotency_key
        )
    )
    if first is None:
        return None
    payment = await session.get(Payment, first.payment_id)
    if payment is None or first.charter_id != given.charter_id or first.amount != given.amount:
        raise ServiceError.of(
            Code.CONFLICT, "This idempotency key was used for something else.", "idempotencyKey"
        )
    return payment


async def _method(
    session: AsyncSession, given: CardPayment, client_id: uuid.UUID, provider: PaymentProvider
) -> tuple[str, PaymentMethodKind, dict[str, str], uuid.UUID | None]:
    """(token, kind, details to keep, saved method id) of what the caller pays with."""
    if given.saved_method_id is not None:
        saved = await session.get(SavedPaymentMethod, given.saved_method_id)
        if saved is None or saved.client_id != client_id:
            raise ServiceError.of(
                Code.NOT_FOUND, "The client has no such saved payment method.", "savedMethodId"
            )
        if saved.provider != provider.name:
            raise ServiceError.of(
                Code.PROVIDER_ERROR,
                f"This method is saved at {saved.provider}, not {provider.name}.",
                "savedMethodId",
            )
        kind = PaymentMethodKind(saved.kind)
        details = {"brand": saved.brand or "", "last4": saved.last4}
        return saved.token, kind, details, saved.id
    token = (given.payment_method_token or "").strip()
    try:
        described: ProviderMethod = await provider.describe_method(token)
    except ProviderUnavailable as exc:
        raise ServiceError.of(
            Code.PROVIDER_UNAVAILABLE,
            "The payment provider did not answer; try again.",
            "paymentMethodToken",
        ) from exc
    except ProviderError as exc:
        raise ServiceError.of(
            Code.NOT_FOUND,
            f"The provider does not know this method: {exc.message}",
            "paymentMethodToken",
        ) from exc
    return token, described.kind, {"brand": described.brand or "", "last4": described.last4}, None


async def pay_by_card(
    session: AsyncSession,
    given: CardPayment,
    actor: Viewer,
    today: date,
    provider: PaymentProvider,
) -> Payment:
    problems = problems_of(given)
    if problems:
        raise ServiceError(problems)
    await session.execute(select(func.pg_advisory_xact_lock(func.hashtext(given.idempotency_key))))
    again = await _again(session, given)
    if again is not None:
        return again
    fact = await session.scalar(
        select(CharterFact).where(CharterFact.charter_id == given.charter_id).with_for_update()
    )
    if fact is None or fact.client_id is None or fact.accepted_total is None:
        raise ServiceError.of(
            Code.NOT_PAYABLE, "This charter has no accepted price to pay yet.", "charterId"
        )
    if fact.status == "cancelled":
        raise ServiceError.of(Code.NOT_PAYABLE, "The charter is cancelled.", "charterId")
    paid = await session.scalar(
        select(func.coalesce(func.sum(PaymentApplication.amount), 0)).where(
            PaymentApplication.charter_id == given.charter_id,
            PaymentApplication.unapplied_at.is_(None),
        )
    )
    owes = fact.accepted_total - Decimal(paid or 0)
    if given.amount > owes:
        raise ServiceError.of(
            Code.EXCEEDS_BALANCE, f"Only {owes} is owed; {given.amount} is more.", "amount"
        )
    token, kind, details, saved_id = await _method(session, given, fact.client_id, provider)
    field = "savedMethodId" if saved_id else "paymentMethodToken"
    request = ChargeRequest(
        amount=given.amount,
        currency=CURRENCY,
        payment_method=token,
        idempotency_key=given.idempotency_key,
        method=kind,
        description=f"Charter {fact.reference or fact.charter_id}",
        metadata={"charter_id": str(fact.charter_id), "client_id": str(fact.client_id)},
    )
    try:
        charged = await provider.charge(request)
    except ProviderDeclined as exc:
        raise ServiceError.of(Code.DECLINED, exc.reason, field) from exc
    except ProviderUnavailable as exc:
        raise ServiceError.of(
            Code.PROVIDER_UNAVAILABLE,
            "The payment provider did not answer; send the same payment again.",
            field,
        ) from exc
    except ProviderError as exc:
        raise ServiceError.of(Code.PROVIDER_ERROR, exc.message, field) from exc
    except InvalidAmount as exc:
        raise ServiceError.of(Code.INVALID, str(exc), "amount") from exc
    if charged.status is PaymentStatus.REQUIRES_ACTION:
        raise ServiceError.of(
            Code.DECLINED, "The card needs the payer's authentication; nothing was taken.", field
        )
    payment = Payment(
        id=uuid.uuid4(),
        client_id=fact.client_id,
        amount=given.amount,
        applied=Decimal("0.00"),
        received_on=today,
        method=kind.value,
        details={"provider": provider.name, **{k: v for k, v in details.items() if v}},
        provider_ref=charged.reference,
        provider_status="succeeded" if charged.status is PaymentStatus.SUCCEEDED else "pending",
        saved_method_id=saved_id,
        created_by=actor.user_id,
    )
    session.add(payment)
    await session.flush()
    session.add(
        FinanceAudit(
            id=uuid.uuid4(),
            entity="payment",
            entity_id=payment.id,
            action="charge",
            actor_id=actor.user_id,
            impersonator_id=actor.impersonator_id,
            after={
                k: plain(v)
                for k, v in {
                    "client_id": payment.client_id,
                    "charter": given.charter_id,
                    "amount": payment.amount,
                    "method": payment.method,
                    "provider": provider.name,
                    "provider_ref": payment.provider_ref,
                    "provider_status": payment.provider_status,
                }.items()
            },
        )
    )
    await applications.apply(
        session,
        applications.Application(payment.id, given.charter_id, given.amount, given.idempotency_key),
        actor,
    )
    await sync_outbox.enqueue(session, "payment", payment.id)
    return payment


async def settle_payment(
    session: AsyncSession, reference: str, succeeded: bool, reason: str | None = None
) -> Payment | None:
    """The provider's word on a pending charge (ACH); replays and settled payments change nothing.

    Failed: the payment's applications are taken back (audited by
    `applications.unapply`), so the charters owe it again.
    """
    payment = await session.scalar(
        select(Payment)
        .where(Payment.provider_ref == reference, Payment.kind == "payment")
        .with_for_update()
    )
    if payment is None or payment.provider_status != "pending":
        return payment
    before = payment.provider_status
    payment.provider_status = "succeeded" if succeeded else "failed"
    why = "The payment failed at the provider" + (f": {reason}" if reason else ".")
    session.add(
        FinanceAudit(
            id=uuid.uuid4(),
            entity="payment",
            entity_id=payment.id,
            action="provider_" + payment.provider_status,
            before={"provider_status": before},
            after={"provider_status": payment.provider_status},
            reason=None if succeeded else why[:500],
        )
    )
    if not succeeded:
        live = (
            await session.scalars(
                select(PaymentApplication.id).where(
                    PaymentApplication.payment_id == payment.id,
                    PaymentApplication.unapplied_at.is_(None),
                )
            )
        ).all()
        for application_id in live:
            await applications.unapply(session, application_id, why[:500], ANONYMOUS)
    await sync_outbox.enqueue(session, "payment", payment.id)
    await session.flush()
    return payment
