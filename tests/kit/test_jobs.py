"""The kit's job runner (issue 9, part 5) on a real PostgreSQL, with real workers."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from protocol.revocation import RevocationList
from protocol.tokens import RemoteJwks, TokenVerifier
from subgraphs.kit.context import Services
from subgraphs.kit.jobs import JobRunner, ScheduledJob
from subgraphs.kit.jobs.history import JobRow, job_runs
from subgraphs.kit.settings import PROJECT_ROOT
from subgraphs.vendors.models import DailyRun
from tests.support.graphql_client import GraphQLClient

CHICAGO = ZoneInfo("America/Chicago")


@pytest.fixture
def services(settings, sessions, redis):
    def make(name: str = "kitjobs") -> Services:
        return Services(
            name=name,
            settings=settings,
            sessions=sessions,
            redis=redis,
            verifier=TokenVerifier(RemoteJwks("http://127.0.0.1:9/jwks"), issuer="i", audience="a"),
            revocations=RevocationList(redis),
        )

    return make


async def _job_rows(sessions):
    async with sessions() as session:
        return list((await session.scalars(select(JobRow).order_by(JobRow.id))).all())


async def test_cron_times_are_the_operators_local_times_across_dst(services, sessions):
    async def body(_services, _due):
        return None

    runner = JobRunner(services(), [ScheduledJob("kitjobs.morning", "0 6 * * *", body)])
    try:
        # 6 AM in Chicago is 11:00 UTC in summer time and 12:00 UTC in winter.
        summer = await runner.defer_due(datetime(2026, 3, 9, 6, 0, 30, tzinfo=CHICAGO))
        winter = await runner.defer_due(datetime(2026, 11, 2, 6, 0, 30, tzinfo=CHICAGO))
    finally:
        await runner.stop()

    assert [datetime.fromtimestamp(t, UTC).hour for t in summer + winter] == [11, 12]
    assert len(await _job_rows(sessions)) == 2


async def test_two_replicas_run_a_fire_time_once(services, sessions):
    ran: list[datetime] = []

    async def body(_services, due):
        ran.append(due)
        await asyncio.sleep(0.05)

    job = ScheduledJob("kitjobs.daily", "0 6 * * *", body)
    first, second = JobRunner(services(), [job]), JobRunner(services(), [job])
    at = datetime(2026, 12, 1, 6, 0, 5, tzinfo=CHICAGO)
    try:
        await asyncio.gather(first.defer_due(at), second.defer_due(at))
        await asyncio.gather(first.run_pending(), second.run_pending())
    finally:
        await asyncio.gather(first.stop(), second.stop())

    assert ran == [datetime(2026, 12, 1, 6, 0, tzinfo=CHICAGO)]
    async with sessions() as session:
        page = await job_runs(session, name="kitjobs.daily", first=10, after=None)
    [run] = [edge.node for edge in page.edges]
    assert (run.status, run.attempts) == ("succeeded", 1)
    assert run.due_at == datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert run.started_at is not None
    assert run.finished_at is not None


async def test_a_failing_job_is_retried_then_recorded_as_failed(services, sessions):
    calls: list[int] = []

    async def body(_services, _due):
        calls.append(1)
        raise RuntimeError("the SMTP server is down")

    runner = JobRunner(
        services(),
        [ScheduledJob("kitjobs.flaky", "0 6 * * *", body, max_attempts=3, retry_wait_seconds=0)],
    )
    try:
        await runner.run_now("kitjobs.flaky")
    finally:
        await runner.stop()

    assert len(calls) == 3
    async with sessions() as session:
        page = await job_runs(session, name="kitjobs.flaky", first=10, after=None)
    [run] = [edge.node for edge in page.edges]
    assert run.status == "failed"
    assert run.due_at is None  # started by hand


def test_a_job_runs_by_hand_from_the_command_line_and_is_in_the_history(settings):
    listing = subprocess.run(
        [sys.executable, "-m", "subgraphs.kit.jobs", "list"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    done = subprocess.run(
        [sys.executable, "-m", "subgraphs.kit.jobs", "run", "vendors.compliance"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert "vendors.compliance\t0 6 * * *\tAmerica/Chicago" in listing.stdout
    assert done.returncode == 0, done.stderr


async def test_the_command_line_run_left_its_trace(settings, sessions):
    done = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "subgraphs.kit.jobs", "run", "vendors.compliance", cwd=PROJECT_ROOT
    )
    assert await done.wait() == 0

    async with sessions() as session:
        page = await job_runs(session, name="vendors.compliance", first=5, after=None)
        daily = await session.scalar(select(DailyRun))
    assert [edge.node.status for edge in page.edges] == ["succeeded"]
    assert daily is not None


JOB_RUNS = '{ jobRuns(name: "kitjobs.seen") { totalCount edges { node { name status attempts dueAt startedAt finishedAt } } } }'


async def test_admins_read_the_run_history_through_the_graph(
    services, identity_server, http_client, mint
):
    async def body(_services, _due):
        return None

    # A yearly cron: the worker's own deferrer finds nothing due around now.
    runner = JobRunner(services(), [ScheduledJob("kitjobs.seen", "5 9 1 12 *", body)])
    try:
        await runner.defer_due(datetime(2026, 12, 1, 9, 7, tzinfo=CHICAGO))
        await runner.run_pending()
    finally:
        await runner.stop()
    gql = GraphQLClient(identity_server.graphql_url, http_client)

    admin = await gql(JOB_RUNS, token=await mint("admin"))
    manager = await gql(JOB_RUNS, token=await mint("manager"))

    [node] = [edge["node"] for edge in admin.ok()["jobRuns"]["edges"]]
    assert node["name"] == "kitjobs.seen"
    assert node["status"] == "SUCCEEDED"
    assert node["dueAt"].startswith("2026-12-01T15:05:00")
    assert manager.error_codes == ["FORBIDDEN"]
