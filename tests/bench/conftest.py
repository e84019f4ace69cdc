"""Servers for the benchmarked reads: sales and finance as their own suites start them.

Module-scoped: a live sales server keeps relaying its outbox, and left running
into later modules of the same worker it would deliver events those modules'
tests hand to their consumers themselves (tests/notifications did see it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from subgraphs.kit.settings import Settings
from tests.support.live_server import LiveServer, serve


@pytest.fixture(scope="module")
async def sales_server(subgraph_settings: Settings) -> AsyncIterator[LiveServer]:
    from subgraphs.sales.app import create_app

    # No follow-up job: it would write activities on its own clock.
    settings = subgraph_settings.model_copy(update={"sales_follow_up_job_enabled": False})
    async with serve(create_app(settings)) as server:
        yield server


@pytest.fixture(scope="module")
async def finance_server(subgraph_settings: Settings) -> AsyncIterator[LiveServer]:
    from subgraphs.finance.app import create_app

    # No month-end or overdue job: they would change balances on the wall clock.
    settings = subgraph_settings.model_copy(update={"finance_jobs_enabled": False})
    async with serve(create_app(settings)) as server:
        yield server
