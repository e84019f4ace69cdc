"""Every shipped report run through the real router over the demo data, each figure compared
to the cent with a direct SQL computation over the owning subgraph's tables."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
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
from subgraphs.finance.models import Payment
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
    sales_live: LiveServer, tmp_path: Path,
) -> AsyncIterator[str]:  # fmt: skip
    urls = {
        "identity": identity_server.graphql_url,
        "sales": sales_live.graphql_url,
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


HOUR = Decimal(3600)
RATIO = Decimal("0.0001")


def places(value: Any, exponent: Decimal) -> str | None:
    """A figure as the graph's Decimal states it: rounded half up, as text; None stays None."""
    if value is None:
        return None
    return str(Decimal(value).quantize(exponent, rounding=ROUND_HALF_UP))


def ratio_of(part: Decimal, whole: Decimal) -> str | None:
    return None if not whole else places(part / whole, RATIO)


def decimal_sum(cells: list[str]) -> str:
    """The sum tabulate makes of Decimal cells (text in, text out, exact)."""
    return str(sum((Decimal(c) for c in cells), Decimal(0)))


# Each charter booked (and booked or later now) from :since with finance's figures for it: a
# charter counts in finance's money when finance has it booked with an accepted price.
PROFIT_SQL = """
SELECT {group} AS grp, CAST(count(*) AS integer),
       sum(f.accepted_total) FILTER (WHERE counts),
       sum(coalesce(f.vehicle_cost, 0)) FILTER (WHERE counts),
       sum(f.accepted_total - coalesce(f.vehicle_cost, 0)) FILTER (WHERE counts)
FROM (
  SELECT c.*, f.accepted_total, f.vehicle_cost,
         coalesce(f.status IN ('booked', 'confirmed', 'in_progress', 'completed') AND f.accepted_total IS NOT NULL, false) AS counts
  FROM charters.charters AS c
  LEFT JOIN finance.charter_facts AS f ON f.charter_id = c.id
  WHERE NOT c.is_template AND c.status IN ('booked', 'confirmed', 'in_progress', 'completed') AND c.booked_at >= :since
) AS f
LEFT JOIN identity.users AS u ON u.id = f.sales_agent_id
LEFT JOIN sales.clients AS cl ON cl.id = f.client_id
LEFT JOIN (
  SELECT charter_id, string_agg(name, ' + ' ORDER BY name COLLATE "C") AS types
  FROM (SELECT DISTINCT cv.charter_id, t.name
        FROM charters.charter_vehicles AS cv
        JOIN charters.vehicle_types AS t ON t.id = cv.vehicle_type_id) AS d
  GROUP BY charter_id
) AS s ON s.charter_id = f.id
GROUP BY grp
"""

# Every active vehicle's seconds of booked trips in [:start, :end) (overlaps merged) and its
# type's seconds of blackout days (operator's days, global ones included, overlaps merged).
UTILISATION_SQL = """
WITH w AS (SELECT tstzrange(CAST(:start AS timestamptz), CAST(:end AS timestamptz), '[)') AS r),
busy AS (
  SELECT cv.vehicle_id, unnest(range_agg(cv.busy * w.r)) AS part
  FROM charters.charter_vehicles AS cv
  JOIN charters.charters AS c ON c.id = cv.charter_id
  CROSS JOIN w
  WHERE cv.vehicle_id IS NOT NULL AND cv.busy && w.r AND NOT c.is_template
    AND c.status IN ('booked', 'confirmed', 'in_progress', 'completed')
  GROUP BY cv.vehicle_id
), blackout AS (
  SELECT b.vehicle_type_id,
         tstzrange(CAST(b.starts_on AS timestamp) AT TIME ZONE :zone,
                   CAST(b.ends_on + 1 AS timestamp) AT TIME ZONE :zone, '[)') AS r
  FROM charters.blackout_dates AS b
), black AS (
  SELECT t.id AS type_id, unnest(range_agg(b.r * w.r)) AS part
  FROM charters.vehicle_types AS t
  JOIN blackout AS b ON b.vehicle_type_id = t.id OR b.vehicle_type_id IS NULL
  CROSS JOIN w
  WHERE b.r && w.r
  GROUP BY t.id
)
SELECT v.plate, t.name,
       coalesce((SELECT sum(extract(epoch FROM upper(part) - lower(part))) FROM busy
                 WHERE busy.vehicle_id = v.id), 0),
       coalesce((SELECT sum(extract(epoch FROM upper(part) - lower(part))) FROM black
                 WHERE black.type_id = t.id), 0)
FROM charters.vehicles AS v
JOIN charters.vehicle_types AS t ON t.id = v.vehicle_type_id
WHERE v.status = 'active'
"""


async def check_issue16_reports(
    sessions: Any, graph: HttpGraph, token: str, zone: str
) -> dict[str, int]:
    """The reports of issue 16 section 2, each run through the router and recomputed from
    the owning subgraph's tables; how many rows each compared."""
    compared: dict[str, int] = {}
    tz = ZoneInfo(zone)

    # Profit by agent / client / vehicle type: booked month to date (bookedAt).
    for key, group in (
        ("profit_by_agent", "u.name"),
        ("profit_by_client", "cl.name"),
        ("profit_by_vehicle_type", "s.types"),
    ):
        outcome = await run(sessions, key, token, graph)
        since = datetime.fromisoformat(outcome.parameters["from"])
        statement = PROFIT_SQL.format(group=group)
        expected = as_money(await sql(sessions, statement, since=since), 1)
        assert sorted(map(tuple, outcome.rows), key=str) == sorted(expected, key=str), key
        assert outcome.totals == {
            "count(reference)": sum(r[1] for r in expected),
            **sums_of(expected, 2, ["profit.price", "profit.cost", "profit.profit"]),
        }, key
        compared[key] = len(expected)

    # Vehicle utilisation, per vehicle and per type, month start to tomorrow.
    per_vehicle = await run(sessions, "vehicle_utilisation", token, graph)
    start = datetime.fromisoformat(per_vehicle.parameters["from"])
    end = datetime.fromisoformat(per_vehicle.parameters["to"])
    window = Decimal((end - start).total_seconds())
    hours: list[tuple[str, str, str, str, str | None]] = []
    for plate, kind, busy, blacked in await sql(
        sessions, UTILISATION_SQL, start=start, end=end, zone=zone
    ):
        booked_h = Decimal(places(Decimal(busy) / HOUR, CENT) or 0)
        available_h = Decimal(places((window - Decimal(blacked)) / HOUR, CENT) or 0)
        hours.append(
            (plate, kind, str(booked_h), str(available_h), ratio_of(booked_h, available_h))
        )
    assert any(Decimal(h[2]) > 0 for h in hours), "the demo's fleet drives this month"
    assert sorted(map(tuple, per_vehicle.rows)) == sorted(hours)
    assert per_vehicle.totals == {
        "sum(bookedHours)": decimal_sum([h[2] for h in hours]),
        "sum(availableHours)": decimal_sum([h[3] for h in hours]),
    }
    compared["vehicle_utilisation"] = len(hours)
    by_type = await run(sessions, "vehicle_utilisation_by_type", token, graph)
    types: dict[str, list[Decimal]] = {}
    for _, kind, booked_text, available_text, _ in hours:
        row = types.setdefault(kind, [Decimal(0), Decimal("0.00"), Decimal("0.00")])
        row[0] += 1
        row[1] += Decimal(booked_text)
        row[2] += Decimal(available_text)
    expected_types = [
        (kind, int(n), str(b), str(a), ratio_of(b, a)) for kind, (n, b, a) in types.items()
    ]
    assert sorted(map(tuple, by_type.rows)) == sorted(expected_types)
    assert by_type.totals == {
        "sum(vehicles)": len(hours),
        "sum(bookedHours)": decimal_sum([h[2] for h in hours]),
        "sum(availableHours)": decimal_sum([h[3] for h in hours]),
    }
    compared["vehicle_utilisation_by_type"] = len(expected_types)

    # Vendor performance: the 365 days to now, recoveries from charters' recovery cases.
    performance = await run(sessions, "vendor_performance", token, graph)
    since = datetime.fromisoformat(performance.parameters["from"])
    now = datetime.now(UTC)
    vendors = await sql(
        sessions,
        """SELECT v.business_name, coalesce(r.n, 0), r.overall, r.on_time, coalesce(a.n, 0),
                  coalesce(a.declines, 0), coalesce(a.completed, 0), coalesce(rc.n, 0)
           FROM vendors.vendors AS v
           LEFT JOIN (SELECT vendor_id, CAST(count(*) AS integer) AS n,
                             avg(overall) AS overall, avg(on_time) AS on_time
                      FROM vendors.ratings WHERE created_at >= :since AND created_at < :now
                      GROUP BY vendor_id) AS r ON r.vendor_id = v.id
           LEFT JOIN (SELECT vendor_id, CAST(count(*) AS integer) AS n,
                             CAST(count(*) FILTER (
                               WHERE status IN ('declined', 'recovery_requested')
                                  OR id IN (SELECT entity_id FROM vendors.vendor_audit
                                            WHERE entity = 'assignment'
                                              AND action = 'status:recovery_requested'))
                               AS integer) AS declines,
                             CAST(count(*) FILTER (WHERE status = 'completed') AS integer)
                               AS completed
                      FROM vendors.vendor_assignments
                      WHERE created_at >= :since AND created_at < :now
                      GROUP BY vendor_id) AS a ON a.vendor_id = v.id
           LEFT JOIN (SELECT previous_vendor_id, CAST(count(*) AS integer) AS n
                      FROM charters.recovery_cases
                      WHERE opened_at >= :since AND opened_at < :now
                      GROUP BY previous_vendor_id) AS rc ON rc.previous_vendor_id = v.id
           WHERE v.approved_at IS NOT NULL""",
        since=since, now=now,
    )  # fmt: skip
    expected_vendors = [
        (name, n, places(overall, CENT), places(on_time, CENT), *rest)
        for name, n, overall, on_time, *rest in vendors
    ]
    assert any(r[1] for r in expected_vendors), "the demo's vendors are rated"
    assert sorted(map(tuple, performance.rows), key=str) == sorted(expected_vendors, key=str)
    assert performance.totals == {
        f"sum({k})": sum(r[i] for r in expected_vendors)
        for k, i in (
            ("ratings", 1), ("assignments", 4), ("declines", 5), ("completed", 6),
            ("vendor.recoveryCount", 7),
        )
    }  # fmt: skip
    compared["vendor_performance"] = len(expected_vendors)

    # Quality-control backlog: open change cases and overdue open tasks, by kind and age.
    backlog = await run(sessions, "qc_backlog", token, graph)
    now = datetime.now(UTC)
    opened = await sql(
        sessions,
        """SELECT 'CHANGE_CASE', created_at FROM charters.change_cases
           WHERE status NOT IN ('implemented', 'cancelled')
           UNION ALL
           SELECT 'DISPATCH_TASK', overdue_since FROM charters.dispatch_tasks
           WHERE overdue_since IS NOT NULL AND status IN ('pending', 'in_progress')""",
    )
    buckets: dict[tuple[str, str], int] = {}
    for kind, at in opened:
        days = max(0, (now - at) // timedelta(days=1))
        label = next(
            name
            for name, first in (("over 30 days", 31), ("8-30 days", 8), ("3-7 days", 3),
                                ("0-2 days", 0))
            if days >= first
        )  # fmt: skip
        buckets[(kind, label)] = buckets.get((kind, label), 0) + 1
    assert {k for k, _ in buckets} == {"CHANGE_CASE", "DISPATCH_TASK"}, buckets
    assert {(r[0], r[1]): r[2] for r in backlog.rows} == buckets
    assert backlog.totals == {"count(charter.reference)": len(opened)}
    compared["qc_backlog"] = len(buckets)

    # Peak periods: bookings (bookedAt, cancelled ones included) in the last year, local time.
    weeks = await run(sessions, "peak_periods_by_week", token, graph)
    start = datetime.fromisoformat(weeks.parameters["from"])
    end = datetime.fromisoformat(weeks.parameters["to"])
    booked = await sql(
        sessions,
        """SELECT CAST(booked_at AT TIME ZONE :zone AS date), CAST(count(*) AS integer)
           FROM charters.charters
           WHERE NOT is_template AND booked_at >= :start AND booked_at < :end
           GROUP BY 1""",
        zone=zone, start=start, end=end,
    )  # fmt: skip
    per_week: dict[str, int] = {}
    first_monday = start.astimezone(tz).date()
    first_monday -= timedelta(days=first_monday.weekday())
    last = (end - timedelta(microseconds=1)).astimezone(tz).date()
    monday = first_monday
    while monday <= last:
        per_week[monday.isoformat()] = 0
        monday += timedelta(days=7)
    per_weekday = dict.fromkeys(range(1, 8), 0)
    for day, n in booked:
        per_week[(day - timedelta(days=day.weekday())).isoformat()] += n
        per_weekday[day.isoweekday()] += n
    total = sum(n for _, n in booked)
    assert total > 0, "the demo has bookings in the last year"
    assert [tuple(r) for r in weeks.rows] == list(per_week.items())
    assert weeks.totals == {"sum(bookings)": total}
    weekdays = await run(sessions, "peak_periods_by_weekday", token, graph)
    names = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
    assert [tuple(r) for r in weekdays.rows] == [
        (d, names[d - 1], n) for d, n in per_weekday.items()
    ]
    assert weekdays.totals == {"sum(bookings)": total}
    compared["peak_periods_by_week"] = len(per_week)
    compared["peak_periods_by_weekday"] = 7

    # Vendor bid analytics: bids submitted in the window, the lowest on each target (charter
    # vehicle, or the whole charter) among bids submitted before the window's end.
    analytics = await run(sessions, "vendor_bid_analytics", token, graph)
    since = datetime.fromisoformat(analytics.parameters["from"])
    now = datetime.now(UTC)
    bids = await sql(
        sessions,
        """WITH ranked AS (
             SELECT b.vendor_id, b.status, b.valid_until, b.submitted_at, b.amount,
                    min(b.amount) OVER (PARTITION BY b.charter_id, b.charter_vehicle_id)
                      AS lowest
             FROM vendors.bids AS b
             WHERE b.submitted_at < :now
               AND b.charter_id IN (SELECT charter_id FROM vendors.bids
                                    WHERE submitted_at >= :since AND submitted_at < :now))
           SELECT v.business_name, CAST(count(*) AS integer),
                  CAST(count(*) FILTER (WHERE r.status = 'accepted') AS integer),
                  CAST(count(*) FILTER (WHERE r.status = 'rejected') AS integer),
                  CAST(count(*) FILTER (WHERE r.status IN ('submitted', 'under_review')
                                          AND r.valid_until > :now) AS integer),
                  avg((r.amount - r.lowest) * 100 / r.lowest)
           FROM ranked AS r JOIN vendors.vendors AS v ON v.id = r.vendor_id
           WHERE r.submitted_at >= :since
           GROUP BY v.id, v.business_name""",
        since=since, now=now,
    )  # fmt: skip
    expected_bids = [
        (name, n, won, lost, pending, ratio_of(Decimal(won), Decimal(won + lost)),
         places(above, CENT))
        for name, n, won, lost, pending, above in bids
    ]  # fmt: skip
    assert any(r[2] for r in expected_bids), expected_bids
    assert any(r[3] for r in expected_bids), expected_bids
    assert sorted(map(tuple, analytics.rows), key=str) == sorted(expected_bids, key=str)
    assert analytics.totals == {
        f"sum({k})": sum(r[i] for r in bids)
        for i, k in enumerate(("bids", "won", "lost", "pending"), start=1)
    }
    compared["vendor_bid_analytics"] = len(expected_bids)
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
    # The demo's charters are its three agents' (section 5 is about an agent seeing its own
    # rows among others').
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
            for n, e, c, t in await session.execute(booked.where(Charter.booked_at >= since))
        }
    assert expected_all, "the demo has booked charters"
    assert {(r[0], r[1]): r[2:] for r in everything.rows} == expected_all
    assert everything.totals == {
        "count(reference)": sum(c for c, _ in expected_all.values()),
        "sum(quote.total)": money(sum((Decimal(t) for _, t in expected_all.values()), Decimal(0))),
    }
    assert {(r[0], r[1]): r[2:] for r in month.rows} == expected_month
    assert expected_month, "the demo's charters were booked this month"

    # Issue 16 section 5: the same shipped template run by a sales agent holds that agent's
    # charters only (charters scopes an agent's list to its own); a manager's holds everyone's.
    async with sessions() as session:
        agents = dict(
            (
                await session.execute(
                    select(User.email, User.id).where(
                        User.email.in_([e for _, e in expected_month])
                    )
                )
            ).all()
        )
    assert len(expected_month) >= 2, "the demo has several agents' bookings this month"
    name, email = sorted(expected_month)[0]
    as_agent = await run(
        sessions, "sales_by_agent", await mint("sales_agent", user_id=agents[email]), graph
    )
    assert {(r[0], r[1]): r[2:] for r in as_agent.rows} == {
        (name, email): expected_month[(name, email)]
    }
    as_manager = await run(sessions, "sales_by_agent", await mint("manager"), graph)
    assert {(r[0], r[1]): r[2:] for r in as_manager.rows} == expected_month

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

    # Payment summary: money received since a day over a year ago (its local midnight), by
    # method; refunds negative, failed card charges left out.
    since = datetime.now(ZoneInfo("America/Chicago")).date() - timedelta(days=400)
    async with sessions() as session:
        received = {
            m.upper(): [c, money(t)]
            for m, c, t in await session.execute(
                select(Payment.method, func.count(), func.sum(Payment.amount))
                .where(Payment.received_on >= since, Payment.provider_status != "failed")
                .group_by(Payment.method)
            )
        }
    assert received, "the demo has payments"
    midnight = datetime.combine(since, time(0), tzinfo=ZoneInfo("America/Chicago"))
    payments = await run(sessions, "payment_summary", admin, graph, {"from": midnight.isoformat()})
    assert {r[0]: r[1:] for r in payments.rows} == received

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

    # The reports of issue 16 section 2, over the demo as loaded: its overdue dispatch tasks
    # and twelve-day-old change case, its rated past trips, its decided bids.
    issue16 = await check_issue16_reports(
        sessions, graph, admin, subgraph_settings.operator_time_zone
    )
    assert len(issue16) == 10, issue16
    assert all(issue16.values()), issue16
