"""Scheduled work for every subgraph: one PostgreSQL-backed job runner (ADR 0006)."""

from subgraphs.kit.jobs.definitions import ScheduledJob
from subgraphs.kit.jobs.runner import JobRunner

__all__ = ["JobRunner", "ScheduledJob"]
