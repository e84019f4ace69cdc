"""The finance demo: booked charters owe what pricing quoted; invoices in every status and bucket."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from db.demo.__main__ import load_all
from subgraphs.finance.models import (
    CharterFact,
    Invoice,
    Payment,
    PaymentApplication,
    PaymentPlan,
    VendorBill,
)
from subgraphs.finance.service import aging
from subgraphs.pricing.models import QuoteCalculation


async def test_the_finance_demo_covers_every_status_and_bucket_once(sessions, settings):
    first = await load_all()
    again = await load_all()

    async with sessions() as session:
        statuses = set(await session.scalars(select(Invoice.status)))
        bill_statuses = set(await session.scalars(select(VendorBill.status)))
        refunded = list(await session.scalars(select(Payment).where(Payment.kind == "refund")))
        accepted = dict(
            (
                await session.execute(
                    select(QuoteCalculation.charter_id, QuoteCalculation.total).where(
                        QuoteCalculation.accepted
                    )
                )
            ).all()
        )
        owed = dict(
            (
                await session.execute(
                    select(CharterFact.charter_id, CharterFact.accepted_total).where(
                        CharterFact.accepted_total.is_not(None)
                    )
                )
            ).all()
        )
        plans = await session.scalar(select(func.count()).select_from(PaymentPlan))
        checks = list(await session.scalars(select(Payment).where(Payment.method == "check")))
        today = datetime.now(UTC).astimezone(ZoneInfo(settings.operator_time_zone)).date()
        buckets = aging.totals(await aging.ar_aging(session, today))
        unpaid_by_client: dict[object, list[object]] = {}
        for fact in await session.scalars(
            select(CharterFact).where(
                CharterFact.status == "booked",
                CharterFact.accepted_total.is_not(None),
                CharterFact.charter_id.not_in(select(PaymentApplication.charter_id)),
            )
        ):
            unpaid_by_client.setdefault(fact.client_id, []).append(fact)

    assert first["finance"] > 0
    assert again["finance"] == 0
    assert statuses == {"draft", "sent", "partially_paid", "paid", "overdue", "void"}
    assert bill_statuses == {
        "received",
        "approved",
        "partially_paid",
        "paid",
        "overdue",
        "disputed",
    }
    assert [r.amount for r in refunded] == [Decimal("-50.00")]
    # What finance says a charter owes is the quote pricing kept for it.
    assert owed
    assert owed == accepted
    assert plans == len(owed)
    # A check pays several charters' deposits: applied in full across them.
    assert any(c.applied == c.amount and c.amount > 0 for c in checks)
    assert {b for b, amount in buckets.items() if amount > Decimal(0)} == set(aging.BUCKETS)
    # One client has three booked charters with nothing paid (the "one check" walk-through).
    assert any(len(group) >= 3 for group in unpaid_by_client.values())
