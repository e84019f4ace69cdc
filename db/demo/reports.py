"""Reports demo data (issue 16 §4): the manager's saved dashboard.

manager@demo.athena opens "Sales overview" with two widgets: sales by agent
(month to date) and the charter status summary, both shipped templates,
installed here first (the reports subgraph installs them at start too; both
are idempotent). The dashboard is made through the service, as the manager,
so it is validated and audited as a real one. Runs once: skipped when the
manager already has it. Its figures appear once someone refreshes it.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlalchemy import select

from db.demo.charters import _NS, _identity_users
from protocol.roles import Role
from protocol.viewer import Viewer
from subgraphs.reports.models import Dashboard, ReportTemplate
from subgraphs.reports.service import dashboards, shipped

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

MANAGER = "manager@demo.athena"
NAME = "Sales overview"
WIDGETS = (
    ("sales_by_agent", "Sales by agent, month to date"),
    ("charter_status_summary", "Charters by status"),
)


async def load(session: AsyncSession) -> int:
    known = await _identity_users(session, [MANAGER])
    manager = Viewer(
        user_id=known.get(MANAGER) or uuid.uuid5(_NS, "manager"),
        roles=frozenset({Role.MANAGER}),
    )
    await shipped.install(session)
    exists = await session.scalar(
        select(Dashboard.id).where(Dashboard.owner_id == manager.user_id, Dashboard.name == NAME)
    )
    if exists is not None:
        return 0
    ids = {
        t.key: t.id
        for t in await session.scalars(
            select(ReportTemplate).where(ReportTemplate.key.in_([k for k, _ in WIDGETS]))
        )
    }
    widgets = [
        dashboards.WidgetData(template_id=str(ids[key]), title=title, position=i)
        for i, (key, title) in enumerate(WIDGETS)
    ]
    await dashboards.create_dashboard(
        session, dashboards.DashboardData(name=NAME, widgets=widgets), manager
    )
    return 1
