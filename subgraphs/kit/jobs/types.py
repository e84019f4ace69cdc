"""The GraphQL view of a job run (served by identity, the admin subgraph)."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from subgraphs.kit.jobs import history


@strawberry.enum
class JobRunStatus(Enum):
    TODO = "todo"
    DOING = "doing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    ABORTING = "aborting"
    ABORTED = "aborted"


@strawberry.type(description="One run of a scheduled job, from the runner's own records.")
class JobRun:
    id: strawberry.ID
    name: str
    status: JobRunStatus
    attempts: int
    due_at: datetime | None = strawberry.field(
        description="The cron fire time it ran for; null when started by hand."
    )
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, run: history.JobRun) -> JobRun:
        return cls(
            id=strawberry.ID(str(run.id)),
            name=run.name,
            status=JobRunStatus(run.status),
            attempts=run.attempts,
            due_at=run.due_at,
            started_at=run.started_at,
            finished_at=run.finished_at,
        )
