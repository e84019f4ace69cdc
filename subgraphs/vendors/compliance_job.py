"""The daily compliance job: in the vendors app's lifespan, or by hand.

    python -m subgraphs.vendors.compliance_job [--today YYYY-MM-DD]

The vendors app runs it at start and then every
`COMPLIANCE_JOB_INTERVAL_SECONDS` (a day); replicas and reruns are safe
(see `service/compliance_job.py`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
from datetime import date
from typing import TYPE_CHECKING

from db.engine import make_engine, session_factory
from subgraphs.kit import json
from subgraphs.kit.settings import get_settings
from subgraphs.vendors.service.compliance_job import run

if TYPE_CHECKING:
    from subgraphs.kit.context import Services

log = logging.getLogger(__name__)
_TASK = "compliance_job"


async def _every_day(services: Services) -> None:
    interval = services.settings.compliance_job_interval_seconds
    while True:
        try:
            await run(services.sessions)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("compliance job failed; next attempt in %.0fs", interval)
        await asyncio.sleep(interval)


async def start(services: Services) -> None:
    if services.settings.compliance_job_enabled:
        services.extra[_TASK] = asyncio.create_task(_every_day(services), name=_TASK)


async def stop(services: Services) -> None:
    task = services.extra.pop(_TASK, None)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--today", type=date.fromisoformat, help="the day to run for (UTC)")
    args = parser.parse_args(argv)
    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        summary = await run(session_factory(engine), today=args.today)
    finally:
        await engine.dispose()
    sys.stdout.write(json.dumps(summary.as_json()).decode() + "\n")
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    sys.exit(asyncio.run(main()))
