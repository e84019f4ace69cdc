"""What each vendor was paid this month and this year (`Payables.paidMonthToDate`, `paidYearToDate`).

Paid means bill payments recorded against the vendor's bills, by the day
they were paid (`paid_on`, the operator's calendar day), from the 1st of the
month (of January) to today.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from subgraphs.finance.models import BillPayment, VendorBill
from subgraphs.finance.service.charter_money import ZERO

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class Paid:
    month_to_date: Decimal = ZERO
    year_to_date: Decimal = ZERO


async def paid_to_vendors(
    session: AsyncSession, vendor_ids: Sequence[uuid.UUID], today: date
) -> dict[uuid.UUID, Paid]:
    """Every vendor asked, in one statement (vendors paid nothing this year: zeros)."""
    month_start, year_start = today.replace(day=1), today.replace(month=1, day=1)
    rows = await session.execute(
        select(
            VendorBill.vendor_id,
            func.coalesce(
                func.sum(BillPayment.amount).filter(BillPayment.paid_on >= month_start), 0
            ),
            func.sum(BillPayment.amount),
        )
        .join(VendorBill, VendorBill.id == BillPayment.bill_id)
        .where(
            VendorBill.vendor_id.in_(vendor_ids),
            BillPayment.paid_on >= year_start,
            BillPayment.paid_on <= today,
        )
        .group_by(VendorBill.vendor_id)
    )
    found = {vendor: Paid(Decimal(month), Decimal(year)) for vendor, month, year in rows}
    return {vendor: found.get(vendor, Paid()) for vendor in vendor_ids}
