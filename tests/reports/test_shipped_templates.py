"""The shipped templates: each one saves against today's API schema, and installing them is
idempotent, restores changed ones and never touches a user's own."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from subgraphs.reports.models import ReportsAudit, ReportTemplate
from subgraphs.reports.service import operations, shipped
from subgraphs.reports.service.api_schema import api_schema


@pytest.mark.parametrize("template", shipped.SHIPPED, ids=lambda t: t.key)
def test_every_shipped_template_validates_against_the_current_api_schema(
    template: shipped.Shipped,
) -> None:
    problems = operations.check(api_schema(), operations.Definition.of_row(template))
    assert problems == [], problems


def test_shipped_templates_have_unique_keys_and_column_paths() -> None:
    keys = [t.key for t in shipped.SHIPPED]
    assert len(set(keys)) == len(keys)
    for template in shipped.SHIPPED:
        paths = [c["path"] for c in template.columns]
        assert len(set(paths)) == len(paths), template.key


async def test_install_inserts_the_missing_then_restores_changed_ones_only(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    owner = uuid.uuid4()
    async with sessions() as session, session.begin():
        assert await shipped.install(session) == len(shipped.SHIPPED)
        mine = ReportTemplate(
            key=None,
            name="Sales by agent",
            operation="{ me { name } }",
            rows_path="me",
            owner_id=owner,
        )
        session.add(mine)

    async with sessions() as session, session.begin():
        assert await shipped.install(session) == 0
        row = await session.scalar(
            select(ReportTemplate).where(ReportTemplate.key == "charter_status_summary")
        )
        assert row is not None
        row.name = "Edited"
        row.columns = []
        row.active = False

    async with sessions() as session, session.begin():
        assert await shipped.install(session) == 1

    async with sessions() as session:
        rows = {
            t.key: t
            for t in await session.scalars(
                select(ReportTemplate).where(ReportTemplate.key.is_not(None))
            )
        }
        assert set(rows) == {t.key for t in shipped.SHIPPED}
        restored = rows["charter_status_summary"]
        wanted = shipped.CHARTER_STATUS_SUMMARY
        assert (restored.name, restored.columns) == (wanted.name, wanted.columns)
        # An archived shipped template stays archived; shipped ones are shared, owned by nobody.
        assert restored.active is False
        assert all(t.shared and t.owner_id is None for t in rows.values())
        own = await session.scalar(select(ReportTemplate).where(ReportTemplate.owner_id == owner))
        assert own is not None
        assert (own.name, own.operation, own.key) == ("Sales by agent", "{ me { name } }", None)
        actions = dict(
            (
                await session.execute(
                    select(ReportsAudit.action, func.count()).group_by(ReportsAudit.action)
                )
            ).all()
        )
        assert actions == {"shipped_create": len(shipped.SHIPPED), "shipped_update": 1}
        update = await session.scalar(
            select(ReportsAudit).where(ReportsAudit.action == "shipped_update")
        )
        assert update is not None
        assert update.entity_id == restored.id
        assert update.actor_id is None
        assert update.before == {"name": "Edited", "columns": []}
