"""The receivables reports, property-tested against a direct computation from the rows.

Hypothesis generates charters (status, pickup, price, cost, cancellation),
their plan instalments and what they paid (refunds may make it negative),
and checks: every total is the sum of its rows, each booked charter is in
exactly one payment class, nothing is counted twice, and each figure is
what a plain formula over the generated rows gives. The formula for what
payments leave uncovered of an instalment is the cumulative one,
clamp(sum of instalments up to it - paid, 0, amount), independent of the
service's running subtraction.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from db.engine import make_engine, session_factory
from subgraphs.finance.models import (
    CharterFact,
    ClientFact,
    Instalment,
    Payment,
    PaymentApplication,
    PaymentPlan,
)
from subgraphs.finance.service import (
    cancellations,
    charter_payment_status,
    check_log,
    dashboard_money,
    due_dates,
    outstanding_receivables,
    trips_by_agent,
    unearned_revenue,
)
from subgraphs.finance.service.charter_money import BOOKED, CharterMoney, Due, cover

ZONE = "America/Chicago"
NOW = datetime(2026, 11, 18, 15, 30, tzinfo=UTC)
TODAY = NOW.astimezone(ZoneInfo(ZONE)).date()
ZERO = Decimal("0.00")
CLIENTS = [uuid.UUID(int=n) for n in range(1, 4)]
AGENTS = [uuid.UUID(int=n) for n in range(11, 14)]
STATUSES = ("quote", *BOOKED, "cancelled")

money = st.decimals(min_value=ZERO, max_value=Decimal("9000.00"), places=2)


@st.composite
def charters(draw: st.DrawFn) -> list[CharterMoney]:
    out = []
    for n in range(draw(st.integers(0, 25))):
        dues = draw(st.lists(st.tuples(money, st.integers(-45, 45)), max_size=3))
        status = draw(st.sampled_from(STATUSES))
        cancelled = draw(st.none() | st.integers(0, 24 * 90)) if status == "cancelled" else None
        out.append(
            CharterMoney(
                charter_id=uuid.UUID(int=1000 + n),
                reference=f"CH-2026-{n:06d}",
                client_id=draw(st.sampled_from(CLIENTS)),
                client_name="",
                sales_agent_id=draw(st.none() | st.sampled_from(AGENTS)),
                status=status,
                pickup_at=NOW + timedelta(hours=draw(st.integers(-24 * 120, 24 * 120))),
                owed=draw(money),
                paid=draw(
                    st.decimals(
                        min_value=Decimal("-500.00"), max_value=Decimal("12000.00"), places=2
                    )
                ),
                instalments=tuple(
                    Due(i, "deposit" if i == 1 else "balance", amount, TODAY + timedelta(days=d))
                    for i, (amount, d) in enumerate(dues, start=1)
                ),
                vehicle_cost=draw(st.none() | money),
                accepted_at=NOW - timedelta(hours=draw(st.integers(-5, 24 * 60))),
                cancelled_at=NOW - timedelta(hours=cancelled) if cancelled is not None else None,
                cancellation_fee=draw(st.none() | money) if status == "cancelled" else None,
            )
        )
    return out


def uncovered(charter: CharterMoney) -> list[Decimal]:
    """Each instalment's unpaid part by the cumulative formula."""
    out, running = [], ZERO
    for due in charter.instalments:
        running += due.amount
        out.append(min(due.amount, max(running - charter.paid, ZERO)))
    return out


def overdue(charter: CharterMoney, today: date = TODAY) -> Decimal:
    late = sum(
        (
            m
            for m, d in zip(uncovered(charter), charter.instalments, strict=True)
            if d.due_on < today
        ),
        ZERO,
    )
    return min(late, max(charter.owed - charter.paid, ZERO))


def due_now(charter: CharterMoney, today: date = TODAY) -> Decimal:
    return sum(
        (
            m
            for m, d in zip(uncovered(charter), charter.instalments, strict=True)
            if d.due_on <= today
        ),
        ZERO,
    )


def booked(rows: list[CharterMoney]) -> list[CharterMoney]:
    """What the payment-status statement selects: booked (or later) with a price."""
    return [c for c in rows if c.status in BOOKED]


EXAMPLES = settings(max_examples=250, deadline=None)


@EXAMPLES
@given(charters())
def test_cover_agrees_with_the_cumulative_formula(rows):
    for charter in rows:
        coverage = cover(charter, TODAY)
        assert list(coverage.missing) == uncovered(charter)
        assert coverage.due == due_now(charter)
        assert coverage.overdue == overdue(charter)


@EXAMPLES
@given(charters())
def test_each_booked_charter_is_in_exactly_one_payment_class(rows):
    chosen = booked(rows)
    report = charter_payment_status.classify(chosen, TODAY)

    assert sorted(r.charter.charter_id for r in report) == sorted(c.charter_id for c in chosen)
    for row in report:
        c = row.charter
        expected = (
            "paid"
            if c.paid >= c.owed
            else "overdue"
            if overdue(c) > 0
            else "partially_paid"
            if c.paid > 0
            else "unpaid"
        )
        assert row.status == expected
        assert (row.due, row.overdue) == (due_now(c), overdue(c))
    counts = charter_payment_status.counts(report)
    assert sum(counts.values()) == len(chosen)
    assert counts == {
        s: sum(1 for c in chosen if next(r for r in report if r.charter is c).status == s)
        for s in charter_payment_status.STATUSES
    }
    totals = charter_payment_status.totals(report)
    assert totals.count == len(chosen)
    assert totals.owed == sum((c.owed for c in chosen), ZERO)
    assert totals.paid == sum((c.paid for c in chosen), ZERO)
    assert totals.outstanding == totals.owed - totals.paid
    assert totals.due == sum((due_now(c) for c in chosen), ZERO)
    assert totals.overdue == sum((overdue(c) for c in chosen), ZERO)
    zero = [r.charter.charter_id for r in report if r.status == "paid"]
    assert zero == [
        c.charter_id for c in sorted(chosen, key=lambda c: c.reference or "") if c.paid >= c.owed
    ]


@EXAMPLES
@given(charters())
def test_outstanding_by_client_sums_its_charters_and_the_totals_sum_the_clients(rows):
    report = charter_payment_status.classify(booked(rows), TODAY)
    clients = outstanding_receivables.by_client(report)

    assert len({c.client_id for c in clients}) == len(clients)
    for client in clients:
        mine = [c for c in booked(rows) if c.client_id == client.client_id]
        assert client.charters == len(mine)
        assert client.owed == sum((c.owed for c in mine), ZERO)
        assert client.paid == sum((c.paid for c in mine), ZERO)
        assert client.outstanding == client.owed - client.paid
        assert client.overdue == sum((overdue(c) for c in mine), ZERO)
    listed = {c.client_id for c in clients}
    for client_id in CLIENTS:
        if client_id not in listed:
            mine = [c for c in booked(rows) if c.client_id == client_id]
            assert sum((c.outstanding for c in mine), ZERO) == 0
            assert sum((overdue(c) for c in mine), ZERO) == 0
    totals = outstanding_receivables.totals(clients)
    assert totals.outstanding == sum((c.outstanding for c in booked(rows)), ZERO)
    assert totals.overdue == sum((overdue(c) for c in booked(rows)), ZERO)
    assert totals.owed == sum((c.owed for c in clients), ZERO)
    assert totals.paid == sum((c.paid for c in clients), ZERO)
    assert totals.charters == sum(c.charters for c in clients)


@EXAMPLES
@given(charters())
def test_unearned_revenue_is_money_received_for_trips_still_ahead(rows):
    report = unearned_revenue.unearned(rows, NOW)

    expected = {
        c.charter_id
        for c in rows
        if c.status != "cancelled" and c.pickup_at is not None and c.pickup_at > NOW and c.paid > 0
    }
    assert [r.pickup_at for r in report] == sorted(r.pickup_at for r in report)
    assert len(report) == len(expected) == len({r.charter_id for r in report})
    assert {r.charter_id for r in report} == expected
    assert unearned_revenue.total(report) == sum(
        (c.paid for c in rows if c.charter_id in expected), ZERO
    )


@EXAMPLES
@given(charters(), st.integers(0, 30))
def test_upcoming_due_dates_are_the_uncovered_instalments_in_the_window(rows, days):
    report = due_dates.upcoming(booked(rows), TODAY, days)

    expected = {
        (c.charter_id, d.sequence): m
        for c in booked(rows)
        for d, m in zip(c.instalments, uncovered(c), strict=True)
        if m > 0 and TODAY <= d.due_on <= TODAY + timedelta(days=days)
    }
    got = {(r.charter.charter_id, r.instalment.sequence): r.unpaid for r in report}
    assert len(got) == len(report)
    assert got == expected
    assert due_dates.total(report) == sum(expected.values(), ZERO)
    assert [r.instalment.due_on for r in report] == sorted(r.instalment.due_on for r in report)


@EXAMPLES
@given(charters(), st.integers(-100, 0), st.integers(0, 100))
def test_departed_trips_by_agent_and_month(rows, start_offset, length):
    start = TODAY + timedelta(days=start_offset)
    end = start + timedelta(days=length)
    report = trips_by_agent.by_agent_and_month(rows, NOW, ZONE, start, end)

    zone = ZoneInfo(ZONE)
    departed = [
        c
        for c in rows
        if c.status in BOOKED
        and c.cancelled_at is None
        and c.pickup_at is not None
        and c.pickup_at < NOW
        and start <= c.pickup_at.astimezone(zone).date() <= end
    ]
    assert len({(r.agent_id, r.month) for r in report}) == len(report)
    for row in report:
        mine = [
            c
            for c in departed
            if c.sales_agent_id == row.agent_id
            and c.pickup_at.astimezone(zone).strftime("%Y-%m") == row.month
        ]
        assert row.trips == len(mine) > 0
        assert row.revenue == sum((c.owed for c in mine), ZERO)
        assert row.cost == sum((c.vehicle_cost or ZERO for c in mine), ZERO)
        assert row.profit == row.revenue - row.cost
        assert row.uncosted == sum(c.vehicle_cost is None for c in mine)
    totals = trips_by_agent.totals(report)
    assert totals.trips == len(departed)
    assert totals.revenue == sum((c.owed for c in departed), ZERO)
    assert totals.profit == sum((c.owed - (c.vehicle_cost or ZERO) for c in departed), ZERO)


@EXAMPLES
@given(charters(), st.integers(-100, 0), st.integers(0, 100))
def test_cancellations_in_the_range_with_their_fees(rows, start_offset, length):
    start = TODAY + timedelta(days=start_offset)
    end = start + timedelta(days=length)
    report = cancellations.cancelled_between(rows, ZONE, start, end)

    zone = ZoneInfo(ZONE)
    expected = [
        c
        for c in rows
        if c.status == "cancelled"
        and c.cancelled_at is not None
        and start <= c.cancelled_at.astimezone(zone).date() <= end
    ]
    assert sorted(r.charter_id for r in report) == sorted(c.charter_id for c in expected)
    totals = cancellations.totals(report)
    assert totals.count == len(expected)
    assert totals.fees == sum((c.cancellation_fee or ZERO for c in expected), ZERO)
    assert totals.owed == sum((c.owed for c in expected), ZERO)
    assert totals.paid == sum((c.paid for c in expected), ZERO)


checks = st.lists(
    st.tuples(st.integers(0, 10), st.sampled_from(CLIENTS), money.filter(lambda m: m > 0)),
    max_size=40,
)


@EXAMPLES
@given(checks)
def test_the_check_log_puts_each_check_in_its_day_once(items):
    made = [
        check_log.Check(
            payment_id=uuid.UUID(int=5000 + n),
            received_on=TODAY - timedelta(days=d),
            number=str(100 + n),
            bank="First Bank",
            payer_id=client,
            payer="",
            amount=amount,
        )
        for n, (d, client, amount) in enumerate(items)
    ]
    days = check_log.by_day(made)

    assert [d.day for d in days] == sorted({c.received_on for c in made})
    seen = [c.payment_id for d in days for c in d.checks]
    assert sorted(seen) == sorted(c.payment_id for c in made)
    for day in days:
        mine = [c for c in made if c.received_on == day.day]
        assert day.count == len(mine)
        assert day.total == sum((c.amount for c in mine), ZERO)
    assert check_log.total(days) == (len(made), sum((c.amount for c in made), ZERO))


@EXAMPLES
@given(charters(), st.sets(st.sampled_from(CLIENTS)))
def test_the_dashboard_money_of_each_agent(rows, card_clients):
    found = dashboard_money.figures(rows, card_clients, NOW, ZONE)

    month_start = NOW.astimezone(ZoneInfo(ZONE)).replace(
        day=1, hour=0, minute=0, second=0, microsecond=0
    )
    for agent in AGENTS:
        mine = [c for c in rows if c.sales_agent_id == agent and c.status in BOOKED]
        this_month = [c for c in mine if c.accepted_at and month_start <= c.accepted_at <= NOW]
        figures = found.get(agent, dashboard_money.AgentMoney())
        assert figures.booked_revenue == sum((c.owed for c in this_month), ZERO)
        assert figures.profit == sum((c.owed - (c.vehicle_cost or ZERO) for c in this_month), ZERO)
        assert figures.non_card_due == sum(
            (due_now(c) for c in mine if c.client_id not in card_clients), ZERO
        )
    assert None not in found


def test_a_booking_across_the_month_edge_counts_in_the_operators_month():
    """00:30 UTC on the 1st is still the last day of the month before in Chicago."""
    agent = AGENTS[0]
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)

    def booked_at(at: datetime, owed: str) -> CharterMoney:
        return CharterMoney(
            charter_id=uuid.uuid4(),
            reference=None,
            client_id=CLIENTS[0],
            client_name="",
            sales_agent_id=agent,
            status="booked",
            pickup_at=now + timedelta(days=40),
            owed=Decimal(owed),
            paid=ZERO,
            vehicle_cost=Decimal("100.00"),
            accepted_at=at,
        )

    rows = [
        booked_at(datetime(2026, 12, 1, 0, 30, tzinfo=UTC), "500.00"),  # Nov 30, 18:30 local
        booked_at(datetime(2026, 12, 1, 6, 30, tzinfo=UTC), "700.00"),  # Dec 1, 00:30 local
    ]
    figures = dashboard_money.figures(rows, set(), now, ZONE)[agent]
    assert (figures.booked_revenue, figures.profit) == (Decimal("700.00"), Decimal("600.00"))


# --- the same, through PostgreSQL: what the statements read is what was written ----------

applications = st.lists(
    st.tuples(
        st.decimals(min_value=Decimal("0.01"), max_value=Decimal("4000.00"), places=2),
        st.booleans(),  # still applied (False: unapplied, must not count)
    ),
    max_size=3,
)


@st.composite
def ledgers(draw: st.DrawFn) -> tuple[list[CharterMoney], list[tuple[uuid.UUID, Decimal, bool]]]:
    """Charters with plans, and payments applied to them (some unapplied again)."""
    made, applied = [], []
    for charter in draw(charters()):
        parts = draw(applications)
        applied += [(charter.charter_id, amount, live) for amount, live in parts]
        paid = sum((amount for amount, live in parts if live), ZERO)
        name = f"Client {charter.client_id.int}" if charter.client_id else ""
        made.append(replace(charter, paid=paid, client_name=name))
    return made, applied


async def _through_postgresql(url: str, rows: list[CharterMoney], parts: list[Any]) -> None:
    engine = make_engine(url, pool_size=1)
    try:
        async with session_factory(engine)() as session, session.begin():
            await session.execute(
                text(
                    "TRUNCATE finance.payment_applications, finance.payments,"
                    " finance.plan_instalments, finance.payment_plans, finance.charter_facts,"
                    " finance.client_facts, finance.saved_payment_methods CASCADE"
                )
            )
            session.add_all(
                ClientFact(client_id=c, name=f"Client {c.int}", as_of=NOW) for c in CLIENTS
            )
            for c in rows:
                session.add(
                    CharterFact(
                        charter_id=c.charter_id,
                        reference=c.reference,
                        client_id=c.client_id,
                        sales_agent_id=c.sales_agent_id,
                        status=c.status,
                        pickup_at=c.pickup_at,
                        as_of=NOW,
                        accepted_total=c.owed,
                        accepted_at=c.accepted_at,
                        vehicle_cost=c.vehicle_cost,
                        cancelled_at=c.cancelled_at,
                        cancellation_fee=c.cancellation_fee,
                    )
                )
                if c.instalments:
                    total = sum((d.amount for d in c.instalments), ZERO)
                    session.add(PaymentPlan(charter_id=c.charter_id, total=total))
            await session.flush()
            for c in rows:
                session.add_all(
                    Instalment(
                        id=uuid.uuid4(),
                        charter_id=c.charter_id,
                        sequence=d.sequence,
                        kind=d.kind,
                        amount=d.amount,
                        due_on=d.due_on,
                    )
                    for d in c.instalments
                )
            payments = []
            for charter_id, amount, live in parts:
                payment = Payment(
                    id=uuid.uuid4(),
                    client_id=CLIENTS[0],
                    amount=amount,
                    applied=amount if live else ZERO,
                    received_on=TODAY,
                    method="wire",
                )
                payments.append((payment, charter_id, amount, live))
                session.add(payment)
            await session.flush()
            session.add_all(
                PaymentApplication(
                    id=uuid.uuid4(),
                    payment_id=payment.id,
                    charter_id=charter_id,
                    amount=amount,
                    idempotency_key=str(uuid.uuid4()),
                    unapplied_at=None if live else NOW,
                )
                for payment, charter_id, amount, live in payments
            )
        async with session_factory(engine)() as session:
            status = await charter_payment_status.payment_status(session, TODAY)
            assert status == charter_payment_status.classify(booked(rows), TODAY)
            assert await charter_payment_status.zero_balance(session, TODAY) == [
                r for r in status if r.status == "paid"
            ]
            assert await outstanding_receivables.outstanding_receivables(
                session, TODAY
            ) == outstanding_receivables.by_client(status)
            assert await unearned_revenue.unearned_revenue(session, NOW) == (
                unearned_revenue.unearned(rows, NOW)
            )
            assert await due_dates.upcoming_due_dates(session, TODAY, 14) == due_dates.upcoming(
                booked(rows), TODAY, 14
            )
            start, end = TODAY - timedelta(days=130), TODAY
            assert await trips_by_agent.departed_trips(
                session, NOW, ZONE, start, end
            ) == trips_by_agent.by_agent_and_month(rows, NOW, ZONE, start, end)
            assert await cancellations.cancellations(
                session, ZONE, start, end
            ) == cancellations.cancelled_between(rows, ZONE, start, end)
            assert await dashboard_money.agent_money(session, AGENTS, NOW, ZONE) == {
                a: dashboard_money.figures(rows, set(), NOW, ZONE).get(
                    a, dashboard_money.AgentMoney()
                )
                for a in AGENTS
            }
    finally:
        await engine.dispose()


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ledgers())
def test_the_reports_read_from_postgresql_what_was_written(settings, ledger):
    """Each report's statements against rows written from the generated ledger."""
    rows, parts = ledger
    asyncio.run(_through_postgresql(settings.database_url, rows, parts))
