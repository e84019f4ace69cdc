"""Reading one payment or one invoice by id."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from protocol.roles import Role
from subgraphs.finance import loaders as L
from subgraphs.finance.service.access import WORK_FINANCE, may_read_invoice
from subgraphs.finance.types import Invoice, Payment
from subgraphs.kit.errors import NotFoundError
from subgraphs.kit.ids import parse_uuid
from subgraphs.kit.permissions import allow


@strawberry.type
class PaymentQueries:
    @strawberry.field(extensions=[allow(*WORK_FINANCE)], description="One payment.")
    async def payment(self, info: Info, id: strawberry.ID) -> Payment:
        key = parse_uuid(id)
        row = await info.context.loaders.get(L.PaymentByIdLoader).load(key) if key else None
        if row is None:
            raise NotFoundError("Payment", id)
        return Payment.from_row(row)

    @strawberry.field(
        extensions=[allow(*WORK_FINANCE, Role.CLIENT)],
        description="One invoice: finance staff, or the client it bills (others: NOT_FOUND).",
    )
    async def invoice(self, info: Info, id: strawberry.ID) -> Invoice:
        key = parse_uuid(id)
        row = await info.context.loaders.get(L.InvoiceByIdLoader).load(key) if key else None
        viewer = await info.context.get_viewer()
        if row is None or not may_read_invoice(viewer, row.client_id):
            raise NotFoundError("Invoice", id)
        return Invoice.from_row(row)
