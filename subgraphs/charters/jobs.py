"""The charters subgraph's scheduled jobs (run by the kit's job runner)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from subgraphs.kit.jobs import ScheduledJob
    from subgraphs.kit.settings import Settings


def jobs(settings: Settings) -> list[ScheduledJob]:
    return []
