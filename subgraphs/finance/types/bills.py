"""Vendor bills, what was paid on them, and `Vendor.payables`: thin views of finance's rows.

Who reads them is `service/access.py` (`may_read_bill`): finance staff every
vendor's, a vendor login its own (the vendor its user id is linked to).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import strawberry
from strawberry.types import Info

from subgraphs.finance import loaders as L
from subgraphs.finance.service.access import may_read_bill
from subgraphs.finance.types.payments import gid
from subgraphs.kit.errors import ForbiddenError, UnauthenticatedError
from subgraphs.kit.ids import parse_uuid
from subgraphs.kit.scalars import Money

ZERO = Decimal("0.00")


@strawberry.enum
class VendorBillStatus(Enum):
    RECEIVED = "received"
    APPROVED = "approved"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    OVERDUE = "overdue"
    DISPUTED = "disputed"


@strawberry.enum
class BillTerms(Enum):
    DUE_ON_RECEIPT = "due_on_receipt"
    NET_30 = "net_30"
    NET_60 = "net_60"


@strawberry.enum
class BillPaymentMethod(Enum):
    CHECK = "check"
    ACH = "ach"
    WIRE = "wire"
    CARD = "card"


async def viewer_vendor_id(info: Info) -> uuid.UUID | None:
    """The vendor the caller's login works for, if it is a vendor login."""
    viewer = await info.context.get_viewer()
    if viewer.user_id is None:
        return None
    found: uuid.UUID | None = await info.context.loaders.get(L.VendorOfUserLoader).load(
        viewer.user_id
    )
    return found


async def may_read_vendor(info: Info, vendor_id: uuid.UUID | None) -> bool:
    viewer = await info.context.get_viewer()
    if not viewer.is_authenticated:
        raise UnauthenticatedError()
    return may_read_bill(viewer, vendor_id, await viewer_vendor_id(info))


@strawberry.type(description="Money paid to a vendor against one bill.")
class BillPayment:
    id: strawberry.ID
    bill_id: strawberry.ID
    amount: Money
    paid_on: date
    method: BillPaymentMethod
    check_number: str | None
    card_last_four: str | None
    reference: str | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: Any) -> BillPayment:
        details = row.details or {}
        return cls(
            id=gid(row.id),
            bill_id=gid(row.bill_id),
            amount=row.amount,
            paid_on=row.paid_on,
            method=BillPaymentMethod(row.method),
            check_number=details.get("checkNumber"),
            card_last_four=details.get("cardLastFour"),
            reference=row.reference,
            created_at=row.created_at,
        )


@strawberry.type(
    description="What a vendor asks to be paid (`BILL-YYYY-NNNNN`): from an assignment's agreed "
    "amount or entered by hand. Finance staff and the vendor itself read it."
)
class VendorBill:
    id: strawberry.ID
    number: str
    vendor_id: strawberry.ID
    charter_id: strawberry.ID | None
    assignment_id: strawberry.ID | None
    vendor_reference: str | None = strawberry.field(description="The vendor's own invoice number.")
    description: str | None
    bill_date: date
    terms: BillTerms
    due_on: date
    subtotal: Money
    tax: Money
    total: Money
    paid: Money
    balance: Money = strawberry.field(description="Total less paid.")
    status: VendorBillStatus
    approved_at: datetime | None
    dispute_reason: str | None

    @classmethod
    def from_row(cls, row: Any) -> VendorBill:
        return cls(
            id=gid(row.id),
            number=row.number,
            vendor_id=gid(row.vendor_id),
            charter_id=gid(row.charter_id) if row.charter_id else None,
            assignment_id=gid(row.assignment_id) if row.assignment_id else None,
            vendor_reference=row.vendor_reference,
            description=row.description,
            bill_date=row.bill_date,
            terms=BillTerms(row.terms),
            due_on=row.due_on,
            subtotal=row.subtotal,
            tax=row.tax,
            total=row.total,
            paid=row.paid,
            balance=row.total - row.paid,
            status=VendorBillStatus(row.status),
            approved_at=row.approved_at,
            dispute_reason=row.dispute_reason,
        )

    @strawberry.field(description="What was paid on it, oldest first.")
    async def payments(self, info: Info) -> list[BillPayment]:
        rows = await info.context.loaders.get(L.BillPaymentsByBillLoader).load(uuid.UUID(self.id))
        return [BillPayment.from_row(r) for r in rows]


@strawberry.type(description="What the operator owes a vendor.")
class Payables:
    vendor_id: strawberry.Private[uuid.UUID]
    total_owed: Money = strawberry.field(
        description="Unpaid balances of every bill not yet paid, disputed ones included."
    )
    total_overdue: Money = strawberry.field(description="Unpaid balances of overdue bills.")

    @strawberry.field(
        description="Paid to the vendor on its bills this month (by the day paid, from the "
        "1st, operator's time zone)."
    )
    async def paid_month_to_date(self, info: Info) -> Money:
        paid = await info.context.loaders.get(L.PaidByVendorLoader).load(self.vendor_id)
        return Money(paid.month_to_date)

    @strawberry.field(description="Paid to the vendor on its bills since January 1st.")
    async def paid_year_to_date(self, info: Info) -> Money:
        paid = await info.context.loaders.get(L.PaidByVendorLoader).load(self.vendor_id)
        return Money(paid.year_to_date)

    @strawberry.field(
        description="The vendor's bills by due date; only those in `status` if given."
    )
    async def bills(self, info: Info, status: VendorBillStatus | None = None) -> list[VendorBill]:
        rows = await info.context.loaders.get(L.BillsByVendorLoader).load(self.vendor_id)
        return [VendorBill.from_row(r) for r in rows if status is None or r.status == status.value]


@strawberry.federation.type(keys=["id"])
class Vendor:
    id: strawberry.ID

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Vendor:
        return cls(id=id)

    @strawberry.field(
        description="Bills and what is owed: finance staff and the vendor's own logins "
        "(others get null and FORBIDDEN)."
    )
    async def payables(self, info: Info) -> Payables | None:
        key = parse_uuid(self.id)
        if not await may_read_vendor(info, key):
            raise ForbiddenError("You may not see this vendor's payables.")
        if key is None:
            return None
        rows = await info.context.loaders.get(L.BillsByVendorLoader).load(key)
        owed = sum((r.total - r.paid for r in rows if r.status != "paid"), ZERO)
        overdue = sum((r.total - r.paid for r in rows if r.status == "overdue"), ZERO)
        return Payables(vendor_id=key, total_owed=Money(owed), total_overdue=Money(overdue))
