"""Saved dashboards at the service level: validation, ownership, audit, refresh, latest figures.

Refreshing asks a small real GraphQL-over-HTTP server started here (`HttpGraph`
speaks to it as to the router). It answers each widget's operation, records
the Authorization header it saw, and holds no answer before a second request has
arrived, so a refresh that ran widgets one after another would never get its
first answer (the widget would fail, and the test with it).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from db.demo import reports as demo
from protocol.roles import Role
from protocol.viewer import Viewer
from subgraphs.kit.errors import ServiceError
from subgraphs.reports.models import Dashboard, ReportRun, ReportsAudit, ReportTemplate
from subgraphs.reports.service import dashboards, runner
from subgraphs.reports.service.dashboards import DashboardData, WidgetData
from subgraphs.reports.service.graph_port import HttpGraph
from tests.support.live_server import LiveServer, serve

COUNTS = """query Counts($status: String) { counts(status: $status) { label n } }"""
HELD = """query Held { held { label n } }"""
FAILING = """query Failing { failing { label n } }"""
TZ = "America/Chicago"
NOW = datetime(2026, 3, 10, 15, tzinfo=UTC)


class FakeRouter:
    """Answers each operation; with `barrier` set, no request is answered before that many arrived."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []
        self.barrier: int | None = None
        self.arrived = asyncio.Event()

    async def graphql(self, request: Request) -> Response:
        body = await request.json()
        query, variables = body["query"], body.get("variables") or {}
        self.seen.append({"variables": variables, "auth": request.headers.get("authorization")})
        if self.barrier is not None:
            if len(self.seen) >= self.barrier:
                self.arrived.set()
            try:
                # a deadlock guard, not a timing assertion: one-after-another runs never pass it
                await asyncio.wait_for(self.arrived.wait(), 20)
            except TimeoutError:
                return JSONResponse({"data": None, "errors": [{"message": "ran alone"}]})
        if "Failing" in query:
            return JSONResponse({"data": None, "errors": [{"message": "failing is down"}]})
        if "Held" in query:
            return JSONResponse({"data": {"held": [{"label": "h", "n": 1}]}})
        status = variables.get("status") or "all"
        return JSONResponse({"data": {"counts": [{"label": status, "n": 2}]}})


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
    fake.barrier = None
    fake.arrived = asyncio.Event()
    return HttpGraph(http_client, fake_url)


def staff(role: Role = Role.SALES_AGENT, user_id: uuid.UUID | None = None) -> Viewer:
    return Viewer(user_id=user_id or uuid.uuid4(), roles=frozenset({role}))


async def template(
    sessions: Any,
    *,
    operation: str = COUNTS,
    rows: str = "counts",
    shared: bool = True,
    owner_id: uuid.UUID | None = None,
    **changes: Any,
) -> ReportTemplate:
    row = ReportTemplate(
        id=uuid.uuid4(),
        name=f"Counts {uuid.uuid4().hex[:6]}",
        operation=operation,
        rows_path=rows,
        columns=[
            {"path": "label", "label": "Label", "format": "text"},
            {"path": "n", "label": "N", "format": "number"},
        ],
        shared=shared,
        owner_id=owner_id,
        **{"variables": {}, **changes},
    )
    async with sessions() as session, session.begin():
        session.add(row)
    return row


async def create(sessions: Any, viewer: Viewer, name: str, *widgets: WidgetData) -> Dashboard:
    async with sessions() as session, session.begin():
        return await dashboards.create_dashboard(
            session, DashboardData(name=name, widgets=list(widgets)), viewer
        )


async def count(sessions: Any, model: Any) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_dashboard_keeps_its_widgets_in_layout_order_and_is_audited(sessions):
    agent = staff()
    shared = await template(sessions)
    own = await template(sessions, shared=False, owner_id=agent.user_id)

    made = await create(
        sessions,
        agent,
        "  My   morning ",
        WidgetData(template_id=str(shared.id), parameters={"status": "BOOKED"}, position=2),
        WidgetData(template_id=str(own.id), title="Mine", position=1),
    )

    assert made.name == "My morning"
    assert made.owner_id == agent.user_id
    assert [(w["templateId"], w["title"], w["position"]) for w in made.widgets] == [
        (str(own.id), "Mine", 1),
        (str(shared.id), shared.name, 2),
    ]
    assert made.widgets[1]["parameters"] == {"status": "BOOKED"}
    async with sessions() as session:
        entries = (
            await session.scalars(select(ReportsAudit).where(ReportsAudit.entity_id == made.id))
        ).all()
    assert [(e.entity, e.action, e.actor_id) for e in entries] == [
        ("dashboard", "create", agent.user_id)
    ]


async def test_widgets_name_only_templates_the_author_may_run_with_declared_parameters(sessions):
    agent = staff()
    others_private = await template(sessions, shared=False, owner_id=uuid.uuid4())
    archived = await template(sessions, active=False)
    broken = await template(sessions, broken_at=NOW, broken_reason="gone")
    fine = await template(sessions)

    with pytest.raises(ServiceError) as raised:
        await create(
            sessions,
            agent,
            "",
            WidgetData(template_id=str(others_private.id)),
            WidgetData(template_id=str(archived.id)),
            WidgetData(template_id="not-an-id"),
            WidgetData(template_id=str(broken.id)),
            WidgetData(template_id=str(fine.id), parameters={"nope": 1}),
            WidgetData(template_id=str(fine.id), parameters={"status": {"relative": "someday"}}),
        )

    assert [(p.field, p.code) for p in raised.value.problems] == [
        ("name", "INVALID"),
        ("widgets.0.templateId", "NOT_FOUND"),
        ("widgets.1.templateId", "NOT_FOUND"),
        ("widgets.2.templateId", "NOT_FOUND"),
        ("widgets.3.templateId", "BROKEN_TEMPLATE"),
        ("widgets.4.parameters", "INVALID"),
        ("widgets.5.parameters", "INVALID"),
    ]
    assert await count(sessions, Dashboard) == 0
    assert await count(sessions, ReportsAudit) == 0


async def test_only_the_owner_changes_or_deletes_and_admins_only_read(sessions):
    owner, other, admin = staff(), staff(Role.MANAGER), staff(Role.ADMIN)
    first, second = await template(sessions), await template(sessions)
    made = await create(sessions, owner, "Mine", WidgetData(template_id=str(first.id)))

    for stranger in (other, admin):
        with pytest.raises(ServiceError) as raised:
            async with sessions() as session, session.begin():
                await dashboards.update_dashboard(
                    session, made.id, DashboardData(name="Theirs"), stranger
                )
        assert [(p.field, p.code) for p in raised.value.problems] == [
            ("id", "NOT_FOUND" if stranger is other else "FORBIDDEN")
        ]
    async with sessions() as session:
        assert (await dashboards.get_dashboard(session, made.id, admin)).name == "Mine"
        assert await dashboards.own_dashboards(session, other) == []

    async with sessions() as session, session.begin():
        changed = await dashboards.update_dashboard(
            session,
            made.id,
            DashboardData(widgets=[WidgetData(template_id=str(second.id), title="New")]),
            owner,
        )
    assert changed.name == "Mine"
    assert [(w["templateId"], w["title"]) for w in changed.widgets] == [(str(second.id), "New")]

    async with sessions() as session, session.begin():
        assert await dashboards.delete_dashboard(session, made.id, owner) == made.id
    assert await count(sessions, Dashboard) == 0
    async with sessions() as session:
        actions = (
            await session.scalars(
                select(ReportsAudit.action)
                .where(ReportsAudit.entity_id == made.id)
                .order_by(ReportsAudit.at)
            )
        ).all()
    assert actions == ["create", "update", "delete"]


async def test_refresh_runs_every_widget_at_once_as_the_caller_and_keeps_the_runs(
    sessions, graph, fake
):
    agent = staff()
    counts, held = await template(sessions), await template(sessions, operation=HELD, rows="held")
    made = await create(
        sessions,
        agent,
        "Board",
        WidgetData(template_id=str(counts.id), parameters={"status": "BOOKED"}),
        WidgetData(template_id=str(held.id)),
        # the same template and parameters as the first: one run serves both
        WidgetData(template_id=str(counts.id), parameters={"status": "BOOKED"}, title="Again"),
    )
    fake.barrier = 2

    refreshed = await dashboards.refresh_dashboard(
        sessions,
        made.id,
        agent,
        graph=graph,
        authorization="Bearer the-agents-token",
        now=NOW,
        tz=TZ,
        retention_days=30,
    )

    assert refreshed.problems == []
    assert len(fake.seen) == 2
    assert {s["auth"] for s in fake.seen} == {"Bearer the-agents-token"}
    assert sorted((r.template_id, r.status, r.rows) for r in refreshed.runs) == sorted(
        [(counts.id, "succeeded", [["BOOKED", 2]]), (held.id, "succeeded", [["h", 1]])]
    )
    async with sessions() as session:
        stored = (await session.scalars(select(ReportRun))).all()
    assert {(r.run_by, r.template_id) for r in stored} == {
        (agent.user_id, counts.id),
        (agent.user_id, held.id),
    }


async def test_refresh_reports_failing_and_unrunnable_widgets_and_runs_the_rest(sessions, graph):
    agent = staff()
    counts = await template(sessions)
    failing = await template(sessions, operation=FAILING, rows="failing")
    gone = await template(sessions)
    made = await create(
        sessions,
        agent,
        "Board",
        WidgetData(template_id=str(gone.id)),
        WidgetData(template_id=str(failing.id)),
        WidgetData(template_id=str(counts.id)),
    )
    async with sessions() as session, session.begin():
        await session.execute(
            update(ReportTemplate).where(ReportTemplate.id == gone.id).values(active=False)
        )

    refreshed = await dashboards.refresh_dashboard(
        sessions,
        made.id,
        agent,
        graph=graph,
        authorization="Bearer t",
        now=NOW,
        tz=TZ,
        retention_days=30,
    )

    assert [(p.field, p.code) for p in refreshed.problems] == [
        ("widgets.0.templateId", "NOT_FOUND"),
        ("widgets.1", "RUN_FAILED"),
    ]
    assert sorted((r.template_id, r.status) for r in refreshed.runs) == sorted(
        [(failing.id, "failed"), (counts.id, "succeeded")]
    )


async def test_refresh_of_a_dashboard_the_caller_may_not_open_is_not_found(sessions, graph):
    made = await create(sessions, staff(), "Private")
    with pytest.raises(ServiceError) as raised:
        await dashboards.refresh_dashboard(
            sessions,
            made.id,
            staff(),
            graph=graph,
            authorization=None,
            now=NOW,
            tz=TZ,
            retention_days=30,
        )
    assert [(p.field, p.code) for p in raised.value.problems] == [("id", "NOT_FOUND")]
    assert await count(sessions, ReportRun) == 0


async def test_latest_run_is_the_callers_newest_with_the_widgets_parameters_as_meant_today(
    sessions,
):
    agent, other = staff(), staff()
    counts = await template(sessions, variables={"status": {"relative": "month_start"}})
    widget = {"templateId": str(counts.id), "parameters": {}}
    today = dashboards.widget_parameters(counts, widget, NOW, TZ)
    assert today == {"status": "2026-03-01"}

    def run(by: Viewer, parameters: dict[str, Any], at: datetime) -> ReportRun:
        return runner.record(
            session,
            counts.id,
            runner.Outcome(parameters=parameters),
            run_by=by.user_id,
            now=at,
            retention_days=30,
        )

    async with sessions() as session, session.begin():
        older = run(agent, today, datetime(2026, 3, 2, tzinfo=UTC))
        newest = run(agent, dict(today), datetime(2026, 3, 9, tzinfo=UTC))
        run(agent, {"status": "2026-02-01"}, datetime(2026, 3, 9, 12, tzinfo=UTC))
        run(other, today, datetime(2026, 3, 10, tzinfo=UTC))
    assert older.id != newest.id

    key = dashboards.parameters_key(today)
    me = agent.user_id or uuid.uuid4()
    async with sessions() as session:
        found = await dashboards.latest_runs(
            session,
            [
                (me, counts.id, key),
                (me, counts.id, dashboards.parameters_key({"status": "2026-04-01"})),
                (me, counts.id, key),
            ],
        )
    assert [r.id if r else None for r in found] == [newest.id, None, newest.id]


async def test_the_demo_manager_gets_a_sales_overview_once(sessions):
    async with sessions() as session, session.begin():
        first = await demo.load(session)
    async with sessions() as session, session.begin():
        again = await demo.load(session)

    assert (first, again) == (1, 0)
    async with sessions() as session:
        saved = (await session.scalars(select(Dashboard))).all()
        keys = {
            t.id: t.key
            for t in await session.scalars(
                select(ReportTemplate).where(ReportTemplate.key.isnot(None))
            )
        }
    assert [d.name for d in saved] == [demo.NAME]
    assert [(keys[uuid.UUID(w["templateId"])], w["title"]) for w in saved[0].widgets] == [
        ("sales_by_agent", "Sales by agent, month to date"),
        ("charter_status_summary", "Charters by status"),
    ]
