"""GET /report-runs/{id}.csv and .xlsx: the runner's or an admin's, 404 for anyone else."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
from openpyxl import load_workbook

from subgraphs.reports.models import ReportTemplate
from subgraphs.reports.service import runner
from subgraphs.reports.service.exports import XLSX_TYPE
from subgraphs.reports.service.tabulate import tabulate
from tests.support.live_server import LiveServer
from tests.support.tokens import TokenMinter

ROWS = [
    {"agent": "Ann", "total": "100.10"},
    {"agent": "Bob", "total": "0.20"},
    {"agent": "Ann", "total": "0.05"},
]
COLUMNS = [
    {"path": "agent", "label": "Agent", "format": "text"},
    {"path": "total", "label": "Total", "format": "money"},
]


async def _run(sessions: Any, run_by: uuid.UUID, status: str = "succeeded") -> uuid.UUID:
    table = tabulate(ROWS, COLUMNS, ["agent"], [{"column": "total", "function": "sum"}])
    template = ReportTemplate(
        id=uuid.uuid4(), name="Sales by agent", operation="{ x }", rows_path="x", columns=COLUMNS,
        variables={}, group_by=[], aggregations=[], visualisation="table", shared=True,
    )  # fmt: skip
    outcome = runner.Outcome(
        parameters={},
        status=status,
        columns=[c.as_json() for c in table.columns],
        rows=table.rows,
        totals=table.totals,
        row_count=len(table.rows),
    )
    async with sessions() as session, session.begin():
        session.add(template)
        await session.flush()
        run = runner.record(
            session, template.id, outcome, run_by=run_by, now=datetime.now(UTC), retention_days=30
        )
    return run.id


async def test_the_runner_downloads_csv_and_xlsx_with_the_same_totals(
    sessions: Any, reports_server: LiveServer, http_client: httpx.AsyncClient, mint: TokenMinter
) -> None:
    agent = uuid.uuid4()
    run_id = await _run(sessions, agent)
    token = await mint("sales_agent", user_id=agent)
    auth = {"Authorization": f"Bearer {token}"}

    got = await http_client.get(f"{reports_server.base_url}/report-runs/{run_id}.csv", headers=auth)
    assert got.status_code == 200
    assert got.headers["content-type"].startswith("text/csv")
    assert got.headers["cache-control"] == "private, no-store"
    assert "sales-by-agent-" in got.headers["content-disposition"]
    lines = list(csv.reader(io.StringIO(got.text)))
    assert lines == [
        ["Agent", "Total (sum)"],
        ["Ann", "100.15"],
        ["Bob", "0.20"],
        ["Total", "100.35"],
    ]

    got = await http_client.get(
        f"{reports_server.base_url}/report-runs/{run_id}.xlsx", headers=auth
    )
    assert got.status_code == 200
    assert got.headers["content-type"] == XLSX_TYPE
    sheet = load_workbook(io.BytesIO(got.content)).active
    assert sheet is not None
    cells = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert cells[0] == ["Agent", "Total (sum)"]
    assert [r[0] for r in cells[1:]] == ["Ann", "Bob", "Total"]
    # The same figures as the CSV, as numbers with 2 decimals.
    assert [f"{r[1]:.2f}" for r in cells[1:]] == ["100.15", "0.20", "100.35"]
    assert sheet["B4"].number_format == "#,##0.00"


async def test_others_get_404_admins_read_anyones_no_token_401(
    sessions: Any, reports_server: LiveServer, http_client: httpx.AsyncClient, mint: TokenMinter
) -> None:
    run_id = await _run(sessions, uuid.uuid4())
    url = f"{reports_server.base_url}/report-runs/{run_id}.csv"

    async def status(role: str | None, target: str = url) -> int:
        headers = {"Authorization": f"Bearer {await mint(role)}"} if role else {}
        return (await http_client.get(target, headers=headers)).status_code

    assert await status(None) == 401
    assert await status("sales_agent") == 404
    assert await status("manager") == 404
    assert await status("client") == 404
    assert await status("admin") == 200
    assert await status("admin", f"{reports_server.base_url}/report-runs/not-an-id.csv") == 404
    assert (
        await status("admin", f"{reports_server.base_url}/report-runs/{uuid.uuid4()}.xlsx") == 404
    )
    failed = await _run(sessions, uuid.uuid4(), status="failed")
    assert await status("admin", f"{reports_server.base_url}/report-runs/{failed}.csv") == 404
