"""Entering, approving, disputing and paying vendor bills; each mutation one transaction.

Finance staff enter, dispute and pay bills (`WORK_BILLS`); a manager (or an
admin) approves them (`APPROVE_BILLS`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import strawberry
from strawberry.types import Info

from subgraphs.finance.models import VendorBill as BillRow
from subgraphs.finance.service import bills
from subgraphs.finance.service.access import APPROVE_BILLS, WORK_BILLS
from subgraphs.finance.types.bills import BillPayment, BillPaymentMethod, BillTerms, VendorBill
from subgraphs.kit.ids import input_uuid
from subgraphs.kit.payloads import UserError, transact
from subgraphs.kit.permissions import allow
from subgraphs.kit.scalars import Money

_id = input_uuid


def _today(info: Info) -> date:
    return datetime.now(UTC).astimezone(ZoneInfo(info.context.settings.operator_time_zone)).date()


@strawberry.input(description="A vendor's bill entered by hand from what the vendor sent.")
class CreateVendorBillInput:
    vendor_id: strawberry.ID
    amount: Money = strawberry.field(description="Before tax.")
    bill_date: date = strawberry.field(description="Today or earlier.")
    tax: Money = strawberry.field(default=Decimal("0.00"))
    terms: BillTerms | None = strawberry.field(
        default=None, description="Default: the vendor's terms when they name one, else net 30."
    )
    description: str | None = None
    vendor_reference: str | None = strawberry.field(
        default=None, description="The vendor's own invoice number."
    )
    charter_id: strawberry.ID | None = None


@strawberry.input(description="Money paid to a vendor against one bill.")
class RecordBillPaymentInput:
    bill_id: strawberry.ID
    amount: Money
    paid_on: date = strawberry.field(description="Today or earlier.")
    method: BillPaymentMethod
    idempotency_key: str = strawberry.field(
        description="Chosen by the caller: the same payment sent again pays once."
    )
    check_number: str | None = strawberry.field(default=None, description="Checks: required.")
    card_last_four: str | None = strawberry.field(default=None, description="Cards: required.")
    reference: str | None = strawberry.field(
        default=None, description="ACH or wire trace, card authorisation..."
    )


@strawberry.type
class VendorBillPayload:
    bill: VendorBill | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class BillPaymentPayload:
    payment: BillPayment | None = None
    bill: VendorBill | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _bill(row: object | None, errors: list[UserError]) -> VendorBillPayload:
    return VendorBillPayload(bill=VendorBill.from_row(row) if row else None, user_errors=errors)


@strawberry.type
class BillMutations:
    @strawberry.mutation(
        extensions=[allow(*WORK_BILLS)],
        description="Enter a vendor's bill by hand; it is received, to be approved by a manager.",
    )
    async def create_vendor_bill(
        self, info: Info, input: CreateVendorBillInput
    ) -> VendorBillPayload:
        viewer = await info.context.get_viewer()

        async def work(session):  # type: ignore[no-untyped-def]
            given = bills.BillInput(
                vendor_id=_id(input.vendor_id, "vendorId"),
                amount=input.amount,
                bill_date=input.bill_date,
                tax=input.tax,
                terms=input.terms.value if input.terms else None,
                description=input.description,
                vendor_reference=input.vendor_reference,
                charter_id=_id(input.charter_id, "charterId") if input.charter_id else None,
            )
            return await bills.create(session, given, viewer, _today(info))

        return _bill(*await transact(info, work))

    @strawberry.mutation(
        extensions=[allow(*WORK_BILLS)],
        description="Bill a vendor assignment's agreed amount, dated today unless `billDate` "
        "says otherwise; one bill per assignment.",
    )
    async def bill_assignment(
        self,
        info: Info,
        assignment_id: strawberry.ID,
        bill_date: date | None = None,
        vendor_reference: str | None = None,
    ) -> VendorBillPayload:
        viewer = await info.context.get_viewer()
        return _bill(
            *await transact(
                info,
                lambda s: bills.bill_assignment(
                    s,
                    _id(assignment_id, "assignmentId"),
                    viewer,
                    _today(info),
                    bill_date=bill_date,
                    vendor_reference=vendor_reference,
                ),
            )
        )

    @strawberry.mutation(
        extensions=[allow(*APPROVE_BILLS)],
        description="A manager approves a received bill; it may then be paid.",
    )
    async def approve_vendor_bill(self, info: Info, id: strawberry.ID) -> VendorBillPayload:
        viewer = await info.context.get_viewer()
        return _bill(*await transact(info, lambda s: bills.approve(s, _id(id, "id"), viewer)))

    @strawberry.mutation(
        extensions=[allow(*WORK_BILLS)],
        description="Hold a bill with a reason; it takes no payment until resolved.",
    )
    async def dispute_vendor_bill(
        self, info: Info, id: strawberry.ID, reason: str
    ) -> VendorBillPayload:
        viewer = await info.context.get_viewer()
        return _bill(
            *await transact(info, lambda s: bills.dispute(s, _id(id, "id"), reason, viewer))
        )

    @strawberry.mutation(
        extensions=[allow(*WORK_BILLS)],
        description="Resolve a dispute: the bill goes back to where its approval, payments and "
        "due date put it.",
    )
    async def resolve_vendor_bill_dispute(
        self, info: Info, id: strawberry.ID, resolution: str
    ) -> VendorBillPayload:
        viewer = await info.context.get_viewer()
        return _bill(
            *await transact(
                info,
                lambda s: bills.resolve_dispute(s, _id(id, "id"), resolution, viewer, _today(info)),
            )
        )

    @strawberry.mutation(
        extensions=[allow(*WORK_BILLS)],
        description="Pay (part of) an approved bill: never more than it owes; the same "
        "idempotency key pays once.",
    )
    async def record_bill_payment(
        self, info: Info, input: RecordBillPaymentInput
    ) -> BillPaymentPayload:
        viewer = await info.context.get_viewer()

        async def work(session):  # type: ignore[no-untyped-def]
            given = bills.BillPaymentInput(
                bill_id=_id(input.bill_id, "billId"),
                amount=input.amount,
                paid_on=input.paid_on,
                method=input.method.value,
                idempotency_key=input.idempotency_key,
                check_number=input.check_number,
                card_last_four=input.card_last_four,
                reference=input.reference,
            )
            row = await bills.record_payment(session, given, viewer, _today(info))
            bill = await session.get(BillRow, row.bill_id)
            return row, bill

        done, errors = await transact(info, work)
        if done is None:
            return BillPaymentPayload(user_errors=errors)
        row, bill = done
        return BillPaymentPayload(
            payment=BillPayment.from_row(row),
            bill=VendorBill.from_row(bill) if bill else None,
            user_errors=errors,
        )
