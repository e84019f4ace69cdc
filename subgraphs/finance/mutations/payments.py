"""Recording payments and applying them to charters (accounting, managers, admins)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import strawberry
from strawberry.types import Info

from subgraphs.finance.service import applications, payments
from subgraphs.finance.service.access import WORK_FINANCE
from subgraphs.finance.types import Payment, PaymentApplication, PaymentMethod
from subgraphs.kit.ids import input_uuid
from subgraphs.kit.payloads import UserError, transact
from subgraphs.kit.permissions import allow
from subgraphs.kit.scalars import Money

_id = input_uuid


@strawberry.input(description="Money received; dated today or earlier.")
class RecordPaymentInput:
    client_id: strawberry.ID
    amount: Money
    received_on: date
    method: PaymentMethod
    reference: str | None = None
    check_number: str | None = strawberry.field(default=None, description="Checks: required.")
    bank: str | None = None
    po_number: str | None = strawberry.field(default=None, description="Purchase orders: required.")


@strawberry.input(description="Part of a payment to a charter (and, if given, its invoice).")
class ApplyPaymentInput:
    payment_id: strawberry.ID
    charter_id: strawberry.ID
    amount: Money
    idempotency_key: str = strawberry.field(
        description="Chosen by the caller: the same application sent again applies once."
    )
    invoice_id: strawberry.ID | None = None


@strawberry.type
class PaymentPayload:
    payment: Payment | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class ApplicationPayload:
    application: PaymentApplication | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _today(info: Info) -> date:
    return datetime.now(UTC).astimezone(ZoneInfo(info.context.settings.operator_time_zone)).date()


@strawberry.type
class PaymentMutations:
    @strawberry.mutation(extensions=[allow(*WORK_FINANCE)])
    async def record_payment(self, info: Info, input: RecordPaymentInput) -> PaymentPayload:
        viewer = await info.context.get_viewer()
        details = {
            k: v
            for k, v in (
                ("checkNumber", input.check_number),
                ("bank", input.bank),
                ("poNumber", input.po_number),
            )
            if v is not None
        }

        async def work(session):  # type: ignore[no-untyped-def]
            given = payments.PaymentInput(
                _id(input.client_id, "clientId"),
                input.amount,
                input.received_on,
                input.method.value,
                details,
                input.reference,
            )
            return await payments.record(session, given, viewer, _today(info))

        row, errors = await transact(info, work)
        return PaymentPayload(payment=Payment.from_row(row) if row else None, user_errors=errors)

    @strawberry.mutation(
        extensions=[allow(*WORK_FINANCE)],
        description="Apply part of a payment to a charter: never more than the payment has left "
        "or the charter (invoice) owes; the same idempotency key applies once.",
    )
    async def apply_payment(self, info: Info, input: ApplyPaymentInput) -> ApplicationPayload:
        viewer = await info.context.get_viewer()

        async def work(session):  # type: ignore[no-untyped-def]
            given = applications.Application(
                _id(input.payment_id, "paymentId"),
                _id(input.charter_id, "charterId"),
                input.amount,
                input.idempotency_key,
                _id(input.invoice_id, "invoiceId") if input.invoice_id else None,
            )
            return await applications.apply(session, given, viewer)

        row, errors = await transact(info, work)
        return ApplicationPayload(
            application=PaymentApplication.from_row(row) if row else None, user_errors=errors
        )

    @strawberry.mutation(extensions=[allow(*WORK_FINANCE)], description="Take an application back.")
    async def unapply_payment(
        self, info: Info, id: strawberry.ID, reason: str
    ) -> ApplicationPayload:
        viewer = await info.context.get_viewer()
        row, errors = await transact(
            info, lambda s: applications.unapply(s, _id(id, "id"), reason, viewer)
        )
        return ApplicationPayload(
            application=PaymentApplication.from_row(row) if row else None, user_errors=errors
        )
