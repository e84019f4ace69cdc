"""Refunds and corrections of recorded payments (REFUND_PAYMENTS, CHANGE_PAYMENT_DATE: finance staff)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import strawberry
from strawberry.types import Info

from subgraphs.finance.service import payments, refunds
from subgraphs.finance.service.access import CHANGE_PAYMENT_DATE, REFUND_PAYMENTS
from subgraphs.finance.service.providers import payment_provider
from subgraphs.finance.types import Payment
from subgraphs.kit.ids import input_uuid
from subgraphs.kit.payloads import UserError, transact
from subgraphs.kit.permissions import allow
from subgraphs.kit.scalars import Money


@strawberry.input(description="Give back part or all of what a payment paid one charter.")
class RefundPaymentInput:
    payment_id: strawberry.ID
    charter_id: strawberry.ID
    amount: Money
    reason: str
    idempotency_key: str = strawberry.field(
        description="Chosen by the caller: the same refund sent again refunds once."
    )


@strawberry.type
class RefundPayload:
    refund: Payment | None = strawberry.field(
        default=None, description="The refund: a payment of kind REFUND, negative."
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class PaymentDatePayload:
    payment: Payment | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _today(info: Info) -> date:
    return datetime.now(UTC).astimezone(ZoneInfo(info.context.settings.operator_time_zone)).date()


@strawberry.type
class RefundMutations:
    @strawberry.mutation(
        extensions=[allow(*REFUND_PAYMENTS)],
        description="Refund a payment on a charter, in full or in part: never more than it paid "
        "that charter less what was refunded; card and ACH through the payment provider.",
    )
    async def refund_payment(self, info: Info, input: RefundPaymentInput) -> RefundPayload:
        viewer = await info.context.get_viewer()
        provider = payment_provider(info.context.settings)
        today = _today(info)

        async def work(session):  # type: ignore[no-untyped-def]
            given = refunds.RefundInput(
                input_uuid(input.payment_id, "paymentId"),
                input_uuid(input.charter_id, "charterId"),
                input.amount,
                input.reason,
                input.idempotency_key,
            )
            return await refunds.refund(session, given, viewer, today, provider)

        row, errors = await transact(info, work)
        return RefundPayload(refund=Payment.from_row(row) if row else None, user_errors=errors)

    @strawberry.mutation(
        extensions=[allow(*CHANGE_PAYMENT_DATE)],
        description="Correct the date a payment was received: not in the future, with a reason "
        "(audited).",
    )
    async def change_payment_date(
        self, info: Info, id: strawberry.ID, received_on: date, reason: str
    ) -> PaymentDatePayload:
        viewer = await info.context.get_viewer()
        today = _today(info)
        row, errors = await transact(
            info,
            lambda s: payments.change_date(
                s, input_uuid(id, "id"), received_on, reason, viewer, today
            ),
        )
        return PaymentDatePayload(
            payment=Payment.from_row(row) if row else None, user_errors=errors
        )
