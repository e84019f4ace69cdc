"""Finance's dataloaders: one statement per kind of row per request."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from subgraphs.finance import models
from subgraphs.finance.service import autopay, client_portal, revenue, sync_outbox, vendor_paid
from subgraphs.finance.service.balances import Balance, balances
from subgraphs.finance.service.dashboard_money import AgentMoney, agent_money
from subgraphs.kit.loaders import ByParentIdLoader, SessionLoader
from subgraphs.kit.settings import get_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


class BalanceByCharterLoader(SessionLoader[uuid.UUID, Balance | None]):
    async def load_batch(
        self, session: AsyncSession, keys: Sequence[uuid.UUID]
    ) -> list[Balance | None]:
        zone = ZoneInfo(get_settings().operator_time_zone)
        found = await balances(session, list(keys), datetime.now(UTC).astimezone(zone).date())
        return [found.get(key) for key in keys]


class ApplicationsByCharterLoader(ByParentIdLoader[models.PaymentApplication]):
    model = models.PaymentApplication
    parent_column = "charter_id"
    order_by = ("charter_id", "applied_at", "id")


class ReceivablesByClientLoader(SessionLoader[uuid.UUID, tuple[Decimal, Decimal]]):
    """(accepted prices, live applications) of each client's charters, in one statement each."""

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[uuid.UUID]
    ) -> list[tuple[Decimal, Decimal]]:
        owed = dict(
            (
                await session.execute(
                    select(
                        models.CharterFact.client_id,
                        func.coalesce(func.sum(models.CharterFact.accepted_total), 0),
                    )
                    .where(
                        models.CharterFact.client_id.in_(keys),
                        models.CharterFact.status != "cancelled",
                    )
                    .group_by(models.CharterFact.client_id)
                )
            ).all()
        )
        paid = dict(
            (
                await session.execute(
                    select(
                        models.Payment.client_id, func.coalesce(func.sum(models.Payment.applied), 0)
                    )
                    .where(models.Payment.client_id.in_(keys))
                    .group_by(models.Payment.client_id)
                )
            ).all()
        )
        return [(Decimal(owed.get(k, 0)), Decimal(paid.get(k, 0))) for k in keys]


class PaymentByIdLoader(SessionLoader[uuid.UUID, models.Payment | None]):
    async def load_batch(
        self, session: AsyncSession, keys: Sequence[uuid.UUID]
    ) -> list[models.Payment | None]:
        rows = await session.scalars(select(models.Payment).where(models.Payment.id.in_(keys)))
        by_id = {row.id: row for row in rows}
        return [by_id.get(key) for key in keys]


class InvoicesByCharterLoader(ByParentIdLoader[models.Invoice]):
    model = models.Invoice
    parent_column = "charter_id"
    order_by = ("charter_id", "issued_on", "number")


class InvoicesOfCharterLoader(SessionLoader[uuid.UUID, list[Any]]):
    """Every invoice billing each charter, its own or a consolidated one (by the lines' charter).

    Plain rows (the invoice's columns), like the kit's loaders: they only read.
    """

    async def load_batch(self, session: AsyncSession, keys: Sequence[uuid.UUID]) -> list[list[Any]]:
        invoice, line = models.Invoice.__table__, models.InvoiceLine.__table__
        rows = await session.execute(
            select(line.c.charter_id.label("billed_charter_id"), *invoice.c)
            .join(invoice, invoice.c.id == line.c.invoice_id)
            .where(line.c.charter_id.in_(keys))
            .distinct()
            .order_by("billed_charter_id", invoice.c.issued_on, invoice.c.number)
        )
        found: dict[uuid.UUID, list[Any]] = {key: [] for key in keys}
        for row in rows:
            found[row.billed_charter_id].append(row)
        return [found[key] for key in keys]


class InvoiceLinesByInvoiceLoader(ByParentIdLoader[models.InvoiceLine]):
    model = models.InvoiceLine
    parent_column = "invoice_id"
    order_by = ("invoice_id", "position")


class InvoiceByIdLoader(SessionLoader[uuid.UUID, models.Invoice | None]):
    async def load_batch(
        self, session: AsyncSession, keys: Sequence[uuid.UUID]
    ) -> list[models.Invoice | None]:
        rows = await session.scalars(select(models.Invoice).where(models.Invoice.id.in_(keys)))
        by_id = {row.id: row for row in rows}
        return [by_id.get(key) for key in keys]


class VendorBillByIdLoader(SessionLoader[uuid.UUID, models.VendorBill | None]):
    async def load_batch(
        self, session: AsyncSession, keys: Sequence[uuid.UUID]
    ) -> list[models.VendorBill | None]:
        rows = await session.scalars(
            select(models.VendorBill).where(models.VendorBill.id.in_(keys))
        )
        by_id = {row.id: row for row in rows}
        return [by_id.get(key) for key in keys]


class BillsByVendorLoader(ByParentIdLoader[models.VendorBill]):
    model = models.VendorBill
    parent_column = "vendor_id"
    order_by = ("vendor_id", "due_on", "number")


class BillPaymentsByBillLoader(ByParentIdLoader[models.BillPayment]):
    model = models.BillPayment
    parent_column = "bill_id"
    order_by = ("bill_id", "paid_on", "created_at", "id")


class VendorOfUserLoader(SessionLoader[uuid.UUID, uuid.UUID | None]):
    """The vendor a vendor login works for (`VendorUserFact`), None for any other user."""

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[uuid.UUID]
    ) -> list[uuid.UUID | None]:
        found = dict(
            (
                await session.execute(
                    select(models.VendorUserFact.user_id, models.VendorUserFact.vendor_id).where(
                        models.VendorUserFact.user_id.in_(keys)
                    )
                )
            ).all()
        )
        return [found.get(key) for key in keys]


class AgentMoneyByAgentLoader(SessionLoader[uuid.UUID, AgentMoney]):
    """The dashboard's money figures (`User.bookedRevenueMonthToDate`...) of many agents at once."""

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[uuid.UUID]
    ) -> list[AgentMoney]:
        found = await agent_money(
            session, list(keys), datetime.now(UTC), get_settings().operator_time_zone
        )
        return [found[key] for key in keys]


class PlanByCharterLoader(SessionLoader[uuid.UUID, models.PaymentPlan | None]):
    async def load_batch(
        self, session: AsyncSession, keys: Sequence[uuid.UUID]
    ) -> list[models.PaymentPlan | None]:
        rows = await session.scalars(
            select(models.PaymentPlan).where(models.PaymentPlan.charter_id.in_(keys))
        )
        by_id = {row.charter_id: row for row in rows}
        return [by_id.get(key) for key in keys]


class InstalmentsByCharterLoader(ByParentIdLoader[models.Instalment]):
    model = models.Instalment
    parent_column = "charter_id"
    order_by = ("charter_id", "sequence")


class SavedMethodsByClientLoader(ByParentIdLoader[models.SavedPaymentMethod]):
    model = models.SavedPaymentMethod
    parent_column = "client_id"
    order_by = ("client_id", "created_at", "id")


class ClientAgentLoader(SessionLoader[uuid.UUID, uuid.UUID | None]):
    """The sales agent sales names on each client (`ClientFact.sales_agent_id`)."""

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[uuid.UUID]
    ) -> list[uuid.UUID | None]:
        rows = await session.execute(
            select(models.ClientFact.client_id, models.ClientFact.sales_agent_id).where(
                models.ClientFact.client_id.in_(keys)
            )
        )
        found: dict[uuid.UUID, uuid.UUID | None] = {row[0]: row[1] for row in rows}
        return [found.get(key) for key in keys]


class AccountingSyncLoader(SessionLoader[tuple[str, uuid.UUID], sync_outbox.SyncState | None]):
    """(entity, id) -> its standing in QuickBooks; two statements per request."""

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[tuple[str, uuid.UUID]]
    ) -> list[sync_outbox.SyncState | None]:
        found = await sync_outbox.latest_states(session, keys)
        return [found.get(key) for key in keys]


def _operator_today() -> date:
    return datetime.now(UTC).astimezone(ZoneInfo(get_settings().operator_time_zone)).date()


class NextPaymentDueByClientLoader(SessionLoader[uuid.UUID, client_portal.NextDue | None]):
    """`Client.nextPaymentDue` of many clients: three statements however many."""

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[uuid.UUID]
    ) -> list[client_portal.NextDue | None]:
        found = await client_portal.next_payments_due(session, list(keys), _operator_today())
        return [found[key] for key in keys]


class RecentPaymentsByClientLoader(
    SessionLoader[tuple[uuid.UUID, int], list[client_portal.RecentPayment]]
):
    """(client, first) -> its newest payments; one batch per `first` asked, two statements each."""

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[tuple[uuid.UUID, int]]
    ) -> list[list[client_portal.RecentPayment]]:
        by_first: dict[int, list[uuid.UUID]] = {}
        for client_id, first in keys:
            by_first.setdefault(first, []).append(client_id)
        found = {
            first: await client_portal.recent_payments(session, clients, first)
            for first, clients in by_first.items()
        }
        return [found[first][client_id] for client_id, first in keys]


class AutopayByClientLoader(SessionLoader[uuid.UUID, models.Autopay | None]):
    async def load_batch(
        self, session: AsyncSession, keys: Sequence[uuid.UUID]
    ) -> list[models.Autopay | None]:
        found = await autopay.autopay_of(session, list(keys))
        return [found[key] for key in keys]


class LastAutopayAttemptByClientLoader(SessionLoader[uuid.UUID, models.AutopayAttempt | None]):
    async def load_batch(
        self, session: AsyncSession, keys: Sequence[uuid.UUID]
    ) -> list[models.AutopayAttempt | None]:
        found = await autopay.last_attempts(session, list(keys))
        return [found[key] for key in keys]


class CharterProfitByCharterLoader(SessionLoader[uuid.UUID, revenue.CharterProfit | None]):
    """`Charter.profit` of many charters: one statement however many."""

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[uuid.UUID]
    ) -> list[revenue.CharterProfit | None]:
        found = await revenue.charter_profits(session, list(keys))
        return [found.get(key) for key in keys]


class PaidByVendorLoader(SessionLoader[uuid.UUID, vendor_paid.Paid]):
    """`Payables.paidMonthToDate` / `paidYearToDate` of many vendors: one statement."""

    async def load_batch(
        self, session: AsyncSession, keys: Sequence[uuid.UUID]
    ) -> list[vendor_paid.Paid]:
        found = await vendor_paid.paid_to_vendors(session, list(keys), _operator_today())
        return [found[key] for key in keys]
