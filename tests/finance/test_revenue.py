"""The one revenue definition (`service/revenue.py`) and the operator's month to date.

Booked price, cost, profit and margin over a set of charters; the agents'
dashboard figures, `Charter.profit` and `revenueMonthToDate` all read it, so
the operator's month is checked against the agents' figures here.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import update

from db.engine import in_request, record_statements
from subgraphs.finance.models import Payment
from subgraphs.finance.service import dashboard_money, revenue
from subgraphs.finance.service.revenue import Booking, Revenue
from tests.finance.test_charter_payment_status import ZONE, Books, write
from tests.support.graphql_client import GraphQLClient

D = Decimal


def test_only_booked_charters_with_a_price_count_and_an_unknown_cost_is_zero() -> None:
    rows = [
        Booking("booked", D("1000.00"), D("400.00")),
        Booking("confirmed", D("500.00"), None),  # cost unknown: 0
        Booking("in_progress", D("200.00"), D("50.00")),
        Booking("completed", D("300.00"), D("300.00")),
        Booking("quote", D("9000.00"), D("1.00")),
        Booking("cancelled", D("8000.00"), D("1.00")),
        Booking("booked", None, D("70.00")),  # no accepted price yet
    ]
    figures = revenue.revenue(rows)
    assert (figures.price, figures.cost, figures.profit) == (
        D("2000.00"),
        D("750.00"),
        D("1250.00"),
    )
    assert figures.margin == D("0.6250")
    assert revenue.of_charter(rows[1]) == Revenue(D("500.00"), D("0.00"))
    assert revenue.of_charter(rows[4]) is None
    assert revenue.of_charter(rows[5]) is None
    assert revenue.of_charter(rows[6]) is None


def test_the_margin_has_four_places_rounded_half_up_and_none_over_nothing() -> None:
    assert Revenue(D("3.00"), D("1.00")).margin == D("0.6667")
    # 1 / 20000 = 0.00005 exactly: half up gives 0.0001 (half even would give 0.0000).
    assert Revenue(D("20000.00"), D("19999.00")).margin == D("0.0001")
    assert Revenue(D("100.00"), D("150.00")).margin == D("-0.5000")  # a loss
    assert Revenue(D("0.00"), D("10.00")).margin is None
    assert Revenue().margin is None


def test_month_to_date_starts_at_the_operators_midnight_and_ends_now() -> None:
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)  # 06:00 in Chicago

    def at(when: datetime, price: str) -> Booking:
        return Booking("booked", D(price), D("100.00"), when)

    rows = [
        at(datetime(2026, 12, 1, 0, 30, tzinfo=UTC), "500.00"),  # Nov 30, 18:30 local
        at(datetime(2026, 12, 1, 6, 0, tzinfo=UTC), "700.00"),  # Dec 1, 00:00 local: counts
        at(datetime(2026, 12, 1, 12, 0, tzinfo=UTC), "40.00"),  # now: counts
        at(datetime(2026, 12, 1, 12, 0, 1, tzinfo=UTC), "3.00"),  # after now
        Booking("booked", D("9.00"), None, None),  # never accepted
    ]
    figures = revenue.month_to_date(rows, now, ZONE)
    assert (figures.price, figures.profit) == (D("740.00"), D("540.00"))
    assert revenue.month_start(now, ZONE) == datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


SAM, KIM = uuid.uuid4(), uuid.uuid4()


def month(b: Books) -> dict[str, Any]:
    """A month of bookings and money, with what must not count beside what must."""
    client = b.client("Lakeside")
    now = b.now
    start = revenue.month_start(now, ZONE)
    counted = [
        b.charter(client, "M-1", "3000.00", agent_id=SAM, accepted_at=now, vehicle_cost=D("1800")),
        b.charter(client, "M-2", "999.00", agent_id=KIM, accepted_at=start, status="completed"),
        b.charter(client, "M-3", "400.00", accepted_at=now, vehicle_cost=D("100.00")),  # no agent
    ]
    # An earlier month, cancelled, a quote, not yet accepted: none counts.
    b.charter(client, "X-1", "5000.00", agent_id=SAM, accepted_at=start - timedelta(seconds=1))
    b.charter(client, "X-2", "9000.00", agent_id=SAM, accepted_at=now, status="cancelled")
    b.charter(client, "X-3", "7000.00", agent_id=KIM, accepted_at=now, status="quote")
    b.charter(client, "X-4", None, agent_id=KIM)
    first_day = start.date()
    paid = b.payment(client, "1200.00", {}, received_on=first_day)
    b.payment(client, "300.00", {}, method="check")
    b.payment(client, "-200.00", {}, received_on=b.day, refund_of=paid)  # netted
    b.payment(client, "800.00", {}, received_on=first_day - timedelta(days=1))  # last month
    failed = b.payment(client, "650.00", {}, method="card")
    return {"counted": counted, "failed": failed}


@contextmanager
def counting() -> Iterator[Any]:
    token = in_request.set(True)
    try:
        with record_statements() as recorder:
            yield recorder
    finally:
        in_request.reset(token)


async def _fail(sessions: Any, payment_id: uuid.UUID) -> None:
    async with sessions() as session, session.begin():
        await session.execute(
            update(Payment).where(Payment.id == payment_id).values(provider_status="failed")
        )


async def test_the_operators_month_is_the_agents_figures_together_and_the_money_in(
    sessions: Any,
) -> None:
    made = await write(sessions, month)
    await _fail(sessions, made["failed"])
    now = datetime.now(UTC)
    with counting() as recorder:
        async with sessions() as session:
            figures = await revenue.operator_month(session, now, ZONE)
    assert recorder.count == 2  # the month's bookings, the money in: however many rows

    assert figures.since == revenue.month_start(now, ZONE)
    assert (figures.booked.price, figures.booked.cost) == (D("4399.00"), D("1900.00"))
    assert figures.booked.profit == D("2499.00")
    assert figures.collected == D("1300.00")  # 1200 + 300 - 200; last month's and failed aside

    # The same definition as the agents' dashboard: their figures plus the agentless charter.
    async with sessions() as session:
        agents = await dashboard_money.agent_money(session, [SAM, KIM], now, ZONE)
    assert sum((a.booked_revenue for a in agents.values()), D(0)) + D("400.00") == (
        figures.booked.price
    )
    assert sum((a.profit for a in agents.values()), D(0)) + D("300.00") == figures.booked.profit


async def test_revenue_month_to_date_through_finance(
    sessions: Any, finance_server: Any, http_client: Any, mint: Any
) -> None:
    await write(sessions, month)
    query = "{ revenueMonthToDate { booked profit collected since } }"
    manager = GraphQLClient(finance_server.graphql_url, http_client, await mint("manager"))
    answer = (await manager(query)).ok()["revenueMonthToDate"]
    # The failed charge was not failed here: it counts as money in.
    assert answer["booked"] == "4399.00"
    assert answer["profit"] == "2499.00"
    assert answer["collected"] == "1950.00"
    since = datetime.fromisoformat(answer["since"])
    assert since == revenue.month_start(datetime.now(UTC), ZONE)

    support = GraphQLClient(finance_server.graphql_url, http_client, await mint("sales_support"))
    refused = await support(query)
    assert refused.error_codes == ["FORBIDDEN"]
    assert refused.data is None
