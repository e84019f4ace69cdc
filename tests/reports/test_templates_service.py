"""Saving templates (service level, real PostgreSQL): validity, who may, audit, broken marking."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from graphql import build_schema
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from protocol.roles import Role
from protocol.viewer import Viewer
from subgraphs.kit.errors import ServiceError
from subgraphs.reports.models import ReportsAudit, ReportTemplate
from subgraphs.reports.service import templates
from subgraphs.reports.service.api_schema import api_schema
from subgraphs.reports.service.templates import TemplateData
from tests.reports.template_data import CHARTERS, template_input

Sessions = async_sessionmaker[AsyncSession]


def staff(role: Role) -> Viewer:
    return Viewer(user_id=uuid.uuid4(), roles=frozenset({role}))


MANAGER = staff(Role.MANAGER)
AGENT = staff(Role.SALES_AGENT)
OTHER_AGENT = staff(Role.SALES_AGENT)
ADMIN = staff(Role.ADMIN)


def data(**changes: Any) -> TemplateData:
    given = template_input()
    base = TemplateData(
        name=given["name"],
        operation=given["operation"],
        rows_path=given["rowsPath"],
        columns=given["columns"],
        group_by=given["groupBy"],
        aggregations=[
            {"column": a["column"], "function": a["function"].lower()}
            for a in given["aggregations"]
        ],
        variables=given["variables"],
    )
    return TemplateData(**{**vars(base), **changes})


async def create(sessions: Sessions, viewer: Viewer, **changes: Any) -> ReportTemplate:
    async with sessions() as session, session.begin():
        return await templates.create_template(session, data(**changes), viewer)


async def count(sessions: Sessions, model: Any) -> int:
    async with sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_a_valid_template_is_saved_private_with_its_audit(sessions: Sessions) -> None:
    row = await create(sessions, AGENT)
    assert (row.owner_id, row.shared, row.active, row.broken_at) == (
        AGENT.user_id,
        False,
        True,
        None,
    )
    # labels default to the path's last key; functions and formats kept lower-case
    assert row.columns[2] == {"path": "quote.total", "label": "Total", "format": "money"}
    async with sessions() as session:
        [entry] = (await session.scalars(select(ReportsAudit))).all()
    assert (entry.entity, entry.entity_id, entry.action, entry.actor_id) == (
        "template",
        row.id,
        "create",
        AGENT.user_id,
    )


async def test_bad_input_is_every_problem_on_its_field_and_nothing_saved(
    sessions: Sessions,
) -> None:
    with pytest.raises(ServiceError) as caught:
        await create(
            sessions,
            MANAGER,
            name=" ",
            page_size=0,
            rows_path="charters.edges.node",
            columns=[{"path": "reference"}, {"path": "nope", "format": "money"}],
            group_by=["status"],
            aggregations=[{"column": "reference", "function": "sum"}],
        )
    assert [(p.field, p.code) for p in caught.value.problems] == [
        ("name", "INVALID"),
        ("pageSize", "INVALID"),
        ("columns.1.path", "UNKNOWN_PATH"),
        ("groupBy.0", "UNKNOWN_PATH"),
        ("aggregations.0.column", "NOT_A_NUMBER"),
    ]
    assert await count(sessions, ReportTemplate) == 0
    assert await count(sessions, ReportsAudit) == 0


async def test_only_managers_and_admins_share(sessions: Sessions) -> None:
    with pytest.raises(ServiceError) as caught:
        await create(sessions, AGENT, shared=True)
    assert [(p.field, p.code) for p in caught.value.problems] == [("shared", "FORBIDDEN")]
    assert await count(sessions, ReportTemplate) == 0
    shared = await create(sessions, MANAGER, shared=True)
    own = await create(sessions, AGENT, name="Mine")
    # the agent runs the shared one but may not edit or unshare it
    async with sessions() as session, session.begin():
        with pytest.raises(ServiceError) as caught:
            await templates.update_template(session, shared.id, TemplateData(name="X"), AGENT)
    assert [(p.field, p.code) for p in caught.value.problems] == [("id", "FORBIDDEN")]
    async with sessions() as session, session.begin():
        with pytest.raises(ServiceError) as caught:
            await templates.update_template(session, own.id, TemplateData(shared=True), AGENT)
    assert [(p.field, p.code) for p in caught.value.problems] == [("shared", "FORBIDDEN")]
    # another agent's private template does not exist for it
    works: list[Callable[[AsyncSession], Awaitable[Any]]] = [
        lambda s: templates.update_template(s, own.id, TemplateData(name="X"), OTHER_AGENT),
        lambda s: templates.archive_template(s, own.id, OTHER_AGENT),
        lambda s: templates.get_runnable(s, own.id, OTHER_AGENT),
    ]
    for work in works:
        async with sessions() as session, session.begin():
            with pytest.raises(ServiceError) as caught:
                await work(session)
        assert caught.value.problems[0].code == "NOT_FOUND"
    async with sessions() as session, session.begin():
        edited = await templates.update_template(
            session, shared.id, TemplateData(name="Team bookings"), ADMIN
        )
    assert (edited.name, edited.shared) == ("Team bookings", True)


async def test_an_edit_is_validated_whole_and_audited_with_what_changed(
    sessions: Sessions,
) -> None:
    row = await create(sessions, AGENT)
    async with sessions() as session, session.begin():
        with pytest.raises(ServiceError) as caught:
            await templates.update_template(
                session, row.id, TemplateData(rows_path="charters.edges"), AGENT
            )
    assert [p.field for p in caught.value.problems] == [f"columns.{i}.path" for i in range(3)]
    async with sessions() as session, session.begin():
        await templates.update_template(
            session, row.id, TemplateData(name="Renamed", visualisation="bar"), AGENT
        )
        await templates.archive_template(session, row.id, AGENT)
    async with sessions() as session:
        trail = (
            await session.scalars(
                select(ReportsAudit)
                .order_by(ReportsAudit.at)
                .where(ReportsAudit.action != "create")
            )
        ).all()
        assert [(e.action, e.before, e.after) for e in trail] == [
            (
                "update",
                {"name": "Bookings by status", "visualisation": "table"},
                {"name": "Renamed", "visualisation": "bar"},
            ),
            ("archive", {"active": True}, {"active": False}),
        ]
        # archived: listed no more, not runnable
        assert await templates.listed(session, AGENT) == []
        with pytest.raises(ServiceError):
            await templates.get_runnable(session, row.id, AGENT)


async def test_listed_is_shared_and_own(sessions: Sessions) -> None:
    await create(sessions, MANAGER, name="Shared", shared=True)
    await create(sessions, MANAGER, name="Manager's own")
    await create(sessions, AGENT, name="Agent's own")
    async with sessions() as session:
        assert [r.name for r in await templates.listed(session, AGENT)] == [
            "Agent's own",
            "Shared",
        ]
        assert [r.name for r in await templates.listed(session, MANAGER)] == [
            "Manager's own",
            "Shared",
        ]


#: The graph after a change that dropped `Charter.quote`: a template reading it no longer validates.
CHANGED = build_schema(
    """
    scalar DateTime
    enum CharterStatus { QUOTE BOOKED }
    input CharterFilter { status: [CharterStatus!] pickupFrom: DateTime }
    type PageInfo { hasNextPage: Boolean! endCursor: String }
    type Charter { id: ID! reference: String! status: CharterStatus! }
    type CharterEdge { node: Charter! }
    type CharterConnection { edges: [CharterEdge!]! pageInfo: PageInfo! }
    type Query { charters(first: Int, after: String, where: CharterFilter): CharterConnection! }
    """
)


async def test_a_schema_change_marks_templates_broken_and_a_fix_clears_them(
    sessions: Sessions,
) -> None:
    reading_quote = await create(sessions, AGENT)
    fine = await create(
        sessions,
        AGENT,
        name="References",
        operation=CHARTERS.replace("quote { total }", ""),
        columns=[{"path": "reference"}],
        group_by=[],
        aggregations=[],
    )
    async with sessions() as session, session.begin():
        assert await templates.mark_broken(session, CHANGED) == 1
    async with sessions() as session, session.begin():
        row = await session.get(ReportTemplate, reading_quote.id)
        assert row is not None
        assert row.broken_at is not None
        assert "Cannot query field 'quote' on type 'Charter'" in (row.broken_reason or "")
        assert [r.id for r in await templates.broken(session)] == [reading_quote.id]
        assert [r.id for r in await templates.listed(session, AGENT)] == [fine.id]
        assert len(await templates.listed(session, AGENT, include_broken=True)) == 2
        with pytest.raises(ServiceError) as caught:
            await templates.get_runnable(session, reading_quote.id, AGENT)
        assert caught.value.problems[0].code == "BROKEN_TEMPLATE"
        assert (await templates.get_runnable(session, fine.id, AGENT)).id == fine.id
        # a second pass changes nothing (and audits nothing)
        assert await templates.mark_broken(session, CHANGED) == 1
    async with sessions() as session, session.begin():
        assert await templates.mark_broken(session, api_schema()) == 0
        row = await session.get(ReportTemplate, reading_quote.id)
        assert row is not None
        assert (row.broken_at, row.broken_reason) == (None, None)
        actions = (
            await session.scalars(
                select(ReportsAudit.action)
                .where(ReportsAudit.actor_id.is_(None))
                .order_by(ReportsAudit.at)
            )
        ).all()
    assert actions == ["mark_broken", "repaired"]
