"""One job runner for every subgraph's scheduled work, on procrastinate.

procrastinate (MIT) keeps its queue in PostgreSQL (the `jobs` schema,
created by the `jobs` Alembic history), so the runner needs no new server:
a fire time is deferred once across replicas (a unique row per job and
timestamp), a job is taken by one worker (`SELECT ... FOR UPDATE SKIP
LOCKED`), failures are retried with exponential back-off, and every run
stays in `jobs.procrastinate_jobs` with its events (`kit/jobs/history.py`).

Cron times are the operator's local times: procrastinate reads cron in UTC,
so each periodic task's cron iterator is replaced by one anchored in
`OPERATOR_TIME_ZONE` (croniter then steps in local time: "0 6 * * *" stays
6 AM across daylight-saving changes).

Each subgraph process runs a worker for its own queue (the part of job
names before the dot) inside its lifespan; `python -m subgraphs.kit.jobs`
runs one job by hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import croniter
import procrastinate
from procrastinate import periodic

from subgraphs.kit.jobs.definitions import ScheduledJob
from subgraphs.kit.metrics import job_finished, jobs_registered

if TYPE_CHECKING:
    from subgraphs.kit.context import Services

log = logging.getLogger(__name__)

JOBS_SCHEMA = "jobs"


def psycopg_conninfo(database_url: str) -> str:
    """The SQLAlchemy URL (`postgresql+asyncpg://...`) as libpq understands it."""
    parts = urlsplit(database_url)
    return urlunsplit(("postgresql", parts.netloc, parts.path, parts.query, ""))


def _connector(database_url: str) -> procrastinate.PsycopgConnector:
    return procrastinate.PsycopgConnector(
        conninfo=psycopg_conninfo(database_url),
        kwargs={"options": f"-c search_path={JOBS_SCHEMA}"},
        min_size=1,
        max_size=3,
    )


class JobRunner:
    def __init__(self, services: Services, jobs: Sequence[ScheduledJob]) -> None:
        self.services = services
        self.jobs = {job.name: job for job in jobs}
        self.zone = ZoneInfo(services.settings.operator_time_zone)
        self.app = procrastinate.App(connector=_connector(services.settings.database_url))
        self.tasks: dict[str, Any] = {}
        for job in jobs:
            self._register(job)
        jobs_registered(self.jobs)
        self._worker: asyncio.Task[None] | None = None
        self._opened = False

    def _register(self, job: ScheduledJob) -> None:
        services, zone = self.services, self.zone

        async def run(timestamp: int | None = None) -> None:
            due = datetime.fromtimestamp(timestamp, zone) if timestamp else datetime.now(zone)
            log.info("job %s starts (due %s)", job.name, due.isoformat())
            started, ok = time.perf_counter(), False
            try:
                await job.body(services, due)
                ok = True
            finally:  # counted by outcome; a failure still raises for procrastinate's retry
                job_finished(job.name, started, ok)

        # procrastinate counts retries, after the first attempt (0 would mean forever).
        retries = job.max_attempts - 1
        retry = (
            procrastinate.RetryStrategy(
                max_attempts=retries, exponential_wait=job.retry_wait_seconds
            )
            if retries > 0
            else False
        )
        task = self.app.task(name=job.name, queue=job.queue, retry=retry)(run)
        self.app.periodic(cron=job.cron, periodic_id=job.name)(task)
        # procrastinate steps cron in UTC; anchor each iterator in the operator's zone.
        for periodic_task in self.app.periodic_registry.periodic_tasks.values():
            if periodic_task.periodic_id == job.name:
                periodic_task.__dict__["croniter"] = croniter.croniter(job.cron, datetime.now(zone))
        self.tasks[job.name] = task

    @property
    def queues(self) -> list[str]:
        return sorted({job.queue for job in self.jobs.values()})

    async def open(self) -> None:
        if not self._opened:
            await self.app.open_async()
            self._opened = True

    async def start(self) -> None:
        """Run a worker (and the periodic deferrer) for these jobs' queues until stopped."""
        await self.open()
        self._worker = asyncio.create_task(
            self.app.run_worker_async(
                queues=self.queues,
                concurrency=1,
                wait=True,
                install_signal_handlers=False,
                name=f"{self.services.name}-worker",
            ),
            name=f"{self.services.name}-jobs",
        )

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        if self._opened:
            await self.app.close_async()
            self._opened = False

    async def defer_due(self, at: datetime) -> list[int]:
        """Defer each job's latest fire time at or before `at`, as each worker's tick does.

        Across replicas only the first deferral of a fire time counts.
        """
        await self.open()
        deferrer = periodic.PeriodicDeferrer(registry=self.app.periodic_registry)
        due = []
        for periodic_task in self.app.periodic_registry.periodic_tasks.values():
            iterator = periodic_task.croniter
            iterator.set_current(start_time=at.timestamp() + 1)
            due.append((periodic_task, round(iterator.get_prev(ret_type=float))))
        await deferrer.defer_jobs(due)
        return [ts for _task, ts in due]

    async def run_pending(self) -> None:
        """Work through every queued job of these queues, then return (tests, by hand)."""
        await self.open()
        await self.app.run_worker_async(
            queues=self.queues, wait=False, install_signal_handlers=False, concurrency=1
        )

    async def run_now(self, name: str) -> None:
        """Queue one run of `name` now and work it off: "run a job by hand"."""
        await self.open()
        await self.tasks[name].defer_async()
        await self.run_pending()
