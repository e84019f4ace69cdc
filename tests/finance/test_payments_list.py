"""`payments(from, to, method)`: the payments received in a window, newest first.

A payment carries the operator day it was received, so a window of instants
takes the days whose midnight (operator's time zone) lies in `[from, to)`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from db.engine import record_statements
from subgraphs.finance.models import Payment
from subgraphs.finance.service import payments_list
from tests.finance.test_charter_payment_status import ZONE, Books, write
from tests.support.graphql_client import GraphQLClient

CHICAGO = ZoneInfo(ZONE)
D = Decimal
DAY = date(2026, 3, 10)  # the window's days: March 10 to 12; DST starts on March 8


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=CHICAGO)


def test_a_window_takes_the_days_whose_midnight_lies_in_it() -> None:
    assert payments_list.first_day_from(midnight(DAY), ZONE) == DAY
    assert payments_list.first_day_from(midnight(DAY) + timedelta(seconds=1), ZONE) == DAY + (
        timedelta(days=1)
    )
    # 03:00 UTC on the 10th is still the 9th in Chicago: the 10th's midnight is the next one.
    assert payments_list.first_day_from(datetime(2026, 3, 10, 3, 0, tzinfo=UTC), ZONE) == DAY


def test_the_window_defaults_to_the_30_days_to_now_and_must_not_be_empty() -> None:
    now = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
    assert payments_list.window(None, None, now) == (now - timedelta(days=30), now)
    start = now - timedelta(days=2)
    assert payments_list.window(start, None, now) == (start, now)
    with pytest.raises(ValueError, match="to"):
        payments_list.window(now, now, now)


def ledger(b: Books) -> dict[str, uuid.UUID]:
    client = b.client("Lakeside")
    paid = b.payment(client, "900.00", {}, method="check", received_on=DAY)
    return {
        "before": b.payment(client, "100.00", {}, received_on=DAY - timedelta(days=1)),
        "first": paid,
        "card": b.payment(client, "250.00", {}, method="card", received_on=DAY + timedelta(1)),
        "refund": b.payment(client, "-50.00", {}, received_on=DAY + timedelta(2), refund_of=paid),
        "failed": b.payment(client, "75.00", {}, method="card", received_on=DAY),
        "after": b.payment(client, "60.00", {}, received_on=DAY + timedelta(days=3)),
    }


async def _fail(sessions: Any, payment_id: uuid.UUID) -> None:
    async with sessions() as session, session.begin():
        await session.execute(
            update(Payment).where(Payment.id == payment_id).values(provider_status="failed")
        )


async def test_the_window_newest_first_refunds_in_failed_charges_out(sessions: Any) -> None:
    made = await write(sessions, ledger)
    await _fail(sessions, made["failed"])
    start, end = midnight(DAY), midnight(DAY + timedelta(days=3))
    async with sessions() as session:
        page = await payments_list.payments_received(session, start, end, ZONE)
        cards = await payments_list.payments_received(session, start, end, ZONE, ["card"])
        first = await payments_list.payments_received(session, start, end, ZONE, first=2)
        rest = await payments_list.payments_received(
            session, start, end, ZONE, first=2, after=first.page_info.end_cursor
        )

    assert [e.node.id for e in page.edges] == [made["refund"], made["card"], made["first"]]
    assert page.total_count == 3
    assert sum((e.node.amount for e in page.edges), D(0)) == D("1100.00")
    assert [e.node.id for e in cards.edges] == [made["card"]]
    assert [e.node.id for e in first.edges + rest.edges] == [e.node.id for e in page.edges]
    assert first.page_info.has_next_page
    assert not rest.page_info.has_next_page


PAGE = """query($from: DateTime, $to: DateTime, $method: [PaymentMethod!]) {
  payments(from: $from, to: $to, method: $method) {
    totalCount edges { node { id amount method receivedOn accountingSync { status } } }
  }
}"""


async def test_payments_through_finance(
    sessions: Any, finance_server: Any, http_client: Any, mint: Any
) -> None:
    made = await write(sessions, ledger)
    caller = GraphQLClient(finance_server.graphql_url, http_client, await mint("accounting"))
    window = {
        "from": midnight(DAY).isoformat(),
        "to": midnight(DAY + timedelta(days=3)).isoformat(),
    }
    answer = (await caller(PAGE, {**window, "method": ["CHECK", "WIRE"]})).ok()["payments"]
    assert answer["totalCount"] == 2  # the card charges are not asked for
    assert [e["node"] for e in answer["edges"]] == [
        {
            "id": str(made["refund"]),
            "amount": "-50.00",
            "method": "WIRE",
            "receivedOn": (DAY + timedelta(days=2)).isoformat(),
            "accountingSync": None,
        },
        {
            "id": str(made["first"]),
            "amount": "900.00",
            "method": "CHECK",
            "receivedOn": DAY.isoformat(),
            "accountingSync": None,
        },
    ]

    empty = await caller(PAGE, {"from": window["to"], "to": window["from"]})
    assert empty.error_codes == ["BAD_USER_INPUT"]

    support = GraphQLClient(finance_server.graphql_url, http_client, await mint("sales_support"))
    assert (await support(PAGE, window)).error_codes == ["FORBIDDEN"]


async def test_the_statements_do_not_grow_with_the_payments(
    sessions: Any, finance_server: Any, http_client: Any, mint: Any
) -> None:
    caller = GraphQLClient(finance_server.graphql_url, http_client, await mint("manager"))

    def many(n: int) -> Any:
        def build(b: Books) -> None:
            client = b.client("Lakeside")
            for _ in range(n):
                b.payment(client, "10.00", {}, received_on=DAY)

        return build

    async def statements(expected: int) -> int:
        variables = {
            "from": midnight(DAY).isoformat(),
            "to": midnight(DAY + timedelta(1)).isoformat(),
        }
        with record_statements() as recorder:
            answer = (await caller(PAGE, variables)).ok()["payments"]
        assert len(answer["edges"]) == expected
        return len([s for s in recorder.statements if "finance." in s])

    await write(sessions, many(2))
    few = await statements(2)
    await write(sessions, many(6))
    assert await statements(8) == few
