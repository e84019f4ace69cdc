"""The run history of scheduled jobs, read from procrastinate's own tables.

procrastinate keeps every job (status, attempts, arguments) and its events
(deferred, started, retried, succeeded, failed) in the `jobs` schema; these
read-only mappings turn them into runs for admins (`Query.jobRuns`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, BigInteger, DateTime, MetaData, String, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from subgraphs.kit.pagination import Connection, KeysetOrder, paginate

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

FINISHED = ("succeeded", "failed", "cancelled", "aborted")


class _Queue(DeclarativeBase):
    metadata = MetaData(schema="jobs")


class JobRow(_Queue):
    __tablename__ = "procrastinate_jobs"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    queue_name: Mapped[str] = mapped_column(String)
    task_name: Mapped[str] = mapped_column(String)
    status: Mapped[str] = mapped_column(String)
    attempts: Mapped[int] = mapped_column()
    args: Mapped[dict[str, Any]] = mapped_column(JSON)
    scheduled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class EventRow(_Queue):
    __tablename__ = "procrastinate_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    job_id: Mapped[int] = mapped_column(BigInteger)
    type: Mapped[str] = mapped_column(String)
    at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


@dataclass(frozen=True)
class JobRun:
    id: int
    name: str
    status: str
    attempts: int
    #: the cron fire time it ran for; None when started by hand
    due_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None


async def job_runs(
    session: AsyncSession, *, name: str | None, first: int | None, after: str | None
) -> Connection[JobRun]:
    """Newest runs first: one statement for the page, one for its events, one count."""
    stmt = select(JobRow)
    if name:
        stmt = stmt.where(JobRow.task_name == name)
    page: Connection[Any] = await paginate(
        session, stmt, KeysetOrder((JobRow.id,), descending=True), first=first, after=after
    )
    ids = [edge.node.id for edge in page.edges]
    events = (
        (await session.execute(select(EventRow).where(EventRow.job_id.in_(ids)))).scalars().all()
    )
    started: dict[int, datetime] = {}
    finished: dict[int, datetime] = {}
    for event in events:
        if event.at is None:
            continue
        if event.type == "started":
            started[event.job_id] = min(event.at, started.get(event.job_id, event.at))
        elif event.type in FINISHED:
            finished[event.job_id] = max(event.at, finished.get(event.job_id, event.at))
    for edge in page.edges:
        row: Any = edge.node
        timestamp = (row.args or {}).get("timestamp")
        edge.node = JobRun(
            id=row.id,
            name=row.task_name,
            status=row.status,
            attempts=row.attempts,
            due_at=datetime.fromtimestamp(timestamp, UTC) if timestamp else None,
            started_at=started.get(row.id),
            finished_at=finished.get(row.id),
        )
    return page
