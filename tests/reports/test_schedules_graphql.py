"""Report schedules through the reports subgraph: the payloads, the gate, one statement per kind."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from db.engine import record_statements
from subgraphs.reports.models import ReportSchedule, ReportTemplate
from tests.reports.identity_users import staff_user

ERRORS = "userErrors { field code message }"
FIELDS = """id name owner frequency atTime weekday monthDay cron timeZone recipients format
  parameters enabled nextRunAt lastRunAt template { id name }"""
CREATE = f"""mutation($input: CreateReportScheduleInput!) {{
  createReportSchedule(input: $input) {{ schedule {{ {FIELDS} }} {ERRORS} }} }}"""
OPERATION = "query Clients { clients(first: 10) { edges { node { id name } } } }"


async def _template(sessions: Any, *, shared: bool, owner_id: uuid.UUID | None = None) -> str:
    async with sessions() as session, session.begin():
        row = ReportTemplate(
            id=uuid.uuid4(),
            name="Clients",
            operation=OPERATION,
            rows_path="clients.edges.node",
            columns=[{"path": "name", "label": "Name", "format": "text"}],
            shared=shared,
            owner_id=owner_id,
        )
        session.add(row)
    return str(row.id)


def _input(template_id: str, **changes: Any) -> dict[str, Any]:
    return {
        "templateId": template_id,
        "name": "Friday clients",
        "frequency": "WEEKLY",
        "weekday": 5,
        "atTime": "16:00",
        "timeZone": "America/New_York",
        "recipients": ["ops@example.com"],
        "format": "XLSX",
        **changes,
    }


async def test_a_manager_schedules_a_shared_template_and_reads_it_back(reports_as, sessions):
    manager_id = await staff_user(sessions, "manager")  # identity grants it (run as owner)
    manager = await reports_as("manager", user_id=manager_id)
    template_id = await _template(sessions, shared=True)

    made = (await manager(CREATE, {"input": _input(template_id)})).ok()["createReportSchedule"]

    schedule = made["schedule"]
    assert made["userErrors"] == []
    assert {k: schedule[k] for k in ("owner", "frequency", "atTime", "weekday", "format")} == {
        "owner": str(manager_id),
        "frequency": "WEEKLY",
        "atTime": "16:00",
        "weekday": 5,
        "format": "XLSX",
    }
    assert schedule["template"] == {"id": template_id, "name": "Clients"}
    assert (schedule["enabled"], schedule["lastRunAt"]) == (True, None)
    local = datetime.fromisoformat(schedule["nextRunAt"]).astimezone(ZoneInfo("America/New_York"))
    assert (local.isoweekday(), local.hour, local.minute) == (5, 16, 0)
    # by template: the shipped (disabled) schedules are there too when this worker's app
    # started during this test and installed them
    listed = (
        await manager(
            "query($t: ID!) { reportSchedules(templateId: $t) { id nextRunAt } }",
            {"t": template_id},
        )
    ).ok()["reportSchedules"]
    assert listed == [{"id": schedule["id"], "nextRunAt": schedule["nextRunAt"]}]

    disabled = (
        await manager(
            f"mutation($id: ID!) {{ disableReportSchedule(id: $id) {{ schedule {{ enabled "
            f"nextRunAt }} {ERRORS} }} }}",
            {"id": schedule["id"]},
        )
    ).ok()["disableReportSchedule"]
    assert disabled == {"schedule": {"enabled": False, "nextRunAt": None}, "userErrors": []}


async def test_bad_input_is_a_user_error_on_its_field_and_saves_nothing(reports_as, sessions):
    manager = await reports_as("manager", user_id=uuid.uuid4())
    agent = await reports_as("sales_agent", user_id=uuid.uuid4())
    template_id = await _template(sessions, shared=True)

    async def errors(client: Any, **changes: Any) -> list[tuple[str, str]]:
        answer = (await client(CREATE, {"input": _input(template_id, **changes)})).ok()
        payload = answer["createReportSchedule"]
        assert payload["schedule"] is None
        return [(e["field"], e["code"]) for e in payload["userErrors"]]

    assert await errors(manager, frequency="CRON", cron="0 0 30 2 *") == [("cron", "INVALID_CRON")]
    assert await errors(manager, atTime="4pm") == [("atTime", "INVALID")]
    assert await errors(manager, recipients=[]) == [("recipients", "REQUIRED")]
    assert await errors(manager, parameters={"since": "2026-01-01"}) == [("parameters", "INVALID")]
    assert await errors(agent) == [("templateId", "FORBIDDEN")]
    assert await errors(manager, templateId="nope") == [("templateId", "NOT_FOUND")]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ReportSchedule)) == 0


async def test_schedules_with_their_templates_take_the_same_statements_for_one_or_many(
    reports_as, sessions
):
    manager = await reports_as("manager", user_id=await staff_user(sessions, "manager"))
    query = "{ reportSchedules { name template { name columns { path } } } }"

    async def statements() -> int:
        with record_statements() as recorder:
            (await manager(query)).ok()
        return sum("reports." in s for s in recorder.statements)

    first = await _template(sessions, shared=True)
    assert (await manager(CREATE, {"input": _input(first)})).ok()["createReportSchedule"][
        "userErrors"
    ] == []
    few = await statements()
    for _ in range(3):
        other = await _template(sessions, shared=True)
        await manager(CREATE, {"input": _input(other, name=f"S {other}")})
    many = await statements()
    answer = (await manager(query)).ok()["reportSchedules"]

    assert len(answer) == 4
    assert all(s["template"]["name"] == "Clients" for s in answer)
    assert few == many, (few, many)
    assert 0 < few <= 3
