"""Templates through the live reports subgraph: payloads and visibility (the gate for every
role is test_security_review_roles)."""

from __future__ import annotations

import uuid
from typing import Any

from tests.reports.template_data import template_input

FIELDS = """
id key name description operation variables rowsPath pageSize
columns { path label format } groupBy aggregations { column function }
visualisation shared owner broken brokenReason createdAt updatedAt
"""
CREATE = f"""
mutation($input: CreateReportTemplateInput!) {{
  createReportTemplate(input: $input) {{
    template {{ {FIELDS} }}
    userErrors {{ field code message }}
  }}
}}
"""


async def test_save_read_edit_archive_through_the_graph(reports_as: Any) -> None:
    agent_id = uuid.uuid4()
    agent = await reports_as("sales_agent", user_id=agent_id)
    other = await reports_as("sales_agent")
    manager = await reports_as("manager")

    saved = (await agent(CREATE, {"input": template_input()})).ok()["createReportTemplate"]
    assert saved["userErrors"] == []
    template = saved["template"]
    assert {k: template[k] for k in ("owner", "shared", "broken", "visualisation", "key")} == {
        "owner": str(agent_id),
        "shared": False,
        "broken": False,
        "visualisation": "TABLE",
        "key": None,
    }
    assert template["variables"] == {
        "status": ["BOOKED"],
        "from": {"relative": "month_start_instant"},
    }
    assert template["aggregations"] == [
        {"column": "quote.total", "function": "SUM"},
        {"column": "reference", "function": "COUNT"},
    ]
    one = '{{ reportTemplate(id: "{}") {{ id name }} }}'.format(template["id"])
    assert (await agent(one)).ok()["reportTemplate"]["name"] == "Bookings by status"
    assert (await other(one)).ok()["reportTemplate"] is None
    assert (await manager(one)).ok()["reportTemplate"] is None  # private is private

    update = """mutation($id: ID!, $input: UpdateReportTemplateInput!) {
      updateReportTemplate(id: $id, input: $input) {
        template { name visualisation } userErrors { field code }
      } }"""
    by_other = (await other(update, {"id": template["id"], "input": {"name": "X"}})).ok()
    assert by_other["updateReportTemplate"] == {
        "template": None,
        "userErrors": [{"field": "id", "code": "NOT_FOUND"}],
    }
    renamed = (
        await agent(
            update, {"id": template["id"], "input": {"name": "Mine", "visualisation": "PIE"}}
        )
    ).ok()
    assert renamed["updateReportTemplate"] == {
        "template": {"name": "Mine", "visualisation": "PIE"},
        "userErrors": [],
    }
    listed = "{ reportTemplates { id } }"
    mine = [t["id"] for t in (await agent(listed)).ok()["reportTemplates"]]
    assert template["id"] in mine
    delete = (
        f'mutation {{ deleteReportTemplate(id: "{template["id"]}") '
        "{ template { id } userErrors { code } } }"
    )
    assert (await agent(delete)).ok()["deleteReportTemplate"]["userErrors"] == []
    assert template["id"] not in [t["id"] for t in (await agent(listed)).ok()["reportTemplates"]]


async def test_bad_input_is_user_errors_on_input_fields_and_nothing_saved(
    reports_as: Any,
) -> None:
    agent = await reports_as("sales_agent")
    answer = (
        await agent(
            CREATE,
            {
                "input": template_input(
                    operation="query { charters { edges { node { reference } } } }",
                    columns=[{"path": "reference"}],
                    groupBy=[],
                    aggregations=[],
                    variables={},
                )
            },
        )
    ).ok()["createReportTemplate"]
    assert answer["template"] is None
    assert [(e["field"], e["code"]) for e in answer["userErrors"]] == [
        ("operation", "INVALID_OPERATION")
    ]
    assert "after: $after" in answer["userErrors"][0]["message"]
    shared = (await agent(CREATE, {"input": template_input(shared=True)})).ok()
    assert shared["createReportTemplate"]["userErrors"] == [
        {
            "field": "shared",
            "code": "FORBIDDEN",
            "message": "Only managers and admins share templates.",
        }
    ]
    mine = (await agent("{ reportTemplates(includeBroken: false) { id key } }")).ok()
    assert [t for t in mine["reportTemplates"] if t["key"] is None] == []
    # asking for broken ones is for managers and admins
    assert (await agent("{ reportTemplates(includeBroken: true) { id } }")).error_codes == [
        "FORBIDDEN"
    ]
