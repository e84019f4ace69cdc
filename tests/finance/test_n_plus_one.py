"""N+1 through the router: a page of charters with their money costs finance one request.

A small proxy in front of the finance server counts the requests the router
sends it; the statement recorder counts finance's SQL. The page is read with
2 charters and again with 50 (each with a plan, some paid, some invoiced
alone, some on a consolidated invoice): both counts stay the same.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from db.engine import record_statements
from subgraphs.finance.service import applications, invoices, payments
from subgraphs.kit.settings import Settings
from tests.finance.test_month_end import ACCOUNTING, consolidate
from tests.support.graphql_client import GraphQLClient
from tests.support.live_server import LiveServer, serve
from tests.support.router import serve_router

PAGE = """{ charters(first: 50) { edges { node { id reference
  balance { due } payments { amount } invoices { number } } } } }"""
HOP_BY_HOP = {"host", "content-length", "connection", "transfer-encoding", "keep-alive"}


class CountingProxy:
    """Forwards every request to the finance server and remembers what it forwarded."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.requests: list[bytes] = []
        self.http = httpx.AsyncClient(timeout=30)

    async def forward(self, request: Request) -> Response:
        body = await request.body()
        self.requests.append(body)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        answer = await self.http.request(
            request.method, f"{self.upstream}{request.url.path}", content=body, headers=headers
        )
        kept = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_BY_HOP}
        kept.pop("content-encoding", None)
        return Response(answer.content, status_code=answer.status_code, headers=kept)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/graphql", self.forward, methods=["GET", "POST"])])


@pytest.fixture
async def counted(
    subgraph_settings: Settings,
    identity_server: LiveServer,
    charters_server: LiveServer,
    finance_server: LiveServer,
    tmp_path: Path,
) -> AsyncIterator[tuple[str, CountingProxy]]:
    proxy = CountingProxy(finance_server.base_url)
    async with serve(proxy.app()) as front:
        urls = {
            "identity": identity_server.graphql_url,
            "charters": charters_server.graphql_url,
            "finance": front.graphql_url,
        }
        async with serve_router(subgraph_settings.jwks_url, urls, tmp_path) as router:
            yield router.graphql_url, proxy
    await proxy.http.aclose()


async def _money_on(sessions: Any, charters: list[uuid.UUID], client: uuid.UUID) -> None:
    """Every third charter paid in part, every third invoiced alone, the rest consolidated."""
    today = datetime.now(UTC).date()
    async with sessions() as session, session.begin():
        payment = await payments.record(
            session,
            payments.PaymentInput(client, Decimal("5000.00"), today, "cash"),
            ACCOUNTING,
            today,
        )
        for n, charter in enumerate(charters):
            if n % 3 == 0:
                await applications.apply(
                    session,
                    applications.Application(
                        payment.id, charter, Decimal("100.00"), f"n1-{charter}"
                    ),
                    ACCOUNTING,
                )
            if n % 3 == 1:
                await invoices.invoice_charter(session, charter, ACCOUNTING, today)


async def test_a_page_of_charters_money_is_one_finance_request_and_constant_sql(
    counted, http_client, mint, bookable_charter, booked, sessions
):
    router_url, proxy = counted
    accounting = GraphQLClient(router_url, http_client, await mint("accounting"))
    client = str(uuid.uuid4())
    made: list[uuid.UUID] = []

    async def grow_to(count: int) -> None:
        while len(made) < count:
            charter = await bookable_charter(clientId=client, days=3)
            await booked(charter["id"], client, "800.00", days=3)
            made.append(uuid.UUID(charter["id"]))

    async def read(expected: int) -> tuple[int, int, list[dict[str, Any]]]:
        proxy.requests.clear()
        with record_statements() as recorder:
            edges = (await accounting(PAGE)).ok()["charters"]["edges"]
        assert len(edges) == expected
        finance_sql = [s for s in recorder.statements if "finance." in s]
        return len(proxy.requests), len(finance_sql), [e["node"] for e in edges]

    await grow_to(2)
    await _money_on(sessions, made, uuid.UUID(client))
    await read(2)  # warm: plans and caches, so both reads below are steady
    small_requests, small_sql, small = await read(2)
    await grow_to(50)
    await _money_on(sessions, made[2:], uuid.UUID(client))
    today = datetime.now(UTC).date()
    window = (today - timedelta(days=1), today + timedelta(days=10))  # every pickup is in 3 days
    together = await consolidate(sessions, uuid.UUID(client), *window, today)
    large_requests, large_sql, large = await read(50)

    assert small_requests == large_requests == 1
    assert small_sql == large_sql
    assert large_sql <= 6
    assert all(node["balance"] is not None for node in small + large)
    assert sum(1 for node in large if node["payments"]) >= 16
    assert all(len(node["invoices"]) == 1 for node in large)
    alone = 1 + 16  # charter 1 of the first two, every third of the next 48
    assert (
        sum(1 for node in large if node["invoices"] == [{"number": together.number}]) == 50 - alone
    )
