"""The demo tells a business's story on the reports and dashboards (issue 16): bookings spread
over the past year and some this month, prices that cover the vehicles' costs, charters shared
by the demo's sales agents, rated past trips, decided bids (the demo vendor wins one, loses one
and has an upcoming trip, a bill and a payment), and a QC backlog item older than this week.
Loaded twice: the second load adds nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text

from db.demo.__main__ import load_all
from subgraphs.kit.settings import get_settings

BOOKED = "('booked', 'confirmed', 'in_progress', 'completed')"


async def one(sessions: Any, statement: str, **params: Any) -> Any:
    async with sessions() as session:
        return (await session.execute(text(statement), params)).one()


async def test_the_demo_tells_a_year_of_business_and_loads_once(sessions: Any) -> None:
    await load_all()
    again = await load_all()
    now = datetime.now(UTC)
    zone = ZoneInfo(get_settings().operator_time_zone)
    local = now.astimezone(zone)
    month_start = datetime(local.year, local.month, 1, tzinfo=zone)

    # Bookings over the past year, past trips booked weeks ahead, some this month.
    months, this_month, late = await one(
        sessions,
        f"""SELECT count(DISTINCT date_trunc('month', booked_at)),
                   count(*) FILTER (WHERE booked_at >= :month_start),
                   count(*) FILTER (WHERE pickup_at < :now
                                    AND booked_at > pickup_at - interval '14 days')
            FROM charters.charters WHERE NOT is_template AND status IN {BOOKED}""",  # noqa: S608
        month_start=month_start, now=now,
    )  # fmt: skip
    assert months >= 6
    assert this_month >= 2
    assert late == 0, "past trips were booked weeks before their pickup"
    oldest = await one(
        sessions, "SELECT min(booked_at) FROM charters.charters WHERE booked_at IS NOT NULL"
    )
    assert now - timedelta(days=365) < oldest[0] < now - timedelta(days=200)

    # Finance's accepted prices are dated with the booking and cover the vehicles' cost.
    in_month, losses, price, cost = await one(
        sessions,
        f"""SELECT count(*) FILTER (WHERE accepted_at >= :month_start),
                   count(*) FILTER (WHERE accepted_total < vehicle_cost),
                   sum(accepted_total), sum(vehicle_cost)
            FROM finance.charter_facts WHERE status IN {BOOKED}
            AND accepted_total IS NOT NULL""",  # noqa: S608
        month_start=month_start,
    )  # fmt: skip
    assert 0 < in_month < 20
    assert losses == 0
    assert Decimal("0.30") < (price - cost) / price < Decimal("0.50")  # the margin

    # The three demo agents share the charters, and each books this month.
    agents, agents_this_month = await one(
        sessions,
        f"""SELECT count(DISTINCT sales_agent_id),
                   count(DISTINCT sales_agent_id) FILTER (WHERE booked_at >= :month_start)
            FROM charters.charters WHERE NOT is_template AND status IN {BOOKED}""",  # noqa: S608
        month_start=month_start,
    )  # fmt: skip
    assert (agents, agents_this_month) == (3, 3)

    # Past trips rated; bids decided; the demo vendor's won bid, upcoming trip, bill, payment.
    rated, rated_vendors = await one(
        sessions, "SELECT count(*), count(DISTINCT vendor_id) FROM vendors.ratings"
    )
    assert rated >= 5
    assert rated_vendors >= 3
    won, lost, pending = await one(
        sessions,
        """SELECT count(*) FILTER (WHERE status = 'accepted'),
                  count(*) FILTER (WHERE status = 'rejected'),
                  count(*) FILTER (WHERE status = 'submitted') FROM vendors.bids""",
    )
    assert won >= 2
    assert lost >= 2
    assert pending >= 1
    lone_won, lone_lost, upcoming, bills, paid = await one(
        sessions,
        """WITH v AS (SELECT vendor_id FROM vendors.vendor_users AS u
                      JOIN identity.users AS i ON i.id = u.user_id
                      WHERE i.email = 'vendor@demo.athena')
           SELECT (SELECT count(*) FROM vendors.bids WHERE status = 'accepted'
                   AND vendor_id IN (SELECT vendor_id FROM v)),
                  (SELECT count(*) FROM vendors.bids WHERE status = 'rejected'
                   AND vendor_id IN (SELECT vendor_id FROM v)),
                  (SELECT count(*) FROM vendors.vendor_assignments AS a
                   JOIN vendors.charter_facts AS c ON c.charter_id = a.charter_id
                   WHERE a.status = 'confirmed' AND c.pickup_at > :now
                   AND a.vendor_id IN (SELECT vendor_id FROM v)),
                  (SELECT count(*) FROM finance.vendor_bills
                   WHERE vendor_id IN (SELECT vendor_id FROM v)),
                  (SELECT coalesce(sum(p.amount), 0) FROM finance.bill_payments AS p
                   JOIN finance.vendor_bills AS b ON b.id = p.bill_id
                   WHERE b.vendor_id IN (SELECT vendor_id FROM v))""",
        now=now,
    )
    assert (lone_won, lone_lost) == (1, 1)
    assert upcoming >= 1
    assert bills >= 1
    assert paid > 0

    # The QC backlog holds something older than a week.
    older = await one(
        sessions,
        """SELECT count(*) FROM charters.change_cases
           WHERE status NOT IN ('implemented', 'cancelled') AND created_at < :week_ago""",
        week_ago=now - timedelta(days=7),
    )
    assert older[0] >= 1

    assert again == dict.fromkeys(again, 0), again
