"""A client's saved cards and bank accounts: the provider's token and how to recognise it.

Never a card number: the provider holds the card, finance keeps its token
and what the provider says of it (kind, brand, last four, expiry) so people
can tell their methods apart. One method per client is the default; the
first saved is, and making another the default unmarks the old one under
the client's methods' row locks. Saving a token again updates it; a token
saved for another client is refused.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update

from subgraphs.finance.error_codes import FinanceErrorCode as Code
from subgraphs.finance.models import ClientFact, FinanceAudit, Payment, SavedPaymentMethod
from subgraphs.finance.service.payment_provider import ProviderError, ProviderUnavailable
from subgraphs.kit.auditing import plain
from subgraphs.kit.errors import ServiceError

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer
    from subgraphs.finance.service.payment_provider import PaymentProvider

MAX_TOKEN = 200


def _snapshot(row: SavedPaymentMethod) -> dict[str, Any]:
    return {
        k: plain(getattr(row, k))
        for k in ("client_id", "provider", "kind", "brand", "last4", "exp_month", "exp_year")
    } | {"is_default": row.is_default}


def _audit(
    session: AsyncSession,
    row: SavedPaymentMethod,
    action: str,
    actor: Viewer,
    after: dict[str, Any] | None,
) -> None:
    session.add(
        FinanceAudit(
            id=uuid.uuid4(),
            entity="payment_method",
            entity_id=row.id,
            action=action,
            actor_id=actor.user_id,
            impersonator_id=actor.impersonator_id,
            before=None,
            after=after,
        )
    )


async def _lock_client_methods(
    session: AsyncSession, client_id: uuid.UUID
) -> list[SavedPaymentMethod]:
    return list(
        (
            await session.scalars(
                select(SavedPaymentMethod)
                .where(SavedPaymentMethod.client_id == client_id)
                .order_by(SavedPaymentMethod.created_at, SavedPaymentMethod.id)
                .with_for_update()
            )
        ).all()
    )


async def save(
    session: AsyncSession,
    client_id: uuid.UUID,
    token: str,
    make_default: bool,
    actor: Viewer,
    provider: PaymentProvider,
) -> SavedPaymentMethod:
    token = token.strip()
    if not 0 < len(token) <= MAX_TOKEN:
        raise ServiceError.of(
            Code.REQUIRED, f"A provider token of 1 to {MAX_TOKEN} characters.", "providerToken"
        )
    client = await session.scalar(
        select(ClientFact).where(ClientFact.client_id == client_id).with_for_update()
    )
    if client is None:
        raise ServiceError.of(Code.UNKNOWN_CLIENT, "Finance does not know this client.", "clientId")
    try:
        described = await provider.describe_method(token)
    except ProviderUnavailable as exc:
        raise ServiceError.of(
            Code.PROVIDER_UNAVAILABLE,
            "The payment provider did not answer; try again.",
            "providerToken",
        ) from exc
    except ProviderError as exc:
        raise ServiceError.of(
            Code.NOT_FOUND,
            f"The provider does not know this method: {exc.message}",
            "providerToken",
        ) from exc
    methods = await _lock_client_methods(session, client_id)
    taken = await session.scalar(
        select(SavedPaymentMethod).where(
            SavedPaymentMethod.provider == provider.name, SavedPaymentMethod.token == token
        )
    )
    if taken is not None and taken.client_id != client_id:
        raise ServiceError.of(
            Code.CONFLICT, "This method is saved for another client.", "providerToken"
        )
    row = taken
    action = "update"
    if row is None:
        row = SavedPaymentMethod(
            id=uuid.uuid4(),
            client_id=client_id,
            provider=provider.name,
            token=token,
            is_default=False,
        )
        session.add(row)
        action = "save"
    row.kind = described.kind.value
    row.brand = described.brand
    row.last4 = described.last4
    row.exp_month = described.exp_month
    row.exp_year = described.exp_year
    if make_default or not any(m.is_default for m in methods if m.id != row.id):
        for other in methods:
            if other.id != row.id:
                other.is_default = False
        row.is_default = True
    await session.flush()
    _audit(session, row, action, actor, _snapshot(row))
    return row


async def remove(session: AsyncSession, method_id: uuid.UUID, actor: Viewer) -> SavedPaymentMethod:
    """Forget a method; payments made with it keep their brand and last four in their details."""
    found = await session.scalar(
        select(SavedPaymentMethod.client_id).where(SavedPaymentMethod.id == method_id)
    )
    if found is None:
        raise ServiceError.of(Code.NOT_FOUND, "No such saved payment method.", "id")
    methods = await _lock_client_methods(session, found)
    row = next((m for m in methods if m.id == method_id), None)
    if row is None:  # pragma: no cover - removed between the two reads
        raise ServiceError.of(Code.NOT_FOUND, "No such saved payment method.", "id")
    await session.execute(
        update(Payment).where(Payment.saved_method_id == row.id).values(saved_method_id=None)
    )
    before = _snapshot(row)
    rest = [m for m in methods if m.id != row.id]
    if row.is_default and rest:
        rest[-1].is_default = True  # the newest left takes over
    await session.delete(row)
    session.add(
        FinanceAudit(
            id=uuid.uuid4(),
            entity="payment_method",
            entity_id=row.id,
            action="remove",
            actor_id=actor.user_id,
            impersonator_id=actor.impersonator_id,
            before=before,
            after=None,
        )
    )
    await session.flush()
    return row
