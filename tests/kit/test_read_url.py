"""`DATABASE_READ_URL`: reports' list queries read through a second, read-only connection.

The "replica" is a real second role on this run's cluster that may only SELECT
reports' tables: taking a table away from that role breaks exactly the reads
routed to it (the log shows PostgreSQL refusing that role), while mutations and
by-id lookups, on the primary, go on working. The read engine's own guard is
shown on the primary's role: a write through it is refused all the same.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.engine import make_engine, session_factory
from subgraphs.kit.read_sessions import ReadReplica, read_url
from subgraphs.kit.settings import Settings
from subgraphs.reports.app import create_app
from subgraphs.reports.models import ReportTemplate
from subgraphs.reports.service import runner
from tests.conftest import truncate_all
from tests.support.graphql_client import GraphQLClient
from tests.support.live_server import LiveServer, serve
from tests.support.tokens import TokenMinter

WIDGETS = "widgets { title latestRun { id } }"
LIST = f"{{ myDashboards {{ id name {WIDGETS} }} }}"
BY_ID = f"query($id: ID!) {{ dashboard(id: $id) {{ name {WIDGETS} }} }}"
CREATE = """mutation($input: CreateDashboardInput!) {
  createDashboard(input: $input) { dashboard { id } userErrors { field code message } } }"""
RENAME = """mutation($id: ID!, $name: String!) {
  updateDashboard(id: $id, input: {name: $name}) {
    dashboard { name widgets { latestRun { id } } } userErrors { code } } }"""


@pytest.fixture(scope="module")
async def admin(settings: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """The test cluster's superuser (the application's role may not create roles)."""
    engine = make_engine(
        make_url(settings.database_url).set(username="postgres").render_as_string(False),
        pool_size=1,
    )
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture(scope="module")
async def reader(
    admin: async_sessionmaker[AsyncSession], settings: Settings
) -> AsyncIterator[tuple[str, str]]:
    """A login role that may only read reports' tables: (role name, its database URL)."""
    role = f"athena_reader_{secrets.token_hex(4)}"
    async with admin() as session, session.begin():
        await session.execute(text(f"CREATE ROLE {role} LOGIN"))
        await session.execute(text(f"GRANT USAGE ON SCHEMA reports TO {role}"))
        await session.execute(text(f"GRANT SELECT ON ALL TABLES IN SCHEMA reports TO {role}"))
    url = make_url(settings.database_url).set(username=role)
    yield role, url.render_as_string(hide_password=False)
    async with admin() as session, session.begin():
        await session.execute(text(f"DROP OWNED BY {role}"))
        await session.execute(text(f"DROP ROLE {role}"))


@pytest.fixture(scope="module")
async def reports_on_replica(
    subgraph_settings: Settings,
    reader: tuple[str, str],
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[LiveServer]:
    settings = subgraph_settings.model_copy(
        update={"database_read_url": reader[1], "reports_jobs_enabled": False}
    )
    async with serve(create_app(settings)) as server:
        await truncate_all(sessions)  # the shipped templates it installed as it started
        yield server


@contextlib.asynccontextmanager
async def revoked(sessions: Any, role: str, table: str) -> AsyncIterator[None]:
    """The read role may not read `table` for a while."""
    async with sessions() as session, session.begin():
        await session.execute(text(f"REVOKE SELECT ON {table} FROM {role}"))  # noqa: S608 (ours)
    try:
        yield
    finally:
        async with sessions() as session, session.begin():
            await session.execute(text(f"GRANT SELECT ON {table} TO {role}"))


async def test_dashboards_read_through_the_read_role_and_mutations_write_the_primary(
    reports_on_replica: LiveServer,
    reader: tuple[str, str],
    admin: async_sessionmaker[AsyncSession],
    sessions: async_sessionmaker[AsyncSession],
    http_client: httpx.AsyncClient,
    mint: TokenMinter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    role = reader[0]
    me = uuid.uuid4()
    agent = GraphQLClient(
        reports_on_replica.graphql_url, http_client, await mint("sales_agent", user_id=me)
    )
    template = ReportTemplate(
        id=uuid.uuid4(),
        name="Clients",
        operation="query Clients { clients(first: 10) { id name } }",
        rows_path="clients",
        columns=[{"path": "name", "label": "Name", "format": "text"}],
        shared=True,
    )
    async with sessions() as session, session.begin():
        session.add(template)
    widget = {"templateId": str(template.id), "title": "All"}
    made = (await agent(CREATE, {"input": {"name": "Mine", "widgets": [widget]}})).ok()
    dashboard = made["createDashboard"]["dashboard"]["id"]
    async with sessions() as session, session.begin():
        run = runner.record(
            session,
            template.id,
            runner.Outcome(parameters={}, rows=[["Acme"]], row_count=1),
            run_by=me,
            now=datetime.now(UTC),
            retention_days=30,
        )
    mine = [
        {
            "id": dashboard,
            "name": "Mine",
            "widgets": [{"title": "All", "latestRun": {"id": str(run.id)}}],
        }
    ]

    # the read role sees what the primary committed
    assert (await agent(LIST)).ok()["myDashboards"] == mine

    with caplog.at_level(logging.ERROR, logger="subgraphs.kit.extensions"):
        async with revoked(admin, role, "reports.report_runs"):
            # the widgets under the list follow it to the read role, and fail there...
            under_list = await agent(LIST)
            # ...while a lookup by id (read-your-writes: the primary) and its widgets,
            # and a mutation, do not touch the read role at all
            by_id = (await agent(BY_ID, {"id": dashboard})).ok()["dashboard"]
            renamed = (await agent(RENAME, {"id": dashboard, "name": "Renamed"})).ok()
        async with revoked(admin, role, "reports.dashboards"):
            listed = await agent(LIST)

    assert under_list.data["myDashboards"][0]["widgets"] == [{"title": "All", "latestRun": None}]
    assert [(e["path"], e["extensions"]["code"]) for e in under_list.errors] == [
        (["myDashboards", 0, "widgets", 0, "latestRun"], "INTERNAL")
    ]
    assert by_id == {"name": "Mine", "widgets": mine[0]["widgets"]}
    # a mutation's payload reads its widgets back from the primary, where it wrote
    assert renamed["updateDashboard"] == {
        "dashboard": {"name": "Renamed", "widgets": [{"latestRun": {"id": str(run.id)}}]},
        "userErrors": [],
    }
    assert listed.data is None
    assert [(e["path"], e["extensions"]["code"]) for e in listed.errors] == [
        (["myDashboards"], "INTERNAL")
    ]
    refusals = [str(r.exc_info[1]) for r in caplog.records if r.exc_info]
    assert len(refusals) == 2
    assert "permission denied for table report_runs" in refusals[0]
    assert "permission denied for table dashboards" in refusals[1]
    # and with its right back, the read role lists the renamed dashboard
    assert (await agent(LIST)).ok()["myDashboards"][0]["name"] == "Renamed"


async def test_the_read_connection_refuses_writes_even_as_a_role_that_may_write(
    settings: Settings, reader: tuple[str, str]
) -> None:
    as_reader = ReadReplica(reader[1])
    # the primary's own role: only the read engine's guard stands in the way
    as_owner = ReadReplica(settings.database_url)
    try:
        async with as_reader.sessions() as session:
            assert await session.scalar(text("SELECT current_user")) == reader[0]
        for replica in (as_reader, as_owner):
            async with replica.sessions() as session:
                with pytest.raises(DBAPIError, match="read-only transaction"):
                    await session.execute(
                        text(
                            "INSERT INTO reports.dashboards (id, name, owner_id, widgets) "
                            "VALUES (gen_random_uuid(), 'x', gen_random_uuid(), '[]')"
                        )
                    )
    finally:
        await as_reader.aclose()
        await as_owner.aclose()


def test_a_read_url_without_a_password_borrows_the_primarys_for_the_same_user() -> None:
    primary = "postgresql+asyncpg://athena:s3cret@primary:5432/athena"
    assert read_url("postgresql+asyncpg://athena@replica:5432/athena", primary) == (
        "postgresql+asyncpg://athena:s3cret@replica:5432/athena"
    )
    # another user, or a password of its own, is left as it is
    for own in (
        "postgresql+asyncpg://reader@replica:5432/athena",
        "postgresql+asyncpg://athena:other@replica:5432/athena",
    ):
        assert read_url(own, primary) == own
