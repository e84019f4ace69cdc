"""Every reports root query and mutation, for every role and anonymous: the table is data.

A role not in a row gets a top-level `FORBIDDEN` (anonymous
`UNAUTHENTICATED`); a role in it gets past the gate (whatever the business
rules then say: `userErrors`, null). A root field added without a row fails
here (`test_the_table_names_every_root_field`). The policy itself is
`subgraphs/reports/service/access.py`: staff use reports, clients, vendors and
drivers have none.
"""

from __future__ import annotations

import uuid
from typing import Any

from subgraphs.reports.app import schema
from tests.support.roles import ROLES

STAFF = {"admin", "manager", "dispatcher", "sales_agent", "sales_support", "accounting"}
MANAGE_SHARED = {"admin", "manager"}

EXPECTED: dict[str, set[str]] = {
    # Templates: staff run what is shared with them and save their own; managers share.
    "reportTemplates": STAFF,
    "reportTemplate": STAFF,
    "brokenReportTemplates": MANAGE_SHARED,
    "createReportTemplate": STAFF,
    "updateReportTemplate": STAFF,
    "deleteReportTemplate": STAFF,
    # Runs: as the runner, through the router.
    "runReport": STAFF,
    "reportRun": STAFF,
    "reportRuns": STAFF,
    # Schedules: a shared template's by managers, a private one's by its owner.
    "reportSchedules": STAFF,
    "reportSchedule": STAFF,
    "createReportSchedule": STAFF,
    "updateReportSchedule": STAFF,
    "disableReportSchedule": STAFF,
    "enableReportSchedule": STAFF,
    # Dashboards: any staff member saves its own; admins open anyone's.
    "myDashboards": STAFF,
    "dashboard": STAFF,
    "createDashboard": STAFF,
    "updateDashboard": STAFF,
    "deleteDashboard": STAFF,
    "refreshDashboard": STAFF,
}

NOBODY = str(uuid.UUID(int=0))
OUT = "{ userErrors { code } }"
CALLS: dict[str, str] = {
    "reportTemplates": "{ reportTemplates { id } }",
    "reportTemplate": f'{{ reportTemplate(id: "{NOBODY}") {{ id }} }}',
    "brokenReportTemplates": "{ brokenReportTemplates { id } }",
    "createReportTemplate": 'mutation { createReportTemplate(input: {name: "", operation: "", '
    f'rowsPath: "", columns: []}}) {OUT} }}',
    "updateReportTemplate": f'mutation {{ updateReportTemplate(id: "{NOBODY}", input: {{}}) '
    f"{OUT} }}",
    "deleteReportTemplate": f'mutation {{ deleteReportTemplate(id: "{NOBODY}") {OUT} }}',
    "runReport": f'mutation {{ runReport(templateId: "{NOBODY}") {OUT} }}',
    "reportRun": f'{{ reportRun(id: "{NOBODY}") {{ id }} }}',
    "reportRuns": f'{{ reportRuns(templateId: "{NOBODY}") {{ id }} }}',
    "reportSchedules": "{ reportSchedules { id } }",
    "reportSchedule": f'{{ reportSchedule(id: "{NOBODY}") {{ id }} }}',
    "createReportSchedule": 'mutation { createReportSchedule(input: {templateId: "'
    + NOBODY
    + f'", name: "x", frequency: DAILY, timeZone: "UTC", recipients: []}}) {OUT} }}',
    "updateReportSchedule": f'mutation {{ updateReportSchedule(id: "{NOBODY}", input: {{}}) '
    f"{OUT} }}",
    "disableReportSchedule": f'mutation {{ disableReportSchedule(id: "{NOBODY}") {OUT} }}',
    "enableReportSchedule": f'mutation {{ enableReportSchedule(id: "{NOBODY}") {OUT} }}',
    "myDashboards": "{ myDashboards { id } }",
    "dashboard": f'{{ dashboard(id: "{NOBODY}") {{ id }} }}',
    "createDashboard": f'mutation {{ createDashboard(input: {{name: ""}}) {OUT} }}',
    "updateDashboard": f'mutation {{ updateDashboard(id: "{NOBODY}", input: {{}}) {OUT} }}',
    "deleteDashboard": f'mutation {{ deleteDashboard(id: "{NOBODY}") {OUT} }}',
    "refreshDashboard": f'mutation {{ refreshDashboard(id: "{NOBODY}") {OUT} }}',
}


def test_the_table_names_every_root_field() -> None:
    graphql = schema._schema
    names = set(graphql.query_type.fields) | set(graphql.mutation_type.fields)
    assert {n for n in names if not n.startswith("_")} == set(EXPECTED) == set(CALLS)


async def test_every_operation_as_every_role(reports_as: Any) -> None:
    # one test for all roles: the inputs change nothing, so nothing is emptied between them
    for role in (*ROLES, None):
        client = await reports_as(*([role] if role else []))
        for field, allowed in EXPECTED.items():
            response = await client(CALLS[field])
            if (role or "anonymous") in allowed:
                assert "FORBIDDEN" not in response.error_codes, (field, role, response.body)
                assert "UNAUTHENTICATED" not in response.error_codes, (field, role, response.body)
                assert response.data is not None, (field, role, response.body)
            elif role is None:
                assert response.error_codes == ["UNAUTHENTICATED"], (field, response.body)
            else:
                assert response.error_codes == ["FORBIDDEN"], (field, role, response.body)
