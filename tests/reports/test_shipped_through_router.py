"""Every shipped report run through the real router over the demo data, each figure compared
to the cent with a direct SQL computation over the owning subgraph's tables."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select, text

from db.demo.__main__ import load_all
from subgraphs.charters.models import Charter
from subgraphs.finance.app import create_app as create_finance_app
from subgraphs.finance.models import Payment, PaymentApplication
from subgraphs.identity.models import User
from subgraphs.kit.settings import Settings
from subgraphs.pricing.app import create_app as create_pricing_app
from subgraphs.pricing.models import QuoteCalculation
from subgraphs.reports.models import ReportTemplate
from subgraphs.reports.service import runner, shipped
from subgraphs.reports.service.graph_port import HttpGraph
from subgraphs.vendors.models import Certification, Vendor
from tests.support.live_server import LiveServer, serve
from tests.support.router import serve_router
from tests.support.tokens import TokenMinter

BOOKED = ("booked", "confirmed", "in_progress", "completed")
CENT = Decimal("0.01")
BUCKETS = ("current", "days1To30", "days31To60", "days61To90", "days91To120", "over120", "total")


@pytest.fixture(scope="module")
async def shipped_pricing(subgraph_settings: Settings) -> AsyncIterator[LiveServer]:
    async with serve(create_pricing_app(subgraph_settings)) as server:
        yield server


@pytest.fixture(scope="module")
async def shipped_finance(subgraph_settings: Settings) -> AsyncIterator[LiveServer]:
    async with serve(create_finance_app(subgraph_settings)) as server:
        yield server


@pytest.fixture
async def graph_url(
    subgraph_settings: Settings, identity_server: LiveServer, charters_server: LiveServer,
    vendors_server: LiveServer, shipped_pricing: LiveServer, shipped_finance: LiveServer,
    tmp_path: Path,
) -> AsyncIterator[str]:  # fmt: skip
    urls = {
        "identity": identity_server.graphql_url,
        "charters": charters_server.graphql_url,
        "vendors": vendors_server.graphql_url,
        "pricing": shipped_pricing.graphql_url,
        "finance": shipped_finance.graphql_url,
    }
    async with serve_router(subgraph_settings.jwks_url, urls, tmp_path) as router:
        yield router.graphql_url


async def run(
    sessions: Any, key: str, token: str, graph: HttpGraph, given: dict[str, Any] | None = None
) -> runner.Outcome:
    async with sessions() as session:
        template = await session.scalar(select(ReportTemplate).where(ReportTemplate.key == key))
    assert template is not None
    parameters = runner.resolve_parameters(template, given, datetime.now(UTC), "America/Chicago")
    outcome = await runner.execute(
        template, parameters, graph=graph, authorization=f"Bearer {token}"
    )
    assert outcome.status == runner.SUCCEEDED, outcome.error
    return outcome


def money(value: Decimal | None) -> str:
    return str((value or Decimal(0)).quantize(CENT, rounding=ROUND_HALF_UP))


def sums_of(rows: list[tuple[Any, ...]], first: int, keys: list[str]) -> dict[str, Any]:
    """The totals a run should carry: column i (from `first`) of every expected row, summed."""
    out: dict[str, Any] = {}
    for i, key in enumerate(keys, start=first):
        cells = [r[i] for r in rows]
        if all(isinstance(c, int) for c in cells):
            out[f"sum({key})"] = sum(cells)
        else:
            out[f"sum({key})"] = money(sum((Decimal(c) for c in cells), Decimal(0)))
    return out


async def sql(sessions: Any, statement: str, **params: Any) -> list[tuple[Any, ...]]:
    async with sessions() as session:
        return [tuple(r) for r in await session.execute(text(statement), params)]


def as_money(rows: list[tuple[Any, ...]], first: int) -> list[tuple[Any, ...]]:
    """Rows with every cell from `first` on as money (ints, counts, stay ints)."""
    return [(*r[:first], *(c if isinstance(c, int) else money(c) for c in r[first:])) for r in rows]


# The aging buckets as finance defines them (days past the due date on the day): SQL's own.
AGING_SQL = """
SELECT coalesce(n.name, '') AS name,
  sum(o) FILTER (WHERE d <= 0), sum(o) FILTER (WHERE d BETWEEN 1 AND 30),
  sum(o) FILTER (WHERE d BETWEEN 31 AND 60), sum(o) FILTER (WHERE d BETWEEN 61 AND 90),
  sum(o) FILTER (WHERE d BETWEEN 91 AND 120), sum(o) FILTER (WHERE d > 120), sum(o)
FROM (SELECT {party} AS party, CAST(:today AS date) - due_on AS d, total - paid AS o
      FROM finance.{table} WHERE status IN ({statuses}) AND total > paid) AS items
LEFT JOIN finance.{names} AS n ON n.{name_key} = items.party
GROUP BY items.party, n.name
"""

# Each booked charter with an accepted price, what it paid (live applications), and each plan
# instalment's uncovered part: payments spent on the instalments in their order.
CHARTER_MONEY_SQL = """
WITH owing AS (
  SELECT c.charter_id, c.reference, c.client_id, coalesce(cl.name, '') AS name,
         c.accepted_total AS owed,
         coalesce((SELECT sum(a.amount) FROM finance.payment_applications AS a
                   WHERE a.charter_id = c.charter_id AND a.unapplied_at IS NULL), 0) AS paid
  FROM finance.charter_facts AS c
  LEFT JOIN finance.client_facts AS cl ON cl.client_id = c.client_id
  WHERE c.status IN ('booked', 'confirmed', 'in_progress', 'completed')
    AND c.accepted_total IS NOT NULL
), missing AS (
  SELECT i.charter_id, i.sequence, i.kind, i.due_on, i.amount,
         greatest(i.amount - greatest(o.paid - coalesce(sum(i.amount) OVER (
           PARTITION BY i.charter_id ORDER BY i.sequence
           ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0), 0), 0) AS missing
  FROM finance.plan_instalments AS i JOIN owing AS o ON o.charter_id = i.charter_id
)
"""


async def check_finance_reports(
    sessions: Any, graph: HttpGraph, token: str, zone: str
) -> dict[str, int]:
    """The finance reports of #10, each run through the router and recomputed from finance's
    tables (not by finance's service functions); how many rows each compared."""
    now = datetime.now(UTC)
    today = now.astimezone(ZoneInfo(zone)).date()
    compared: dict[str, int] = {}

    async def check(
        key: str, expected: list[tuple[Any, ...]], pick: Any, sum_keys: list[str], first: int,
        given: dict[str, Any] | None = None, extra_totals: dict[str, Any] | None = None,
    ) -> runner.Outcome:  # fmt: skip
        outcome = await run(sessions, key, token, graph, given)
        assert sorted(map(pick, outcome.rows), key=str) == sorted(expected, key=str), key
        assert outcome.totals == {**(extra_totals or {}), **sums_of(expected, first, sum_keys)}
        compared[key] = len(expected)
        return outcome

    bucket_keys = [f"buckets.{b}" for b in BUCKETS]
    ar = await sql(
        sessions,
        AGING_SQL.format(
            party="client_id", table="invoices", statuses="'sent', 'partially_paid', 'overdue'",
            names="client_facts", name_key="client_id",
        ),
        today=today,
    )  # fmt: skip
    await check("finance_ar_aging", as_money(ar, 1), tuple, bucket_keys, 1)
    ap = await sql(
        sessions,
        AGING_SQL.format(
            party="vendor_id", table="vendor_bills",
            statuses="'received', 'approved', 'partially_paid', 'overdue', 'disputed'",
            names="vendor_facts", name_key="vendor_id",
        ),
        today=today,
    )  # fmt: skip
    await check("finance_ap_aging", as_money(ap, 1), tuple, bucket_keys, 1)

    payables = await sql(
        sessions,
        """SELECT coalesce(v.name, ''), sum(b.total), sum(b.paid), sum(b.total - b.paid),
                  coalesce(sum(b.total - b.paid) FILTER (WHERE b.status = 'overdue'), 0)
           FROM finance.vendor_bills AS b
           LEFT JOIN finance.vendor_facts AS v ON v.vendor_id = b.vendor_id
           GROUP BY b.vendor_id, v.name""",
    )
    await check(
        "finance_vendor_payables", as_money(payables, 1), tuple,
        ["billed", "paid", "owed", "overdue"], 1,
    )  # fmt: skip

    receivables = await sql(
        sessions,
        CHARTER_MONEY_SQL  # noqa: S608 (constants only)
        + """, per_charter AS (
          SELECT o.*, least(
            coalesce((SELECT sum(m.missing) FROM missing AS m
                      WHERE m.charter_id = o.charter_id AND m.due_on < :today), 0),
            greatest(o.owed - o.paid, 0)) AS overdue
          FROM owing AS o)
        SELECT name, CAST(count(*) AS integer), sum(owed), sum(paid), sum(owed - paid),
               sum(overdue)
        FROM per_charter GROUP BY client_id, name
        HAVING sum(owed - paid) <> 0 OR sum(overdue) <> 0""",
        today=today,
    )
    await check(
        "finance_outstanding_receivables", as_money(receivables, 1), tuple,
        ["charters", "owed", "paid", "outstanding", "overdue"], 1,
    )  # fmt: skip

    unearned = await sql(
        sessions,
        """SELECT c.reference, coalesce(cl.name, ''), coalesce(c.accepted_total, 0), p.paid
           FROM finance.charter_facts AS c
           LEFT JOIN finance.client_facts AS cl ON cl.client_id = c.client_id
           JOIN (SELECT charter_id, sum(amount) AS paid FROM finance.payment_applications
                 WHERE unapplied_at IS NULL GROUP BY charter_id) AS p
             ON p.charter_id = c.charter_id
           WHERE c.status <> 'cancelled' AND c.pickup_at > :now AND p.paid > 0""",
        now=now,
    )
    await check(
        "finance_unearned_revenue", as_money(unearned, 2),
        lambda r: (r[0], r[1], r[3], r[4]), ["owed", "received"], 2,
        extra_totals={"count(reference)": sum(r[0] is not None for r in unearned)},
    )  # fmt: skip

    # Departed trips: a year back, so the demo's past trips are in whatever month this runs.
    since = today - timedelta(days=365)
    trips = await sql(
        sessions,
        """SELECT u.name, to_char(c.pickup_at AT TIME ZONE :zone, 'YYYY-MM') AS month,
                  CAST(count(*) AS integer), sum(coalesce(c.accepted_total, 0)),
                  sum(coalesce(c.vehicle_cost, 0)),
                  sum(coalesce(c.accepted_total, 0) - coalesce(c.vehicle_cost, 0)),
                  CAST(count(*) FILTER (WHERE c.vehicle_cost IS NULL) AS integer)
           FROM finance.charter_facts AS c
           LEFT JOIN identity.users AS u ON u.id = c.sales_agent_id
           WHERE c.status IN ('booked', 'confirmed', 'in_progress', 'completed')
             AND c.cancelled_at IS NULL AND c.pickup_at < :now
             AND CAST(c.pickup_at AT TIME ZONE :zone AS date) BETWEEN :since AND :today
           GROUP BY c.sales_agent_id, u.name, month""",
        zone=zone, now=now, since=since, today=today,
    )  # fmt: skip
    await check(
        "finance_departed_trips_by_agent", as_money(trips, 2), tuple,
        ["trips", "revenue", "cost", "profit", "uncosted"], 2,
        given={"from": since.isoformat(), "to": today.isoformat()},
    )  # fmt: skip

    cancelled = await sql(
        sessions,
        """SELECT c.reference, coalesce(cl.name, ''), coalesce(c.accepted_total, 0),
                  coalesce(c.cancellation_fee, 0),
                  coalesce((SELECT sum(a.amount) FROM finance.payment_applications AS a
                            WHERE a.charter_id = c.charter_id AND a.unapplied_at IS NULL), 0),
                  c.cancellation_reason
           FROM finance.charter_facts AS c
           LEFT JOIN finance.client_facts AS cl ON cl.client_id = c.client_id
           WHERE c.status = 'cancelled'
             AND CAST(c.cancelled_at AT TIME ZONE :zone AS date) BETWEEN :since AND :today""",
        zone=zone, since=since, today=today,
    )  # fmt: skip
    await check(
        "finance_cancellations",
        [(*r[:2], *(money(c) for c in r[2:5]), r[5]) for r in cancelled],
        lambda r: (r[0], r[1], *r[4:8]), ["owed", "fee", "paid"], 2,
        given={"from": since.isoformat(), "to": today.isoformat()},
        extra_totals={"count(reference)": sum(r[0] is not None for r in cancelled)},
    )  # fmt: skip

    upcoming = await sql(
        sessions,
        CHARTER_MONEY_SQL  # noqa: S608 (constants only)
        + """SELECT o.reference, o.name, m.kind, CAST(m.due_on AS text), m.amount,
                    m.missing
             FROM missing AS m JOIN owing AS o ON o.charter_id = m.charter_id
             WHERE m.missing > 0 AND m.due_on BETWEEN :today AND :last""",
        today=today, last=today + timedelta(days=14),
    )  # fmt: skip
    await check(
        "finance_upcoming_due_dates", as_money(upcoming, 4), tuple, ["amount", "unpaid"], 4,
        extra_totals={"count(reference)": sum(r[0] is not None for r in upcoming)},
    )  # fmt: skip

    checks = await sql(
        sessions,
        """SELECT CAST(received_on AS text), CAST(count(*) AS integer), sum(amount)
           FROM finance.payments
           WHERE method = 'check' AND kind = 'payment' AND provider_status <> 'failed'
             AND received_on BETWEEN :start AND :today
           GROUP BY received_on""",
        start=today.replace(day=1), today=today,
    )  # fmt: skip
    await check("finance_check_log", as_money(checks, 2), tuple, ["count", "total"], 1)
    return compared


async def test_shipped_reports_agree_with_the_owning_subgraphs_tables(
    sessions: Any,
    graph_url: str,
    http_client: httpx.AsyncClient,
    mint: TokenMinter,
    subgraph_settings: Settings,
) -> None:
    loaded = await load_all()
    assert loaded["charters"] > 0, loaded
    async with sessions() as session, session.begin():
        await shipped.install(session)
    graph = HttpGraph(http_client, graph_url)
    admin = await mint("admin")

    # Sales by agent, every booked charter (`from` cleared) and month to date. A booked charter
    # with no accepted quote (the demo has one) shows pricing's latest calculation, which the
    # run itself stores: the SQL reads after the runs.
    everything = await run(sessions, "sales_by_agent", admin, graph, {"from": None})
    month = await run(sessions, "sales_by_agent", admin, graph)
    since = datetime.fromisoformat(month.parameters["from"])
    latest = (
        select(QuoteCalculation.total)
        .where(QuoteCalculation.charter_id == Charter.id)
        .order_by(QuoteCalculation.accepted.desc(), QuoteCalculation.calculated_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    agent = (User.name, User.email)
    booked = (
        select(*agent, func.count(Charter.id), func.sum(latest))
        .select_from(Charter)
        .join(User, User.id == Charter.sales_agent_id)
        .where(Charter.is_template.is_(False), Charter.status.in_(BOOKED))
        .group_by(*agent)
    )
    async with sessions() as session:
        expected_all = {(n, e): [c, money(t)] for n, e, c, t in await session.execute(booked)}
        expected_month = {
            (n, e): [c, money(t)]
            for n, e, c, t in await session.execute(booked.where(Charter.pickup_at >= since))
        }
    assert expected_all, "the demo has booked charters"
    assert {(r[0], r[1]): r[2:] for r in everything.rows} == expected_all
    assert everything.totals == {
        "count(reference)": sum(c for c, _ in expected_all.values()),
        "sum(quote.total)": money(sum((Decimal(t) for _, t in expected_all.values()), Decimal(0))),
    }
    assert {(r[0], r[1]): r[2:] for r in month.rows} == expected_month

    # Charter status summary: every charter (not templates) by status.
    async with sessions() as session:
        statuses = dict(
            (
                await session.execute(
                    select(Charter.status, func.count())
                    .where(Charter.is_template.is_(False))
                    .group_by(Charter.status)
                )
            ).all()
        )
    summary = await run(sessions, "charter_status_summary", admin, graph)
    assert {r[0].lower(): r[1] for r in summary.rows} == statuses
    assert summary.totals == {"count(reference)": sum(statuses.values())}

    # Payment summary: live applications to charters by the payment's method.
    async with sessions() as session:
        applied = {
            m.upper(): [c, money(t)]
            for m, c, t in await session.execute(
                select(Payment.method, func.count(), func.sum(PaymentApplication.amount))
                .join(Payment, Payment.id == PaymentApplication.payment_id)
                .join(Charter, Charter.id == PaymentApplication.charter_id)
                .where(PaymentApplication.unapplied_at.is_(None), Charter.is_template.is_(False))
                .group_by(Payment.method)
            )
        }
    assert applied, "the demo has payments applied to charters"
    payments = await run(sessions, "payment_summary", admin, graph)
    assert {r[0]: r[1:] for r in payments.rows} == applied

    # Certification expirations: active ones expiring within 30 days (UTC day, as vendors').
    horizon = datetime.now(UTC).date() + timedelta(days=30)
    async with sessions() as session:
        expiring = sorted(
            (name, kind.upper(), number, expires.isoformat())
            for name, kind, number, expires in await session.execute(
                select(
                    Vendor.business_name,
                    Certification.cert_type,
                    Certification.number,
                    Certification.expires_on,
                )
                .join(Vendor, Vendor.id == Certification.vendor_id)
                .where(Certification.status == "active", Certification.expires_on <= horizon)
            )
        )
    certifications = await run(sessions, "certification_expirations", admin, graph)
    assert sorted(tuple(r[:4]) for r in certifications.rows) == expiring
    assert certifications.totals == {"count(certification.number)": len(expiring)}

    # The finance reports of #10, each against finance's own tables.
    compared = await check_finance_reports(
        sessions, graph, admin, subgraph_settings.operator_time_zone
    )
    # The demo (dated from the day it loads) has rows in every one: no comparison of nothing.
    assert len(compared) == 9, compared
    assert all(compared.values()), compared

    # Vendor bid analytics: every bid on a charter (not a charter template), by vendor and status.
    async with sessions() as session:
        bids = await session.execute(
            text(
                """SELECT v.business_name, upper(b.status), CAST(count(*) AS integer),
                          sum(b.amount)
                   FROM vendors.bids AS b
                   JOIN vendors.vendors AS v ON v.id = b.vendor_id
                   JOIN charters.charters AS c ON c.id = b.charter_id
                   WHERE NOT c.is_template
                   GROUP BY v.business_name, b.status"""
            )
        )
        expected_bids = {
            (name, status): [count, money(total), money(total / count)]
            for name, status, count, total in bids
        }
    assert expected_bids, "the demo has bids"
    analytics = await run(sessions, "vendor_bid_analytics", admin, graph)
    assert {(r[0], r[1]): r[2:] for r in analytics.rows} == expected_bids
    count = sum(c for c, _, _ in expected_bids.values())
    total = sum((Decimal(t) for _, t, _ in expected_bids.values()), Decimal(0))
    assert analytics.totals == {
        "count(amount)": count,
        "sum(amount)": money(total),
        "average(amount)": money(total / count),
    }
