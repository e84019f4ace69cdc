"""What every finance report shares: the operator's today, who may read, the CSV answer.

A report is one service function answered twice, as a query for screens
and as `GET /reports/<name>.csv` for spreadsheets, with the same figures:
`csv_route` states the CSV half once (authentication, the finance-staff
gate, bad parameters as 400, the download headers).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from starlette.responses import Response
from starlette.routing import Route

from protocol.roles import Role
from subgraphs.finance.service.access import WORK_FINANCE
from subgraphs.kit.auth.request_viewer import problem, viewer_of

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession
    from starlette.requests import Request

    from protocol.viewer import Viewer
    from subgraphs.kit.context import Services


def today(zone: str) -> date:
    """The operator's calendar day: aging and due dates count in its time zone."""
    return datetime.now(UTC).astimezone(ZoneInfo(zone)).date()


class BadParameter(ValueError):
    """A query-string parameter the report cannot use; answered as 400 naming it."""


def date_param(request: Request, name: str, default: date) -> date:
    raw = request.query_params.get(name)
    try:
        return date.fromisoformat(raw) if raw else default
    except ValueError as exc:
        raise BadParameter(f"{name} is a date (YYYY-MM-DD).") from exc


@dataclass(frozen=True)
class Table:
    """A report as a spreadsheet: its file name, header and rows (the TOTAL row included)."""

    filename: str
    header: Sequence[str]
    rows: Iterable[Sequence[Any]]


#: Builds a report's table from the request's parameters, in an open session.
TableBuilder = Callable[["Request", "AsyncSession", "Viewer"], Awaitable[Table]]


def csv_route(path: str, build: TableBuilder, roles: Sequence[Role] = WORK_FINANCE) -> Route:
    """`GET path` answering `build`'s table as CSV to the roles given (finance staff by default)."""

    async def endpoint(request: Request) -> Response:
        services: Services = request.app.state.services
        viewer = await viewer_of(request, services)
        if viewer is None:
            return problem(
                401, "UNAUTHENTICATED", "Log in: a valid, current access token is needed."
            )
        if not viewer.has_any_role(*roles):
            return problem(403, "FORBIDDEN", "Reports are for finance staff.")
        try:
            async with services.sessions() as session:
                table = await build(request, session, viewer)
        except BadParameter as exc:
            return problem(400, "BAD_USER_INPUT", str(exc))
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(table.header)
        writer.writerows(table.rows)
        return Response(
            out.getvalue(),
            media_type="text/csv",
            headers={
                "Content-Disposition": f'attachment; filename="{table.filename}"',
                "Cache-Control": "private, no-store",
            },
        )

    return Route(path, endpoint, methods=["GET"])
