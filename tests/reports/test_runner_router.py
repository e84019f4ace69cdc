"""Runs through the real router over real subgraphs, as the person running them (issue 16 §5).

Reports is started here with its router URL pointed at a router over
identity and sales. A sales agent sees only its own leads in the graph, so
its run of the same template holds only its own rows, while a manager's
holds everyone's: the reader's token does it, reports adds no rule of its own.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from db.engine import record_statements
from subgraphs.kit.settings import Settings
from subgraphs.reports.app import create_app as create_reports_app
from tests.reports.leads_template import leads_by_agent
from tests.support.graphql_client import GraphQLClient
from tests.support.live_server import LiveServer, serve
from tests.support.tokens import TokenMinter

RUN = """
mutation($id: ID!, $parameters: JSON) {
  runReport(templateId: $id, parameters: $parameters) {
    run { id status error rowCount requests runBy rows totals columns { key label format }
          csvUrl template { id name } }
    userErrors { field code message }
  }
}"""
HISTORY = """
query($id: ID) { reportRuns(templateId: $id, first: 10) { id runBy rowCount template { id } } }
"""


@pytest.fixture(scope="module")
async def reports_live(
    subgraph_settings: Settings, router_live: LiveServer
) -> AsyncIterator[LiveServer]:
    settings = subgraph_settings.model_copy(
        update={"reports_router_url": router_live.graphql_url, "reports_jobs_enabled": False}
    )
    async with serve(create_reports_app(settings)) as server:
        yield server


@pytest.fixture
def as_user(reports_live: LiveServer, http_client: httpx.AsyncClient, mint: TokenMinter) -> Any:
    async def make(role: str, user_id: uuid.UUID) -> GraphQLClient:
        return GraphQLClient(
            reports_live.graphql_url, http_client, await mint(role, user_id=user_id)
        )

    return make


async def test_an_agents_run_holds_its_own_rows_a_managers_everyones(
    sessions: Any, as_user: Any
) -> None:
    template_id, ann, bob = await leads_by_agent(sessions, page_size=2)

    agent = await as_user("sales_agent", ann)
    mine = (await agent(RUN, {"id": str(template_id)})).ok()["runReport"]
    assert mine["userErrors"] == []
    run = mine["run"]
    assert run["status"] == "SUCCEEDED", run["error"]
    assert run["rows"] == [[str(ann), 3]]
    assert run["totals"] == {"count(id)": 3}
    assert run["runBy"] == str(ann)
    assert run["requests"] == 2  # 3 leads at 2 a page
    assert run["columns"] == [
        {"key": "agent.id", "label": "Agent", "format": "text"},
        {"key": "count(id)", "label": "Lead (count)", "format": "number"},
    ]
    assert run["template"] == {"id": str(template_id), "name": "Leads by agent"}
    assert run["csvUrl"] == f"/report-runs/{run['id']}.csv"

    manager_id = uuid.uuid4()
    manager = await as_user("manager", manager_id)
    everyone = (await manager(RUN, {"id": str(template_id)})).ok()["runReport"]["run"]
    assert everyone["status"] == "SUCCEEDED", everyone["error"]
    assert sorted(everyone["rows"], key=lambda r: r[1]) == [
        [None, 1],
        [str(bob), 2],
        [str(ann), 3],
    ]
    assert everyone["totals"] == {"count(id)": 6}
    assert everyone["requests"] == 3

    # History: the agent sees its own run; the manager everyone's (newest first).
    assert [
        r["runBy"] for r in (await agent(HISTORY, {"id": str(template_id)})).ok()["reportRuns"]
    ] == [str(ann)]
    history = (await manager(HISTORY, {"id": str(template_id)})).ok()["reportRuns"]
    assert [r["runBy"] for r in history] == [str(manager_id), str(ann)]
    # The run itself: its runner reads it; another agent is told nothing.
    one = "query($id: ID!) { reportRun(id: $id) { id rowCount } }"
    assert (await agent(one, {"id": run["id"]})).ok()["reportRun"] == {
        "id": run["id"],
        "rowCount": 1,
    }
    other = await as_user("sales_agent", bob)
    assert (await other(one, {"id": run["id"]})).ok()["reportRun"] is None


async def test_bad_parameters_and_unknown_templates_are_user_errors(
    sessions: Any, as_user: Any
) -> None:
    template_id, ann, _ = await leads_by_agent(sessions, page_size=2)
    agent = await as_user("sales_agent", ann)
    bad = (await agent(RUN, {"id": str(template_id), "parameters": {"region": "x"}})).ok()
    assert bad["runReport"]["run"] is None
    assert [(e["field"], e["code"]) for e in bad["runReport"]["userErrors"]] == [
        ("parameters", "INVALID")
    ]
    unknown = (await agent(RUN, {"id": str(uuid.uuid4())})).ok()["runReport"]
    assert [(e["field"], e["code"]) for e in unknown["userErrors"]] == [("templateId", "NOT_FOUND")]
    assert (await agent(HISTORY, {"id": str(template_id)})).ok()["reportRuns"] == []


async def test_a_graph_refusal_is_a_failed_run_and_run_failed(sessions: Any, as_user: Any) -> None:
    """Reports' gate admits staff; the graph then applies its own rules to the same token."""
    template_id, _ann, _ = await leads_by_agent(sessions, page_size=2)
    client = await as_user("client", uuid.uuid4())
    # Clients have no reports at all: the gate refuses before anything runs.
    assert (await client(RUN, {"id": str(template_id)})).error_codes == ["FORBIDDEN"]
    # A dispatcher is staff (it may run shared templates) but may not read leads in the graph.
    dispatcher = await as_user("dispatcher", uuid.uuid4())
    failed = (await dispatcher(RUN, {"id": str(template_id)})).ok()["runReport"]
    assert failed["run"]["status"] == "FAILED"
    assert "at leads" in failed["run"]["error"]
    assert [e["code"] for e in failed["userErrors"]] == ["RUN_FAILED"]
    assert failed["run"]["id"] in failed["userErrors"][0]["message"]


async def test_history_loads_templates_in_one_statement(sessions: Any, as_user: Any) -> None:
    template_id, _ann, _ = await leads_by_agent(sessions, page_size=2)
    manager = await as_user("manager", uuid.uuid4())
    for _ in range(3):
        assert (await manager(RUN, {"id": str(template_id)})).ok()["runReport"]["userErrors"] == []
    with record_statements() as recorder:
        history = (await manager(HISTORY, {"id": None})).ok()["reportRuns"]
    assert len(history) == 3
    assert {r["template"]["id"] for r in history} == {str(template_id)}
    templates = [s for s in recorder.statements if "reports.report_templates" in s]
    # One for the history's join, one for the loader: not one per run.
    assert len([s for s in templates if "report_runs" not in s]) == 1
