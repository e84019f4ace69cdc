"""Reading vendor bills: one by id, or a page of them (finance staff all, a vendor its own)."""

from __future__ import annotations

import strawberry
from sqlalchemy import select
from strawberry.types import Info

from subgraphs.finance import loaders as L
from subgraphs.finance.models import VendorBill as BillRow
from subgraphs.finance.service.access import READ_ANY_BILL, READ_OWN_VENDOR_BILL
from subgraphs.finance.types.bills import (
    VendorBill,
    VendorBillStatus,
    may_read_vendor,
    viewer_vendor_id,
)
from subgraphs.kit.errors import NotFoundError
from subgraphs.kit.ids import parse_uuid
from subgraphs.kit.pagination import Connection, KeysetOrder, paginate
from subgraphs.kit.permissions import allow

#: Newest bills first; the id breaks ties so the order is total.
ORDER = KeysetOrder((BillRow.bill_date, BillRow.number, BillRow.id), descending=True)


@strawberry.type
class BillQueries:
    @strawberry.field(
        extensions=[allow(*READ_ANY_BILL, *READ_OWN_VENDOR_BILL)],
        description="One vendor bill: finance staff, or the vendor it bills (others: NOT_FOUND).",
    )
    async def vendor_bill(self, info: Info, id: strawberry.ID) -> VendorBill:
        key = parse_uuid(id)
        row = await info.context.loaders.get(L.VendorBillByIdLoader).load(key) if key else None
        if row is None or not await may_read_vendor(info, row.vendor_id):
            raise NotFoundError("VendorBill", id)
        return VendorBill.from_row(row)

    @strawberry.field(
        extensions=[allow(*READ_ANY_BILL, *READ_OWN_VENDOR_BILL)],
        description="Vendor bills, newest first: finance staff every vendor's (or `vendorId`'s), "
        "a vendor login only its own.",
    )
    async def vendor_bills(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        status: VendorBillStatus | None = None,
        vendor_id: strawberry.ID | None = None,
    ) -> Connection[VendorBill]:
        viewer = await info.context.get_viewer()
        stmt = select(BillRow)
        if vendor_id is not None:
            stmt = stmt.where(BillRow.vendor_id == parse_uuid(vendor_id))
        if not viewer.has_any_role(*READ_ANY_BILL):
            # A vendor login sees its own vendor's bills whatever `vendorId` says.
            stmt = stmt.where(BillRow.vendor_id == await viewer_vendor_id(info))
        if status is not None:
            stmt = stmt.where(BillRow.status == status.value)
        async with info.context.sessions() as session:
            return await paginate(
                session, stmt, ORDER, first=first, after=after, to_node=VendorBill.from_row
            )
