"""Paying vendor bills: never more than a bill owes, never twice for one key (issue 12 §4).

Service-level on the real database, each payment in its own transaction,
the concurrent ones started together: what the bill's row lock must hold
however the requests interleave.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from subgraphs.finance.models import BillPayment, FinanceAudit, SyncRecord, VendorBill
from subgraphs.finance.reports.common import today as operator_today
from subgraphs.finance.service import bills
from subgraphs.kit.errors import ServiceError
from subgraphs.kit.settings import get_settings
from tests.finance.test_bills import ACCOUNTING, MANAGER, TODAY, enter, make_vendor, refused
from tests.support.graphql_client import GraphQLClient


async def approved_bill(sessions: Any, total: str, *, approve: bool = True) -> uuid.UUID:
    vendor = await make_vendor(sessions)
    bill = await enter(sessions, bills.BillInput(vendor, Decimal(total), TODAY))
    if approve:
        async with sessions() as session, session.begin():
            await bills.approve(session, bill.id, MANAGER)
    return bill.id


def pay(bill_id: uuid.UUID, amount: str, key: str | None = None, **extra: Any) -> Any:
    given = bills.BillPaymentInput(
        bill_id=bill_id,
        amount=Decimal(amount),
        paid_on=extra.pop("paid_on", TODAY),
        method=extra.pop("method", "ach"),
        idempotency_key=key or str(uuid.uuid4()),
        **extra,
    )
    return lambda session: bills.record_payment(session, given, ACCOUNTING, TODAY)


async def run(sessions: Any, work: Any) -> Any:
    async with sessions() as session, session.begin():
        return await work(session)


async def state(sessions: Any, bill_id: uuid.UUID) -> tuple[Decimal, str, Decimal, int]:
    async with sessions() as session:
        bill = await session.get(VendorBill, bill_id)
        assert bill is not None
        summed = await session.scalar(
            select(func.coalesce(func.sum(BillPayment.amount), 0)).where(
                BillPayment.bill_id == bill_id
            )
        )
        count = await session.scalar(
            select(func.count()).select_from(BillPayment).where(BillPayment.bill_id == bill_id)
        )
    return bill.paid, bill.status, Decimal(summed), int(count or 0)


async def test_partial_then_full_payment_moves_the_bill_and_is_audited_and_synced(sessions):
    bill_id = await approved_bill(sessions, "500.00")

    first = await run(sessions, pay(bill_id, "200.00", method="check", check_number="4411"))
    after_first = await state(sessions, bill_id)
    await run(sessions, pay(bill_id, "300.00", method="card", card_last_four="4242"))

    assert first.details == {"checkNumber": "4411"}
    assert after_first == (Decimal("200.00"), "partially_paid", Decimal("200.00"), 1)
    assert await state(sessions, bill_id) == (Decimal("500.00"), "paid", Decimal("500.00"), 2)
    async with sessions() as session:
        paid_audits = await session.scalar(
            select(func.count())
            .select_from(FinanceAudit)
            .where(FinanceAudit.entity == "bill_payment", FinanceAudit.action == "pay")
        )
        pending = (
            await session.scalars(
                select(SyncRecord.entity).where(
                    SyncRecord.entity_id == bill_id, SyncRecord.status == "pending"
                )
            )
        ).all()
    assert paid_audits == 2
    assert pending == ["bill"]  # one pending record covers every change since


async def test_the_same_key_pays_once_and_another_payment_under_it_is_a_conflict(sessions):
    bill_id = await approved_bill(sessions, "500.00")

    first = await run(sessions, pay(bill_id, "120.00", "bank-run-7"))
    again = await run(sessions, pay(bill_id, "120.00", "bank-run-7"))
    other = await refused(sessions, pay(bill_id, "99.00", "bank-run-7"))

    assert again.id == first.id
    assert other == [("idempotencyKey", "CONFLICT")]
    assert await state(sessions, bill_id) == (
        Decimal("120.00"),
        "partially_paid",
        Decimal("120.00"),
        1,
    )


async def test_more_than_the_bill_owes_is_refused_and_changes_nothing(sessions):
    bill_id = await approved_bill(sessions, "500.00")
    await run(sessions, pay(bill_id, "450.00"))

    problems = await refused(sessions, pay(bill_id, "50.01"))

    assert problems == [("amount", "EXCEEDS_BALANCE")]
    assert await state(sessions, bill_id) == (
        Decimal("450.00"),
        "partially_paid",
        Decimal("450.00"),
        1,
    )


async def test_only_approved_bills_take_money(sessions):
    received = await approved_bill(sessions, "100.00", approve=False)
    disputed = await approved_bill(sessions, "100.00")
    await run(sessions, lambda s: bills.dispute(s, disputed, "Short trip", ACCOUNTING))
    paid = await approved_bill(sessions, "100.00")
    await run(sessions, pay(paid, "100.00"))

    outcomes = [await refused(sessions, pay(b, "1.00")) for b in (received, disputed, paid)]

    assert outcomes == [[("billId", "NOT_PAYABLE")]] * 3
    assert [(await state(sessions, b))[0] for b in (received, disputed, paid)] == [
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("100.00"),
    ]


async def test_an_overdue_bill_partly_paid_stays_overdue_until_paid(sessions):
    bill_id = await approved_bill(sessions, "100.00")
    async with sessions() as session, session.begin():
        bill = await session.get(VendorBill, bill_id)
        assert bill is not None
        bill.due_on = TODAY - timedelta(days=5)
    await run(sessions, lambda s: bills.mark_overdue(s, TODAY))

    await run(sessions, pay(bill_id, "30.00"))
    partly = await state(sessions, bill_id)
    await run(sessions, pay(bill_id, "70.00"))

    assert partly[:2] == (Decimal("30.00"), "overdue")
    assert (await state(sessions, bill_id))[:2] == (Decimal("100.00"), "paid")


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ({"method": "check"}, ("checkNumber", "REQUIRED")),
        ({"method": "card"}, ("cardLastFour", "REQUIRED")),
        ({"method": "card", "card_last_four": "42a2"}, ("cardLastFour", "INVALID")),
        ({"paid_on": TODAY + timedelta(days=1)}, ("paidOn", "IN_THE_FUTURE")),
        ({"method": "cash"}, ("method", "INVALID")),
    ],
)
async def test_bad_payment_input_names_its_field(sessions, extra, problem):
    bill_id = await approved_bill(sessions, "100.00")

    problems = await refused(sessions, pay(bill_id, "10.00", **extra))

    assert problems == [problem]
    assert await state(sessions, bill_id) == (Decimal("0.00"), "approved", Decimal("0"), 0)


async def test_three_decimals_and_zero_are_refused(sessions):
    bill_id = await approved_bill(sessions, "100.00")

    assert await refused(sessions, pay(bill_id, "10.005")) == [("amount", "INVALID")]
    assert await refused(sessions, pay(bill_id, "0.00")) == [("amount", "OUT_OF_RANGE")]


async def _attempt(sessions: Any, work: Any) -> str:
    try:
        await run(sessions, work)
    except ServiceError as error:
        return str(error.problems[0].code)
    return "paid"


@pytest.mark.slow
async def test_ten_concurrent_partial_payments_leave_an_exact_balance(sessions):
    bill_id = await approved_bill(sessions, "1000.00")

    outcomes = await asyncio.gather(*(_attempt(sessions, pay(bill_id, "37.25")) for _ in range(10)))

    assert outcomes == ["paid"] * 10
    assert await state(sessions, bill_id) == (
        Decimal("372.50"),
        "partially_paid",
        Decimal("372.50"),
        10,
    )


@pytest.mark.slow
async def test_twenty_concurrent_payments_that_exceed_the_bill_pay_exactly_what_it_owes(sessions):
    bill_id = await approved_bill(sessions, "1000.00")

    outcomes = await asyncio.gather(*(_attempt(sessions, pay(bill_id, "75.00")) for _ in range(20)))

    # 13 x 75 = 975 fit; a 14th would make 1,050.
    assert sorted(outcomes) == ["EXCEEDS_BALANCE"] * 7 + ["paid"] * 13
    assert await state(sessions, bill_id) == (
        Decimal("975.00"),
        "partially_paid",
        Decimal("975.00"),
        13,
    )
    await run(sessions, pay(bill_id, "25.00"))
    assert await state(sessions, bill_id) == (Decimal("1000.00"), "paid", Decimal("1000.00"), 14)


@pytest.mark.slow
async def test_twenty_concurrent_resends_of_one_key_pay_once(sessions):
    bill_id = await approved_bill(sessions, "1000.00")

    outcomes = await asyncio.gather(
        *(_attempt(sessions, pay(bill_id, "60.00", "one-key")) for _ in range(20))
    )

    assert outcomes == ["paid"] * 20  # each answered with the one payment made
    assert await state(sessions, bill_id) == (
        Decimal("60.00"),
        "partially_paid",
        Decimal("60.00"),
        1,
    )


PAY = """mutation($input: RecordBillPaymentInput!) {
  recordBillPayment(input: $input) {
    payment { amount method checkNumber } bill { status paid balance payments { amount } }
    userErrors { field code }
  }
}"""


async def test_through_the_subgraph_accounting_pays_and_a_vendor_may_not(
    sessions, finance_server, http_client, mint
):
    bill_id = await approved_bill(sessions, "800.00")
    accounting = GraphQLClient(finance_server.graphql_url, http_client, await mint("accounting"))
    vendor = GraphQLClient(finance_server.graphql_url, http_client, await mint("vendor"))
    payment = {
        "billId": str(bill_id),
        "amount": "300.00",
        "paidOn": operator_today(get_settings().operator_time_zone).isoformat(),
        "method": "CHECK",
        "checkNumber": "1007",
        "idempotencyKey": "gql-1",
    }

    paid = (await accounting(PAY, {"input": payment})).ok()["recordBillPayment"]
    too_much = (
        await accounting(PAY, {"input": {**payment, "amount": "500.01", "idempotencyKey": "g2"}})
    ).ok()["recordBillPayment"]
    forbidden = await vendor(PAY, {"input": {**payment, "idempotencyKey": "g3"}})

    assert paid == {
        "payment": {"amount": "300.00", "method": "CHECK", "checkNumber": "1007"},
        "bill": {
            "status": "PARTIALLY_PAID",
            "paid": "300.00",
            "balance": "500.00",
            "payments": [{"amount": "300.00"}],
        },
        "userErrors": [],
    }
    assert too_much == {
        "payment": None,
        "bill": None,
        "userErrors": [{"field": "amount", "code": "EXCEEDS_BALANCE"}],
    }
    assert forbidden.error_codes == ["FORBIDDEN"]
    assert (await state(sessions, bill_id))[0] == Decimal("300.00")
