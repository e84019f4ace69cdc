"""The runner at the service level: paging, failures kept as runs, parameters, retention.

The graph is a small real GraphQL-over-HTTP server started here (`HttpGraph`
speaks to it as to the router): it serves a connection in pages and can
answer with errors or a non-GraphQL 502.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from subgraphs.kit.errors import ServiceError
from subgraphs.reports.models import ReportDelivery, ReportRun, ReportSchedule, ReportTemplate
from subgraphs.reports.service import runner
from subgraphs.reports.service.graph_port import HttpGraph
from tests.support.live_server import LiveServer, serve

OPERATION = """
query Charters($first: Int, $after: String, $status: String) {
  charters(first: $first, after: $after, status: $status) {
    edges { node { id agent total } }
    pageInfo { hasNextPage endCursor }
  }
}"""
#: 7 charters: 3 pages of 3 at page size 3.
NODES = [{"id": str(i), "agent": "Ann" if i % 2 else "Bob", "total": f"{i}.{i}5"} for i in range(7)]


class FakeRouter:
    """What the fake router saw, and what it should do next."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []
        self.fail_after: int | None = None
        self.endless = False

    async def graphql(self, request: Request) -> Response:
        body = await request.json()
        variables = body["variables"]
        self.seen.append({**variables, "authorization": request.headers.get("authorization")})
        if self.fail_after is not None and len(self.seen) > self.fail_after:
            if self.fail_after == 0:
                return Response("bad gateway", status_code=502)
            return JSONResponse(
                {"data": None, "errors": [{"message": "charters is down", "path": ["charters"]}]}
            )
        start = int(variables.get("after") or 0)
        size = int(variables["first"])
        page = NODES[start : start + size]
        more = self.endless or start + size < len(NODES)
        return JSONResponse(
            {
                "data": {
                    "charters": {
                        "edges": [{"node": n} for n in page],
                        "pageInfo": {"hasNextPage": more, "endCursor": str(start + size)},
                    }
                }
            }
        )


@pytest.fixture(scope="module")
def fake() -> FakeRouter:
    return FakeRouter()


@pytest.fixture(scope="module")
async def fake_url(fake: FakeRouter) -> AsyncIterator[str]:
    app = Starlette(routes=[Route("/graphql", fake.graphql, methods=["POST"])])
    server: LiveServer
    async with serve(app) as server:
        yield server.graphql_url


@pytest.fixture
def graph(fake: FakeRouter, fake_url: str, http_client: httpx.AsyncClient) -> HttpGraph:
    fake.seen.clear()
    fake.fail_after = None
    fake.endless = False
    return HttpGraph(http_client, fake_url)


async def _template(sessions: Any, **changes: Any) -> ReportTemplate:
    row = ReportTemplate(
        id=uuid.uuid4(),
        name="Charters by agent",
        operation=OPERATION,
        variables={"status": "BOOKED"},
        rows_path="charters.edges.node",
        page_size=3,
        columns=[
            {"path": "agent", "label": "Agent", "format": "text"},
            {"path": "total", "label": "Total", "format": "money"},
        ],
        group_by=["agent"],
        aggregations=[{"column": "total", "function": "sum"}],
        visualisation="table",
        shared=True,
        **changes,
    )
    async with sessions() as session, session.begin():
        session.add(row)
    return row


async def _run(sessions: Any, template: ReportTemplate, graph: HttpGraph, **kw: Any) -> ReportRun:
    async with sessions() as session, session.begin():
        return await runner.run_template(
            session,
            template,
            kw.pop("given", None),
            graph=graph,
            authorization="Bearer the-callers-token",
            run_by=uuid.uuid4(),
            now=kw.pop("now", datetime.now(UTC)),
            tz="America/Chicago",
            retention_days=30,
        )


async def test_pages_until_the_last_and_tabulates_every_row(
    sessions: Any, graph: HttpGraph, fake: FakeRouter
) -> None:
    template = await _template(sessions)
    now = datetime(2026, 3, 10, 12, tzinfo=UTC)
    run = await _run(sessions, template, graph, now=now)
    assert run.status == "succeeded", run.error
    assert run.requests == 3
    # Each page asked with the previous page's end cursor, the page size as `first`, the
    # variables' defaults, and the caller's own Authorization.
    assert [s.get("after") for s in fake.seen] == [None, "3", "6"]
    assert {s["first"] for s in fake.seen} == {3}
    assert {s["status"] for s in fake.seen} == {"BOOKED"}
    assert {s["authorization"] for s in fake.seen} == {"Bearer the-callers-token"}
    # Bob owns id 0 (first seen), so Bob's group comes first: 0.05 + 2.25 + 4.45 + 6.65, and
    # Ann's 1.15 + 3.35 + 5.55, exact to the cent.
    assert run.rows == [["Bob", "13.40"], ["Ann", "10.05"]]
    assert run.totals == {"sum(total)": "23.45"}
    assert run.row_count == 2
    assert run.expires_at == now + timedelta(days=30)
    async with sessions() as session:
        stored = await session.get(ReportRun, run.id)
    assert stored is not None
    assert stored.rows == run.rows
    assert stored.parameters == {"status": "BOOKED"}


async def test_given_parameters_override_defaults_undeclared_ones_run_nothing(
    sessions: Any, graph: HttpGraph, fake: FakeRouter
) -> None:
    template = await _template(sessions)
    run = await _run(sessions, template, graph, given={"status": "QUOTE"})
    assert {s["status"] for s in fake.seen} == {"QUOTE"}
    assert run.parameters == {"status": "QUOTE"}
    fake.seen.clear()
    with pytest.raises(ServiceError) as caught:
        await _run(sessions, template, graph, given={"agent": "Ann"})
    assert [(p.field, p.code) for p in caught.value.problems] == [("parameters", "INVALID")]
    assert fake.seen == []
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ReportRun)) == 1


async def test_graph_errors_are_a_failed_run_kept_with_its_reason(
    sessions: Any, graph: HttpGraph, fake: FakeRouter
) -> None:
    template = await _template(sessions)
    fake.fail_after = 1  # the second page answers with a GraphQL error
    run = await _run(sessions, template, graph)
    assert run.status == "failed"
    assert run.requests == 2
    assert "charters is down (at charters)" in (run.error or "")
    assert run.rows == []
    assert run.totals == {}
    assert str(run.id) in runner.failure_message(run)
    fake.seen.clear()
    fake.fail_after = 0  # a proxy's 502 page, not GraphQL
    run = await _run(sessions, template, graph)
    assert run.status == "failed"
    assert "HTTP 502" in (run.error or "")


async def test_unreachable_graph_is_a_failed_run(
    sessions: Any, http_client: httpx.AsyncClient
) -> None:
    template = await _template(sessions)
    run = await _run(sessions, template, HttpGraph(http_client, "http://127.0.0.1:9/graphql"))
    assert run.status == "failed"
    assert "could not be reached" in (run.error or "")


async def test_a_connection_that_never_ends_fails_at_the_page_limit(
    graph: HttpGraph, fake: FakeRouter
) -> None:
    fake.endless = True
    template = ReportTemplate(
        operation=OPERATION, rows_path="charters.edges.node", page_size=1, columns=[],
        group_by=[], aggregations=[],
    )  # fmt: skip
    outcome = await runner.execute(template, {}, graph=graph, authorization=None, max_pages=5)
    assert outcome.status == "failed"
    assert outcome.requests == 5
    assert "More than 5 pages" in (outcome.error or "")


async def test_purge_removes_expired_runs_only(sessions: Any, graph: HttpGraph) -> None:
    template = await _template(sessions)
    now = datetime.now(UTC)
    old = await _run(sessions, template, graph, now=now - timedelta(days=31))
    kept = await _run(sessions, template, graph, now=now - timedelta(days=29))
    async with sessions() as session, session.begin():
        schedule = ReportSchedule(
            template_id=template.id, owner_id=uuid.uuid4(), name="daily", frequency="daily",
            time_zone="UTC", recipients=["a@example.com"], format="csv",
        )  # fmt: skip
        session.add(schedule)
        await session.flush()
        delivery = ReportDelivery(schedule_id=schedule.id, due_at=now, status="sent", run_id=old.id)
        session.add(delivery)
    async with sessions() as session, session.begin():
        assert await runner.purge_expired(session, now) == 1
    async with sessions() as session:
        remaining = set(await session.scalars(select(ReportRun.id)))
        assert remaining == {kept.id}
        # The delivery's record stays; only its link to the purged run goes.
        kept_delivery = await session.get(ReportDelivery, delivery.id)
        assert kept_delivery is not None
        assert kept_delivery.run_id is None
