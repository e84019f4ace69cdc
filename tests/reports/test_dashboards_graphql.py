"""Saved dashboards through the reports subgraph: payloads, who opens what, one statement per kind."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from db.engine import record_statements
from subgraphs.kit.settings import Settings
from subgraphs.reports.app import create_app
from subgraphs.reports.models import Dashboard, ReportTemplate
from subgraphs.reports.service import runner
from tests.support.graphql_client import GraphQLClient
from tests.support.live_server import serve
from tests.support.tokens import TokenMinter

ERRORS = "userErrors { field code message }"
FIELDS = """id name owner widgets { id title parameters position
  template { id name } latestRun { id rows parameters } }"""
CREATE = f"""mutation($input: CreateDashboardInput!) {{
  createDashboard(input: $input) {{ dashboard {{ {FIELDS} }} {ERRORS} }} }}"""
UPDATE = f"""mutation($id: ID!, $input: UpdateDashboardInput!) {{
  updateDashboard(id: $id, input: $input) {{ dashboard {{ {FIELDS} }} {ERRORS} }} }}"""
OPERATION = "query Clients($name: String) { clients(first: 10, name: $name) { id name } }"


async def _template(sessions: Any, **changes: Any) -> ReportTemplate:
    row = ReportTemplate(
        id=uuid.uuid4(),
        name=f"Clients {uuid.uuid4().hex[:4]}",
        operation=OPERATION,
        rows_path="clients",
        columns=[{"path": "name", "label": "Name", "format": "text"}],
        **{"shared": True, **changes},
    )
    async with sessions() as session, session.begin():
        session.add(row)
    return row


async def _run(sessions: Any, template: ReportTemplate, by: uuid.UUID, name: str) -> str:
    async with sessions() as session, session.begin():
        run = runner.record(
            session,
            template.id,
            runner.Outcome(parameters={"name": name}, rows=[[name]], row_count=1),
            run_by=by,
            now=datetime.now(UTC),
            retention_days=30,
        )
    return str(run.id)


async def test_a_dashboard_is_saved_read_back_with_its_latest_runs_and_only_by_its_owner(
    reports_as, sessions
):
    me = uuid.uuid4()
    agent = await reports_as("sales_agent", user_id=me)
    template = await _template(sessions)
    widgets = [
        {"templateId": str(template.id), "title": "Acme", "parameters": {"name": "Acme"}},
        {"templateId": str(template.id), "parameters": {"name": "Zed"}, "position": 5},
    ]

    made = (await agent(CREATE, {"input": {"name": "Mine", "widgets": widgets}})).ok()
    dashboard = made["createDashboard"]["dashboard"]
    assert made["createDashboard"]["userErrors"] == []
    assert dashboard["owner"] == str(me)
    assert [(w["title"], w["position"], w["latestRun"]) for w in dashboard["widgets"]] == [
        ("Acme", 0, None),
        (template.name, 5, None),
    ]

    acme = await _run(sessions, template, me, "Acme")
    await _run(sessions, template, uuid.uuid4(), "Zed")  # someone else's run is not mine
    query = f"query($id: ID!) {{ dashboard(id: $id) {{ {FIELDS} }} }}"
    read = (await agent(query, {"id": dashboard["id"]})).ok()["dashboard"]
    assert [(w["template"]["id"], w["latestRun"]) for w in read["widgets"]] == [
        (str(template.id), {"id": acme, "rows": [["Acme"]], "parameters": {"name": "Acme"}}),
        (str(template.id), None),
    ]
    mine = (await agent("{ myDashboards { id name } }")).ok()["myDashboards"]
    assert mine == [{"id": dashboard["id"], "name": "Mine"}]

    other = await reports_as("manager")
    assert (await other(query, {"id": dashboard["id"]})).ok()["dashboard"] is None
    assert (await other("{ myDashboards { id } }")).ok()["myDashboards"] == []
    admin = await reports_as("admin")
    assert (await admin(query, {"id": dashboard["id"]})).ok()["dashboard"]["name"] == "Mine"
    refused = (await other(UPDATE, {"id": dashboard["id"], "input": {"name": "X"}})).ok()
    assert refused["updateDashboard"]["userErrors"][0]["code"] == "NOT_FOUND"

    deleted = (
        await agent(
            "mutation($id: ID!) { deleteDashboard(id: $id) { deletedId " + ERRORS + " } }",
            {"id": dashboard["id"]},
        )
    ).ok()["deleteDashboard"]
    assert deleted == {"deletedId": dashboard["id"], "userErrors": []}


async def test_bad_widgets_are_user_errors_on_their_input_fields_and_nothing_is_saved(
    reports_as, sessions
):
    agent = await reports_as("sales_agent")
    template = await _template(sessions)
    private = await _template(sessions, shared=False, owner_id=uuid.uuid4())
    widgets = [
        {"templateId": str(template.id), "parameters": {"unknown": 1}},
        {"templateId": str(private.id)},
    ]

    made = (await agent(CREATE, {"input": {"name": "Bad", "widgets": widgets}})).ok()

    assert made["createDashboard"]["dashboard"] is None
    assert [(e["field"], e["code"]) for e in made["createDashboard"]["userErrors"]] == [
        ("widgets.0.parameters", "INVALID"),
        ("widgets.1.templateId", "NOT_FOUND"),
    ]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Dashboard)) == 0
    refresh = "mutation($id: ID!) { refreshDashboard(id: $id) { dashboard { id } " + ERRORS + " } }"
    missing = (await agent(refresh, {"id": str(uuid.uuid4())})).ok()["refreshDashboard"]
    assert [(e["field"], e["code"]) for e in missing["userErrors"]] == [("id", "NOT_FOUND")]


async def test_my_dashboards_costs_the_same_statements_for_one_widget_or_many(reports_as, sessions):
    me = uuid.uuid4()
    agent = await reports_as("sales_agent", user_id=me)
    query = f"{{ myDashboards {{ {FIELDS} }} }}"

    async def statements() -> tuple[int, Any]:
        with record_statements() as recorder:
            data = (await agent(query)).ok()
        return sum("reports." in s for s in recorder.statements), data

    first = await _template(sessions)
    await agent(CREATE, {"input": {"name": "One", "widgets": [{"templateId": str(first.id)}]}})
    await _run(sessions, first, me, "x")
    few, _ = await statements()
    for n in range(3):
        template = await _template(sessions)
        widgets = [
            {"templateId": str(template.id), "parameters": {"name": str(i)}} for i in range(3)
        ]
        await agent(CREATE, {"input": {"name": f"Board {n}", "widgets": widgets}})
        await _run(sessions, template, me, "1")
    many, data = await statements()

    shown = [w["latestRun"] for d in data["myDashboards"] for w in d["widgets"]]
    assert len(shown) == 10
    assert sum(r is not None for r in shown) == 3  # each board's "1" widget has a run
    # dashboards, their templates, their latest runs: one statement each
    assert few == many == 3


async def test_refresh_runs_the_widgets_with_the_callers_token_and_shows_the_new_figures(
    subgraph_settings: Settings,
    http_client: httpx.AsyncClient,
    mint: TokenMinter,
    sessions: Any,
) -> None:
    seen: list[str | None] = []

    async def graph(request: Request) -> Response:
        seen.append(request.headers.get("authorization"))
        name = (await request.json())["variables"].get("name")
        return JSONResponse({"data": {"clients": [{"id": "1", "name": f"{name} Ltd"}]}})

    me = uuid.uuid4()
    token = await mint("sales_agent", user_id=me)
    router = Starlette(routes=[Route("/graphql", graph, methods=["POST"])])
    async with serve(router) as fake:
        settings = subgraph_settings.model_copy(
            update={"reports_router_url": fake.graphql_url, "reports_jobs_enabled": False}
        )
        async with serve(create_app(settings)) as reports:
            # made after start-up, whose re-validation would mark this made-up operation broken
            template = await _template(sessions)
            agent = GraphQLClient(reports.graphql_url, http_client, token)
            widgets = [{"templateId": str(template.id), "parameters": {"name": "Acme"}}]
            made = (await agent(CREATE, {"input": {"name": "Live", "widgets": widgets}})).ok()
            refresh = f"""mutation($id: ID!) {{ refreshDashboard(id: $id) {{
              dashboard {{ {FIELDS} }} {ERRORS} }} }}"""
            dashboard_id = made["createDashboard"]["dashboard"]["id"]
            done = (await agent(refresh, {"id": dashboard_id})).ok()["refreshDashboard"]

    assert done["userErrors"] == []
    assert seen == [f"Bearer {token}"]
    latest = done["dashboard"]["widgets"][0]["latestRun"]
    assert (latest["rows"], latest["parameters"]) == ([["Acme Ltd"]], {"name": "Acme"})
