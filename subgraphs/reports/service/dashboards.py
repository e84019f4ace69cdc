"""Saved dashboards (issue 16 §4): a person's layout of widgets, each a template with parameters.

A dashboard is its owner's (admins may open anyone's); only the owner changes
or deletes it. A widget may only name a template its author may run, with
parameters the template's operation declares, so a saved dashboard never
points at something its owner cannot see; every problem is reported at once
on its input field (`widgets.2.templateId`) and nothing is saved.

A widget's figures are runs: refreshing a dashboard runs each widget's
template AS THE CALLER (their token through the router, like `runReport`),
concurrently and outside any transaction, then records the runs. What a
widget shows is the caller's latest run of that template with the
parameters the widget means NOW (relative dates resolved today), so a
"month to date" widget never shows last month's figures as this month's.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, cast, delete, or_, select
from sqlalchemy.dialects.postgresql import JSONB, distinct_on

from protocol.roles import Role
from subgraphs.kit.errors import Problem, ServiceError
from subgraphs.kit.ids import parse_uuid
from subgraphs.reports.error_codes import ReportsErrorCode as Code
from subgraphs.reports.models import Dashboard, ReportRun, ReportTemplate
from subgraphs.reports.service import access, audit, operations, runner, variables

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from protocol.viewer import Viewer
    from subgraphs.reports.service.graph_port import GraphPort

MAX_NAME = 200
MAX_TITLE = 200
MAX_WIDGETS = 20
#: Widgets' runs in flight at once during a refresh: the router is shared with live users.
REFRESH_CONCURRENCY = 4
#: Who opens anyone's dashboard (support); everyone else opens its own.
READ_ANY_DASHBOARD = (Role.ADMIN,)


@dataclass(frozen=True)
class WidgetData:
    """One widget as given: `template_id` as the client sent it (checked here)."""

    template_id: Any
    title: str | None = None
    parameters: Any = None
    position: int | None = None


@dataclass(frozen=True)
class DashboardData:
    """A new dashboard, or an edit: None leaves a field as it is (widgets are replaced whole)."""

    name: str | None = None
    widgets: Sequence[WidgetData] | None = None


# --- who may ---------------------------------------------------------------------------------


def may_read(viewer: Viewer, dashboard: Any) -> bool:
    return viewer.has_any_role(*access.USE_REPORTS) and (
        access.owns(viewer, dashboard.owner_id) or viewer.has_any_role(*READ_ANY_DASHBOARD)
    )


def _runnable(viewer: Viewer, template: Any) -> bool:
    return (
        template is not None
        and template.active
        and access.may_run(viewer, template.shared, template.owner_id)
    )


# --- validation -------------------------------------------------------------------------------


async def _templates(
    session: AsyncSession, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, ReportTemplate]:
    if not ids:
        return {}
    rows = await session.scalars(select(ReportTemplate).where(ReportTemplate.id.in_(set(ids))))
    return {row.id: row for row in rows.all()}


def _name_problems(name: str | None) -> list[Problem]:
    if not name or len(name) > MAX_NAME:
        return [Problem(Code.INVALID, f"A name of 1 to {MAX_NAME} characters.", "name")]
    return []


async def _widgets(
    session: AsyncSession, given: Sequence[WidgetData], viewer: Viewer
) -> tuple[list[dict[str, Any]], list[Problem]]:
    """The widgets as stored (in display order) and every problem with them.

    A template the viewer may not run is NOT_FOUND, as if it did not exist; a
    broken one is refused too (it would never show anything).
    """
    problems: list[Problem] = []
    if len(given) > MAX_WIDGETS:
        problems.append(Problem(Code.INVALID, f"At most {MAX_WIDGETS} widgets.", "widgets"))
    ids = [parse_uuid(w.template_id) for w in given]
    found = await _templates(session, [i for i in ids if i is not None])
    widgets: list[dict[str, Any]] = []
    for i, (widget, template_id) in enumerate(zip(given, ids, strict=True)):
        at = f"widgets.{i}"
        template = found.get(template_id) if template_id is not None else None
        if template is None or not _runnable(viewer, template):
            problems.append(Problem(Code.NOT_FOUND, "No such report template.", f"{at}.templateId"))
            continue
        if template.broken_at is not None:
            problems.append(
                Problem(
                    Code.BROKEN_TEMPLATE,
                    f"The template no longer validates against the graph: {template.broken_reason}",
                    f"{at}.templateId",
                )
            )
        title = " ".join((widget.title or "").split()) or template.name
        if len(title) > MAX_TITLE:
            problems.append(
                Problem(Code.INVALID, f"At most {MAX_TITLE} characters.", f"{at}.title")
            )
        parameters = widget.parameters if widget.parameters is not None else {}
        declared = operations.declared_variables(template.operation)
        problems += variables.value_problems(parameters, declared, f"{at}.parameters")
        position = widget.position if widget.position is not None else i
        if position < 0:
            problems.append(Problem(Code.INVALID, "A position from 0.", f"{at}.position"))
        widgets.append(
            {
                "id": str(uuid.uuid4()),
                "templateId": str(template.id),
                "title": title,
                "parameters": dict(parameters) if isinstance(parameters, Mapping) else {},
                "position": position,
            }
        )
    widgets.sort(key=lambda w: w["position"])  # stable: equal positions keep input order
    return widgets, problems


# --- reading ---------------------------------------------------------------------------------


async def get_dashboard(
    session: AsyncSession, dashboard_id: uuid.UUID, viewer: Viewer, *, lock: bool = False
) -> Dashboard:
    """A dashboard the viewer may open, or NOT_FOUND on `id` (others' are not told apart)."""
    stmt = select(Dashboard).where(Dashboard.id == dashboard_id)
    if lock:
        stmt = stmt.with_for_update()
    dashboard = await session.scalar(stmt)
    if dashboard is None or not may_read(viewer, dashboard):
        raise ServiceError.of(Code.NOT_FOUND, "No such dashboard.", "id")
    return dashboard


async def own_dashboards(session: AsyncSession, viewer: Viewer) -> Sequence[Dashboard]:
    """The viewer's own dashboards by name (admins too: others' are opened by id)."""
    if viewer.user_id is None:
        return []
    rows = await session.scalars(
        select(Dashboard)
        .where(Dashboard.owner_id == viewer.user_id)
        .order_by(Dashboard.name, Dashboard.id)
    )
    return rows.all()


async def _owned(session: AsyncSession, dashboard_id: uuid.UUID, viewer: Viewer) -> Dashboard:
    dashboard = await get_dashboard(session, dashboard_id, viewer, lock=True)
    if not access.owns(viewer, dashboard.owner_id):
        raise ServiceError.of(Code.FORBIDDEN, "Only its owner changes a dashboard.", "id")
    return dashboard


# --- changing --------------------------------------------------------------------------------


def _record(
    session: AsyncSession,
    dashboard_id: uuid.UUID,
    action: str,
    viewer: Viewer,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    audit.record(
        session,
        entity=audit.DASHBOARD,
        entity_id=dashboard_id,
        action=action,
        actor=viewer,
        before=before,
        after=after,
    )


def _tidy_name(name: str | None) -> str | None:
    return " ".join(name.split()) if name is not None else None


async def create_dashboard(session: AsyncSession, data: DashboardData, viewer: Viewer) -> Dashboard:
    if viewer.user_id is None or not viewer.has_any_role(*access.USE_REPORTS):
        raise ServiceError.of(Code.FORBIDDEN, "Staff save dashboards.", "name")
    name = _tidy_name(data.name)
    widgets, problems = await _widgets(session, data.widgets or [], viewer)
    problems = _name_problems(name) + problems
    if problems:
        raise ServiceError(problems)
    dashboard = Dashboard(id=uuid.uuid4(), owner_id=viewer.user_id, name=name, widgets=widgets)
    session.add(dashboard)
    await session.flush()
    _record(session, dashboard.id, "create", viewer, None, audit.snapshot(dashboard))
    return dashboard


async def update_dashboard(
    session: AsyncSession, dashboard_id: uuid.UUID, data: DashboardData, viewer: Viewer
) -> Dashboard:
    """Rename it and/or replace its widgets (whole: the client sends the layout it shows)."""
    dashboard = await _owned(session, dashboard_id, viewer)
    name = _tidy_name(data.name) if data.name is not None else dashboard.name
    problems = _name_problems(name)
    widgets = list(dashboard.widgets or [])
    if data.widgets is not None:
        widgets, found = await _widgets(session, data.widgets, viewer)
        problems += found
    if problems:
        raise ServiceError(problems)
    before = audit.snapshot(dashboard)
    dashboard.name = name or dashboard.name
    dashboard.widgets = widgets
    await session.flush()
    _record(session, dashboard.id, "update", viewer, before, audit.snapshot(dashboard))
    return dashboard


async def delete_dashboard(
    session: AsyncSession, dashboard_id: uuid.UUID, viewer: Viewer
) -> uuid.UUID:
    """Delete it for good (it holds only a layout; the runs stay in their history)."""
    dashboard = await _owned(session, dashboard_id, viewer)
    before = audit.snapshot(dashboard)
    await session.execute(delete(Dashboard).where(Dashboard.id == dashboard.id))
    _record(session, dashboard.id, "delete", viewer, before, None)
    return dashboard.id


# --- figures ---------------------------------------------------------------------------------


def widget_parameters(template: Any, widget: Mapping[str, Any], now: datetime, tz: str) -> Any:
    """What a widget's run sends now: the template's defaults under the widget's parameters.

    Raises ServiceError when they no longer fit the template (it was edited since).
    """
    return runner.resolve_parameters(template, widget.get("parameters") or {}, now, tz)


def parameters_key(parameters: Mapping[str, Any]) -> str:
    """A hashable, order-free form of parameters (a dataloader key)."""
    return json.dumps(parameters, sort_keys=True, separators=(",", ":"), default=str)


async def latest_runs(
    session: AsyncSession, keys: Sequence[tuple[uuid.UUID, uuid.UUID, str]]
) -> list[ReportRun | None]:
    """For each (runner, template, parameters key) its newest run, in one statement.

    JSONB equality ignores key order, so the parameters a run stored match
    the same values however they were written.
    """
    if not keys:
        return []
    distinct = list(dict.fromkeys(keys))
    stmt = (
        select(ReportRun)
        .where(
            or_(
                *(
                    and_(
                        ReportRun.run_by == run_by,
                        ReportRun.template_id == template_id,
                        ReportRun.parameters == cast(json.loads(params), JSONB),
                    )
                    for run_by, template_id, params in distinct
                )
            )
        )
        .ext(distinct_on(ReportRun.run_by, ReportRun.template_id, ReportRun.parameters))
        .order_by(
            ReportRun.run_by,
            ReportRun.template_id,
            ReportRun.parameters,
            ReportRun.ran_at.desc(),
            ReportRun.id.desc(),
        )
    )
    rows = (await session.scalars(stmt)).all()
    newest = {(r.run_by, r.template_id, parameters_key(r.parameters or {})): r for r in rows}
    return [newest.get(key) for key in keys]


@dataclass(frozen=True)
class Refreshed:
    """A refreshed dashboard and what went wrong with some widgets (the others ran)."""

    dashboard: Dashboard
    problems: list[Problem]
    runs: list[ReportRun]


async def refresh_dashboard(
    sessions: async_sessionmaker[AsyncSession],
    dashboard_id: uuid.UUID,
    viewer: Viewer,
    *,
    graph: GraphPort,
    authorization: str | None,
    now: datetime,
    tz: str,
    retention_days: int,
) -> Refreshed:
    """Run every widget's template as the caller, at once, and keep the runs.

    The graph is asked outside any transaction (a slow router holds no
    connection); widgets showing the same template with the same parameters
    share one run. A widget whose template the caller may no longer run, or
    whose run fails, is a problem on that widget; the rest still run.
    Raises ServiceError (NOT_FOUND on `id`) for a dashboard the caller may not open.
    """
    async with sessions() as session:
        dashboard = await get_dashboard(session, dashboard_id, viewer)
        widgets = list(dashboard.widgets or [])
        found = await _templates(
            session, [t for w in widgets if (t := parse_uuid(w.get("templateId")))]
        )
    problems: list[Problem] = []
    jobs: dict[tuple[uuid.UUID, str], tuple[ReportTemplate, Any, list[int]]] = {}
    for i, widget in enumerate(widgets):
        at = f"widgets.{i}"
        template = found.get(parse_uuid(widget.get("templateId")) or uuid.UUID(int=0))
        if template is None or not _runnable(viewer, template):
            problems.append(Problem(Code.NOT_FOUND, "No such report template.", f"{at}.templateId"))
            continue
        if template.broken_at is not None:
            problems.append(
                Problem(
                    Code.BROKEN_TEMPLATE,
                    f"The template no longer validates against the graph: {template.broken_reason}",
                    f"{at}.templateId",
                )
            )
            continue
        try:
            parameters = widget_parameters(template, widget, now, tz)
        except ServiceError as error:
            problems += [replace(p, field=f"{at}.parameters") for p in error.problems]
            continue
        key = (template.id, parameters_key(parameters))
        if key in jobs:
            jobs[key][2].append(i)
        else:
            jobs[key] = (template, parameters, [i])

    gate = asyncio.Semaphore(REFRESH_CONCURRENCY)

    async def run(template: ReportTemplate, parameters: Any) -> runner.Outcome:
        async with gate:
            return await runner.execute(
                template, parameters, graph=graph, authorization=authorization
            )

    planned = list(jobs.values())
    outcomes = await asyncio.gather(*(run(t, p) for t, p, _ in planned))
    runs: list[ReportRun] = []
    async with sessions() as session, session.begin():
        for (template, _, positions), outcome in zip(planned, outcomes, strict=True):
            row = runner.record(
                session,
                template.id,
                outcome,
                run_by=viewer.user_id,
                now=now,
                retention_days=retention_days,
            )
            runs.append(row)
            if outcome.status == runner.FAILED:
                problems += [
                    Problem(Code.RUN_FAILED, runner.failure_message(row), f"widgets.{i}")
                    for i in positions
                ]
    problems.sort(key=lambda p: _widget_index(p.field))
    return Refreshed(dashboard=dashboard, problems=problems, runs=runs)


def _widget_index(field: str | None) -> int:
    parts = (field or "").split(".")
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else -1
