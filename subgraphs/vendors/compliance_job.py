"""The daily compliance job for a chosen day, by hand (a backfill tool).

    python -m subgraphs.vendors.compliance_job [--today YYYY-MM-DD]

The vendors app runs it on the kit's job runner every day at
`COMPLIANCE_JOB_CRON` (`jobs.py`); `python -m subgraphs.kit.jobs run
vendors.compliance` runs it now through the runner, with its run history.
Reruns for a day are skipped (see `service/compliance_job.py`).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from datetime import date

from db.engine import make_engine, session_factory
from subgraphs.kit import json
from subgraphs.kit.settings import get_settings
from subgraphs.vendors.service.compliance_job import run


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
