"""The role dashboards of issue 16 §4 (docs/dashboards/*.graphql), each ONE request through
the real router over the demo data, every figure compared with a direct SQL computation over
the owning subgraph's tables; and each document valid against the checked-in supergraph, so a
schema change that breaks a portal's dashboard fails here."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from graphql import parse, validate
from sqlalchemy import text

from db.demo.__main__ import load_all
from subgraphs.finance.app import create_app as create_finance_app
from subgraphs.kit.settings import Settings
from subgraphs.reports.service.api_schema import api_schema
from tests.support.live_server import LiveServer, serve
from tests.support.router import serve_router

DASHBOARDS = Path(__file__).resolve().parents[2] / "docs" / "dashboards"
DOCUMENTS = ("manager.graphql", "vendor.graphql", "admin.graphql")
CENT, RATIO = Decimal("0.01"), Decimal("0.0001")
OPEN_CASES = ("pending", "under_review", "vendor_quoted", "awaiting_client_approval", "approved",
              "rejected")  # fmt: skip
AWAITING_DECISION = ("pending", "under_review", "vendor_quoted", "awaiting_client_approval")


def money(value: Any) -> str:
    return str(Decimal(value or 0).quantize(CENT, rounding=ROUND_HALF_UP))


def ratio(num: Any, den: Any, places: Decimal = RATIO) -> str | None:
    if not den:
        return None
    return str((Decimal(num) / Decimal(den)).quantize(places, rounding=ROUND_HALF_UP))


@pytest.mark.parametrize("document", DOCUMENTS)
def test_each_dashboard_validates_against_the_checked_in_supergraph(document: str) -> None:
    errors = validate(api_schema(), parse((DASHBOARDS / document).read_text()))
    assert errors == [], [e.message for e in errors]


@pytest.fixture(scope="module")
async def dashboard_finance(subgraph_settings: Settings) -> AsyncIterator[LiveServer]:
    async with serve(create_finance_app(subgraph_settings)) as server:
        yield server


@pytest.fixture(scope="module")
async def dashboard_router(
    subgraph_settings: Settings, identity_server: LiveServer, sales_live: LiveServer,
    charters_server: LiveServer, vendors_server: LiveServer, dashboard_finance: LiveServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[str]:  # fmt: skip
    urls = {
        "identity": identity_server.graphql_url,
        "sales": sales_live.graphql_url,
        "charters": charters_server.graphql_url,
        "vendors": vendors_server.graphql_url,
        "finance": dashboard_finance.graphql_url,
    }
    directory = tmp_path_factory.mktemp("dashboards")
    async with serve_router(subgraph_settings.jwks_url, urls, directory) as router:
        yield router.graphql_url


async def login(http: httpx.AsyncClient, url: str, email: str) -> str:
    """A demo account's token, as its portal gets one: `login` through the router."""
    query = (
        f'mutation {{ login(email: "{email}", password: "athena-demo")'
        " { accessToken userErrors { code } } }"
    )
    answer = (await http.post(url, json={"query": query})).json()
    assert answer["data"]["login"]["userErrors"] == [], answer
    return str(answer["data"]["login"]["accessToken"])


async def dashboard(http: httpx.AsyncClient, url: str, token: str, document: str) -> Any:
    """The document as ONE POST to the router."""
    response = await http.post(
        url,
        json={"query": (DASHBOARDS / document).read_text()},
        headers={"authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text
    return response.json()


class Sql:
    def __init__(self, sessions: Any) -> None:
        self.sessions = sessions

    async def rows(self, statement: str, **params: Any) -> list[tuple[Any, ...]]:
        async with self.sessions() as session:
            return [tuple(r) for r in await session.execute(text(statement), params)]

    async def one(self, statement: str, **params: Any) -> Any:
        return (await self.rows(statement, **params))[0][0]


def forbidden(answer: dict[str, Any]) -> set[str]:
    """The root fields refused with FORBIDDEN."""
    return {
        e["path"][0] for e in answer.get("errors", []) if e["extensions"]["code"] == "FORBIDDEN"
    }


async def check_manager(answer: Any, db: Sql, now: datetime, zone: str) -> None:
    data = answer["data"]
    tz = ZoneInfo(zone)
    local_today = now.astimezone(tz).date()
    since = datetime(local_today.year, local_today.month, 1, tzinfo=tz)
    next_month = (since.replace(tzinfo=None) + timedelta(days=32)).replace(day=1)
    day_start = datetime(local_today.year, local_today.month, local_today.day, tzinfo=tz)
    booked = "('booked', 'confirmed', 'in_progress', 'completed')"

    # finance: the operator's month to date
    price, cost = (
        await db.rows(
            f"""SELECT coalesce(sum(accepted_total), 0), coalesce(sum(vehicle_cost), 0)
                FROM finance.charter_facts WHERE status IN {booked}
                AND accepted_total IS NOT NULL AND accepted_at >= :since AND accepted_at <= :now""",  # noqa: S608
            since=since,
            now=now,
        )
    )[0]
    collected = await db.one(
        """SELECT coalesce(sum(amount), 0) FROM finance.payments WHERE provider_status <> 'failed'
           AND received_on >= :first AND received_on <= :today""",
        first=since.date(), today=local_today,
    )  # fmt: skip
    assert data["revenueMonthToDate"] == {
        "since": since.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "booked": money(price),
        "profit": money(price - cost),
        "collected": money(collected),
    }
    assert price > 0, "the demo books this month"
    assert collected > 0, "the demo collects this month"

    # the agents table: identity (who), finance (money), charters (quotes, departures), sales
    agents = await db.rows(
        """SELECT id, name FROM identity.users
           WHERE 'sales_agent' = ANY(roles) AND status = 'active' ORDER BY name"""
    )
    expected = []
    for agent_id, name in agents:
        a_price, a_cost = (
            await db.rows(
                f"""SELECT coalesce(sum(accepted_total), 0), coalesce(sum(vehicle_cost), 0)
                    FROM finance.charter_facts WHERE sales_agent_id = :a AND status IN {booked}
                    AND accepted_total IS NOT NULL AND accepted_at >= :since
                    AND accepted_at <= :now""",  # noqa: S608
                a=agent_id,
                since=since,
                now=now,
            )
        )[0]
        quotes, departures = (
            await db.rows(
                """SELECT count(*) FILTER (WHERE status = 'quote' AND pickup_at >= :now),
                          count(*) FILTER (WHERE status IN ('booked', 'confirmed')
                                           AND pickup_at >= :now AND pickup_at < :week)
                   FROM charters.charters WHERE sales_agent_id = :a AND NOT is_template""",
                a=agent_id,
                now=now,
                week=now + timedelta(days=7),
            )
        )[0]
        month_leads, overdue, hot = (
            await db.rows(
                """SELECT count(*) FILTER (WHERE created_at >= :since AND created_at < :next),
                          count(*) FILTER (WHERE status IN :open AND next_follow_up_at < :day),
                          count(*) FILTER (WHERE status IN :open AND (marked_hot OR (
                              trip_date BETWEEN :today AND :hot_until
                              AND coalesce(passengers, 0) >= 40)))
                   FROM sales.leads WHERE agent_id = :a""".replace(
                    ":open", "('new', 'contacted', 'qualified', 'quoted')"
                ),
                a=agent_id,
                since=since,
                next=next_month.replace(tzinfo=tz),
                day=day_start,
                today=local_today,
                hot_until=local_today + timedelta(days=30),
            )
        )[0]
        expected.append(
            {
                "id": str(agent_id),
                "name": name,
                "bookedRevenueMonthToDate": money(a_price),
                "profitMonthToDate": money(a_price - a_cost),
                "openQuoteCount": quotes,
                "upcomingDepartureCount": departures,
                "salesDashboard": {
                    "leadsThisMonth": month_leads,
                    "followUpsOverdue": overdue,
                    "hotLeads": hot,
                },
            }
        )
    assert data["agents"] == expected
    assert len(expected) >= 2, "the demo has several agents: a cross-agent table"

    # charters: open change cases and the QC backlog by kind and age
    open_cases = await db.one(
        "SELECT count(*) FROM charters.change_cases WHERE status IN :s".replace(
            ":s", str(OPEN_CASES)
        )
    )
    assert data["openChangeCases"] == {"totalCount": open_cases}
    ages = await db.rows(
        """SELECT 'CHANGE_CASE', created_at FROM charters.change_cases WHERE status IN :s
           UNION ALL
           SELECT 'DISPATCH_TASK', overdue_since FROM charters.dispatch_tasks
           WHERE overdue_since IS NOT NULL AND status IN ('pending', 'in_progress')""".replace(
            ":s", str(OPEN_CASES)
        )
    )
    buckets = {
        (kind, label): 0
        for kind in ("CHANGE_CASE", "DISPATCH_TASK")
        for label in ("0-2 days", "3-7 days", "8-30 days", "over 30 days")
    }
    for kind, opened in ages:
        days = max(0, (now - opened) // timedelta(days=1))
        label = "0-2 days" if days <= 2 else "3-7 days" if days <= 7 else (
            "8-30 days" if days <= 30 else "over 30 days")  # fmt: skip
        buckets[kind, label] += 1
    backlog = data["qcBacklog"]
    assert backlog["totalCount"] == len(ages) > 0
    assert {(b["kind"], b["ageBucket"]): b["count"] for b in backlog["buckets"]} == buckets

    # vendors: bids submitted in the 90 days to now
    start = now - timedelta(days=90)
    per_vendor = await db.rows(
        """WITH lowest AS (
             SELECT b.id, (SELECT min(o.amount) FROM vendors.bids AS o
                           WHERE o.charter_id = b.charter_id
                             AND o.charter_vehicle_id IS NOT DISTINCT FROM b.charter_vehicle_id
                             AND o.submitted_at IS NOT NULL AND o.submitted_at < :now) AS low
             FROM vendors.bids AS b)
           SELECT v.id, v.business_name, count(*),
                  count(*) FILTER (WHERE b.status = 'accepted'),
                  count(*) FILTER (WHERE b.status = 'rejected'),
                  avg((b.amount - l.low) / l.low * 100)
           FROM vendors.bids AS b JOIN vendors.vendors AS v ON v.id = b.vendor_id
           JOIN lowest AS l ON l.id = b.id
           WHERE b.submitted_at >= :start AND b.submitted_at < :now
           GROUP BY v.id, v.business_name ORDER BY v.business_name""",
        start=start, now=now,
    )  # fmt: skip
    charters_bid = await db.one(
        """SELECT count(DISTINCT charter_id) FROM vendors.bids
           WHERE submitted_at >= :start AND submitted_at < :now""",
        start=start, now=now,
    )  # fmt: skip
    bids = sum(r[2] for r in per_vendor)
    analytics = data["bidAnalytics"]
    assert (analytics["charters"], analytics["bids"]) == (charters_bid, bids)
    assert bids > 0
    assert analytics["bidsPerCharter"] == ratio(bids, charters_bid, CENT)
    assert [
        {k: row[k] for k in ("bids", "won", "lost", "winRate", "averageAboveLowestPercent")}
        | {"vendor": row["vendor"]}
        for row in analytics["vendors"]
    ] == [
        {
            "bids": n,
            "won": won,
            "lost": lost,
            "winRate": ratio(won, won + lost),
            "averageAboveLowestPercent": money(above),
            "vendor": {"id": str(v), "name": name},
        }
        for v, name, n, won, lost, above in per_vendor
    ]

    # vendors: active certifications expiring within 30 days (UTC day, as vendors counts)
    today = now.date()
    expiring = await db.rows(
        """SELECT v.id, v.business_name, upper(c.cert_type), c.number, c.expires_on
           FROM vendors.certifications AS c JOIN vendors.vendors AS v ON v.id = c.vendor_id
           WHERE c.status = 'active' AND c.expires_on <= :until
           ORDER BY c.expires_on, c.id""",
        until=today + timedelta(days=30),
    )  # fmt: skip
    certs = data["expiringCertifications"]
    assert certs["totalCount"] == len(expiring) > 0
    assert sorted(
        (e["node"]["vendor"]["name"], *e["node"]["certification"].values()) for e in certs["edges"]
    ) == sorted(
        (name, kind, number, expires.isoformat(), (expires - today).days)
        for _, name, kind, number, expires in expiring[:20]
    )


async def check_admin(answer: Any, db: Sql, manager: Any) -> None:
    data = answer["data"]
    counts = await db.rows(
        """SELECT upper(r), upper(status), CAST(count(*) AS integer)
           FROM identity.users, unnest(roles) AS r GROUP BY r, status"""
    )
    assert sorted((c["role"], c["status"], c["count"]) for c in data["userCounts"]) == sorted(
        counts
    )
    pending = await db.rows(
        """SELECT (SELECT count(*) FROM vendors.vendors WHERE status = 'pending'),
                  (SELECT count(*) FROM vendors.certifications
                   WHERE status = 'pending_verification'),
                  (SELECT count(*) FROM vendors.onboarding_submissions
                   WHERE status NOT IN ('approved', 'rejected'))"""
    )
    assert data["pendingApprovals"] == dict(
        zip(("vendors", "certifications", "onboardingSubmissions"), pending[0], strict=True)
    )
    assert sum(data["pendingApprovals"].values()) > 0, "the demo has something waiting"
    awaiting = await db.one(
        "SELECT count(*) FROM charters.change_cases WHERE status IN :s".replace(
            ":s", str(AWAITING_DECISION)
        )
    )
    assert data["changeCasesAwaitingDecision"] == {"totalCount": awaiting}
    active = await db.one(
        """SELECT count(*) FROM charters.charters
           WHERE NOT is_template AND status IN ('booked', 'confirmed', 'in_progress')"""
    )
    assert data["activeCharters"] == {"totalCount": active}
    assert active > 0
    # the same figure the manager read, from the same field
    assert data["revenueMonthToDate"] == {
        k: manager["revenueMonthToDate"][k] for k in ("since", "booked", "collected")
    }


async def check_vendor(answer: Any, db: Sql, now: datetime, zone: str) -> None:
    data = answer["data"]
    (vendor_id, name, status), *_ = await db.rows(
        """SELECT v.id, v.business_name, upper(v.status) FROM vendors.vendors AS v
           JOIN vendors.vendor_users AS u ON u.vendor_id = v.id
           JOIN identity.users AS i ON i.id = u.user_id
           WHERE i.email = 'vendor@demo.athena'"""
    )
    mine = data["myVendor"]
    assert (mine["id"], mine["name"], mine["status"]) == (str(vendor_id), name, status)
    bids, won, lost, pending = (
        await db.rows(
            """SELECT count(*), count(*) FILTER (WHERE status = 'accepted'),
                      count(*) FILTER (WHERE status = 'rejected'),
                      count(*) FILTER (WHERE status IN ('submitted', 'under_review')
                                       AND valid_until > :now)
               FROM vendors.bids WHERE vendor_id = :v
               AND submitted_at >= :start AND submitted_at < :now""",
            v=vendor_id,
            start=now - timedelta(days=90),
            now=now,
        )
    )[0]
    assert mine["bidStatistics"] == {
        "bids": bids, "won": won, "lost": lost, "pending": pending,
        "winRate": ratio(won, won + lost),
    }  # fmt: skip
    today = now.astimezone(ZoneInfo(zone)).date()
    owed, overdue = (
        await db.rows(
            """SELECT coalesce(sum(total - paid) FILTER (WHERE status NOT IN ('paid', 'void')), 0),
                      coalesce(sum(total - paid) FILTER (WHERE status = 'overdue'), 0)
               FROM finance.vendor_bills WHERE vendor_id = :v""",
            v=vendor_id,
        )
    )[0]
    month, year = (
        await db.rows(
            """SELECT coalesce(sum(p.amount) FILTER (WHERE p.paid_on >= :month), 0),
                      coalesce(sum(p.amount), 0)
               FROM finance.bill_payments AS p
               JOIN finance.vendor_bills AS b ON b.id = p.bill_id
               WHERE b.vendor_id = :v AND p.paid_on >= :year AND p.paid_on <= :today""",
            v=vendor_id,
            month=today.replace(day=1),
            year=today.replace(month=1, day=1),
            today=today,
        )
    )[0]
    assert mine["payables"] == {
        "totalOwed": money(owed), "totalOverdue": money(overdue),
        "paidMonthToDate": money(month), "paidYearToDate": money(year),
    }  # fmt: skip
    upcoming = await db.one(
        """SELECT count(*) FROM vendors.vendor_assignments AS a
           LEFT JOIN vendors.charter_facts AS c ON c.charter_id = a.charter_id
           WHERE a.vendor_id = :v AND (a.status = 'in_progress' OR (
             a.status IN ('confirmed', 'recovery_requested') AND c.pickup_at >= :now))""",
        v=vendor_id, now=now,
    )  # fmt: skip
    assert data["upcomingTrips"]["totalCount"] == upcoming
    assert len(data["upcomingTrips"]["edges"]) == min(upcoming, 10)


async def test_role_dashboards_through_the_router_agree_with_the_owners_tables(
    sessions: Any, dashboard_router: str, http_client: httpx.AsyncClient,
    subgraph_settings: Settings,
) -> None:  # fmt: skip
    loaded = await load_all()
    assert loaded["charters"] > 0, loaded
    db, zone, url = Sql(sessions), subgraph_settings.operator_time_zone, dashboard_router
    tokens = {
        who: await login(http_client, url, f"{who}@demo.athena")
        for who in ("manager", "admin", "vendor", "sales_agent")
    }

    manager = await dashboard(http_client, url, tokens["manager"], "manager.graphql")
    now = datetime.now(UTC)
    assert "errors" not in manager, manager["errors"]
    await check_manager(manager, db, now, zone)

    admin = await dashboard(http_client, url, tokens["admin"], "admin.graphql")
    assert "errors" not in admin, admin["errors"]
    await check_admin(admin, db, manager["data"])
    # managers read every admin figure too, the same answer
    assert await dashboard(http_client, url, tokens["manager"], "admin.graphql") == admin

    vendor = await dashboard(http_client, url, tokens["vendor"], "vendor.graphql")
    assert "errors" not in vendor, vendor["errors"]
    await check_vendor(vendor, db, now, zone)

    # An agent's own figures are its own dashboard's; the cross-agent ones are refused, and
    # the refusal of a required root field leaves the agent no data at all.
    agent = await dashboard(http_client, url, tokens["sales_agent"], "manager.graphql")
    assert {"revenueMonthToDate", "agents", "qcBacklog", "bidAnalytics"} <= forbidden(agent)
    assert agent["data"] is None

    # A vendor has no admin figures.
    refused = await dashboard(http_client, url, tokens["vendor"], "admin.graphql")
    assert {"userCounts", "pendingApprovals", "revenueMonthToDate"} <= forbidden(refused)
    assert refused["data"] is None
