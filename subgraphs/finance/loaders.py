"""Finance's dataloaders: one statement per kind of row per request."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from subgraphs.finance import models
from subgraphs.finance.service.balances import Balance, balances
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
