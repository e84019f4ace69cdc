"""Finance's `Query` root: payments for finance staff (the reports arrive with their step)."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from subgraphs.finance import loaders as L
from subgraphs.finance.service.access import WORK_FINANCE
from subgraphs.finance.types import Payment
from subgraphs.kit.errors import NotFoundError
from subgraphs.kit.ids import parse_uuid
from subgraphs.kit.permissions import allow


@strawberry.type
class Query:
    @strawberry.field(extensions=[allow(*WORK_FINANCE)], description="One payment.")
    async def payment(self, info: Info, id: strawberry.ID) -> Payment:
        key = parse_uuid(id)
        row = await info.context.loaders.get(L.PaymentByIdLoader).load(key) if key else None
        if row is None:
            raise NotFoundError("Payment", id)
        return Payment.from_row(row)
