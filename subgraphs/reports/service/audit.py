"""Reports' audit log: every change to templates, schedules and dashboards, with who made it.

The kit's before/after trail (`kit/auditing`): an edit that changes nothing
leaves no row; None as actor is the system (start-up re-validation, jobs).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from subgraphs.kit import auditing
from subgraphs.reports.models import ReportsAudit, ReportTemplate

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from protocol.viewer import Viewer

TEMPLATE = "template"
SCHEDULE = "schedule"
DASHBOARD = "dashboard"


#: Never copied into the audit log: a schedule's delegation secret lets its holder act
#: as the owner (`service/run_tokens.py`); its grant id is recorded instead.
SECRET_COLUMNS = frozenset({"delegation_secret"})


def snapshot(row: Any) -> dict[str, Any]:
    return auditing.row_snapshot(row, skip=auditing.SKIPPED | SECRET_COLUMNS)


def record(
    session: AsyncSession,
    *,
    entity: str,
    entity_id: uuid.UUID | None,
    action: str,
    actor: Viewer | None,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    """Store one change in the transaction that makes it (`at` is the clock, keeping order)."""
    row = auditing.audit_row(
        ReportsAudit,
        actor,
        before,
        after,
        entity=entity,
        entity_id=entity_id,
        action=action,
        at=datetime.now(UTC),
    )
    if row is not None:
        session.add(row)


async def entries(
    session: AsyncSession, *, entity: str, entity_id: uuid.UUID, first: int = 50
) -> Sequence[ReportsAudit]:
    """The newest `first` changes of one entity."""
    rows = await session.scalars(
        select(ReportsAudit)
        .where(ReportsAudit.entity == entity, ReportsAudit.entity_id == entity_id)
        .order_by(ReportsAudit.at.desc(), ReportsAudit.id.desc())
        .limit(first)
    )
    return rows.all()


def template_changed(
    session: AsyncSession,
    row: ReportTemplate,
    action: str,
    actor: Viewer | None,
    before: dict[str, Any] | None,
) -> None:
    """A template's change, its row as it is now being the "after"."""
    record(
        session,
        entity=TEMPLATE,
        entity_id=row.id,
        action=action,
        actor=actor,
        before=before,
        after=snapshot(row),
    )
