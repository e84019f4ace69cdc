"""The charters subgraph's scheduled jobs (run by the kit's job runner)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from subgraphs.kit.jobs import ScheduledJob
    from subgraphs.kit.settings import Settings


def jobs(settings: Settings) -> list[ScheduledJob]:
    from subgraphs.charters.service.positions import purge_job
    from subgraphs.charters.service.tasks import overdue_job
    from subgraphs.kit.jobs import ScheduledJob

    return [
        ScheduledJob("charters.positions_purge", settings.positions_purge_cron, purge_job),
        ScheduledJob("charters.dispatch_overdue", settings.dispatch_overdue_cron, overdue_job),
    ]
