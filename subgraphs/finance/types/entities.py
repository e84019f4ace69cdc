"""The entities finance contributes fields to (`Charter`, `Client`); who reads them is `service/access.py`."""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.types import Info

from subgraphs.finance import loaders as L
from subgraphs.finance.service.access import may_read_balance
from subgraphs.finance.types.invoices import Invoice
from subgraphs.finance.types.payments import ZERO, Balance, PaymentApplication
from subgraphs.kit.errors import ForbiddenError, UnauthenticatedError
from subgraphs.kit.ids import parse_uuid
from subgraphs.kit.scalars import Money


async def _ensure_reader(info: Info, client_id: Any, agent_id: Any) -> None:
    viewer = await info.context.get_viewer()
    if not viewer.is_authenticated:
        raise UnauthenticatedError()
    if not may_read_balance(viewer, client_id, agent_id):
        raise ForbiddenError("You may not see this charter's money.")


@strawberry.federation.type(keys=["id"])
class Charter:
    id: strawberry.ID

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Charter:
        return cls(id=id)

    @strawberry.field(
        description="Owed, paid and due: finance staff, sales support, the charter's agent and "
        "its own client (others get null and FORBIDDEN)."
    )
    async def balance(self, info: Info) -> Balance | None:
        key = parse_uuid(self.id)
        found = await info.context.loaders.get(L.BalanceByCharterLoader).load(key) if key else None
        if found is None:
            await _ensure_reader(info, None, None)
            return Balance(
                owed=ZERO,
                paid=ZERO,
                outstanding=ZERO,
                due=ZERO,
                next_due_on=None,
                next_due_amount=ZERO,
            )
        await _ensure_reader(info, found.client_id, found.sales_agent_id)
        return Balance(
            owed=found.owed,
            paid=found.paid,
            outstanding=found.owed - found.paid,
            due=found.due,
            next_due_on=found.next_due_on,
            next_due_amount=found.next_due_amount,
        )

    @strawberry.field(description="Payments applied to this charter, oldest first (same readers).")
    async def payments(self, info: Info) -> list[PaymentApplication] | None:
        key = parse_uuid(self.id)
        if key is None:
            return []
        found = await info.context.loaders.get(L.BalanceByCharterLoader).load(key)
        await _ensure_reader(
            info, found.client_id if found else None, found.sales_agent_id if found else None
        )
        rows = await info.context.loaders.get(L.ApplicationsByCharterLoader).load(key)
        return [PaymentApplication.from_row(r) for r in rows if r.unapplied_at is None]

    @strawberry.field(description="The charter's invoices, void ones included (same readers).")
    async def invoices(self, info: Info) -> list[Invoice] | None:
        key = parse_uuid(self.id)
        if key is None:
            return []
        found = await info.context.loaders.get(L.BalanceByCharterLoader).load(key)
        await _ensure_reader(
            info, found.client_id if found else None, found.sales_agent_id if found else None
        )
        rows = await info.context.loaders.get(L.InvoicesByCharterLoader).load(key)
        return [Invoice.from_row(r) for r in rows]


@strawberry.type(description="A client's money with the operator.")
class Receivables:
    owed: Money
    paid: Money
    outstanding: Money


@strawberry.federation.type(keys=["id"])
class Client:
    id: strawberry.ID

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Client:
        return cls(id=id)

    @strawberry.field(
        description="Accepted prices of the client's charters, what it paid, what is left: "
        "finance staff, sales support and the client itself."
    )
    async def receivables(self, info: Info) -> Receivables | None:
        key = parse_uuid(self.id)
        await _ensure_reader(info, key, None)
        if key is None:
            return None
        owed, paid = await info.context.loaders.get(L.ReceivablesByClientLoader).load(key)
        return Receivables(owed=owed, paid=paid, outstanding=owed - paid)
