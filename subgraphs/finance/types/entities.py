"""The entities finance contributes fields to (`Charter`, `Client`); who reads them is `service/access.py`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry
from strawberry.types import Info

from subgraphs.finance import loaders as L
from subgraphs.finance.service.access import (
    may_manage_saved_methods,
    may_read_balance,
    may_read_invoice,
    may_read_receivables,
)
from subgraphs.finance.types import portal, revenue
from subgraphs.finance.types.invoices import Invoice
from subgraphs.finance.types.payment_methods import SavedPaymentMethod
from subgraphs.finance.types.payments import ZERO, Balance, PaymentApplication
from subgraphs.finance.types.plans import PaymentPlan
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

    @strawberry.field(
        description="The invoices billing the charter, its own and its client's consolidated "
        "ones, void ones included: finance staff and the charter's own client."
    )
    async def invoices(self, info: Info) -> list[Invoice] | None:
        key = parse_uuid(self.id)
        if key is None:
            return []
        found = await info.context.loaders.get(L.BalanceByCharterLoader).load(key)
        viewer = await info.context.get_viewer()
        if not viewer.is_authenticated:
            raise UnauthenticatedError()
        if not may_read_invoice(viewer, found.client_id if found else None):
            raise ForbiddenError("You may not see this charter's invoices.")
        rows = await info.context.loaders.get(L.InvoicesOfCharterLoader).load(key)
        return [Invoice.from_row(r) for r in rows]

    @strawberry.field(
        description="The charter's payment plan and what is paid of each instalment "
        "(the balance's readers); null before the charter is booked at a price."
    )
    async def payment_plan(self, info: Info) -> PaymentPlan | None:
        key = parse_uuid(self.id)
        found = await info.context.loaders.get(L.BalanceByCharterLoader).load(key) if key else None
        await _ensure_reader(
            info, found.client_id if found else None, found.sales_agent_id if found else None
        )
        if key is None or found is None:
            return None
        plan = await info.context.loaders.get(L.PlanByCharterLoader).load(key)
        if plan is None:
            return None
        rows = await info.context.loaders.get(L.InstalmentsByCharterLoader).load(key)
        return PaymentPlan.from_rows(plan, rows, found.paid)

    paid_in_full: bool | None = strawberry.field(
        resolver=portal.paid_in_full,
        description="The charter's accepted price is paid (zero balance), the confirmation the "
        "portal shows; the balance's readers.",
    )
    paid_in_full_at: datetime | None = strawberry.field(
        resolver=portal.paid_in_full_at,
        description="When the balance reached zero: the payment (or the last of them, after a "
        "refund) that cleared it; null while something is owed.",
    )
    profit: revenue.CharterProfit | None = strawberry.field(
        resolver=revenue.charter_profit,
        description="Accepted price, vehicle cost, profit and margin of a booked charter (null "
        "for a quote or a cancelled one): the figures its agent's `profitMonthToDate` adds up. "
        "The readers of that agent's money: the agent itself, admins, managers, accounting, "
        "sales support (others get null and FORBIDDEN).",
    )


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
        "finance staff, sales support, the client's own sales agent and the client itself."
    )
    async def receivables(self, info: Info) -> Receivables | None:
        key = parse_uuid(self.id)
        agent = await info.context.loaders.get(L.ClientAgentLoader).load(key) if key else None
        viewer = await info.context.get_viewer()
        if not viewer.is_authenticated:
            raise UnauthenticatedError()
        if not may_read_receivables(viewer, key, agent):
            raise ForbiddenError("You may not see this client's money.")
        if key is None:
            return None
        owed, paid = await info.context.loaders.get(L.ReceivablesByClientLoader).load(key)
        return Receivables(owed=owed, paid=paid, outstanding=owed - paid)

    @strawberry.field(
        description="The client's saved cards and bank accounts (brand, last four, expiry; never "
        "a number): finance staff and the client itself."
    )
    async def saved_payment_methods(self, info: Info) -> list[SavedPaymentMethod] | None:
        key = parse_uuid(self.id)
        viewer = await info.context.get_viewer()
        if not viewer.is_authenticated:
            raise UnauthenticatedError()
        if not may_manage_saved_methods(viewer, key):
            raise ForbiddenError("You may not see this client's payment methods.")
        if key is None:
            return []
        rows = await info.context.loaders.get(L.SavedMethodsByClientLoader).load(key)
        return [SavedPaymentMethod.from_row(r) for r in rows]

    next_payment_due: portal.NextPaymentDue | None = strawberry.field(
        resolver=portal.next_payment_due,
        description="The earliest instalment not yet paid across the client's charters (the "
        "receivables' readers); null when nothing is owed.",
    )
    recent_payments: list[portal.RecentPayment] | None = strawberry.field(
        resolver=portal.recent_payments,
        description="The client's payments, newest first (`first`: 1 to 50), with the charters "
        "each paid (the receivables' readers).",
    )
    autopay: portal.Autopay | None = strawberry.field(
        resolver=portal.autopay,
        description="Autopay and its last result: finance staff and the client itself.",
    )
