"""Running a template: ask the graph as the reader, page through every row, tabulate, keep it.

The graph call happens outside any database transaction (`execute`), then
the run is recorded in a short one (`record`), so a slow router never
holds a connection. A run that fails (graph errors, unreachable, too many
pages) is recorded too, with its reason: the history shows it, and the
caller gets a RUN_FAILED user error naming the run, not an exception.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select, update

from protocol.roles import Role
from subgraphs.kit.errors import ServiceError
from subgraphs.reports.error_codes import ReportsErrorCode as Code
from subgraphs.reports.models import ReportDelivery, ReportRun, ReportTemplate
from subgraphs.reports.service import operations, variables
from subgraphs.reports.service.access import USE_REPORTS, manages_shared
from subgraphs.reports.service.graph_port import RunFailed
from subgraphs.reports.service.operations import connection_path
from subgraphs.reports.service.tabulate import tabulate, value_at

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer
    from subgraphs.kit.context import Services
    from subgraphs.reports.service.graph_port import GraphPort

#: A run follows at most this many pages (a template's page size times this is its ceiling).
MAX_PAGES = 1000
AFTER = "after"
FIRST = "first"
SUCCEEDED = "succeeded"
FAILED = "failed"


@dataclass(slots=True)
class Outcome:
    """What one run produced, before it is stored."""

    parameters: dict[str, Any]
    status: str = SUCCEEDED
    error: str | None = None
    requests: int = 0
    duration_ms: int = 0
    row_count: int = 0
    columns: list[dict[str, Any]] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    totals: dict[str, Any] = field(default_factory=dict)


def resolve_parameters(
    template: ReportTemplate, given: Mapping[str, Any] | None, now: datetime, tz: str
) -> dict[str, Any]:
    """The variables a run sends; given names the operation does not declare are user errors."""
    if given is not None and not isinstance(given, Mapping):
        raise ServiceError.of(Code.INVALID, "An object of variable names to values.", "parameters")
    return variables.resolve(
        template.variables,
        given,
        now,
        tz,
        declared=list(operations.declared_variables(template.operation)),
    )


def _rows(data: Mapping[str, Any], rows_path: str) -> list[Any]:
    """The row objects at `rows_path` (lists on the way are flattened: `edges` is one)."""
    found = value_at(data, rows_path)
    flat: list[Any] = []

    def walk(value: Any) -> None:
        if isinstance(value, list):
            for item in value:
                walk(item)
        elif value is not None:
            flat.append(value)

    walk(found)
    return flat


async def fetch_rows(
    graph: GraphPort,
    operation: str,
    rows_path: str,
    sent: dict[str, Any],
    authorization: str | None,
    page_size: int,
    outcome: Outcome,
    max_pages: int = MAX_PAGES,
) -> list[Any]:
    """Every row of the operation's answer; `outcome.requests` counts the requests made.

    Through a connection, pages follow `pageInfo.endCursor` as `$after`
    until `hasNextPage` is false; more than `max_pages` fails the run
    rather than return a report cut short.
    """
    connection = connection_path(rows_path)
    declared = list(operations.declared_variables(operation))
    asked = dict(sent)
    if connection is not None and FIRST in declared and asked.get(FIRST) is None:
        asked[FIRST] = page_size
    rows: list[Any] = []
    while True:
        outcome.requests += 1
        data = await graph.query(operation, asked, authorization)
        rows.extend(_rows(data, rows_path))
        if connection is None:
            return rows
        page = value_at(data, f"{connection}.pageInfo")
        if not isinstance(page, Mapping) or not page.get("hasNextPage"):
            return rows
        cursor = page.get("endCursor")
        if not cursor or cursor == asked.get(AFTER):
            raise RunFailed(f"{connection} says it has a next page but gives no new cursor.")
        if outcome.requests >= max_pages:
            raise RunFailed(f"More than {max_pages} pages of {connection}; narrow the report.")
        asked[AFTER] = cursor


async def execute(
    template: ReportTemplate,
    parameters: dict[str, Any],
    *,
    graph: GraphPort,
    authorization: str | None,
    max_pages: int = MAX_PAGES,
) -> Outcome:
    """Run a template's operation as the holder of `authorization` and tabulate the answer."""
    started = time.monotonic()
    outcome = Outcome(parameters=parameters)
    try:
        rows = await fetch_rows(
            graph,
            template.operation,
            template.rows_path,
            parameters,
            authorization,
            template.page_size,
            outcome,
            max_pages,
        )
    except RunFailed as exc:
        outcome.status, outcome.error = FAILED, str(exc)
    else:
        table = tabulate(rows, template.columns, template.group_by, template.aggregations)
        outcome.columns = [c.as_json() for c in table.columns]
        outcome.rows, outcome.totals = table.rows, table.totals
        outcome.row_count = len(table.rows)
    outcome.duration_ms = int((time.monotonic() - started) * 1000)
    return outcome


def record(
    session: AsyncSession,
    template_id: uuid.UUID,
    outcome: Outcome,
    *,
    run_by: uuid.UUID | None,
    now: datetime,
    retention_days: int,
    schedule_id: uuid.UUID | None = None,
) -> ReportRun:
    """Add the run to the session (the caller's transaction); kept `retention_days`."""
    run = ReportRun(
        id=uuid.uuid4(),
        template_id=template_id,
        run_by=run_by,
        schedule_id=schedule_id,
        parameters=outcome.parameters,
        ran_at=now,
        duration_ms=outcome.duration_ms,
        requests=outcome.requests,
        status=outcome.status,
        error=outcome.error,
        row_count=outcome.row_count,
        columns=outcome.columns,
        rows=outcome.rows,
        totals=outcome.totals,
        expires_at=now + timedelta(days=retention_days),
    )
    session.add(run)
    return run


async def run_template(
    session: AsyncSession,
    template: ReportTemplate,
    given: Mapping[str, Any] | None,
    *,
    graph: GraphPort,
    authorization: str | None,
    run_by: uuid.UUID | None,
    now: datetime,
    tz: str,
    retention_days: int,
    schedule_id: uuid.UUID | None = None,
) -> ReportRun:
    """Resolve, execute and record in one go (schedules and tests; the mutation splits it).

    Bad parameters raise ServiceError before anything runs or is stored.
    """
    parameters = resolve_parameters(template, given, now, tz)
    outcome = await execute(template, parameters, graph=graph, authorization=authorization)
    run = record(
        session,
        template.id,
        outcome,
        run_by=run_by,
        now=now,
        retention_days=retention_days,
        schedule_id=schedule_id,
    )
    await session.flush()
    return run


def failure_message(run: ReportRun) -> str:
    return f"Run {run.id} failed: {run.error or 'no reason recorded'}"


async def purge_expired(session: AsyncSession, now: datetime) -> int:
    """Delete runs past their retention; a delivery keeps its row, its run id cleared."""
    expired = select(ReportRun.id).where(ReportRun.expires_at <= now)
    await session.execute(
        update(ReportDelivery).where(ReportDelivery.run_id.in_(expired)).values(run_id=None)
    )
    result = await session.execute(delete(ReportRun).where(ReportRun.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)


#: Who opens any run (and its downloads); everyone else opens only the runs it ran.
READ_ANY_RUN = (Role.ADMIN,)
MAX_HISTORY = 100


def may_read_run(viewer: Viewer, run_by: uuid.UUID | None) -> bool:
    return viewer.has_any_role(*USE_REPORTS) and (
        viewer.has_any_role(*READ_ANY_RUN) or (run_by is not None and run_by == viewer.user_id)
    )


async def readable_run(
    session: AsyncSession, run_id: uuid.UUID, viewer: Viewer
) -> ReportRun | None:
    """The run if the viewer ran it or is an admin; None otherwise (existence is not revealed)."""
    run = await session.get(ReportRun, run_id)
    return run if run is not None and may_read_run(viewer, run.run_by) else None


async def history(
    session: AsyncSession, viewer: Viewer, template_id: uuid.UUID | None, first: int
) -> Sequence[ReportRun]:
    """Runs newest first, of templates the viewer may run; only its own unless it manages shared ones."""
    stmt = (
        select(ReportRun)
        .join(ReportTemplate, ReportTemplate.id == ReportRun.template_id)
        .where(
            ReportTemplate.active.is_(True),
            ReportTemplate.shared.is_(True) | (ReportTemplate.owner_id == viewer.user_id),
        )
    )
    if template_id is not None:
        stmt = stmt.where(ReportRun.template_id == template_id)
    if not manages_shared(viewer):
        stmt = stmt.where(ReportRun.run_by == viewer.user_id)
    stmt = stmt.order_by(ReportRun.ran_at.desc(), ReportRun.id.desc()).limit(first)
    return (await session.scalars(stmt)).all()


async def purge_job(services: Services, due: datetime) -> dict[str, int]:
    """`reports.runs_purge`: the clock decides what has expired, not `due`; safe to run twice."""
    async with services.sessions() as session, session.begin():
        removed = await purge_expired(session, datetime.now(UTC))
    return {"purged": removed}
