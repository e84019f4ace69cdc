"""The portal's paying mutations: pay a part of the plan, and autopay on or off.

`payFromPlan` has `payByCard`'s payers (`may_pay_charter`); autopay is
finance staff's for any client and a client's for itself
(`may_manage_autopay`). Anyone else is refused with a GraphQL FORBIDDEN
before anything reaches the provider or the database's rows change.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import strawberry
from strawberry.types import Info

from subgraphs.finance.mutations.payment_methods import PayByCardPayload
from subgraphs.finance.service import autopay, charges
from subgraphs.finance.service.access import (
    MANAGE_ANY_AUTOPAY,
    MANAGE_OWN_AUTOPAY,
    PAY_ANY_CHARTER,
    PAY_OWN_CHARTER,
    may_manage_autopay,
    may_pay_charter,
)
from subgraphs.finance.service.providers import payment_provider
from subgraphs.finance.types import Payment
from subgraphs.finance.types.portal import Autopay, PlanPart
from subgraphs.kit.errors import ForbiddenError
from subgraphs.kit.ids import input_uuid, parse_uuid
from subgraphs.kit.payloads import UserError, transact
from subgraphs.kit.permissions import allow

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from subgraphs.finance.models import Autopay as AutopayRow
    from subgraphs.finance.models import Payment as PaymentRow


@strawberry.input(
    description="Pay part of a charter's plan; the amount is the plan's, never typed: a saved "
    "method or a provider token."
)
class PayFromPlanInput:
    charter_id: strawberry.ID
    part: PlanPart = strawberry.field(
        description="DEPOSIT: what is unpaid of the deposit; BALANCE: all the charter owes; "
        "NEXT_INSTALMENT: what is unpaid of the earliest instalment not yet paid."
    )
    idempotency_key: str = strawberry.field(
        description="Chosen by the caller: the same payment sent again charges once."
    )
    saved_method_id: strawberry.ID | None = None
    payment_method_token: str | None = None


@strawberry.type
class AutopayPayload:
    autopay: Autopay | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _today(info: Info) -> date:
    return datetime.now(UTC).astimezone(ZoneInfo(info.context.settings.operator_time_zone)).date()


async def _ensure_autopay_manager(info: Info, client_id: strawberry.ID) -> None:
    viewer = await info.context.get_viewer()
    key = parse_uuid(client_id)  # not an id: past the role gate, the input's userError
    if key is not None and not may_manage_autopay(viewer, key):
        raise ForbiddenError("You may not manage this client's autopay.")


@strawberry.type
class AutopayMutations:
    @strawberry.mutation(
        extensions=[allow(*PAY_ANY_CHARTER, *PAY_OWN_CHARTER)],
        description="Pay the deposit, the balance or the next instalment of a charter by card or "
        "ACH, the amount from its plan; a decline records nothing (DECLINED); the same key "
        "charges once.",
    )
    async def pay_from_plan(self, info: Info, input: PayFromPlanInput) -> PayByCardPayload:
        viewer = await info.context.get_viewer()
        charter_id = parse_uuid(input.charter_id)
        if charter_id is not None and not viewer.has_any_role(*PAY_ANY_CHARTER):
            async with info.context.sessions() as session:
                owner = await charges.charter_client(session, charter_id)
            if not may_pay_charter(viewer, owner):
                raise ForbiddenError("You may pay only your own charters.")
        provider = payment_provider(info.context.settings)
        today = _today(info)

        async def work(session: AsyncSession) -> PaymentRow:
            return await autopay.pay_from_plan(
                session,
                input_uuid(input.charter_id, "charterId"),
                autopay.PlanPart(input.part.value),
                input.idempotency_key,
                viewer,
                today,
                provider,
                saved_method_id=input_uuid(input.saved_method_id, "savedMethodId")
                if input.saved_method_id
                else None,
                payment_method_token=input.payment_method_token,
            )

        row, errors = await transact(info, work)
        return PayByCardPayload(payment=Payment.from_row(row) if row else None, user_errors=errors)

    @strawberry.mutation(
        extensions=[allow(*MANAGE_ANY_AUTOPAY, *MANAGE_OWN_AUTOPAY)],
        description="Charge the client's instalments to one of its saved methods on their due "
        "dates (when the payment configuration allows autopay); audited.",
    )
    async def set_autopay(
        self, info: Info, client_id: strawberry.ID, saved_method_id: strawberry.ID
    ) -> AutopayPayload:
        await _ensure_autopay_manager(info, client_id)
        viewer = await info.context.get_viewer()

        async def work(session: AsyncSession) -> AutopayRow:
            return await autopay.set_autopay(
                session,
                input_uuid(client_id, "clientId"),
                input_uuid(saved_method_id, "savedMethodId"),
                viewer,
            )

        row, errors = await transact(info, work)
        return AutopayPayload(
            autopay=Autopay.from_row(row.client_id, row) if row else None, user_errors=errors
        )

    @strawberry.mutation(
        extensions=[allow(*MANAGE_ANY_AUTOPAY, *MANAGE_OWN_AUTOPAY)],
        description="Stop charging the client's instalments automatically; audited.",
    )
    async def disable_autopay(self, info: Info, client_id: strawberry.ID) -> AutopayPayload:
        await _ensure_autopay_manager(info, client_id)
        viewer = await info.context.get_viewer()

        async def work(session: AsyncSession) -> AutopayRow:
            return await autopay.disable_autopay(session, input_uuid(client_id, "clientId"), viewer)

        row, errors = await transact(info, work)
        return AutopayPayload(
            autopay=Autopay.from_row(row.client_id, row) if row else None, user_errors=errors
        )
