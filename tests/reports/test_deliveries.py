"""Scheduled delivery through a real router over real subgraphs, run as the schedule's owner.

The owner's token is a real JWT minted for the owner (what identity's
delegation grant yields at run time), verified by the real subgraphs: an
agent's schedule mails the agent's rows, a manager's everyone's. Jobs are
called directly with a fixed `now`: no clock, no sleeps.
"""

from __future__ import annotations

import asyncio
import base64
import io
import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any

import httpx
import pypdf
import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from protocol.revocation import RevocationList
from protocol.roles import Role
from protocol.tokens import RemoteJwks, TokenVerifier
from protocol.viewer import Viewer
from subgraphs.kit.context import Services
from subgraphs.kit.settings import Settings
from subgraphs.reports import jobs
from subgraphs.reports.models import (
    ReportDelivery,
    ReportRun,
    ReportSchedule,
    outbox,
)
from subgraphs.reports.service import deliveries, exports, schedules, shipped
from subgraphs.reports.service.graph_port import HttpGraph, RunFailed
from subgraphs.reports.service.schedules import ScheduleData
from tests.reports.leads_template import leads_by_agent
from tests.support.live_server import LiveServer
from tests.support.tokens import TokenMinter

CHICAGO = "America/Chicago"
#: 08:05 in Chicago on 2026-12-01: the 08:00 mail is due.
NOW = datetime(2026, 12, 1, 14, 5, tzinfo=UTC)
DUE = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
NEXT = datetime(2026, 12, 2, 14, 0, tzinfo=UTC)


@pytest.fixture
def graph(router_live: LiveServer, http_client: httpx.AsyncClient) -> HttpGraph:
    return HttpGraph(http_client, router_live.graphql_url)


@pytest.fixture
def services(subgraph_settings: Settings, sessions: Any, redis: Any) -> Services:
    return Services(
        name="reports",
        settings=subgraph_settings,
        sessions=sessions,
        redis=redis,
        verifier=TokenVerifier(RemoteJwks("http://127.0.0.1:9/jwks"), issuer="i", audience="a"),
        revocations=RevocationList(redis),
    )


class MintedTokens:
    """RunTokens of the test: a real token of the owner with the owner's role."""

    def __init__(self, mint: TokenMinter, roles: dict[uuid.UUID, str]) -> None:
        self.mint = mint
        self.roles = roles
        self.calls = 0
        self.fail_first = 0

    async def token_for(self, schedule: ReportSchedule) -> str:
        self.calls += 1
        if self.calls <= self.fail_first:
            raise RunFailed("identity refused the grant")
        assert schedule.owner_id is not None
        return await self.mint(self.roles[schedule.owner_id], user_id=schedule.owner_id)


async def _schedule(
    sessions: Any, template_id: uuid.UUID, owner: uuid.UUID, fmt: str = "csv"
) -> uuid.UUID:
    row = ReportSchedule(
        id=uuid.uuid4(),
        template_id=template_id,
        owner_id=owner,
        name=f"Morning leads ({fmt})",
        frequency="daily",
        at_time=time(8, 0),
        time_zone=CHICAGO,
        recipients=["boss@example.com", "ops@example.com"],
        format=fmt,
        parameters={},
        enabled=True,
        next_run_at=DUE,
    )
    async with sessions() as session, session.begin():
        session.add(row)
    return row.id


async def _events(sessions: Any) -> list[dict[str, Any]]:
    async with sessions() as session:
        rows = await session.execute(
            select(outbox.c.payload).where(outbox.c.topic == deliveries.TOPIC).order_by(outbox.c.id)
        )
        return [r[0] for r in rows]


async def test_a_due_schedule_is_delivered_once_as_its_owner_even_on_two_workers_at_once(
    sessions: Any, services: Services, graph: HttpGraph, mint: TokenMinter
) -> None:
    template_id, ann, bob = await leads_by_agent(sessions)
    manager = uuid.uuid4()
    tokens = MintedTokens(mint, {ann: "sales_agent", manager: "manager"})
    agents = await _schedule(sessions, template_id, ann)
    managers = await _schedule(sessions, template_id, manager)

    # Two workers at the same tick, then the job again: one delivery per schedule.
    first, second = await asyncio.gather(
        deliveries.run_due(services, NOW, tokens=tokens, graph=graph),
        deliveries.run_due(services, NOW, tokens=tokens, graph=graph),
    )
    again = await deliveries.run_due(
        services, NOW + timedelta(seconds=30), tokens=tokens, graph=graph
    )

    assert first[deliveries.SENT] + second[deliveries.SENT] == 2
    assert again == {deliveries.SENT: 0, deliveries.FAILED: 0, deliveries.PENDING: 0}
    assert tokens.calls == 2
    events = await _events(sessions)
    assert len(events) == 2
    async with sessions() as session:
        rows = (await session.scalars(select(ReportDelivery))).all()
        assert {(d.schedule_id, d.due_at, d.status, d.attempts) for d in rows} == {
            (agents, DUE, "sent", 1),
            (managers, DUE, "sent", 1),
        }
        by_schedule = {}
        for schedule_id in (agents, managers):
            schedule = await session.get(ReportSchedule, schedule_id)
            assert schedule is not None
            assert (schedule.next_run_at, schedule.last_run_at, schedule.last_error) == (
                NEXT,
                NOW,
                None,
            )
            run = await session.get(ReportRun, schedule.last_run_id)
            assert run is not None
            assert (run.schedule_id, run.status) == (schedule_id, "succeeded")
            by_schedule[schedule_id] = run

    # Each ran as its owner: the agent's holds its own leads, the manager's everyone's.
    agents_run, managers_run = by_schedule[agents], by_schedule[managers]
    assert (agents_run.run_by, agents_run.rows) == (ann, [[str(ann), 3]])
    assert managers_run.run_by == manager
    assert sorted(managers_run.rows, key=lambda r: r[1]) == [
        [None, 1],
        [str(bob), 2],
        [str(ann), 3],
    ]

    event = next(e for e in events if e["scheduleId"] == str(agents))
    delivery_id = next(d.id for d in rows if d.schedule_id == agents)
    content = base64.b64decode(event.pop("contentBase64"))
    assert event == {
        "deliveryId": str(delivery_id),
        "scheduleId": str(agents),
        "scheduleName": "Morning leads (csv)",
        "templateName": "Leads by agent",
        "ranAt": NOW.isoformat(),
        "rowCount": 1,
        "recipients": ["boss@example.com", "ops@example.com"],
        "format": "csv",
        "fileName": "leads-by-agent-2026-12-01.csv",
        "contentType": exports.CSV_TYPE,
    }
    # The file is the run's own export, byte for byte.
    assert content == exports.to_csv(agents_run.columns, agents_run.rows, agents_run.totals)
    assert content.decode().splitlines() == ["Agent,Lead (count)", f"{ann},3", "Total,3"]


async def test_a_failed_run_is_retried_on_the_next_ticks_then_fails_with_last_error(
    sessions: Any, services: Services, graph: HttpGraph, mint: TokenMinter
) -> None:
    template_id, _ann, _bob = await leads_by_agent(sessions)
    dispatcher = uuid.uuid4()
    # A dispatcher may not read leads in the graph: every run fails.
    tokens = MintedTokens(mint, {dispatcher: "dispatcher"})
    schedule_id = await _schedule(sessions, template_id, dispatcher)

    results = [
        await deliveries.run_due(services, NOW + timedelta(minutes=n), tokens=tokens, graph=graph)
        for n in range(4)
    ]

    assert [(r[deliveries.PENDING], r[deliveries.FAILED]) for r in results] == [
        (1, 0),
        (1, 0),
        (0, 1),
        (0, 0),
    ]
    assert await _events(sessions) == []
    async with sessions() as session:
        delivery = (await session.scalars(select(ReportDelivery))).one()
        schedule = await session.get(ReportSchedule, schedule_id)
        runs = (await session.scalars(select(ReportRun))).all()
    assert (delivery.status, delivery.attempts, delivery.lease_until) == ("failed", 3, None)
    assert "at leads" in (delivery.error or "")
    assert schedule is not None
    assert schedule.next_run_at == NEXT  # moved on at the first tick, either way
    assert schedule.last_error is not None
    assert schedule.last_error.startswith(
        f"The delivery due {DUE.isoformat()} failed after 3 attempts: The graph answered"
    )
    assert schedule.last_run_at == NOW + timedelta(minutes=2)
    # Every attempt that reached the graph is in the run history, as failed.
    assert [r.status for r in runs] == ["failed"] * 3
    assert {r.run_by for r in runs} == {dispatcher}


async def test_a_retry_that_succeeds_sends_once_and_clears_the_error(
    sessions: Any, services: Services, graph: HttpGraph, mint: TokenMinter
) -> None:
    template_id, ann, _bob = await leads_by_agent(sessions)
    tokens = MintedTokens(mint, {ann: "sales_agent"})
    tokens.fail_first = 1
    schedule_id = await _schedule(sessions, template_id, ann, fmt="xlsx")

    first = await deliveries.run_due(services, NOW, tokens=tokens, graph=graph)
    async with sessions() as session:
        pending = (await session.scalars(select(ReportDelivery))).one()
    second = await deliveries.run_due(
        services, NOW + timedelta(minutes=1), tokens=tokens, graph=graph
    )

    assert first[deliveries.PENDING] == 1
    assert pending.error == "No access token for the schedule's owner: identity refused the grant"
    assert second[deliveries.SENT] == 1
    [event] = await _events(sessions)
    assert (event["format"], event["contentType"], event["fileName"]) == (
        "xlsx",
        exports.XLSX_TYPE,
        "leads-by-agent-2026-12-01.xlsx",
    )
    sheet = load_workbook(io.BytesIO(base64.b64decode(event["contentBase64"]))).active
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [
        ["Agent", "Lead (count)"],
        [str(ann), 3],
        ["Total", 3],
    ]
    async with sessions() as session:
        delivery = (await session.scalars(select(ReportDelivery))).one()
        schedule = await session.get(ReportSchedule, schedule_id)
    assert (delivery.status, delivery.attempts, delivery.error) == ("sent", 2, None)
    assert schedule is not None
    assert schedule.last_error is None


async def test_a_dead_workers_lease_is_taken_over_and_its_late_result_dropped(
    sessions: Any, services: Services, graph: HttpGraph, mint: TokenMinter
) -> None:
    template_id, ann, _bob = await leads_by_agent(sessions)
    tokens = MintedTokens(mint, {ann: "sales_agent"})
    await _schedule(sessions, template_id, ann, fmt="pdf")
    # A worker claims the delivery and dies before finishing it.
    async with sessions() as session, session.begin():
        [dead] = await deliveries.due(session, NOW)

    while_leased = await deliveries.run_due(
        services, NOW + timedelta(minutes=1), tokens=tokens, graph=graph
    )
    after_lease = await deliveries.run_due(
        services, dead.lease_until + timedelta(seconds=1), tokens=tokens, graph=graph
    )
    late = await deliveries.deliver(
        sessions,
        dead,
        NOW + timedelta(minutes=20),
        tokens=tokens,
        graph=graph,
        retention_days=30,
    )

    assert while_leased == {deliveries.SENT: 0, deliveries.FAILED: 0, deliveries.PENDING: 0}
    assert after_lease[deliveries.SENT] == 1
    assert late is None
    [event] = await _events(sessions)
    content = base64.b64decode(event["contentBase64"])
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(content)).pages)
    assert "Leads by agent" in text
    assert str(ann) in text
    assert "Total" in text
    async with sessions() as session:
        delivery = (await session.scalars(select(ReportDelivery))).one()
        runs = (await session.scalars(select(ReportRun))).all()
    assert (delivery.status, delivery.attempts) == ("sent", 2)
    assert len(runs) == 1  # the late worker stored nothing


async def test_a_file_over_the_mail_limit_fails_at_once_saying_so(
    sessions: Any,
    services: Services,
    graph: HttpGraph,
    mint: TokenMinter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    template_id, ann, _bob = await leads_by_agent(sessions)
    tokens = MintedTokens(mint, {ann: "sales_agent"})
    schedule_id = await _schedule(sessions, template_id, ann)
    monkeypatch.setattr(deliveries, "MAX_FILE_BYTES", 10)

    result = await deliveries.run_due(services, NOW, tokens=tokens, graph=graph)

    assert result[deliveries.FAILED] == 1
    assert await _events(sessions) == []
    async with sessions() as session:
        schedule = await session.get(ReportSchedule, schedule_id)
    assert schedule is not None
    assert schedule.last_error is not None
    assert "over the 10 bytes a mail may carry" in schedule.last_error
    assert "after 1 attempt:" in schedule.last_error


async def test_the_daily_management_mail_is_installed_disabled_and_an_admin_enables_it(
    sessions: Any,
) -> None:
    async with sessions() as session, session.begin():
        await shipped.install(session)
        installed = await schedules.install_shipped(session, time_zone=CHICAGO)
        again = await schedules.install_shipped(session, time_zone=CHICAGO)
    assert (installed, again) == (1, 0)
    mail_id = schedules.DAILY_MANAGEMENT_MAIL.id
    async with sessions() as session:
        mail = await session.get(ReportSchedule, mail_id)
    assert mail is not None
    assert (mail.enabled, mail.owner_id, mail.next_run_at, mail.format) == (
        False,
        None,
        None,
        "pdf",
    )
    assert (mail.at_time, mail.time_zone) == (time(8, 0), CHICAGO)
    # Not due while disabled and owned by no one, whatever its next_run_at.
    async with sessions() as session, session.begin():
        assert await deliveries.due(session, NOW) == []

    admin = Viewer(user_id=uuid.uuid4(), roles=frozenset({Role.ADMIN}))
    async with sessions() as session, session.begin():
        await schedules.update_schedule(
            session, mail_id, ScheduleData(recipients=["board@example.com"]), admin, NOW
        )
        enabled = await schedules.enable_schedule(session, mail_id, admin, NOW)
    assert (enabled.enabled, enabled.owner_id) == (True, admin.user_id)
    assert enabled.next_run_at == NEXT


def test_the_delivery_job_runs_every_minute_once_per_tick(settings: Settings) -> None:
    declared = {job.name: job for job in jobs.jobs(settings)}
    job = declared["reports.deliveries"]
    assert (job.cron, job.max_attempts, job.queue) == ("* * * * *", 1, "reports")


def test_the_pdf_prints_money_with_two_decimals_and_the_totals_line() -> None:
    from subgraphs.reports.service import pdf

    columns = [{"key": "agent", "label": "Agent", "format": "text"}] + [
        {"key": f"m{i}", "label": f"Money {i}", "format": "money"} for i in range(6)
    ]
    rows = [["Ann & Co", *["1234.5"] * 6], ["Bob", *["0.25"] * 6]]
    totals = {f"m{i}": "1234.75" for i in range(6)}

    content = pdf.render_run(
        title="Sales <by> agent",
        ran_at=NOW,
        time_zone=CHICAGO,
        columns=columns,
        rows=rows,
        totals=totals,
    )

    reader = pypdf.PdfReader(io.BytesIO(content))
    page = reader.pages[0]
    assert page.mediabox.width > page.mediabox.height  # seven columns: landscape
    text = page.extract_text()
    assert "Sales <by> agent" in text
    assert "Run 2026-12-01 08:05 CST" in text
    assert "Ann & Co" in text
    assert "1,234.50" in text
    assert "1,234.75" in text
    assert "Total" in text
    assert content == pdf.render_run(
        title="Sales <by> agent",
        ran_at=NOW,
        time_zone=CHICAGO,
        columns=columns,
        rows=rows,
        totals=totals,
    )
