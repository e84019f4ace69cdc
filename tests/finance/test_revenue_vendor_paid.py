"""`Payables.paidMonthToDate` / `paidYearToDate`: what a vendor was paid on its bills."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from db.engine import record_statements
from subgraphs.finance.models import BillPayment, VendorBill
from subgraphs.finance.reports.common import today as operator_today
from subgraphs.finance.service import vendor_paid
from tests.finance.test_revenue import counting
from tests.support.graphql_client import GraphQLClient

D = Decimal
ZONE = "America/Chicago"


async def paid(sessions: Any, vendor_id: uuid.UUID, *payments: tuple[str, date]) -> None:
    """One bill of the vendor and these payments on it."""
    bill_id = uuid.uuid4()
    async with sessions() as session, session.begin():
        total = sum((D(a) for a, _ in payments), D("0.00"))
        session.add(
            VendorBill(
                id=bill_id,
                number=f"BILL-{bill_id.hex[:10]}",
                vendor_id=vendor_id,
                bill_date=date(2025, 12, 1),
                terms="net_30",
                due_on=date(2025, 12, 31),
                subtotal=total,
                tax=D("0.00"),
                total=total,
                paid=total,
                status="paid",
            )
        )
        await session.flush()
        for amount, on in payments:
            session.add(
                BillPayment(
                    id=uuid.uuid4(),
                    bill_id=bill_id,
                    amount=D(amount),
                    paid_on=on,
                    method="ach",
                    idempotency_key=str(uuid.uuid4()),
                )
            )


async def test_paid_this_month_and_this_year_by_the_day_paid(sessions: Any) -> None:
    prairie, summit, idle = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    today = date(2026, 3, 15)
    await paid(
        sessions,
        prairie,
        ("100.00", date(2026, 3, 1)),  # this month
        ("40.00", today),  # today: this month
        ("250.00", date(2026, 2, 28)),  # this year only
        ("999.00", date(2025, 12, 31)),  # last year
        ("77.00", today + timedelta(days=1)),  # not yet
    )
    await paid(sessions, prairie, ("5.00", date(2026, 1, 1)))  # a second bill, this year
    await paid(sessions, summit, ("60.00", date(2026, 3, 2)))
    with counting() as recorder:
        async with sessions() as session:
            found = await vendor_paid.paid_to_vendors(session, [prairie, summit, idle], today)
    assert recorder.count == 1
    assert found == {
        prairie: vendor_paid.Paid(D("140.00"), D("395.00")),
        summit: vendor_paid.Paid(D("60.00"), D("60.00")),
        idle: vendor_paid.Paid(D("0.00"), D("0.00")),
    }


QUERY = """query($reps: [_Any!]!) { _entities(representations: $reps) {
  ... on Vendor { id payables { paidMonthToDate paidYearToDate } } } }"""


async def test_payables_paid_through_finance_one_statement_for_many_vendors(
    sessions: Any, finance_server: Any, http_client: Any, mint: Any
) -> None:
    today = operator_today(ZONE)
    vendors = [uuid.uuid4() for _ in range(4)]
    for vendor in vendors:
        await paid(sessions, vendor, ("30.00", today), ("20.00", today.replace(month=1, day=1)))
    caller = GraphQLClient(finance_server.graphql_url, http_client, await mint("accounting"))

    async def ask(ids: list[uuid.UUID]) -> int:
        reps = {"reps": [{"__typename": "Vendor", "id": str(v)} for v in ids]}
        with record_statements() as recorder:
            answer = (await caller(QUERY, reps)).ok()["_entities"]
        month = "50.00" if today.month == 1 else "30.00"
        assert [e["payables"] for e in answer] == [
            {"paidMonthToDate": month, "paidYearToDate": "50.00"}
        ] * len(ids)
        return len([s for s in recorder.statements if "bill_payments" in s])

    assert await ask(vendors[:1]) == await ask(vendors) == 1

    stranger = GraphQLClient(finance_server.graphql_url, http_client, await mint("dispatcher"))
    refused = await stranger(QUERY, {"reps": [{"__typename": "Vendor", "id": str(vendors[0])}]})
    assert refused.error_codes == ["FORBIDDEN"]
    assert refused.data["_entities"][0]["payables"] is None
