"""Every shipped report run through the real router over the demo data, each figure compared
to the cent with a direct SQL computation over the owning subgraph's tables."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

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

BOOKED = ("booked", "confirmed", "in_progress", "completed")
CENT = Decimal("0.01")


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
    subgraph_settings, identity_server, charters_server, vendors_server, shipped_pricing,
    shipped_finance, tmp_path: Path,
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
    return str((value or Decimal(0)).quantize(CENT))


async def test_shipped_reports_agree_with_the_owning_subgraphs_tables(
    sessions, graph_url, http_client, mint
):
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
