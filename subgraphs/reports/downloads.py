"""GET /report-runs/{id}.csv and .xlsx: a stored run's table as a file.

Authenticated like every download (`kit/downloads.py`): the bearer token
only; 401 without a valid one; 404 for a run that does not exist, has
expired, or is not the caller's (an admin reads any). The file is made from
the stored run, so it shows exactly the table, and the totals, the run
returned in the graph.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from starlette.routing import Route

from subgraphs.kit.downloads import Asked, asked_for, attachment, not_found, private_file
from subgraphs.reports.models import ReportTemplate
from subgraphs.reports.service import runner
from subgraphs.reports.service.exports import CSV_TYPE, XLSX_TYPE, to_csv, to_xlsx

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", name).strip("-").lower()[:60] or "report"


async def _download(request: Request, kind: str) -> Response:
    asked = await asked_for(request, "run_id", "report run")
    if not isinstance(asked, Asked):
        return asked
    async with asked.services.sessions() as session:
        run = await runner.readable_run(session, asked.key, asked.viewer)
        if run is None or run.status != runner.SUCCEEDED:
            return not_found("report run")
        template = await session.get(ReportTemplate, run.template_id)
    name = template.name if template is not None else "Report"
    filename = f"{_slug(name)}-{run.ran_at.strftime('%Y-%m-%d-%H%M')}.{kind}"
    if kind == "csv":
        data = to_csv(run.columns, run.rows, run.totals)
        return private_file(data, CSV_TYPE, attachment(filename))
    data = to_xlsx(
        run.columns,
        run.rows,
        run.totals,
        title=name,
        time_zone=asked.services.settings.operator_time_zone,
    )
    return private_file(data, XLSX_TYPE, attachment(filename))


async def download_csv(request: Request) -> Response:
    return await _download(request, "csv")


async def download_xlsx(request: Request) -> Response:
    return await _download(request, "xlsx")


routes = [
    Route("/report-runs/{run_id}.csv", download_csv, methods=["GET"]),
    Route("/report-runs/{run_id}.xlsx", download_xlsx, methods=["GET"]),
]
