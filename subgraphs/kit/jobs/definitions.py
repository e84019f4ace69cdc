"""What a subgraph declares about one scheduled job."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from subgraphs.kit.context import Services

#: The job's work: the subgraph's services and the local time it was due (or
#: the time it was started by hand). It must be safe to run twice.
JobBody = Callable[["Services", datetime], Awaitable[Any]]


@dataclass(frozen=True)
class ScheduledJob:
    #: unique across the system, `<subgraph>.<job>`: the run history's key
    name: str
    #: standard five-field cron, read in the operator's time zone (`OPERATOR_TIME_ZONE`)
    cron: str
    body: JobBody
    #: attempts in all, the first included; waits grow exponentially from `retry_wait_seconds`
    max_attempts: int = 5
    retry_wait_seconds: int = 60

    @property
    def queue(self) -> str:
        return self.name.split(".", 1)[0]
