"""The runs purge job fires when the setting says (an operator moves it off a busy hour)."""

from __future__ import annotations

from subgraphs.kit.settings import Settings
from subgraphs.reports import jobs


def test_the_runs_purge_job_runs_at_the_configured_cron(settings: Settings) -> None:
    declared = {job.name: job for job in jobs.jobs(settings)}
    assert declared["reports.runs_purge"].cron == settings.reports_runs_purge_cron == "40 3 * * *"

    moved = settings.model_copy(update={"reports_runs_purge_cron": "15 1 * * 0"})
    declared = {job.name: job for job in jobs.jobs(moved)}
    assert declared["reports.runs_purge"].cron == "15 1 * * 0"
    assert declared["reports.deliveries"].cron == "* * * * *"
