"""Report templates (issue 16 §1): saved, edited, archived, listed, and marked broken.

A template is saved only whole and valid (`operations.check` against the
current API schema, plus its own fields), every problem on its GraphQL input
field, nothing written otherwise. An edit names only what it changes and is
checked as the template it would leave. Who may run or edit one is
`access.py`; a template the viewer may not run does not exist for it
(NOT_FOUND), so ids of others' private templates reveal nothing.

A schema change can break a saved operation: `mark_broken` re-validates every
active template at start-up, so a broken one is listed for admins and refused
(BROKEN_TEMPLATE) before anyone runs it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from subgraphs.kit.errors import Problem, ServiceError
from subgraphs.reports.error_codes import ReportsErrorCode as Code
from subgraphs.reports.models import VISUALISATIONS, ReportTemplate
from subgraphs.reports.service import access, audit, operations
from subgraphs.reports.service.api_schema import api_schema

if TYPE_CHECKING:
    from graphql import GraphQLSchema
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer
    from subgraphs.kit.context import Services

log = logging.getLogger(__name__)

MAX_NAME = 200
MAX_TEXT = 5000
MAX_OPERATION = 20_000
MAX_LABEL = 100
MAX_COLUMNS = 50
PAGE_SIZES = (1, 500)
DEFAULT_PAGE_SIZE = 100


@dataclass(frozen=True)
class TemplateData:
    """A new template, or an edit (None leaves a field as it is).

    `columns` are {"path", "label", "format"}; `aggregations` {"column", "function"}.
    """

    name: str | None = None
    description: str | None = None
    operation: str | None = None
    variables: dict[str, Any] | None = None
    rows_path: str | None = None
    page_size: int | None = None
    columns: list[dict[str, Any]] | None = None
    group_by: list[str] | None = None
    aggregations: list[dict[str, Any]] | None = None
    visualisation: str | None = None
    shared: bool | None = None


def _tidy(data: TemplateData) -> TemplateData:
    columns = None
    if data.columns is not None:
        columns = [
            {
                "path": str(c.get("path") or "").strip(),
                "label": (str(c.get("label") or "").strip())
                or str(c.get("path") or "").strip().rsplit(".", 1)[-1],
                "format": str(c.get("format") or "text").strip().lower(),
            }
            for c in data.columns
        ]
    aggregations = None
    if data.aggregations is not None:
        aggregations = [
            {
                "column": str(a.get("column") or "").strip(),
                "function": str(a.get("function") or "").strip().lower(),
            }
            for a in data.aggregations
        ]
    return replace(
        data,
        name=" ".join(data.name.split()) if data.name is not None else None,
        rows_path=data.rows_path.strip() if data.rows_path is not None else None,
        columns=columns,
        aggregations=aggregations,
        group_by=[g.strip() for g in data.group_by] if data.group_by is not None else None,
        visualisation=data.visualisation.lower() if data.visualisation is not None else None,
    )


def _own_problems(data: TemplateData) -> list[Problem]:
    """The fields the schema does not judge; `data` is complete here."""
    problems: list[Problem] = []
    if not data.name or len(data.name) > MAX_NAME:
        problems.append(Problem(Code.INVALID, f"A name of 1 to {MAX_NAME} characters.", "name"))
    if data.description is not None and len(data.description) > MAX_TEXT:
        problems.append(Problem(Code.INVALID, f"At most {MAX_TEXT} characters.", "description"))
    if not data.operation or len(data.operation) > MAX_OPERATION:
        problems.append(
            Problem(
                Code.INVALID_OPERATION,
                f"An operation of 1 to {MAX_OPERATION} characters.",
                "operation",
            )
        )
    low, high = PAGE_SIZES
    if data.page_size is None or not low <= data.page_size <= high:
        problems.append(Problem(Code.INVALID, f"From {low} to {high} rows a page.", "pageSize"))
    if data.visualisation not in VISUALISATIONS:
        problems.append(
            Problem(Code.INVALID, f"One of {', '.join(VISUALISATIONS)}.", "visualisation")
        )
    if len(data.columns or ()) > MAX_COLUMNS:
        problems.append(Problem(Code.INVALID, f"At most {MAX_COLUMNS} columns.", "columns"))
    for i, column in enumerate(data.columns or ()):
        if len(column["label"]) > MAX_LABEL:
            problems.append(
                Problem(Code.INVALID, f"At most {MAX_LABEL} characters.", f"columns.{i}.label")
            )
    return problems


def _definition(data: TemplateData) -> operations.Definition:
    return operations.Definition(
        operation=data.operation or "",
        rows_path=data.rows_path or "",
        columns=[operations.Column(c["path"], c["label"], c["format"]) for c in data.columns or ()],
        variables=data.variables or {},
        group_by=data.group_by or [],
        aggregations=[
            operations.Aggregation(a["column"], a["function"]) for a in data.aggregations or ()
        ],
    )


def problems(data: TemplateData, schema: GraphQLSchema) -> list[Problem]:
    """Every problem with a complete template (shipped templates are checked with this too)."""
    data = _tidy(data)
    found = _own_problems(data)
    if data.operation and len(data.operation) <= MAX_OPERATION:
        found += operations.check(schema, _definition(data))
    return found


def _data_of(row: ReportTemplate) -> TemplateData:
    return TemplateData(
        name=row.name,
        description=row.description,
        operation=row.operation,
        variables=dict(row.variables or {}),
        rows_path=row.rows_path,
        page_size=row.page_size,
        columns=[dict(c) for c in row.columns or ()],
        group_by=list(row.group_by or ()),
        aggregations=[dict(a) for a in row.aggregations or ()],
        visualisation=row.visualisation,
        shared=row.shared,
    )


def _merged(row: ReportTemplate, edit: TemplateData) -> TemplateData:
    given = {k: v for k, v in vars(edit).items() if v is not None}
    return replace(_data_of(row), **given)


def _apply(row: ReportTemplate, data: TemplateData) -> None:
    row.name = data.name or ""
    row.description = data.description or ""
    row.operation = data.operation or ""
    row.variables = dict(data.variables or {})
    row.rows_path = data.rows_path or ""
    row.page_size = data.page_size or DEFAULT_PAGE_SIZE
    row.columns = list(data.columns or [])
    row.group_by = list(data.group_by or [])
    row.aggregations = list(data.aggregations or [])
    row.visualisation = data.visualisation or "table"
    row.shared = bool(data.shared)
    # saved valid against the current schema: whatever broke it before is fixed
    row.broken_at = None
    row.broken_reason = None


def _may_share(viewer: Viewer, shared: bool | None) -> None:
    if shared and not access.manages_shared(viewer):
        raise ServiceError.of(Code.FORBIDDEN, "Only managers and admins share templates.", "shared")


async def create_template(
    session: AsyncSession,
    data: TemplateData,
    viewer: Viewer,
    schema: GraphQLSchema | None = None,
) -> ReportTemplate:
    _may_share(viewer, data.shared)
    complete = _tidy(
        replace(
            data,
            description=data.description or "",
            variables=data.variables or {},
            page_size=data.page_size if data.page_size is not None else DEFAULT_PAGE_SIZE,
            columns=data.columns or [],
            group_by=data.group_by or [],
            aggregations=data.aggregations or [],
            visualisation=data.visualisation or "table",
            shared=bool(data.shared),
        )
    )
    found = problems(complete, schema or api_schema())
    if found:
        raise ServiceError(found)
    row = ReportTemplate(owner_id=viewer.user_id, active=True)
    _apply(row, complete)
    session.add(row)
    await session.flush()
    audit.template_changed(session, row, "create", viewer, None)
    return row


async def _editable(
    session: AsyncSession, template_id: uuid.UUID, viewer: Viewer
) -> ReportTemplate:
    row = await session.get(ReportTemplate, template_id, with_for_update=True)
    if (
        row is None
        or not row.active
        or not (
            access.may_run(viewer, row.shared, row.owner_id)
            or access.may_edit(viewer, row.shared, row.owner_id)
        )
    ):
        raise ServiceError.of(Code.NOT_FOUND, "No such report template.", "id")
    if not access.may_edit(viewer, row.shared, row.owner_id):
        raise ServiceError.of(
            Code.FORBIDDEN,
            "Shared templates are edited by managers and admins; private ones by their owner.",
            "id",
        )
    return row


async def update_template(
    session: AsyncSession,
    template_id: uuid.UUID,
    edit: TemplateData,
    viewer: Viewer,
    schema: GraphQLSchema | None = None,
) -> ReportTemplate:
    row = await _editable(session, template_id, viewer)
    # sharing or unsharing changes who sees it: the managers' call
    changes_sharing = edit.shared is not None and edit.shared != row.shared
    if changes_sharing and not access.manages_shared(viewer):
        raise ServiceError.of(
            Code.FORBIDDEN, "Only managers and admins share or unshare templates.", "shared"
        )
    complete = _tidy(_merged(row, edit))
    found = problems(complete, schema or api_schema())
    if found:
        raise ServiceError(found)
    before = audit.snapshot(row)
    _apply(row, complete)
    await session.flush()
    audit.template_changed(session, row, "update", viewer, before)
    return row


async def archive_template(
    session: AsyncSession, template_id: uuid.UUID, viewer: Viewer
) -> ReportTemplate:
    """Deleting archives: runs and schedules keep pointing at it; it is listed no more."""
    row = await _editable(session, template_id, viewer)
    before = audit.snapshot(row)
    row.active = False
    await session.flush()
    audit.template_changed(session, row, "archive", viewer, before)
    return row


async def visible(
    session: AsyncSession, template_id: uuid.UUID, viewer: Viewer
) -> ReportTemplate | None:
    """The active template if the viewer may run it; None otherwise."""
    row = await session.get(ReportTemplate, template_id)
    if row is None or not row.active or not access.may_run(viewer, row.shared, row.owner_id):
        return None
    return row


async def get_runnable(
    session: AsyncSession, template_id: uuid.UUID, viewer: Viewer
) -> ReportTemplate:
    """The template a run may use: NOT_FOUND if the viewer may not run it, BROKEN_TEMPLATE if broken."""
    row = await visible(session, template_id, viewer)
    if row is None:
        raise ServiceError.of(Code.NOT_FOUND, "No such report template.", "templateId")
    if row.broken_at is not None:
        raise ServiceError.of(
            Code.BROKEN_TEMPLATE,
            f"The template no longer validates against the graph: {row.broken_reason}",
            "templateId",
        )
    return row


async def listed(
    session: AsyncSession, viewer: Viewer, *, include_broken: bool = False
) -> Sequence[ReportTemplate]:
    """What the viewer may run (shared and its own), by name; broken ones only when asked."""
    stmt = select(ReportTemplate).where(ReportTemplate.active.is_(True))
    stmt = stmt.where(ReportTemplate.shared.is_(True) | (ReportTemplate.owner_id == viewer.user_id))
    if not include_broken:
        stmt = stmt.where(ReportTemplate.broken_at.is_(None))
    rows = await session.scalars(stmt.order_by(ReportTemplate.name, ReportTemplate.id))
    return rows.all()


async def broken(session: AsyncSession) -> Sequence[ReportTemplate]:
    """Every active broken template (the admins' list of what a schema change broke)."""
    rows = await session.scalars(
        select(ReportTemplate)
        .where(ReportTemplate.active.is_(True), ReportTemplate.broken_at.is_not(None))
        .order_by(ReportTemplate.broken_at.desc(), ReportTemplate.name)
    )
    return rows.all()


def _reason(found: Sequence[Problem]) -> str:
    return " ".join(f"{p.field}: {p.message}" if p.field else p.message for p in found)


async def mark_broken(
    session: AsyncSession, schema: GraphQLSchema, now: datetime | None = None
) -> int:
    """Re-validate every active template against `schema`; the number broken afterwards.

    A template that validates again is cleared; a reason that changed is
    updated, keeping when it first broke. Each change is audited as the system's.
    """
    now = now or datetime.now(UTC)
    rows = await session.scalars(
        select(ReportTemplate)
        .where(ReportTemplate.active.is_(True))
        .order_by(ReportTemplate.id)
        .with_for_update(skip_locked=True)
    )
    count = 0
    for row in rows.all():
        found = problems(_data_of(row), schema)
        reason = _reason(found) if found else None
        if reason is not None:
            count += 1
        if reason == row.broken_reason:
            continue
        before = audit.snapshot(row)
        row.broken_reason = reason
        if reason is None:
            row.broken_at = None
        elif row.broken_at is None:
            row.broken_at = now
        audit.template_changed(session, row, "mark_broken" if reason else "repaired", None, before)
    await session.flush()
    return count


async def mark_broken_at_startup(services: Services) -> None:
    """App start-up hook: a schema change marks the broken templates before anyone runs them."""
    async with services.sessions() as session, session.begin():
        count = await mark_broken(session, api_schema())
    if count:
        log.warning("%d report templates no longer validate against the API schema", count)
