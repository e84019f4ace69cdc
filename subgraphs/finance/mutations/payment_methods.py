"""Saved payment methods and paying by card or ACH through the provider.

Finance staff for any client; a client for itself and its own charters
(`may_manage_saved_methods`, `may_pay_charter`): anyone else is refused
with a GraphQL FORBIDDEN before anything reaches the provider.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import strawberry
from strawberry.types import Info

from subgraphs.finance.models import SavedPaymentMethod as SavedRow
from subgraphs.finance.service import charges, saved_methods
from subgraphs.finance.service.access import (
    MANAGE_ANY_SAVED_METHOD,
    MANAGE_OWN_SAVED_METHOD,
    PAY_ANY_CHARTER,
    PAY_OWN_CHARTER,
    may_manage_saved_methods,
    may_pay_charter,
)
from subgraphs.finance.service.providers import payment_provider
from subgraphs.finance.types import Payment
from subgraphs.finance.types.payment_methods import SavedPaymentMethod
from subgraphs.kit.errors import ForbiddenError
from subgraphs.kit.ids import input_uuid, parse_uuid
from subgraphs.kit.payloads import UserError, transact
from subgraphs.kit.permissions import allow
from subgraphs.kit.scalars import Money


@strawberry.input(description="Save a method the provider already holds (its token).")
class SavePaymentMethodInput:
    client_id: strawberry.ID
    provider_token: str = strawberry.field(description="The provider's reference, e.g. pm_...")
    make_default: bool = False


@strawberry.input(description="Pay a charter by card or ACH: a saved method or a provider token.")
class PayByCardInput:
    charter_id: strawberry.ID
    amount: Money
    idempotency_key: str = strawberry.field(
        description="Chosen by the caller: the same payment sent again charges once."
    )
    saved_method_id: strawberry.ID | None = None
    payment_method_token: str | None = None


@strawberry.type
class SavedPaymentMethodPayload:
    payment_method: SavedPaymentMethod | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class PayByCardPayload:
    payment: Payment | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _today(info: Info) -> date:
    return datetime.now(UTC).astimezone(ZoneInfo(info.context.settings.operator_time_zone)).date()


@strawberry.type
class PaymentMethodMutations:
    @strawberry.mutation(
        extensions=[allow(*MANAGE_ANY_SAVED_METHOD, *MANAGE_OWN_SAVED_METHOD)],
        description="Save a card or bank account the provider holds; the provider says its brand, "
        "last four and expiry.",
    )
    async def save_payment_method(
        self, info: Info, input: SavePaymentMethodInput
    ) -> SavedPaymentMethodPayload:
        viewer = await info.context.get_viewer()
        client_id = parse_uuid(input.client_id)
        if client_id is not None and not may_manage_saved_methods(viewer, client_id):
            raise ForbiddenError("You may not manage this client's payment methods.")
        provider = payment_provider(info.context.settings)
        row, errors = await transact(
            info,
            lambda s: saved_methods.save(
                s,
                input_uuid(input.client_id, "clientId"),
                input.provider_token,
                input.make_default,
                viewer,
                provider,
            ),
        )
        return SavedPaymentMethodPayload(
            payment_method=SavedPaymentMethod.from_row(row) if row else None, user_errors=errors
        )

    @strawberry.mutation(
        extensions=[allow(*MANAGE_ANY_SAVED_METHOD, *MANAGE_OWN_SAVED_METHOD)],
        description="Forget a saved payment method.",
    )
    async def remove_payment_method(
        self, info: Info, id: strawberry.ID
    ) -> SavedPaymentMethodPayload:
        viewer = await info.context.get_viewer()
        key = parse_uuid(id)
        if key is not None:
            async with info.context.sessions() as session:
                owner = await session.get(SavedRow, key)
            if owner is not None and not may_manage_saved_methods(viewer, owner.client_id):
                raise ForbiddenError("You may not manage this client's payment methods.")
        row, errors = await transact(
            info, lambda s: saved_methods.remove(s, input_uuid(id, "id"), viewer)
        )
        return SavedPaymentMethodPayload(
            payment_method=SavedPaymentMethod.from_row(row) if row else None, user_errors=errors
        )

    @strawberry.mutation(
        extensions=[allow(*PAY_ANY_CHARTER, *PAY_OWN_CHARTER)],
        description="Charge a card or bank account through the payment provider and apply it to "
        "the charter; a decline records nothing (DECLINED); the same key charges once.",
    )
    async def pay_by_card(self, info: Info, input: PayByCardInput) -> PayByCardPayload:
        viewer = await info.context.get_viewer()
        charter_id = parse_uuid(input.charter_id)
        if charter_id is not None and not viewer.has_any_role(*PAY_ANY_CHARTER):
            async with info.context.sessions() as session:
                owner = await charges.charter_client(session, charter_id)
            if not may_pay_charter(viewer, owner):
                raise ForbiddenError("You may pay only your own charters.")
        provider = payment_provider(info.context.settings)
        today = _today(info)

        async def work(session):  # type: ignore[no-untyped-def]
            given = charges.CardPayment(
                input_uuid(input.charter_id, "charterId"),
                input.amount,
                input.idempotency_key,
                input_uuid(input.saved_method_id, "savedMethodId")
                if input.saved_method_id
                else None,
                input.payment_method_token,
            )
            return await charges.pay_by_card(session, given, viewer, today, provider)

        row, errors = await transact(info, work)
        return PayByCardPayload(payment=Payment.from_row(row) if row else None, user_errors=errors)
