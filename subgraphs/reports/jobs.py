"""Reports' scheduled jobs (the kit's job runner; cron in the operator's time zone)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from subgraphs.kit.jobs import ScheduledJob
    from subgraphs.kit.settings import Settings


def jobs(settings: Settings) -> list[ScheduledJob]:
    return []
